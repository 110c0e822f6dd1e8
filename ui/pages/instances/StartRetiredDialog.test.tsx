import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import type { InstanceStatus } from "../../api/instances";
import InstancesPage from "./InstancesPage";

const retired: InstanceStatus = {
  id: "i-old",
  name: "orders-old",
  endpoint: { host: "127.0.0.1", port: 5433, user: "postgres", dbname: "postgres", sslmode: "disable" },
  managed: { data_dir: "/d", bin_dir: "/b", major: 15 },
  created_at: "",
  kind: "managed",
  state: "stopped",
  connection: null,
  error: null,
  storage: null,
  retired: { task_id: "0123456789ab", successor: "orders-new", operation: "switchover", at: "2026-12-02T10:00:00Z" },
};

function mockStarts() {
  const starts: unknown[] = [];
  mockIPC((cmd, args) => {
    if (cmd === "task_list") return [];
    if (cmd === "instance_list") return { instances: [retired], creating: [] };
    if (cmd === "instance_start") {
      starts.push(args);
      return { ...retired, in_recovery: true };
    }
    throw new Error(`unexpected ${cmd}`);
  });
  return starts;
}

describe("Start of a retired source", () => {
  it("asks first, starts in recovery by default, and wants the name typed for a primary", async () => {
    const starts = mockStarts();
    render(<InstancesPage navigate={vi.fn()} />);
    const row = await screen.findByTestId("instance-row-orders-old");
    fireEvent.click(within(row).getByRole("button", { name: "Start" }));

    expect((await screen.findByTestId("start-retired-why")).textContent).toContain("task 0123456789ab switched over to orders-new");
    const asPrimary = screen.getByTestId("start-as-primary") as HTMLButtonElement;
    expect(asPrimary.disabled).toBe(true);
    fireEvent.change(screen.getByTestId("start-confirm-name"), { target: { value: "orders-ol" } });
    expect(asPrimary.disabled).toBe(true);
    expect(starts).toEqual([]);

    fireEvent.click(screen.getByTestId("start-in-recovery"));
    await waitFor(() => expect(starts).toEqual([{ name: "orders-old", confirm: null }]));
  });

  it("sends the typed name for a primary start", async () => {
    const starts = mockStarts();
    render(<InstancesPage navigate={vi.fn()} />);
    const row = await screen.findByTestId("instance-row-orders-old");
    fireEvent.click(within(row).getByRole("button", { name: "Start" }));
    fireEvent.change(await screen.findByTestId("start-confirm-name"), { target: { value: "orders-old" } });
    fireEvent.click(screen.getByTestId("start-as-primary"));
    await waitFor(() => expect(starts).toEqual([{ name: "orders-old", confirm: "orders-old" }]));
  });
});
