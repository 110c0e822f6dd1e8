// How the console names an instance's state: what the server reports (stopped, in recovery,
// read-only, running), refined by what pgrelocate is doing with it right now (being
// created, receiving a migration, switching over). Never a label stored by a past task.

import type { InstanceList, InstanceStatus, Retirement } from "../../api/instances";

/** Status of an instance, as in the console's Status column. */
export type ConsoleStatus =
  | "running"
  | "stopped"
  | "creating"
  | "migrating_in"
  | "maintaining"
  | "in_recovery"
  | "read_only"
  | "error";

/** What a task says about the instances at its ends. */
export interface TaskLink {
  source: string;
  destination: string;
  phase: string;
}

/** One row of the Instances page. */
export interface InstanceRow {
  id: string;
  name: string;
  status: ConsoleStatus;
  role: "primary" | "standby" | null;
  /** Server version, e.g. "15.18", or the major of a stopped managed instance. */
  engineVersion: string | null;
  kind: "managed" | "external";
  /** A managed instance adopted from an existing cluster: removing it leaves the cluster alone. */
  adopted: boolean;
  /** The registered host a managed instance runs on; `null`: this machine (or external). */
  runsOn: string | null;
  host: string;
  port: number;
  storage: { used_bytes: number; free_bytes: number } | null;
  /** Why the status is Error (or what else the status check said). */
  problem: string | null;
  /** The task that retired it: Start asks before bringing it up as a primary. */
  retired: Retirement | null;
}

const LIVE_PHASES = ["precheck", "basebackup", "startup", "increment"];

/** The console status of one instance. */
export function consoleStatus(instance: InstanceStatus, tasks: TaskLink[]): ConsoleStatus {
  const asDest = tasks.find((t) => t.destination === instance.name && !["cancelled", "failed"].includes(t.phase));
  const asSource = tasks.find((t) => t.source === instance.name);
  if (asDest?.phase === "switch" || (asSource?.phase === "switch" && instance.state === "running")) {
    return "maintaining";
  }
  switch (instance.state) {
    case "running":
      if (asDest && LIVE_PHASES.includes(asDest.phase)) return "migrating_in";
      if (instance.connection?.role === "standby") return "in_recovery";
      if (instance.connection?.read_only) return "read_only";
      return "running";
    case "stopped":
      return "stopped";
    default:
      return "error";
  }
}

/** The Instances page's rows: stored instances first (by name), then those being created. */
export function instanceRows(list: InstanceList, tasks: TaskLink[] = []): InstanceRow[] {
  const rows: InstanceRow[] = list.instances.map((i) => ({
    id: i.id,
    name: i.name,
    status: consoleStatus(i, tasks),
    role: i.connection?.role ?? null,
    engineVersion: i.connection
      ? `${i.connection.version.major}.${i.connection.version.minor}`
      : i.managed
        ? String(i.managed.major)
        : null,
    kind: i.kind,
    adopted: i.managed?.adopted ?? false,
    runsOn: i.managed?.host ?? null,
    host: i.endpoint.host,
    port: i.endpoint.port,
    storage: i.storage,
    problem: i.error,
    retired: i.retired ?? null,
  }));
  for (const name of list.creating) {
    if (rows.some((r) => r.name === name)) continue;
    rows.push({
      id: "",
      name,
      status: "creating",
      role: null,
      engineVersion: null,
      kind: "managed",
      adopted: false,
      runsOn: null,
      host: "",
      port: 0,
      storage: null,
      problem: null,
      retired: null,
    });
  }
  return rows;
}
