import { fireEvent, render, screen, within } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import { failedReport } from "../../test/fixtures";
import ReportPage from "./ReportPage";

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
    expect(screen.getAllByTestId("report-group").map((g) => g.querySelector(".ant-card-head-title")?.textContent)).toEqual([
      "Source connectivity",
      "Source configuration",
      "Source data",
    ]);
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
});
