import { describe, expect, it } from "vitest";
import type { InstanceStatus } from "../../api/instances";
import { consoleStatus, instanceRows } from "./status";

const inst = (name: string, state: InstanceStatus["state"]): InstanceStatus =>
  ({
    id: name,
    name,
    endpoint: { host: "127.0.0.1", port: 5433, user: "postgres", dbname: "postgres", sslmode: "disable" },
    created_at: "",
    kind: "managed",
    managed: { data_dir: "/d", bin_dir: "/b", major: 15 },
    state,
    connection: null,
    error: state === "missing" ? "data directory /d is gone" : null,
    storage: null,
  }) as InstanceStatus;

describe("console status of an instance", () => {
  it("follows what pgrelocate does with it", () => {
    const copying = [{ source: "src", destination: "dst", phase: "basebackup" }];
    expect(consoleStatus(inst("dst", "running"), copying)).toBe("migrating_in");
    expect(consoleStatus(inst("src", "running"), copying)).toBe("running");
    const switching = [{ source: "src", destination: "dst", phase: "switch" }];
    expect(consoleStatus(inst("dst", "running"), switching)).toBe("maintaining");
    expect(consoleStatus(inst("src", "running"), switching)).toBe("maintaining");
    const done = [{ source: "src", destination: "dst", phase: "success" }];
    // A finished task labels nothing: the tag is what the server says.
    expect(consoleStatus(inst("src", "running"), done)).toBe("running");
    expect(consoleStatus(inst("src", "stopped"), done)).toBe("stopped");
    expect(consoleStatus(inst("dst", "running"), done)).toBe("running");
    expect(consoleStatus(inst("dst", "missing"), [])).toBe("error");
  });

  it("tags what the server reports: in recovery, read-only", () => {
    const answering = (role: "primary" | "standby", read_only: boolean): InstanceStatus => ({
      ...inst("src", "running"),
      connection: { version: { major: 15, minor: 8 }, version_text: "15.8", system_identifier: null, role, read_only, tls: null, round_trip_ms: 1, auth_method: "scram-sha-256" },
    });
    const done = [{ source: "src", destination: "dst", phase: "success" }];
    expect(consoleStatus(answering("standby", false), done)).toBe("in_recovery");
    expect(consoleStatus(answering("primary", true), done)).toBe("read_only");
    expect(consoleStatus(answering("primary", false), done)).toBe("running");
  });

  it("lists instances being created after the stored ones, and the version of a stopped one", () => {
    const rows = instanceRows({ instances: [inst("a", "stopped")], creating: ["sandbox-source", "a"] });
    expect(rows.map((r) => [r.name, r.status, r.engineVersion])).toEqual([
      ["a", "stopped", "15"],
      ["sandbox-source", "creating", null],
    ]);
  });

  it("carries the registered host a managed instance runs on", () => {
    const remote = { ...inst("east", "running"), managed: { data_dir: "/d", bin_dir: "/b", major: 15, host: "db-east" } };
    const rows = instanceRows({ instances: [remote, inst("here", "running")], creating: [] });
    expect(rows.map((r) => [r.name, r.runsOn])).toEqual([
      ["east", "db-east"],
      ["here", null],
    ]);
  });
});
