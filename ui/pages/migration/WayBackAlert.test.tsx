import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import type { TaskStatus } from "../../api/tasks";
import type { WayBack } from "../../api/generated/WayBack";
import { streamingTask, switchoverReport } from "../../test/fixtures";
import WayBackAlert from "./WayBackAlert";

const wayBack: WayBack = {
  old_source: "src",
  new_primary: "dst",
  operation: "switchover",
  method: "follow",
  diverged: false,
  source_running: false,
  available: true,
};

const done = (w: Partial<WayBack>, extra: Partial<TaskStatus> = {}): TaskStatus => ({
  ...streamingTask({ id: "706666f6b76b", source: { id: "s", name: "src" }, destination: { id: "d", name: "dst" } }),
  phase: "success",
  switch: { operation: "switchover", started_at: "", switchover: switchoverReport() },
  way_back: { ...wayBack, ...w },
  ...extra,
});

describe("The way back", () => {
  it("offers to keep the old source as a standby, then opens the reverse task", async () => {
    const calls: unknown[] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "task_reverse") return { ...streamingTask({ id: "aa00bb11cc22" }) };
      return null;
    });
    const navigate = vi.fn();
    render(<WayBackAlert task={done({})} navigate={navigate} />);
    expect(screen.getByTestId("way-back").textContent).toContain("src can become a standby of dst");
    expect(screen.getByTestId("way-back").textContent).toContain("nothing is copied");
    fireEvent.click(screen.getByTestId("way-back-reverse"));
    fireEvent.click(await screen.findByText("OK"));
    await waitFor(() => expect(navigate).toHaveBeenCalledWith({ page: "task", id: "aa00bb11cc22", instance: "src" }));
    expect(calls).toContainEqual(["task_reverse", { id: "706666f6b76b" }]);
  });

  it("warns when the old primary runs again diverged after a failover, and offers the rewind", () => {
    mockIPC(() => null);
    render(<WayBackAlert task={done({ operation: "failover", method: "rewind", diverged: true, source_running: true })} navigate={vi.fn()} />);
    const alert = screen.getByTestId("way-back");
    expect(alert.textContent).toContain("src runs again and has diverged from dst");
    expect(screen.getByTestId("way-back-reverse")).toBeTruthy();
  });

  it("says why the way back is closed, with no action", () => {
    mockIPC(() => null);
    const reason = "the cluster has neither data checksums nor wal_log_hints";
    render(
      <WayBackAlert task={done({ method: "rewind", available: false, code: "rewind_unavailable", reason })} navigate={vi.fn()} />,
    );
    expect(screen.getByTestId("way-back").textContent).toContain("needs a fresh copy");
    expect(screen.getByTestId("way-back-reason").textContent).toBe(reason);
    expect(screen.queryByTestId("way-back-reverse")).toBeNull();
  });

  it("shows a refusal from the engine with its message", async () => {
    mockIPC((cmd) => {
      if (cmd === "task_reverse") throw { code: "rejoin_refused", message: "the old source src is in task 123 already" };
      return null;
    });
    render(<WayBackAlert task={done({})} navigate={vi.fn()} />);
    fireEvent.click(screen.getByTestId("way-back-reverse"));
    fireEvent.click(await screen.findByText("OK"));
    expect(await screen.findByText(/the old source src is in task 123 already/)).toBeTruthy();
  });

  it("on the reverse task, shows what the rejoin copied", () => {
    mockIPC(() => null);
    const reverse: TaskStatus = {
      ...streamingTask({ id: "aa00bb11cc22" }),
      rejoin: { forward_task: "706666f6b76b", method: "rewind", bytes_copied: 57 * 1024 ** 2, data_bytes: 378 * 1024 ** 2, duration_ms: 990, at: "" },
    };
    render(<WayBackAlert task={reverse} navigate={vi.fn()} />);
    expect(screen.getByTestId("rejoin").textContent).toContain("Rejoined with pg_rewind: 57.0 MiB copied of 378.0 MiB");
  });
});
