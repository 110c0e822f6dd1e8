// A task's access rules (issue 14 item 1): the reviewed diff of the source's client rules
// against the destination's pg_hba.conf, applied as a marked block, and undone.

import { call } from "./core";
import type { AccessDiff } from "./generated/AccessDiff";
import type { AccessOutcome } from "./generated/AccessOutcome";
import type { Origin } from "./generated/Origin";
import type { PendingLine } from "./generated/PendingLine";
import type { SkippedLine } from "./generated/SkippedLine";

export type { AccessDiff, AccessOutcome, Origin, PendingLine, SkippedLine };

/** What the source admits that the destination refuses, and the block in force. Changes nothing. */
export const accessDiff = (id: string) => call<AccessDiff>("access_diff", { id });

/** Writes the pending rules as the task's marked block, checks and reloads the destination. */
export const applyAccess = (id: string) => call<AccessOutcome>("access_apply", { id });

/** Removes exactly the task's block and reloads the destination. */
export const undoAccess = (id: string) => call<AccessOutcome>("access_undo", { id });
