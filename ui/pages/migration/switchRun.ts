// The state of a switchover or failover as its events arrive, kept apart from the dialog
// so the same fold serves a live run and a re-subscription after a reload.

import type { CommandError } from "../../api/core";
import type { NextStep } from "../../api/generated/NextStep";
import type { FailoverReport, HookAt, Progress, SwitchoverEvent } from "../../api/tasks";
import { formatDuration } from "../../units";
import { guardrailLine, hookText } from "../../words";

/** The steps the dialog shows, in the order they happen. */
export type SwitchStep = "guardrails" | "fence" | "catchup" | "hook" | "promote" | "verify";

/** One step's state. */
export interface StepState {
  state: "waiting" | "running" | "done" | "failed";
  message?: string;
  bytesBehind?: number;
}

/** Everything the dialog shows about a run. */
export interface SwitchRun {
  steps: Record<SwitchStep, StepState>;
  /** The switchover's measured window and new primary. */
  result?: { windowMs: number; newPrimary: string | null; warnings: string[]; nextSteps: NextStep[] };
  failover?: FailoverReport;
  /** When the endpoint hook runs, once it started. */
  hookAt?: HookAt;
  rolledBack?: string;
  failed?: CommandError;
}

/** The steps in the order they happen. */
export const SWITCH_STEPS: SwitchStep[] = ["guardrails", "fence", "catchup", "promote", "verify"];

/** A run that has not started. */
export function initialRun(): SwitchRun {
  return {
    steps: Object.fromEntries([...SWITCH_STEPS, "hook"].map((s) => [s, { state: "waiting" }])) as Record<SwitchStep, StepState>,
  };
}

/** The steps a run shows: the endpoint hook's at its place when there is one. */
export function stepsOf(hookAt: HookAt | null | undefined): SwitchStep[] {
  if (hookAt === "before_promotion") return ["guardrails", "fence", "catchup", "hook", "promote", "verify"];
  if (hookAt === "after_promotion") return [...SWITCH_STEPS, "hook"];
  return SWITCH_STEPS;
}

function set(run: SwitchRun, step: SwitchStep, state: StepState): SwitchRun {
  return { ...run, steps: { ...run.steps, [step]: state } };
}

/** The step under way, if any. */
function running(run: SwitchRun): SwitchStep | undefined {
  return SWITCH_STEPS.find((s) => run.steps[s].state === "running");
}

/** The run after one engine step. */
function applyStep(run: SwitchRun, p: Progress): SwitchRun {
  switch (p.step) {
    case "guardrails": {
      const failed = p.checks.filter((c) => c.status === "error");
      return set(run, "guardrails", {
        state: failed.length ? "failed" : "done",
        message: failed.map(guardrailLine).join("; ") || undefined,
      });
    }
    case "fencing":
      return set(run, "fence", { state: "running", message: p.strategy });
    case "fenced":
      return set(set(run, "fence", { state: "done", message: `${p.strategy}, ${formatDuration(p.elapsed_ms)}` }), "catchup", {
        state: "running",
      });
    case "catch_up":
      return set(run, "catchup", { state: "running", bytesBehind: p.remaining_bytes });
    case "caught_up":
      return set(run, "catchup", { state: "done", bytesBehind: 0, message: formatDuration(p.elapsed_ms) });
    case "promoting":
      return set(run, "promote", { state: "running" });
    case "promoted":
      return set(
        set(run, "promote", {
          state: "done",
          message: `${p.method}${p.timeline != null ? `, timeline ${p.timeline}` : ""}, ${formatDuration(p.elapsed_ms)}`,
        }),
        "verify",
        { state: "running" },
      );
    case "writes_verified":
      return set(run, "verify", {
        state: "done",
        message: p.databases.filter((d) => d.committed).map((d) => d.database).join(", "),
      });
    case "failover_verified":
      return set(run, "verify", {
        state: "done",
        message: p.databases.filter((d) => d.committed).map((d) => d.database).join(", "),
      });
    case "hook_started":
      return { ...set(run, "hook", { state: "running", message: p.command }), hookAt: p.at };
    case "hook_finished":
      return {
        ...set(run, "hook", { state: p.run.exit_code === 0 && !p.run.timed_out ? "done" : "failed", message: hookText(p.run) }),
        hookAt: p.run.at,
      };
    case "rolling_back": {
      const at = running(run);
      return at ? set(run, at, { ...run.steps[at], state: "failed", message: p.reason }) : run;
    }
    default:
      return run;
  }
}

/** The run after one more event. */
export function applyEvent(run: SwitchRun, e: SwitchoverEvent): SwitchRun {
  switch (e.event) {
    case "step":
      return applyStep(run, e.data);
    case "succeeded":
      return {
        ...set(run, "verify", { ...run.steps.verify, state: "done" }),
        result: {
          windowMs: e.data.window.write_unavailable_ms,
          newPrimary: e.data.new_primary,
          warnings: e.data.warnings,
          nextSteps: e.data.next_steps,
        },
      };
    case "failover_succeeded":
      return { ...set(run, "verify", { ...run.steps.verify, state: "done" }), failover: e.data };
    case "rolled_back":
      return { ...run, rolledBack: e.data.reason };
    case "failed": {
      const at = running(run);
      const failed = at ? set(run, at, { ...run.steps[at], state: "failed" }) : run;
      return { ...failed, failed: e.data };
    }
  }
}

/** Whether the run has ended (one way or another). */
export function isOver(run: SwitchRun): boolean {
  return Boolean(run.result || run.failover || run.rolledBack !== undefined || run.failed);
}
