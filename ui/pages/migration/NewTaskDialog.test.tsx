import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import type { AssessmentRow, Report } from "../../api/assessments";
import { failedReport } from "../../test/fixtures";
import NewTaskDialog from "./NewTaskDialog";

const row: AssessmentRow = {
  report_id: "r1",
  job_id: null,
  source: "sandbox-source",
  destination: "sandbox-dest",
  mode: "migration",
  created_at: "2026-11-24T08:00:00Z",
  status: "warning",
  counts: { errors: 0, warnings: 2, skipped: 0, passed: 32 },
  checks_done: 34,
  checks_total: 34,
  error: null,
  duration_ms: 2000,
};

const report: Report = {
  ...failedReport,
  id: "r1",
  verdict: "warning",
  groups: [
    {
      name: "Destination",
      checks: [
        {
          id: "dest.tablespaces",
          title: "Check tablespace mapping",
          status: "warning",
          message: "no mapping given",
          impact: "",
          remedy: "",
          duration_ms: 1,
          evidence: {
            tablespaces: [{ location: "/srv/src/ts/archive", target: "/srv/dst/ts/archive", mapped: false, name: "archive" }],
          },
        },
      ],
    },
  ],
};

const fresh = {
  report_id: "r1",
  assessed_at: "2026-11-24T08:00:00Z",
  age_secs: 600,
  assessed_bytes: 100 * 1024 ** 2,
  current_bytes: 101 * 1024 ** 2,
  measure_error: null,
  old: false,
  size_changed: false,
};

describe("Create Cloud Migration Task", () => {
  it("starts from a successful assessment with the tablespace targets it proposed", async () => {
    const created: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "assessment_list") return [row, { ...row, report_id: "r0", status: "error" }];
      if (cmd === "report_get") return report;
      if (cmd === "report_freshness") return { ...fresh, report_id: "r1" };
      if (cmd === "task_create") {
        created.push((args as { request: unknown }).request);
        return { id: "t1" };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    const onCreated = vi.fn();

    render(<NewTaskDialog open mode="migration" destination="sandbox-dest" onClose={vi.fn()} onCreated={onCreated} navigate={vi.fn()} />);

    await waitFor(() => expect(screen.getByTestId("new-task-assessment").textContent).toContain("sandbox-source"));
    const target = (await screen.findByTestId("new-task-tablespace")) as HTMLInputElement;
    await waitFor(() => expect(target.value).toBe("/srv/dst/ts/archive"));
    expect(screen.getByText("/srv/src/ts/archive")).toBeTruthy();
    fireEvent.change(screen.getByPlaceholderText("100M"), { target: { value: "50M" } });
    fireEvent.click(screen.getByTestId("new-task-ok"));

    expect(screen.queryByTestId("new-task-stale")).toBeNull();
    await waitFor(() => expect(onCreated).toHaveBeenCalled());
    expect(created).toEqual([
      {
        source: "sandbox-source",
        destination: "sandbox-dest",
        mode: "migration",
        report_id: "r1",
        max_rate: "50M",
        compression: "none",
        tablespace_mappings: [{ old: "/srv/src/ts/archive", new: "/srv/dst/ts/archive" }],
      },
    ]);
  });

  it("explains that a successful assessment is needed first, and leads to the assessment tab", async () => {
    mockIPC((cmd) => (cmd === "assessment_list" ? [{ ...row, status: "error" }] : null));
    const navigate = vi.fn();
    const onClose = vi.fn();
    render(<NewTaskDialog open mode="migration" destination="sandbox-dest" onClose={onClose} onCreated={vi.fn()} navigate={navigate} />);
    expect(await screen.findByText(/No successful assessment for this scenario yet/)).toBeTruthy();
    expect((screen.getByTestId("new-task-ok") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByTestId("new-task-to-assessment"));
    expect(onClose).toHaveBeenCalled();
    expect(navigate).toHaveBeenCalledWith({ page: "instance", name: "sandbox-dest", section: "migration", tab: "assessment" });
  });

  it("says when the assessment is old and the source has grown since, and re-runs it", async () => {
    const started: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "assessment_list") return [row];
      if (cmd === "report_get") return report;
      if (cmd === "report_freshness")
        return { ...fresh, age_secs: 3 * 3600, old: true, current_bytes: 250 * 1024 ** 2, size_changed: true };
      if (cmd === "assessment_start") {
        const a = args as { source: string; destination: string; mode: string };
        started.push({ source: a.source, destination: a.destination, mode: a.mode });
        return "job-2";
      }
      throw new Error(`unexpected ${cmd}`);
    });
    const navigate = vi.fn();
    const onClose = vi.fn();
    render(<NewTaskDialog open mode="migration" destination="sandbox-dest" onClose={onClose} onCreated={vi.fn()} navigate={navigate} />);
    const notice = await screen.findByTestId("new-task-stale");
    expect(notice.textContent).toContain("It was made 3 h 0 min ago.");
    expect(notice.textContent).toContain("It measured the source at 100.0 MiB; the source is 250.0 MiB now");
    fireEvent.click(screen.getByTestId("new-task-rerun"));
    await waitFor(() => expect(navigate).toHaveBeenCalledWith({ page: "instance", name: "sandbox-dest", section: "migration", tab: "assessment" }));
    expect(started).toEqual([{ source: "sandbox-source", destination: "sandbox-dest", mode: "migration" }]);
    expect(onClose).toHaveBeenCalled();
  });
});
