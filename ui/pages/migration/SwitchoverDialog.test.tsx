import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { Channel } from "@tauri-apps/api/core";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import { switchoverReport } from "../../test/fixtures";
import type { SwitchoverEvent, SwitchoverPreview } from "../../api/tasks";
import SwitchoverDialog from "./SwitchoverDialog";

const task = { id: "42ef39b6e467", source: { id: "s", name: "orders-prod" }, destination: { id: "d", name: "orders-dest" } };

const ready: SwitchoverPreview = {
  guardrails: [
    { id: "task.phase", title: "Task in incremental sync", status: "pass", message: "replication streaming" },
    { id: "replication.lag", title: "Replication lag", status: "pass", message: "0 B behind" },
    { id: "source.long_transactions", title: "Long transactions", status: "warning", message: "1 transaction open for 95 s will be terminated" },
  ],
  strategy: "sql",
  guarantee: "every commit the source acknowledged is on the destination",
  ready: true,
  // A preview of an earlier version lists no fences: the one in use is named alone.
  fences: [],
  default_strategy: "sql",
};

/** A managed source: both fences, shutdown the default. */
const managed: SwitchoverPreview = {
  ...ready,
  strategy: "shutdown",
  default_strategy: "shutdown",
  fences: [
    { strategy: "shutdown", guarantee: "full", available: true, finding: { kind: "fence", strategy: "shutdown" } },
    { strategy: "sql", guarantee: "every acknowledged commit", available: true, finding: { kind: "fence", strategy: "sql", superuser: true } },
  ],
};

/** Renders the dialog against a mocked shell; returns the channel the switchover streams to. */
function setup(preview: SwitchoverPreview) {
  let events: Channel<SwitchoverEvent> | undefined;
  const started: unknown[] = [];
  const previewed: (string | null)[] = [];
  mockIPC((cmd, args) => {
    if (cmd === "switchover_preview") {
      const a = args as { strategy: string | null };
      previewed.push(a.strategy);
      return a.strategy ? { ...preview, strategy: a.strategy } : preview;
    }
    if (cmd === "switchover_start") {
      const a = args as { id: string; timeoutSecs: number; strategy: string | null; hook: unknown; onEvent: Channel<SwitchoverEvent> };
      started.push({
        id: a.id,
        timeoutSecs: a.timeoutSecs,
        ...(a.strategy ? { strategy: a.strategy } : {}),
        ...(a.hook ? { hook: a.hook } : {}),
      });
      events = a.onEvent;
      return null;
    }
    throw new Error(`unexpected ${cmd}`);
  });
  const onClose = vi.fn();
  render(<SwitchoverDialog open task={task} destinationEndpoint="127.0.0.1:5434" onClose={onClose} />);
  const send = (e: SwitchoverEvent) => act(() => events!.onmessage(e));
  return { send, started, previewed, onClose };
}

/** The input an antd control put its test id on (the input itself, or one inside). */
function inputOf(el: HTMLElement): HTMLElement {
  return el.tagName === "INPUT" ? el : (el.querySelector("input") as HTMLElement);
}

async function tickEverything() {
  for (const ack of ["writes", "reconnect", "readonly"]) {
    fireEvent.click(inputOf(await screen.findByTestId(`ack-${ack}`)));
  }
}

describe("Switchover dialog's choice of fence", () => {
  it("offers both fences of a managed source, the strongest chosen, and sends the one picked", async () => {
    const { started, previewed } = setup(managed);
    const shutdown = inputOf(await screen.findByTestId("fence-shutdown")) as HTMLInputElement;
    const sql = inputOf(screen.getByTestId("fence-sql")) as HTMLInputElement;
    expect(shutdown.checked).toBe(true);
    expect(sql.checked).toBe(false);
    expect(screen.getByTestId("fence-shutdown-guarantee").textContent).toMatch(/^shutdown — /);
    expect(screen.getByTestId("fence-sql-guarantee").textContent).toMatch(/^sql — new logins are blocked/);

    fireEvent.click(sql);
    // The guardrails are evaluated again for the fence picked.
    await waitFor(() => expect(previewed).toEqual([null, "sql"]));
    await waitFor(() => expect((inputOf(screen.getByTestId("fence-sql")) as HTMLInputElement).checked).toBe(true));
    await tickEverything();
    fireEvent.click(screen.getByTestId("switch-now"));
    await waitFor(() => expect(started).toEqual([{ id: "42ef39b6e467", timeoutSecs: 300, strategy: "sql" }]));
  });

  it("disables a fence that cannot be used and says why", async () => {
    setup({
      ...managed,
      fences: [
        managed.fences[0],
        {
          strategy: "sql",
          guarantee: "every acknowledged commit",
          available: false,
          finding: {
            kind: "fence_not_granted",
            role: "migrator",
            missing: ["membership in pg_signal_backend"],
            grants: ["GRANT pg_signal_backend TO migrator;"],
          },
        },
      ],
    });
    const sql = inputOf(await screen.findByTestId("fence-sql")) as HTMLInputElement;
    expect(sql.disabled).toBe(true);
    const reason = screen.getByTestId("fence-sql-reason").textContent!;
    expect(reason).toMatch(/^Unavailable: /);
    expect(reason).toContain("GRANT pg_signal_backend TO migrator;");
    expect((inputOf(screen.getByTestId("fence-shutdown")) as HTMLInputElement).disabled).toBe(false);
  });
});

describe("Switchover dialog's endpoint hook", () => {
  it("sends the hook typed, with its timeout and when it runs, and shows it as a step", async () => {
    const { send, started } = setup(ready);
    fireEvent.change(inputOf(await screen.findByTestId("switch-hook")), {
      target: { value: 'dns-switch --to "$PGRELOCATE_NEW_HOST"' },
    });
    await tickEverything();
    fireEvent.change(inputOf(screen.getByTestId("switch-hook-timeout")), { target: { value: "0" } });
    expect(await screen.findByText("A whole number of seconds from 1 to 3600, digits only.")).toBeTruthy();
    expect((screen.getByTestId("switch-now") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(inputOf(screen.getByTestId("switch-hook-timeout")), { target: { value: "45" } });
    fireEvent.click(inputOf(screen.getByTestId("switch-hook-at-after_promotion")));
    fireEvent.click(screen.getByTestId("switch-now"));
    await waitFor(() =>
      expect(started).toEqual([
        {
          id: "42ef39b6e467",
          timeoutSecs: 300,
          hook: { command: 'dns-switch --to "$PGRELOCATE_NEW_HOST"', timeout_ms: 45000, at: "after_promotion" },
        },
      ]),
    );
    // After promotion, the hook's step follows the verification.
    const order = () => screen.getAllByTestId(/^switch-step-/).map((e) => e.getAttribute("data-testid"));
    expect(order().slice(-2)).toEqual(["switch-step-verify", "switch-step-hook"]);
    send({ event: "step", data: { step: "hook_started", at: "after_promotion", command: "dns-switch", timeout_ms: 45000 } });
    expect(screen.getByTestId("switch-step-hook").getAttribute("data-state")).toBe("running");
    const rerun = "env PGRELOCATE_TASK_ID=42ef39b6e467 sh -c dns-switch";
    send({
      event: "step",
      data: {
        step: "hook_finished",
        run: { at: "after_promotion", command: "dns-switch", exit_code: 2, timed_out: false, elapsed_ms: 1200, stdout: "", stderr: "boom", rerun },
      },
    });
    expect(screen.getByTestId("switch-step-hook").getAttribute("data-state")).toBe("failed");
    expect(screen.getByTestId("switch-step-hook").textContent).toContain("Endpoint hook exited with status 2 in 1.2 s");
    send({
      event: "succeeded",
      data: switchoverReport({
        strategy: "sql",
        guarantee: "…",
        window: { fence_started_at: "", writes_resumed_at: "", write_unavailable_ms: 900, steps: [] },
        new_primary: "127.0.0.1:5434",
        warnings: [`the endpoint hook failed (exit status 2): boom; run it again with: ${rerun}`],
        next_steps: [{ kind: "rerun_hook", command: rerun }],
      }),
    });
    expect(screen.getByTestId("switch-success")).toBeTruthy();
    expect(screen.getByTestId("switch-next").textContent).toContain("once its cause is fixed, run it again:");
    expect(screen.getByTestId("next-rerun_hook-command").textContent).toContain(rerun);
  });

  it("sends no hook when none is typed, and places a hook before promotion in the window", async () => {
    const { started } = setup(ready);
    await tickEverything();
    expect(screen.queryByTestId("switch-hook-timeout")).toBeNull();
    fireEvent.click(screen.getByTestId("switch-now"));
    await waitFor(() => expect(started).toEqual([{ id: "42ef39b6e467", timeoutSecs: 300 }]));
    expect(screen.queryByTestId("switch-step-hook")).toBeNull();
  });
});

describe("Switchover dialog", () => {
  it("keeps Switch Now disabled and says why when a guardrail failed", async () => {
    setup({
      ...ready,
      ready: false,
      guardrails: [
        ...ready.guardrails,
        { id: "replication.lag", title: "Replication lag", status: "error", message: "812 MiB behind (limit 64 MiB)" },
      ],
    });

    expect(await screen.findByTestId("guardrail-failed")).toBeTruthy();
    expect(screen.getAllByTestId("guardrail-replication.lag").at(-1)!.getAttribute("data-status")).toBe("error");
    expect(screen.getByText("812 MiB behind (limit 64 MiB)")).toBeTruthy();
    await tickEverything();
    expect((screen.getByTestId("switch-now") as HTMLButtonElement).disabled).toBe(true);
  });

  it("refuses a malformed catch-up timeout instead of reading or clamping it", async () => {
    const { started } = setup(ready);
    expect(await screen.findByTestId("switch-fence")).toBeTruthy();
    await tickEverything();
    for (const typed of ["12x", "99999", "5", "1e3"]) {
      fireEvent.change(inputOf(screen.getByTestId("switch-timeout")), { target: { value: typed } });
      expect(await screen.findByText("A whole number of seconds from 10 to 86400, digits only.")).toBeTruthy();
      expect((screen.getByTestId("switch-now") as HTMLButtonElement).disabled).toBe(true);
      expect((inputOf(screen.getByTestId("switch-timeout")) as HTMLInputElement).value).toBe(typed);
    }
    expect(started).toEqual([]);
  });

  it("asks for every acknowledgement, then streams the steps and shows the measured window", async () => {
    const { send, started } = setup(ready);

    expect((await screen.findByTestId("switch-fence")).textContent).toMatch(/^sql — new logins are blocked/);
    expect((screen.getByTestId("switch-now") as HTMLButtonElement).disabled).toBe(true);
    await tickEverything();
    fireEvent.change(inputOf(screen.getByTestId("switch-timeout")), { target: { value: "120" } });
    fireEvent.click(screen.getByTestId("switch-now"));
    await waitFor(() => expect(started).toEqual([{ id: "42ef39b6e467", timeoutSecs: 120 }]));

    send({ event: "step", data: { step: "guardrails", checks: ready.guardrails } });
    send({ event: "step", data: { step: "fencing", strategy: "sql", guarantee: "…" } });
    send({ event: "step", data: { step: "fenced", strategy: "sql", terminated_sessions: 3, blocked_databases: ["postgres"], elapsed_ms: 40 } });
    send({
      event: "step",
      data: { step: "catch_up", target_lsn: "0/3000060", received_lsn: null, replayed_lsn: null, remaining_bytes: 16384 },
    });
    expect(screen.getByTestId("switch-step-catchup").textContent).toContain("Catch up: 16.0 KiB behind");
    expect(screen.getByTestId("switch-step-catchup").getAttribute("data-state")).toBe("running");
    expect((screen.getByTestId("switch-close") as HTMLButtonElement).disabled).toBe(true);

    send({ event: "step", data: { step: "caught_up", target_lsn: "0/3000060", replayed_lsn: "0/3000060", elapsed_ms: 310 } });
    send({ event: "step", data: { step: "promoting" } });
    send({ event: "step", data: { step: "promoted", method: "pg_promote", timeline: 2, elapsed_ms: 120 } });
    send({
      event: "step",
      data: { step: "writes_verified", databases: [{ database: "postgres", committed: true }], write_unavailable_ms: 1480 },
    });
    send({
      event: "succeeded",
      data: switchoverReport({
        strategy: "sql",
        guarantee: "…",
        timeline: 2,
        window: { fence_started_at: "", writes_resumed_at: "", write_unavailable_ms: 1480, steps: [] },
        new_primary: "127.0.0.1:5434",
        warnings: [],
        next_steps: [
          {
            kind: "reconnect",
            endpoint: "127.0.0.1:5434",
            uri: "postgresql://app@127.0.0.1:5434/shop?sslmode=prefer",
            keywords: "host='127.0.0.1' port=5434 user='app' dbname='shop' sslmode=prefer",
          },
          { kind: "apply_access_rules", count: 2, command: "pgrelocate access apply 42ef39b6e467" },
          { kind: "copy_outside_settings" },
          { kind: "retire_fenced_source" },
          { kind: "drop_slot", slot: "pgrelocate_t", drop_with: "SELECT pg_drop_replication_slot('pgrelocate_t');" },
        ],
      }),
    });

    expect(screen.getByTestId("switch-success")).toBeTruthy();
    expect(screen.getByTestId("switch-window").textContent).toBe("Write-unavailability window: 1.5 s");
    expect(screen.getByTestId("switch-new-primary").textContent).toBe("New primary endpoint: 127.0.0.1:5434");
    expect(screen.getByTestId("next-reconnect").textContent).toContain("Reconnect applications to the new primary at 127.0.0.1:5434");
    // Each connection string is a block of its own, to copy whole.
    expect(screen.getAllByTestId("next-reconnect-command").map((b) => b.textContent)).toEqual([
      "postgresql://app@127.0.0.1:5434/shop?sslmode=prefer",
      "host='127.0.0.1' port=5434 user='app' dbname='shop' sslmode=prefer",
    ]);
    // Every step the engine names is shown, the kept slot's too (the CLI prints the same).
    expect(screen.getByTestId("next-drop_slot").textContent).toContain(
      "Slot pgrelocate_t is still on the source; if the source is ever started, drop it there at once:",
    );
    // Rules the new primary still refuses: the command that reviews and applies them.
    expect(screen.getByTestId("next-apply_access_rules").textContent).toContain("still refuses 2 client rule(s)");
    expect(screen.getByTestId("next-apply_access_rules-command").textContent).toBe("pgrelocate access apply 42ef39b6e467");
    expect(screen.getByTestId("next-drop_slot-command").textContent).toBe("SELECT pg_drop_replication_slot('pgrelocate_t');");
    for (const step of ["guardrails", "fence", "catchup", "promote", "verify"]) {
      expect(screen.getByTestId(`switch-step-${step}`).getAttribute("data-state")).toBe("done");
    }
    expect((screen.getByTestId("switch-close") as HTMLButtonElement).disabled).toBe(false);
  });

  it("says why it rolled back and that the source accepts writes again", async () => {
    const { send } = setup(ready);
    await tickEverything();
    fireEvent.click(screen.getByTestId("switch-now"));
    await waitFor(() => expect(screen.getByTestId("switch-run")).toBeTruthy());

    send({ event: "step", data: { step: "guardrails", checks: ready.guardrails } });
    send({ event: "step", data: { step: "fencing", strategy: "sql", guarantee: "…" } });
    send({ event: "step", data: { step: "fenced", strategy: "sql", terminated_sessions: 0, blocked_databases: [], elapsed_ms: 30 } });
    send({
      event: "step",
      data: { step: "catch_up", target_lsn: "0/9000000", received_lsn: null, replayed_lsn: null, remaining_bytes: 8 * 1024 ** 2 },
    });
    send({ event: "step", data: { step: "rolling_back", code: "catchup_timeout", reason: "the destination did not catch up within 120 s" } });
    send({ event: "step", data: { step: "rolled_back", source_accepts_writes: true, problems: [] } });
    send({
      event: "rolled_back",
      data: {
        cause: "catchup_timeout",
        reason: "the destination did not catch up within 120 s",
        message: "the switchover was rolled back: the destination did not catch up within 120 s. Nothing was lost and the source accepts writes again",
      },
    });

    const outcome = screen.getByTestId("switch-rolled-back");
    expect(outcome.textContent).toContain("Switchover rolled back");
    expect(outcome.textContent).toContain("the destination did not catch up within 120 s");
    expect(outcome.textContent).toContain("accepts writes again");
    expect(screen.getByTestId("switch-step-catchup").getAttribute("data-state")).toBe("failed");
    expect(screen.getByTestId("switch-step-promote").getAttribute("data-state")).toBe("waiting");
    expect(screen.queryByTestId("switch-success")).toBeNull();
  });

  it("shows a refusal from the shell with its code", async () => {
    const { send } = setup(ready);
    await tickEverything();
    fireEvent.click(screen.getByTestId("switch-now"));
    await waitFor(() => expect(screen.getByTestId("switch-run")).toBeTruthy());
    send({ event: "failed", data: { code: "guardrail_failed", message: "the switchover did not start: Replication lag (812 MiB behind)" } });
    expect(screen.getByTestId("switch-failed").textContent).toContain("(guardrail_failed)");
  });

  it("fits an 800 px tall window: the body scrolls, the title and buttons stay", async () => {
    setup({ ...ready, guardrails: Array.from({ length: 12 }, (_, i) => ({ ...ready.guardrails[0], id: `g${i}` })) });
    expect(await screen.findByTestId("switch-fence")).toBeTruthy();

    const body = document.querySelector<HTMLElement>(".ant-modal-body")!;
    expect(body.contains(screen.getByTestId("switch-plan"))).toBe(true);
    expect(body.style.overflowY).toBe("auto");
    expect(body.style.maxHeight).toBe("calc(100vh - 190px)");
    expect(body.contains(screen.getByTestId("switch-now"))).toBe(false);
    expect(document.querySelector<HTMLElement>(".ant-modal")!.style.top).toBe("24px");
  });

  it("clears a failed start's error when the guardrails are checked again", async () => {
    let previews = 0;
    mockIPC((cmd) => {
      if (cmd === "switchover_preview") {
        previews += 1;
        return ready;
      }
      if (cmd === "switchover_start") throw { code: "switchover_busy", message: "another switchover holds the lease" };
      throw new Error(`unexpected ${cmd}`);
    });
    render(<SwitchoverDialog open task={task} destinationEndpoint="127.0.0.1:5434" onClose={vi.fn()} />);
    await tickEverything();
    fireEvent.click(screen.getByTestId("switch-now"));
    expect((await screen.findByTestId("switch-start-error")).textContent).toContain("another switchover holds the lease");

    fireEvent.click(screen.getByTestId("switch-recheck"));
    await waitFor(() => expect(previews).toBe(2));
    expect(screen.queryByTestId("switch-start-error")).toBeNull();
  });
  it("shows why a source managed on another host gets the sql fence", async () => {
    setup({
      ...ready,
      guardrails: [
        ...ready.guardrails,
        { id: "fence.strategy", status: "pass", kind: "fence", strategy: "sql", superuser: true },
        {
          id: "fence.source_host",
          status: "warning",
          kind: "source_host_unreachable",
          host: "db-a",
          code: "ssh_auth_failed",
          error: "SSH refused the login to db-a",
        },
      ],
    });
    const row = await screen.findByTestId("guardrail-fence.source_host");
    expect(row.getAttribute("data-status")).toBe("warning");
    expect(row.textContent).toContain("Shutdown fence on the source's host");
    expect(row.textContent).toContain("managed on host db-a");
    expect(row.textContent).toContain("ssh_auth_failed: SSH refused the login to db-a");
    expect(screen.getByTestId("switch-fence").textContent).toMatch(/^sql/);
  });

  it("says a shutdown fence runs on the source's host", async () => {
    setup({
      ...ready,
      strategy: "shutdown",
      guardrails: [...ready.guardrails, { id: "fence.strategy", status: "pass", kind: "fence", strategy: "shutdown", host: "db-a" }],
    });
    const row = await screen.findByTestId("guardrail-fence.strategy");
    expect(row.textContent).toContain("Fence: shutdown, on host db-a (reached from the destination's host).");
  });
});
