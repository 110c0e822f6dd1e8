import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { Channel } from "@tauri-apps/api/core";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import type { TaskEvent, TaskStatus, TaskStreamEvent } from "../../api/tasks";
import { emptySample, failoverReport, lease, streamingTask, switchoverReport } from "../../test/fixtures";
import { formatTime } from "../../units";
import TaskDetails, { lagPoints, LOG_PAGE, SlotCard } from "./TaskDetails";

/** The page's IPC: an empty log and chart unless a test answers them itself. */
function mockTask(handler: (cmd: string, args: unknown) => unknown) {
  mockIPC((cmd, args) => {
    if (cmd === "task_events_before") return { events: [], newest_seq: 0 };
    if (cmd === "task_lag") return { period: "1h", from: "2026-11-24T08:00:00Z", to: "2026-11-24T09:00:00Z", width_secs: 5, buckets: [] };
    return handler(cmd, args as unknown);
  });
}

const status: TaskStatus = streamingTask({
  id: "706666f6b76b",
  source: { id: "s", name: "sandbox-source" },
  destination: { id: "d", name: "sandbox-dest" },
  created_at: "2026-11-24T08:57:53Z",
  phase_times: { precheck: "2026-11-24T08:57:53Z", basebackup: "2026-11-24T08:57:54Z", startup: "2026-11-24T08:57:57Z", increment: "2026-11-24T08:58:02Z" },
  driver: lease({ pid: 42, host: "vm", acquired_at: "" }),
});

const sampleEvent = (seq: number, at: string, bytes: number): TaskEvent => ({
  seq,
  task_id: status.id,
  at,
  event: "sample",
  ...emptySample,
  replication: "streaming",
  source_lsn: "0/3000000",
  replay_lag_bytes: bytes,
  flush_lag_bytes: bytes,
  sent_lag_bytes: 0,
  replay_lag_ms: 200,
  dest_replay_delay_ms: null,
  slot: { active: true, restart_lsn: "0/3000000", retained_bytes: 65536, wal_status: "reserved", safe_wal_size: null },
  dest_free_bytes: null,
  source_error: null,
  dest_error: null,
});

describe("Task details", () => {
  it("shows the newest page of the log and the period's chart, then only new events, and pages back", async () => {
    let stream: Channel<TaskStreamEvent> | undefined;
    const watched: unknown[] = [];
    const lagAsked: string[] = [];
    const before: (number | null)[] = [];
    const phase = (seq: number, from: string, to: string): TaskEvent =>
      ({ seq, task_id: status.id, at: "2026-11-24T08:58:02Z", event: "phase", from, to }) as TaskEvent;
    const full = Array.from({ length: LOG_PAGE }, (_, i) => ({
      seq: 500 - i,
      task_id: status.id,
      at: "2026-11-24T08:58:02Z",
      event: "note" as const,
      message: `note ${500 - i}`,
    }));
    mockIPC((cmd, args) => {
      if (cmd === "task_status") return status;
      if (cmd === "task_events_before") {
        const a = args as { before: number | null; limit: number };
        before.push(a.before);
        return a.before == null
          ? { events: full, newest_seq: 640 }
          : { events: [phase(3, "startup", "increment")], newest_seq: 640 };
      }
      if (cmd === "task_lag") {
        const a = args as { period: string };
        lagAsked.push(a.period);
        const bucket = (start: string, bytes: number | null, worst: string) => ({
          start,
          width_secs: 5,
          samples: 1,
          bytes_min: bytes,
          bytes_max: bytes,
          bytes_last: bytes,
          secs_min: 0.2,
          secs_max: 0.2,
          secs_last: 0.2,
          not_streaming: worst === "streaming" ? 0 : 1,
          worst,
        });
        return {
          period: a.period,
          from: "2026-11-24T07:58:10Z",
          to: "2026-11-24T08:58:10Z",
          width_secs: 5,
          buckets: [
            bucket("2026-11-24T08:58:00Z", 0, "streaming"),
            bucket("2026-11-24T08:58:05Z", null, "disconnect"),
            bucket("2026-11-24T08:58:10Z", 2048, "streaming"),
          ],
        };
      }
      if (cmd === "task_watch") {
        const a = args as { id: string; after: number; onEvent: Channel<TaskStreamEvent> };
        watched.push({ id: a.id, after: a.after });
        stream = a.onEvent;
        return 7;
      }
      if (cmd === "task_unwatch") return null;
      throw new Error(`unexpected ${cmd}`);
    });

    const { unmount } = render(<TaskDetails id={status.id} navigate={vi.fn()} />);
    await waitFor(() => expect(stream).toBeDefined());
    // Live events start after the newest stored one: nothing of the history is replayed.
    expect(watched).toEqual([{ id: status.id, after: 640 }]);
    expect((await screen.findByTestId("lag-chart")).getAttribute("data-points")).toBe("2");
    expect(screen.getAllByTestId("lag-outage")).toHaveLength(1);
    expect(lagAsked).toEqual(["1h"]);
    const send = (e: TaskEvent) => act(() => stream!.onmessage({ event: "task_event", data: e }));
    send(phase(641, "increment", "switch"));
    send(phase(641, "increment", "switch")); // a replayed duplicate is ignored
    send(sampleEvent(642, "2026-11-24T08:58:15Z", 4096));
    expect(screen.getByTestId("event-log").textContent).toContain("Incremental sync → Switchover");
    expect(screen.getByTestId("slot").textContent).toContain("reserved");
    // A full page means there may be older events: the button reads the page before it.
    fireEvent.click(screen.getByTestId("older-events"));
    await waitFor(() => expect(before).toEqual([null, 401]));
    await waitFor(() => expect(screen.queryByTestId("older-events")).toBeNull());
    // Another period asks the engine for that period's buckets.
    fireEvent.click(screen.getByText("30 days"));
    await waitFor(() => expect(lagAsked).toContain("30d"));

    unmount();
  });

  it("opens the switchover dialog from its Switchover button", async () => {
    mockTask((cmd) => {
      if (cmd === "task_status") return status;
      if (cmd === "task_watch") return 1;
      if (cmd === "switchover_preview")
        return { guardrails: [], strategy: "shutdown", guarantee: "full", ready: true };
      return null;
    });
    render(<TaskDetails id={status.id} navigate={vi.fn()} />);
    fireEvent.click(await screen.findByTestId("details-switchover"));
    expect((await screen.findByTestId("switch-fence")).textContent).toMatch(/^shutdown/);
  });

  it("says since when a task is disconnected and that its figures were read live when nobody monitors it", async () => {
    const since = "2026-11-24T09:15:02Z";
    const sampled = "2026-11-24T09:20:00Z";
    mockTask((cmd) => {
      if (cmd === "task_status")
        return { ...status, driver: null, replication: "disconnect", replication_since: since, sample_at: sampled, sample_live: true };
      if (cmd === "task_watch") return 1;
      return null;
    });
    render(<TaskDetails id={status.id} navigate={vi.fn()} />);
    const tag = await screen.findByTestId("task-replication");
    expect(tag.textContent).toBe(`Disconnected since ${formatTime(since)}`);
    expect(screen.getByTestId("sample-taken").textContent).toBe(
      `Read from the servers at ${formatTime(sampled)}: no process monitors this task`,
    );
  });

  it("shows a streaming task without a since", async () => {
    mockTask((cmd) => {
      if (cmd === "task_status") return { ...status, replication_since: "2026-11-24T08:58:02Z", sample_at: "2026-11-24T08:58:05Z" };
      if (cmd === "task_watch") return 1;
      return null;
    });
    render(<TaskDetails id={status.id} navigate={vi.fn()} />);
    expect((await screen.findByTestId("task-replication")).textContent).toBe("Streaming");
    expect(screen.getByTestId("sample-taken").textContent).toBe(`Newest sample taken ${formatTime("2026-11-24T08:58:05Z")}`);
  });

  it("alerts when a DR source disconnects: since when, what it means, and a Failover button", async () => {
    const since = new Date(Date.now() - 7 * 60_000).toISOString();
    const sampled = new Date(Date.now() - 1000).toISOString();
    const dr = {
      ...status,
      mode: "dr" as const,
      replication: "disconnect" as const,
      replication_since: since,
      sample_at: sampled,
      sample: { ...emptySample, replication: "disconnect" as const, dest_replay_delay_ms: 60_000 },
    };
    mockTask((cmd) => {
      if (cmd === "task_status") return dr;
      if (cmd === "task_watch") return 1;
      if (cmd === "failover_preview") return new Promise(() => {});
      return null;
    });
    render(<TaskDetails id={status.id} navigate={vi.fn()} />);
    const alert = await screen.findByTestId("disconnect-alert");
    expect(screen.getByTestId("disconnect-since").textContent).toBe(
      `The source is disconnected since ${formatTime(since)} (7 min 0 s ago)`,
    );
    const replayed = formatTime(new Date(Date.parse(sampled) - 60_000).toISOString());
    expect(alert.textContent).toContain(`no longer receiving changes from the source; its data is as of ${replayed}`);
    fireEvent.click(screen.getByTestId("disconnect-failover"));
    expect(await screen.findByText(/What a failover costs now/)).toBeTruthy();
  });

  it("shows no alert while the standby streams", async () => {
    mockTask((cmd) => {
      if (cmd === "task_status") return { ...status, mode: "dr" };
      if (cmd === "task_watch") return 1;
      return null;
    });
    render(<TaskDetails id={status.id} navigate={vi.fn()} />);
    await screen.findByTestId("task-replication");
    expect(screen.queryByTestId("disconnect-alert")).toBeNull();
  });

  it("calls a failover a failover in the event log and the timeline", async () => {
    let stream: Channel<TaskStreamEvent> | undefined;
    const done: TaskStatus = {
      ...status,
      mode: "dr",
      phase: "success",
      switch: { operation: "failover", started_at: "2026-11-24T09:20:00Z" },
    };
    mockTask((cmd, args) => {
      if (cmd === "task_status") return done;
      if (cmd === "task_watch") {
        stream = (args as { onEvent: Channel<TaskStreamEvent> }).onEvent;
        return 1;
      }
      return null;
    });
    render(<TaskDetails id={status.id} navigate={vi.fn()} />);
    await waitFor(() => expect(stream).toBeDefined());
    act(() =>
      stream!.onmessage({
        event: "task_event",
        data: { seq: 9, task_id: status.id, at: "2026-11-24T09:20:00Z", event: "phase", from: "increment", to: "switch", operation: "failover" },
      }),
    );
    const log = (await screen.findByTestId("event-log")).textContent ?? "";
    expect(log).toContain("Incremental sync → Failover");
    expect(log).not.toContain("Switchover");
    expect(screen.getByTestId("phase-timeline").textContent).toContain("Failover");
    expect(screen.getByTestId("phase-timeline").textContent).not.toContain("Switchover");
  });
});

describe("A completed task", () => {
  it("shows the measured window in its header and the next steps with their connection strings to copy", async () => {
    const done: TaskStatus = {
      ...status,
      phase: "success",
      driver: null,
      switch: {
        operation: "switchover",
        started_at: "2026-11-24T09:20:00Z",
        switchover: switchoverReport({
          window: { fence_started_at: "", writes_resumed_at: "", write_unavailable_ms: 118, steps: [] },
          next_steps: [
            {
              kind: "reconnect",
              endpoint: "127.0.0.1:5434",
              uri: "postgresql://app@127.0.0.1:5434/shop?sslmode=prefer",
              keywords: "host='127.0.0.1' port=5434 user='app' dbname='shop' sslmode=prefer",
            },
            { kind: "retire_stopped_source" },
          ],
        }),
      },
    };
    mockTask((cmd) => (cmd === "task_status" ? done : cmd === "task_watch" ? 1 : null));
    render(<TaskDetails id={status.id} navigate={vi.fn()} />);
    expect((await screen.findByTestId("task-window")).textContent).toBe("Writes unavailable for 118 ms");
    const next = screen.getByTestId("task-next");
    expect(next.textContent).toContain("Reconnect applications to the new primary at 127.0.0.1:5434");
    expect(next.textContent).toContain("The source is stopped: retire it");
    expect(screen.getAllByTestId("next-reconnect-command").map((b) => b.textContent)).toEqual([
      "postgresql://app@127.0.0.1:5434/shop?sslmode=prefer",
      "host='127.0.0.1' port=5434 user='app' dbname='shop' sslmode=prefer",
    ]);
  });

  it("shows neither while the task still streams", async () => {
    mockTask((cmd) => (cmd === "task_status" ? status : cmd === "task_watch" ? 1 : null));
    render(<TaskDetails id={status.id} navigate={vi.fn()} />);
    await screen.findByTestId("phase-timeline");
    expect(screen.queryByTestId("task-window")).toBeNull();
    expect(screen.queryByTestId("task-next")).toBeNull();
  });
});

describe("Lag chart data", () => {
  it("draws one band per run of disconnected buckets and keeps each bucket's worst, min and count", () => {
    const bucket = (start: string, worst: "streaming" | "disconnect" | "catchup", bytes: number | null = 4096) => ({
      start,
      width_secs: 3600,
      samples: 720,
      bytes_min: bytes == null ? null : 1024,
      bytes_max: bytes,
      bytes_last: bytes,
      secs_min: 0.1,
      secs_max: 2,
      secs_last: 0.5,
      not_streaming: worst === "streaming" ? 0 : 100,
      worst,
    });
    const { points, outages } = lagPoints({
      period: "30d",
      from: "2026-11-04T00:00:00Z",
      to: "2026-12-04T00:00:00Z",
      width_secs: 3600,
      buckets: [
        bucket("2026-11-13T21:00:00Z", "streaming"),
        bucket("2026-11-13T22:00:00Z", "disconnect"),
        bucket("2026-11-13T23:00:00Z", "disconnect", null),
        bucket("2026-11-14T00:00:00Z", "streaming"),
        bucket("2026-11-20T05:00:00Z", "catchup"),
        bucket("2026-11-20T07:00:00Z", "disconnect"),
      ],
    });
    // A bucket with no figure (down all hour) has no point, but its band is there.
    expect(points).toHaveLength(5);
    expect(points[1]).toMatchObject({ bytes: 4096, bytesMin: 1024, seconds: 2, secondsMin: 0.1, samples: 720, worst: "disconnect" });
    expect(outages).toEqual([
      { at: Date.parse("2026-11-13T22:00:00Z"), widthMs: 2 * 3600_000, state: "disconnect" },
      { at: Date.parse("2026-11-20T05:00:00Z"), widthMs: 3600_000, state: "catchup" },
      { at: Date.parse("2026-11-20T07:00:00Z"), widthMs: 3600_000, state: "disconnect" },
    ]);
  });
});

describe("Replication slot card", () => {
  const reserved = sampleEvent(9, "2026-11-24T09:00:00Z", 0) as unknown as Parameters<typeof SlotCard>[0]["sample"];

  it("while streaming, shows the newest sample's WAL status", () => {
    render(<SlotCard task={status} sample={reserved} />);
    expect(screen.getByTestId("slot").textContent).toContain("reserved");
  });

  it("after a switchover that dropped the slot, says so instead of the last sample's 'reserved'", () => {
    const done = streamingTask({ phase: "success", switch: { operation: "switchover", started_at: "", switchover: switchoverReport() } });
    render(<SlotCard task={done} sample={reserved} />);
    expect(screen.getByTestId("slot-after").textContent).toBe("Dropped on the old source");
    expect(screen.getByTestId("slot").textContent).not.toContain("reserved");
  });

  it("after a failover that left the slot on the old source, gives the statement that drops it", () => {
    const drop = "SELECT pg_drop_replication_slot('pgrelocate_t');";
    const done = streamingTask({
      phase: "success",
      switch: {
        operation: "failover",
        started_at: "",
        failover: failoverReport({ slot: { status: "kept", slot: "pgrelocate_t", reason: "the source was unreachable", drop_with: drop } }),
      },
    });
    render(<SlotCard task={done} sample={reserved} />);
    expect(screen.getByTestId("slot-after").textContent).toBe(
      "Left on the old source (the source was unreachable): drop it there with the statement below",
    );
    expect(screen.getByTestId("slot-drop").textContent).toContain(drop);
    expect(screen.getByTestId("slot").textContent).not.toContain("reserved");
  });

  it("names the standby's own role, or says the task account's password is used", () => {
    const own = streamingTask();
    own.layout = { ...own.layout, standby_role: "pgrelocate_standby_t" };
    const { unmount } = render(<SlotCard task={own} sample={reserved} />);
    expect(screen.getByTestId("standby-role").textContent).toBe("pgrelocate_standby_t");
    unmount();
    render(<SlotCard task={streamingTask()} sample={reserved} />);
    expect(screen.getByTestId("standby-role").textContent).toContain("the task account's");
  });
});
