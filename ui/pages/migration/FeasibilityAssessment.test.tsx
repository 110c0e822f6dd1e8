import { act, render, screen, waitFor, within } from "@testing-library/react";
import type { Channel } from "@tauri-apps/api/core";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import type { AssessmentEvent, AssessmentRow } from "../../api/assessments";
import type { InstanceStatus } from "../../api/instances";
import FeasibilityAssessment from "./FeasibilityAssessment";

const dest = {
  id: "d",
  name: "sandbox-dest",
  endpoint: { host: "127.0.0.1", port: 5434, user: "postgres", dbname: "postgres", sslmode: "disable" },
  created_at: "",
  kind: "managed",
  state: "running",
  connection: null,
  error: null,
  storage: null,
} as InstanceStatus;

const running: AssessmentRow = {
  report_id: null,
  job_id: "job-7",
  source: "sandbox-source",
  destination: "sandbox-dest",
  mode: "migration",
  created_at: "2026-11-24T09:00:00Z",
  status: "running",
  counts: null,
  checks_done: 3,
  checks_total: 34,
  error: null,
  duration_ms: null,
};

describe("Feasibility assessment table", () => {
  it("re-subscribes to a run in progress after a reload and shows it finish", async () => {
    let stream: Channel<AssessmentEvent> | undefined;
    let stored = false;
    mockIPC((cmd, args) => {
      if (cmd === "assessment_list")
        return stored
          ? [{ ...running, job_id: null, report_id: "r9", status: "error", counts: { errors: 1, warnings: 2, skipped: 4, passed: 27 }, checks_done: 34 }]
          : [running, { ...running, job_id: "other", destination: "elsewhere" }];
      if (cmd === "assessment_watch") {
        const a = args as { jobId: string; onEvent: Channel<AssessmentEvent> };
        expect(a.jobId).toBe("job-7");
        stream = a.onEvent;
        return null;
      }
      throw new Error(`unexpected ${cmd}`);
    });

    render(<FeasibilityAssessment instance={dest} navigate={vi.fn()} />);
    const row = await screen.findByTestId("assessment-row");
    expect(screen.getAllByTestId("assessment-row")).toHaveLength(1);
    expect(within(row).getByText("Running 3/34")).toBeTruthy();
    await waitFor(() => expect(stream).toBeDefined());

    // The replayed history and the live events arrive through the same channel.
    const check = (id: string): AssessmentEvent => ({
      event: "check",
      data: { id, title: id, status: "success", message: "", impact: "", remedy: "", evidence: {}, duration_ms: 1 },
    });
    act(() => {
      for (const id of ["a", "b", "c", "d"]) stream!.onmessage(check(id));
    });
    expect(within(screen.getByTestId("assessment-row")).getByText("Running 4/34")).toBeTruthy();

    stored = true;
    act(() => stream!.onmessage({ event: "finished", data: { report_id: "r9", verdict: "error", counts: { errors: 1, warnings: 2, skipped: 4, passed: 27 } } }));
    await waitFor(() => expect(screen.getByTestId("assessment-row").getAttribute("data-status")).toBe("error"));
    const done = within(screen.getByTestId("assessment-row"));
    expect(done.getByText("Failed")).toBeTruthy();
    expect(done.getByTestId("view-report")).toBeTruthy();
  });

  it("explains an empty table", async () => {
    mockIPC(() => []);
    render(<FeasibilityAssessment instance={dest} navigate={vi.fn()} />);
    expect(await screen.findByText(/No assessment yet/)).toBeTruthy();
  });
});
