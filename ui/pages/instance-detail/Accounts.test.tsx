import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import type { InstanceStatus } from "../../api/instances";
import Accounts from "./Accounts";

const instance = {
  id: "i1",
  name: "orders-prod",
  endpoint: { host: "db1", port: 5432, user: "migrator", dbname: "postgres", sslmode: "require" },
  created_at: "2026-11-24T08:00:00Z",
  kind: "external",
  state: "running",
  connection: null,
  error: null,
  storage: null,
} as InstanceStatus;

describe("Accounts", () => {
  it("sends a typed password to the keyring once and never gets anything back", async () => {
    const calls: { cmd: string; args: unknown; answer: unknown }[] = [];
    let stored = false;
    mockIPC((cmd, args) => {
      let answer: unknown;
      if (cmd === "credential_status") answer = stored ? { kind: "keyring" } : { kind: "none" };
      else if (cmd === "credential_set") {
        stored = true;
        answer = null;
      } else throw new Error(`unexpected ${cmd}`);
      calls.push({ cmd, args, answer });
      return answer;
    });

    render(<Accounts instance={instance} onChanged={vi.fn()} />);
    expect(await screen.findByText("Not stored")).toBeTruthy();

    fireEvent.click(screen.getByTestId("account-update"));
    fireEvent.change(await screen.findByTestId("account-password"), { target: { value: "s3cr'et\\pw" } });
    fireEvent.click(screen.getByRole("button", { name: "OK" }));

    expect(await screen.findByText("Stored in OS keyring")).toBeTruthy();
    const sets = calls.filter((c) => c.cmd === "credential_set");
    expect(sets).toEqual([{ cmd: "credential_set", args: { name: "orders-prod", password: "s3cr'et\\pw" }, answer: null }]);
    // Nothing the Rust side answered carries the password.
    expect(JSON.stringify(calls.map((c) => c.answer))).not.toContain("s3cr");
    expect(document.body.textContent).not.toContain("s3cr");
  });

  it("tests the stored login and reports the server", async () => {
    mockIPC((cmd) => {
      if (cmd === "credential_status") return { kind: "keyring" };
      if (cmd === "credential_test")
        return {
          version: { major: 15, minor: 18 },
          version_text: "15.18",
          system_identifier: null,
          role: "primary",
          tls: "TLSv1.3",
          round_trip_ms: 1.2,
        };
      throw new Error(`unexpected ${cmd}`);
    });
    render(<Accounts instance={instance} onChanged={vi.fn()} />);
    fireEvent.click(await screen.findByTestId("account-test"));
    expect((await screen.findByTestId("accounts-test-ok")).textContent).toBe("Login works: PostgreSQL 15.18 (Primary)");
  });

  it("forgets only after confirmation, and shows a refused login with its code", async () => {
    const forgot = vi.fn();
    mockIPC((cmd) => {
      if (cmd === "credential_status") return { kind: "keyring" };
      if (cmd === "credential_forget") return forgot();
      if (cmd === "credential_test")
        throw { code: "auth_failed", message: 'authentication failed for user "migrator" at db1:5432' };
      throw new Error(`unexpected ${cmd}`);
    });
    render(<Accounts instance={instance} onChanged={vi.fn()} />);
    await screen.findByText("Stored in OS keyring");

    fireEvent.click(screen.getByRole("button", { name: "Forget" }));
    expect(forgot).not.toHaveBeenCalled();
    expect(await screen.findByText("Forget the stored password of migrator?")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "OK" }));
    await waitFor(() => expect(forgot).toHaveBeenCalledTimes(1));

    fireEvent.click(screen.getByTestId("account-test"));
    expect((await screen.findByTestId("accounts-error")).textContent).toContain("(auth_failed)");
  });
});
