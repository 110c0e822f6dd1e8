import { render, screen, within } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import type { InstanceStatus } from "../../api/instances";
import type { Phase, Sample, TaskStatus } from "../../api/tasks";
import { copyOptions, emptySample, taskLayout } from "../../test/fixtures";
import MigrationTasks from "./MigrationTasks";
import { setLocale } from "../../i18n";
import PhaseColumn, { phaseLabel } from "./PhaseColumn";

function task(phase: Phase, more: Partial<TaskStatus> = {}): TaskStatus {
  return {
    id: `t-${phase}`,
    mode: "migration",
    source: { id: "s", name: "orders-prod" },
    destination: { id: "d", name: "orders-dest" },
    report_id: "r1",
    phase,
    replication: phase === "increment" ? "streaming" : "unstarted",
    created_at: "2026-11-24T08:00:00Z",
    phase_times: { precheck: "2026-11-24T08:00:00Z" },
    options: copyOptions,
    layout: taskLayout(`pgrelocate_t-${phase}`),
    attempts: 0,
    driver: null,
    progress: null,
    sample_at: null,
    sample_live: false,
    replication_since: null,
    sample: null,
    ...more,
  };
}

const sample = (bytes: number, ms: number | null): Sample => ({
  ...emptySample,
  replication: "streaming" as const,
  source_lsn: "0/3000000",
  replay_lag_bytes: bytes,
  flush_lag_bytes: bytes,
  sent_lag_bytes: 0,
  replay_lag_ms: ms,
  dest_replay_delay_ms: null,
  slot: null,
  dest_free_bytes: null,
  source_error: null,
  dest_error: null,
});

describe("Cloud Migration Phase column", () => {
  it("names every phase the way the console does", () => {
    const labels = (["precheck", "basebackup", "startup", "increment", "switch", "success", "failed", "cancelled"] as Phase[]).map((p) =>
      phaseLabel(task(p)),
    );
    expect(labels).toEqual([
      "Precheck",
      "Full backup",
      "Link setup",
      "Incremental sync",
      "Switchover",
      "Completed",
      "Failed",
      "Cancelled",
    ]);
  });

  it("shows the full backup's percentage and the sync's lag", () => {
    const copying = task("basebackup", {
      progress: { stage: "copying", bytes_done: 37 * 1024 ** 2, bytes_total: 100 * 1024 ** 2, rate_bytes_per_sec: 1, eta_secs: 5 },
    });
    render(<PhaseColumn task={copying} />);
    expect(screen.getByTestId("phase").textContent).toBe("Full backup 37 %");
    expect(screen.getByTestId("copy-progress")).toBeTruthy();
    // Bytes, rate and time left beside the percentage, as the details page shows them.
    expect(screen.getByTestId("copy-figures").textContent).toBe("37.0 MiB of 100.0 MiB · 1 B/s · 5.0 s left");

    expect(phaseLabel(task("increment", { sample: sample(3 * 1024 ** 2, 2500) }))).toBe("Incremental sync (3.0 MiB, 2.5 s)");
    expect(phaseLabel(task("increment", { sample: sample(0, null) }))).toBe("Incremental sync (0 B)");
  });

  it("joins the lag's bytes and seconds with the language's separator", () => {
    setLocale("zh-CN");
    try {
      expect(phaseLabel(task("increment", { sample: sample(0, 100) }))).toBe("增量同步（0 B，0.1 秒）");
    } finally {
      setLocale("en");
    }
  });

  it("says where a failed task failed", () => {
    render(<PhaseColumn task={task("failed", { failed_in: "basebackup", error: "full copy failed: disk full" })} />);
    expect(screen.getByTestId("phase").textContent).toBe("Failed");
    expect(screen.getByText("The task failed in Full backup")).toBeTruthy();
  });
});

describe("Migration to Cloud task table", () => {
  const dest = {
    id: "d",
    name: "orders-dest",
    endpoint: { host: "127.0.0.1", port: 5434, user: "postgres", dbname: "postgres", sslmode: "disable" },
    created_at: "",
    kind: "managed",
    state: "running",
    connection: null,
    error: null,
    storage: null,
  } as InstanceStatus;

  it("offers Switchover only in incremental sync, Cancel before it, and shows DR tasks only on their tab", async () => {
    mockIPC((cmd) => {
      if (cmd === "task_list")
        return [
          task("basebackup"),
          task("increment", { sample: sample(1024, 100) }),
          task("success"),
          task("increment", { id: "t-dr", mode: "dr" }),
        ];
      throw new Error(`unexpected ${cmd}`);
    });
    render(<MigrationTasks instance={dest} mode="migration" navigate={vi.fn()} />);

    await screen.findAllByTestId("task-row");
    const rows = screen.getAllByTestId("task-row");
    expect(rows.map((r) => r.getAttribute("data-phase"))).toEqual(["basebackup", "increment", "success"]);
    const [copying, syncing, done] = rows.map((r) => within(r));
    expect(copying.queryByTestId("action-switchover")).toBeNull();
    expect(copying.getByTestId("action-cancel")).toBeTruthy();
    expect(syncing.getByTestId("action-switchover")).toBeTruthy();
    expect(syncing.getByTestId("phase").textContent).toBe("Incremental sync (1.0 KiB, 0.1 s)");
    expect(syncing.getByTestId("replication").textContent).toBe("Streaming");
    expect(done.queryByTestId("action-switchover")).toBeNull();
    expect(done.queryByTestId("action-cancel")).toBeNull();
    expect(screen.getAllByRole("columnheader").map((h) => h.textContent)).toContain("Cloud Migration Phase");
  });
});
