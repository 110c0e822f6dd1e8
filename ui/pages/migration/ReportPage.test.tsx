import { fireEvent, render, screen, within } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Report } from "../../api/assessments";
import { failedReport } from "../../test/fixtures";
import ReportPage from "./ReportPage";

/** The failed report with one more group whose checks all pass, and a second warning. */
const mixedReport: Report = {
  ...failedReport,
  groups: [
    ...failedReport.groups,
    {
      name: "Destination",
      checks: [
        { ...failedReport.groups[0].checks[0], id: "dest.version", title: "Check destination version", message: "same major version" },
        { ...failedReport.groups[0].checks[0], id: "dest.empty", title: "Check destination is empty", message: "nothing in it" },
        {
          ...failedReport.groups[2].checks[0],
          id: "dest.storage",
          title: "Check destination free space",
          message: "less than 25 % headroom",
        },
      ],
    },
  ],
};

const renderReport = async (report: Report) => {
  mockIPC(() => report);
  render(<ReportPage id="5e1f0c2a9b7d" navigate={vi.fn()} />);
  return screen.findByTestId("report-view");
};

afterEach(() => {
  delete (Element.prototype as Partial<Element>).scrollIntoView;
});

describe("assessment report view", () => {
  it("heads the report with the verdict, the counts and both sides", async () => {
    mockIPC((cmd, args) => {
      if (cmd === "report_get") {
        expect(args).toEqual({ id: "5e1f0c2a9b7d" });
        return failedReport;
      }
      throw new Error(`unexpected ${cmd}`);
    });

    render(<ReportPage id="5e1f0c2a9b7d" navigate={vi.fn()} />);

    expect((await screen.findByTestId("report-verdict")).textContent).toBe("Failed");
    expect(screen.getByTestId("report-counts").textContent).toBe("1 errors · 1 warnings · 1 skipped · 1 passed");
    const view = screen.getByTestId("report-view");
    expect(view.textContent).toContain("Source: orders-prod");
    expect(view.textContent).toContain("10.0.0.5:5432");
    expect(view.textContent).toContain("117.7 MiB");
    expect(view.textContent).toContain("Destination: orders-dest");
    expect(view.textContent).toContain("Duration: 2.4 s");
    // Only the passes are folded by group; the other checks are listed by status first.
    expect(screen.getAllByTestId("report-group").map((g) => g.getAttribute("data-group"))).toEqual(["Source connectivity"]);
  });

  it("opens the error with its impact, a copyable remedy and the evidence, and marks each status", async () => {
    mockIPC(() => failedReport);

    render(<ReportPage id="5e1f0c2a9b7d" navigate={vi.fn()} />);

    const details = await screen.findByTestId("check-details-src.wal_level");
    expect(details.textContent).toContain("wal_level = minimal");
    expect(details.textContent).toContain("Impact: no physical copy or streaming replication is possible");
    const remedy = within(details).getByTestId("remedy-src.wal_level");
    expect(remedy.textContent).toContain("ALTER SYSTEM SET wal_level = 'replica';");
    expect(within(remedy).getByRole("button", { name: /copy/i })).toBeTruthy();
    expect(details.textContent).toContain("minimal");
    // The warning is open too; the passed check stays folded.
    expect(screen.getByTestId("check-details-src.unlogged")).toBeTruthy();
    expect(screen.queryByTestId("check-details-src.reachable")).toBeNull();
    expect(screen.getByTestId("check-src.wal_senders").getAttribute("data-status")).toBe("skipped");
    expect(within(screen.getByTestId("check-src.wal_level")).getByRole("img", { name: "Error" })).toBeTruthy();
  });

  it("exports through the Rust side and says where the file went", async () => {
    const exports: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "report_get") return failedReport;
      if (cmd === "report_export") {
        exports.push(args);
        return { path: "/home/dba/pgrelocate-assessment-5e1f0c2a9b7d.md" };
      }
      throw new Error(`unexpected ${cmd}`);
    });

    render(<ReportPage id="5e1f0c2a9b7d" navigate={vi.fn()} />);
    fireEvent.click(await screen.findByTestId("export"));
    fireEvent.click(await screen.findByText("Markdown"));

    expect((await screen.findByTestId("export-result")).textContent).toContain(
      "Report saved to /home/dba/pgrelocate-assessment-5e1f0c2a9b7d.md",
    );
    expect(exports).toEqual([{ id: "5e1f0c2a9b7d", format: "md" }]);
  });

  it("says nothing was written when the dialog is cancelled, and shows a failed export's reason", async () => {
    let answer: unknown = { path: null };
    mockIPC((cmd) => {
      if (cmd === "report_get") return failedReport;
      if (answer instanceof Error) throw { code: "export_failed", message: answer.message };
      return answer;
    });

    render(<ReportPage id="5e1f0c2a9b7d" navigate={vi.fn()} />);
    fireEvent.click(await screen.findByTestId("export"));
    fireEvent.click(await screen.findByText("HTML page"));
    await new Promise((r) => setTimeout(r, 50));
    expect(screen.queryByTestId("export-result")).toBeNull();

    answer = new Error("cannot write /readonly/r.html: Permission denied (os error 13)");
    fireEvent.click(screen.getByTestId("export"));
    fireEvent.click(await screen.findByText("JSON"));
    expect((await screen.findByTestId("export-error")).textContent).toContain("Permission denied (os error 13) (export_failed)");
  });

  it("does not keep the last export's outcome beside the next one's", async () => {
    let fail = false;
    mockIPC((cmd) => {
      if (cmd === "report_get") return failedReport;
      if (fail) throw { code: "export_failed", message: "disk full" };
      return { path: "/home/dba/r.md" };
    });

    render(<ReportPage id="5e1f0c2a9b7d" navigate={vi.fn()} />);
    fireEvent.click(await screen.findByTestId("export"));
    fireEvent.click(await screen.findByText("Markdown"));
    expect(await screen.findByTestId("export-result")).toBeTruthy();

    fail = true;
    fireEvent.click(screen.getByTestId("export"));
    fireEvent.click(await screen.findByText("JSON"));
    expect((await screen.findByTestId("export-error")).textContent).toContain("disk full");
    expect(screen.queryByTestId("export-result")).toBeNull();
  });

  it("lists the errors first, then the warnings, then the skipped checks, and folds the passes by group", async () => {
    const view = await renderReport(mixedReport);

    const sections = [...view.querySelectorAll("[data-testid^=report-section-]")].map((s) => s.getAttribute("data-testid"));
    expect(sections).toEqual(["report-section-error", "report-section-warning", "report-section-skipped", "report-section-success"]);
    const warnings = screen.getByTestId("report-section-warning");
    expect(warnings.querySelector(".ant-card-head-title")?.textContent).toBe("Warnings (2)");
    // Both warnings, from two groups, are open on arrival and say which group they are in.
    expect(within(warnings).getByTestId("check-details-src.unlogged")).toBeTruthy();
    expect(within(warnings).getByTestId("check-details-dest.storage")).toBeTruthy();
    expect(within(warnings).getByTestId("check-dest.storage").textContent).toContain("Destination");

    // The passes: one folded panel per group, with its count; a click opens it.
    const passed = screen.getByTestId("report-section-success");
    expect(passed.querySelector(".ant-card-head-title")?.textContent).toBe("Passed checks (3)");
    expect(within(passed).getAllByTestId("report-group").map((g) => g.textContent)).toEqual([
      "Source connectivity 1 passed",
      "Destination 2 passed",
    ]);
    expect(screen.queryByTestId("check-dest.version")).toBeNull();
    fireEvent.click(within(passed).getAllByTestId("report-group")[1]);
    expect((await screen.findByTestId("check-dest.version")).getAttribute("data-status")).toBe("success");
    expect(screen.queryByTestId("check-details-dest.version")).toBeNull();
  });

  it("links the header's error and warning counts to their rows", async () => {
    // jsdom does not scroll: record which element was asked to come into view.
    const scrolled: Element[] = [];
    Element.prototype.scrollIntoView = function (this: Element) {
      scrolled.push(this);
    };
    await renderReport(mixedReport);

    const counts = screen.getByTestId("report-counts");
    expect(counts.textContent).toBe("1 errors · 2 warnings · 1 skipped · 3 passed");
    fireEvent.click(within(counts).getByTestId("report-count-warning"));
    expect(scrolled).toEqual([screen.getByTestId("report-section-warning")]);
    fireEvent.click(within(counts).getByTestId("report-count-error"));
    expect(scrolled[1]).toBe(screen.getByTestId("report-section-error"));
    expect(scrolled[1].textContent).toContain("Check wal_level");
    expect(window.location.hash).toBe("");
  });

  it("says a clean report is clean, and a count of nothing is no link", async () => {
    const clean: Report = { ...failedReport, verdict: "success", groups: [failedReport.groups[0]] };
    await renderReport(clean);
    expect(screen.getByTestId("report-all-clear").textContent).toContain("No errors or warnings");
    expect(screen.queryByTestId("report-count-error")).toBeNull();
    expect(screen.queryByTestId("report-section-error")).toBeNull();
    expect(screen.getByTestId("report-view").textContent).toContain("Source connectivity");
  });

  it("shows the evidence as a key/value table, nested values readable, no JSON", async () => {
    const report: Report = {
      ...failedReport,
      groups: [
        {
          name: "Source configuration",
          checks: [
            {
              ...failedReport.groups[1].checks[0],
              evidence: {
                max_replication_slots: 10,
                slots: [
                  { name: "pgrelocate_old", type: "physical", active: false, wal_status: null },
                  { name: "app", type: "logical", active: true, wal_status: "reserved" },
                ],
                clients: ["walreceiver", "pg_basebackup"],
                limits: { max_slot_wal_keep_size: -1, wal_keep_size: "0" },
              },
            },
          ],
        },
      ],
    };
    await renderReport(report);

    const evidence = within(screen.getByTestId("check-details-src.wal_level")).getByTestId("evidence");
    expect(evidence.textContent).not.toMatch(/[{}[\]"]/);
    const cells = (name: string) => [...within(evidence).getByTestId(`evidence-${name}`).querySelectorAll(":scope > td")].map((td) => td.textContent);
    expect(cells("max_replication_slots")).toEqual(["max_replication_slots", "10"]);
    expect(cells("clients")).toEqual(["clients", "walreceiver, pg_basebackup"]);
    // A list of objects: one column per field, one row per item; booleans in words, null as a dash.
    const slots = within(within(evidence).getByTestId("evidence-slots")).getByTestId("evidence-list");
    expect([...slots.querySelectorAll(":scope > thead th")].map((th) => th.textContent)).toEqual(["name", "type", "active", "wal_status"]);
    expect([...slots.querySelectorAll(":scope > tbody > tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent))).toEqual([
      ["pgrelocate_old", "physical", "No", "—"],
      ["app", "logical", "Yes", "reserved"],
    ]);
    const limits = within(within(evidence).getByTestId("evidence-limits")).getByTestId("evidence-nested");
    expect(limits.textContent).toBe("max_slot_wal_keep_size-1wal_keep_size0");
  });

  it("puts the remedy's commands in their own block, whose copy button copies only the commands", async () => {
    const writeText = vi.fn(async (_: string) => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const report: Report = {
      ...failedReport,
      groups: [
        {
          name: "Source configuration",
          checks: [
            {
              ...failedReport.groups[1].checks[0],
              remedy:
                "run on the source as a superuser:\nALTER SYSTEM SET wal_level = 'replica';\nALTER SYSTEM SET max_wal_senders = 10;\nthen restart the source (this setting needs a restart)",
            },
          ],
        },
      ],
    };
    await renderReport(report);

    const remedy = screen.getByTestId("remedy-src.wal_level");
    const blocks = within(remedy).getAllByTestId("remedy-src.wal_level-command");
    expect(blocks).toHaveLength(1);
    expect(blocks[0].textContent).toBe("ALTER SYSTEM SET wal_level = 'replica';\nALTER SYSTEM SET max_wal_senders = 10;");
    expect(remedy.textContent).toContain("run on the source as a superuser:");
    expect(remedy.textContent).toContain("then restart the source");
    expect(within(remedy).getAllByRole("button", { name: /copy/i })).toHaveLength(1);
    fireEvent.click(within(blocks[0]).getByRole("button", { name: /copy/i }));
    await vi.waitFor(() =>
      expect(writeText).toHaveBeenCalledWith("ALTER SYSTEM SET wal_level = 'replica';\nALTER SYSTEM SET max_wal_senders = 10;"),
    );
  });
});
