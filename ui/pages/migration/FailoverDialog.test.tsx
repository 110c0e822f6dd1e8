import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { Channel } from "@tauri-apps/api/core";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import { failoverReport } from "../../test/fixtures";
import type { FailoverPreview, SwitchoverEvent } from "../../api/tasks";
import { formatTime } from "../../units";
import FailoverDialog from "./FailoverDialog";

const task = { id: "d1", mode: "dr" as const, source: { id: "s", name: "orders-prod" }, destination: { id: "d", name: "orders-dr" } };

const lost: FailoverPreview = {
  read_at: "2026-11-24T09:20:00Z",
  guardrails: [
    { id: "task.phase", title: "Task in incremental sync", status: "pass", message: "" },
    { id: "source.lost", title: "Source lost", status: "pass", message: "the source does not answer" },
  ],
  source_answers: false,
  source_lsn: null,
  source_error: "connection refused",
  source_unreachable_since: "2026-11-24T09:15:02Z",
  received_lsn: "0/5000148",
  received_at: null,
  replayed_lsn: "0/5000148",
  replayed_at: "2026-11-24T09:15:01Z",
  loss_bytes: null,
  loss_since_replay_ms: 299_000,
  new_endpoint: "10.1.0.7:5432",
  ready: true,
};

describe("Failover dialog", () => {
  it("needs both acknowledgements, then promotes and names the new primary", async () => {
    let events: Channel<SwitchoverEvent> | undefined;
    mockIPC((cmd, args) => {
      if (cmd === "failover_preview") return lost;
      if (cmd === "failover_start") {
        events = (args as { onEvent: Channel<SwitchoverEvent> }).onEvent;
        return null;
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(<FailoverDialog open task={task} destinationEndpoint="10.1.0.7:5432" onClose={vi.fn()} />);

    const now = screen.getByTestId("failover-now") as HTMLButtonElement;
    expect(now.disabled).toBe(true);
    await screen.findByTestId("failover-preview");
    for (const box of screen.getAllByRole("checkbox")) fireEvent.click(box);
    expect(now.disabled).toBe(false);
    fireEvent.click(now);
    await waitFor(() => expect(events).toBeDefined());

    act(() => events!.onmessage({ event: "step", data: { step: "promoting" } }));
    expect(screen.getByTestId("switch-step-promote").getAttribute("data-state")).toBe("running");
    act(() => events!.onmessage({ event: "step", data: { step: "promoted", method: "pg_promote", timeline: 3, elapsed_ms: 80 } }));
    act(() =>
      events!.onmessage({
        event: "failover_succeeded",
        data: failoverReport({
          timeline: 3,
          promote_ms: 80,
          gap_bytes: null,
          source_reachable: false,
          source_unreachable_since: "2026-11-24T09:15:02Z",
          warnings: [],
          next_steps: [],
        }),
      }),
    );
    expect(screen.getByTestId("failover-success").textContent).toBe("Failover complete: 10.1.0.7:5432 is the new primary");
    const figures = screen.getByTestId("failover-figures").textContent;
    expect(figures).toContain("Promotion took 80 ms");
    expect(figures).toContain(`unreachable since ${formatTime("2026-11-24T09:15:02Z")}`);
    expect(figures).not.toMatch(/unavailab/i);
    expect(screen.queryByTestId("switch-step-fence")).toBeNull();
  });

  it("states the cost read fresh when opened, and reads it again on demand", async () => {
    let reads = 0;
    mockIPC((cmd) => {
      if (cmd === "failover_preview") {
        reads += 1;
        return { ...lost, loss_since_replay_ms: reads === 1 ? 299_000 : 359_000 };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(<FailoverDialog open task={task} destinationEndpoint="orders-dr" onClose={vi.fn()} />);
    expect((await screen.findByTestId("failover-source-lost")).textContent).toContain(
      `The source does not answer; disconnected since ${formatTime("2026-11-24T09:15:02Z")}`,
    );
    expect(screen.getByTestId("failover-replayed").textContent).toBe(`0/5000148 at ${formatTime("2026-11-24T09:15:01Z")}`);
    expect(screen.getByTestId("failover-loss-bytes").textContent).toBe("unknown (the source does not answer)");
    expect(screen.getByTestId("failover-loss-time").textContent).toMatch(/^4 min 59 s/);
    fireEvent.click(screen.getByTestId("failover-refresh"));
    await waitFor(() => expect(screen.getByTestId("failover-loss-time").textContent).toMatch(/^5 min 59 s/));
    expect(reads).toBe(2);
  });

  it("refuses a migration task whose source answers and says to switch over", async () => {
    mockIPC((cmd) => {
      if (cmd === "failover_preview")
        return {
          ...lost,
          source_answers: true,
          source_lsn: "0/6000000",
          source_error: null,
          source_unreachable_since: null,
          loss_bytes: 16_777_216,
          ready: false,
          guardrails: [{ id: "source.lost", title: "Source lost", status: "error", message: "the source still answers" }],
        };
      throw new Error(`unexpected ${cmd}`);
    });
    render(<FailoverDialog open task={{ ...task, mode: "migration" }} destinationEndpoint="orders-dr" onClose={vi.fn()} />);
    expect((await screen.findByTestId("failover-source-answers")).textContent).toContain("Use Switchover");
    expect(screen.getByTestId("failover-loss-bytes").textContent).toBe("16.0 MiB of WAL not replayed");
    for (const box of screen.getAllByRole("checkbox")) fireEvent.click(box);
    expect((screen.getByTestId("failover-now") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId("failover-not-ready")).toBeTruthy();
  });

  it("clears a failed failover's error when the preview is read again", async () => {
    let reads = 0;
    mockIPC((cmd) => {
      if (cmd === "failover_preview") {
        reads += 1;
        if (reads === 1) return lost;
        throw { code: "unreachable", message: "the destination does not answer" };
      }
      if (cmd === "failover_start") throw { code: "task_busy", message: "the task is being changed" };
      throw new Error(`unexpected ${cmd}`);
    });
    render(<FailoverDialog open task={task} destinationEndpoint="10.1.0.7:5432" onClose={vi.fn()} />);
    await screen.findByTestId("failover-preview");
    for (const box of screen.getAllByRole("checkbox")) fireEvent.click(box);
    fireEvent.click(screen.getByTestId("failover-now"));
    expect(await screen.findByText(/the task is being changed/)).toBeTruthy();

    fireEvent.click(screen.getByTestId("failover-refresh"));
    expect((await screen.findByTestId("failover-preview-error")).textContent).toContain("the destination does not answer");
    expect(screen.queryByText(/the task is being changed/)).toBeNull();
    expect(screen.getAllByRole("alert").filter((a) => a.classList.contains("ant-alert-error"))).toHaveLength(1);
  });
});
