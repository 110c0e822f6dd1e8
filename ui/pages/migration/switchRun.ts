// The state of a switchover or failover as its events arrive, kept apart from the dialog
// so the same fold serves a live run and a re-subscription after a reload.

import type { CommandError } from "../../api/core";
import type { SwitchStep, SwitchoverEvent, SwitchoverResult } from "../../api/tasks";

/** One step's state. */
export interface StepState {
  state: "waiting" | "running" | "done" | "failed";
  message?: string;
  bytesBehind?: number;
}

/** Everything the dialog shows about a run. */
export interface SwitchRun {
  steps: Record<SwitchStep, StepState>;
  result?: SwitchoverResult;
  rolledBack?: string;
  failed?: CommandError;
}

/** The steps in the order they happen. */
export const SWITCH_STEPS: SwitchStep[] = ["guardrails", "fence", "catchup", "promote", "verify"];

/** A run that has not started. */
export function initialRun(): SwitchRun {
  return { steps: Object.fromEntries(SWITCH_STEPS.map((s) => [s, { state: "waiting" }])) as Record<SwitchStep, StepState> };
}

/** The run after one more event. */
export function applyEvent(run: SwitchRun, e: SwitchoverEvent): SwitchRun {
  switch (e.event) {
    case "step":
      return {
        ...run,
        steps: {
          ...run.steps,
          [e.data.step]: {
            state: e.data.state,
            message: e.data.message ?? run.steps[e.data.step]?.message,
            bytesBehind: e.data.bytes_behind ?? run.steps[e.data.step]?.bytesBehind,
          },
        },
      };
    case "succeeded":
      return { ...run, result: e.data };
    case "rolled_back":
      return { ...run, rolledBack: e.data.reason };
    case "failed":
      return { ...run, failed: e.data };
  }
}

/** Whether the run has ended (one way or another). */
export function isOver(run: SwitchRun): boolean {
  return Boolean(run.result || run.rolledBack || run.failed);
}
