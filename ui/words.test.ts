import { describe, expect, it } from "vitest";
import type { Guardrail } from "./api/generated/Guardrail";
import { guardrailLine, guardrailMessage, stepText, warningText } from "./words";

describe("engine values in words", () => {
  it("words a warning from its code and parameters, and a stored one from its text", () => {
    expect(warningText({ code: "slot_lost", slot: "pgrelocate_t" })).toContain("Slot pgrelocate_t lost WAL");
    expect(warningText({ code: "dest_disk_low", free_bytes: 512 * 1024 * 1024, limit_bytes: 1024 * 1024 * 1024 })).toContain(
      "512.0 MiB free",
    );
    expect(warningText({ code: "slot_lost", message: "slot x lost WAL (stored)" })).toBe("slot x lost WAL (stored)");
  });

  it("words a guardrail from its id and finding, and a stored one from its title and message", () => {
    const lag: Guardrail = { id: "replication.lag", status: "error", kind: "lag_over", lag_bytes: 900 * 1024 * 1024, threshold_bytes: 64 * 1024 * 1024 };
    expect(guardrailLine(lag)).toMatch(/^Lag under the threshold: The destination is 900\.0 MiB behind, above the threshold of 64\.0 MiB/);
    const sessions: Guardrail = { id: "source.superuser_sessions", status: "warning", kind: "superuser_sessions", count: 2 };
    expect(guardrailMessage(sessions)).toMatch(/^2 superuser session\(s\) are connected/);
    const stored: Guardrail = { id: "source.lost", status: "error", title: "Source lost", message: "the source still answers" };
    expect(guardrailLine(stored)).toBe("Source lost: the source still answers");
  });

  it("says where a shutdown fence runs and why a source's host gives none", () => {
    const remote: Guardrail = { id: "fence.strategy", status: "pass", kind: "fence", strategy: "shutdown", host: "db-a" };
    expect(guardrailLine(remote)).toBe("Fence strategy available: Fence: shutdown, on host db-a (reached from the destination's host).");
    const local: Guardrail = { id: "fence.strategy", status: "pass", kind: "fence", strategy: "shutdown" };
    expect(guardrailMessage(local)).toBe("Fence: shutdown.");
    const unreached: Guardrail = {
      id: "fence.source_host",
      status: "warning",
      kind: "source_host_unreachable",
      host: "db-a",
      code: "ssh_auth_failed",
      error: "SSH refused the login to db-a",
    };
    expect(guardrailLine(unreached)).toMatch(
      /^Shutdown fence on the source's host: No shutdown fence: the source is managed on host db-a, which the destination's host cannot fence it on \(ssh_auth_failed: SSH refused the login to db-a\)/,
    );
  });

  it("words a logged step", () => {
    expect(stepText({ step: "promoted", method: "pg_promote", timeline: 2, elapsed_ms: 120 })).toBe(
      "Promoted with pg_promote() in 120 ms; new timeline 2",
    );
    expect(stepText({ step: "slot", outcome: { status: "dropped", slot: "pgrelocate_t" } })).toBe(
      "Slot pgrelocate_t dropped on the source",
    );
  });
});
