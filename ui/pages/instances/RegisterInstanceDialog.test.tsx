import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import RegisterInstanceDialog from "./RegisterInstanceDialog";

describe("Register Instance port", () => {
  it.each(["54x2", "99999", "0", "+5432", "5 432"])("refuses %j and sends nothing", async (typed) => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      throw new Error(`unexpected ${cmd}`);
    });
    render(<RegisterInstanceDialog open onClose={vi.fn()} onRegistered={vi.fn()} />);
    fireEvent.change(await screen.findByTestId("register-name"), { target: { value: "orders-prod" } });
    fireEvent.change(screen.getByTestId("register-host"), { target: { value: "db1" } });
    fireEvent.change(screen.getByTestId("register-port"), { target: { value: typed } });
    fireEvent.click(screen.getByTestId("register-test"));
    fireEvent.click(screen.getByTestId("register-ok"));

    expect(await screen.findByText("A port is a number from 1 to 65535, digits only.")).toBeTruthy();
    // The field still shows what was typed: nothing was read up to a letter or clamped.
    expect((screen.getByTestId("register-port") as HTMLInputElement).value).toBe(typed);
    expect(calls).toEqual([]);
  });

  it("sends a well-formed port as the number typed", async () => {
    const tested: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd !== "connection_test") throw new Error(`unexpected ${cmd}`);
      tested.push((args as { connection: unknown }).connection);
      throw { code: "unreachable", message: "connection refused" };
    });
    render(<RegisterInstanceDialog open onClose={vi.fn()} onRegistered={vi.fn()} />);
    fireEvent.change(await screen.findByTestId("register-host"), { target: { value: "db1" } });
    fireEvent.change(screen.getByTestId("register-port"), { target: { value: "65535" } });
    fireEvent.click(screen.getByTestId("register-test"));
    await waitFor(() => expect(tested).toHaveLength(1));
    expect(tested[0]).toMatchObject({ host: "db1", port: 65535 });
  });

  it("shows only the latest attempt's error: a failed test gives way to a failed registration, and back", async () => {
    mockIPC((cmd) => {
      if (cmd === "connection_test") throw { code: "unreachable", message: "connection refused" };
      if (cmd === "instance_register") throw { code: "auth_failed", message: "password authentication failed" };
      throw new Error(`unexpected ${cmd}`);
    });
    render(<RegisterInstanceDialog open onClose={vi.fn()} onRegistered={vi.fn()} />);
    fireEvent.change(await screen.findByTestId("register-name"), { target: { value: "orders-prod" } });
    fireEvent.change(screen.getByTestId("register-host"), { target: { value: "db1" } });

    fireEvent.click(screen.getByTestId("register-test"));
    expect((await screen.findByTestId("register-test-result")).textContent).toContain("connection refused");

    fireEvent.click(screen.getByTestId("register-ok"));
    expect((await screen.findByTestId("register-error")).textContent).toContain("password authentication failed");
    expect(screen.queryByTestId("register-test-result")).toBeNull();

    fireEvent.click(screen.getByTestId("register-test"));
    expect(await screen.findByTestId("register-test-result")).toBeTruthy();
    expect(screen.queryByTestId("register-error")).toBeNull();
  });
});
