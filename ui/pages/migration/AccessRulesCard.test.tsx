import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import type { AccessDiff } from "../../api/access";
import type { Phase } from "../../api/tasks";
import { streamingTask } from "../../test/fixtures";
import AccessRulesCard from "./AccessRulesCard";
import TaskDetails from "./TaskDetails";

const TASK = "706666f6b76b";

const pendingDiff: AccessDiff = {
  task_id: TASK,
  origin: "file_rules",
  dest_file: "/var/lib/postgresql/16/dest/pg_hba.conf",
  pending: [
    {
      line: "host all all 10.20.0.0/16 scram-sha-256",
      source_line: 7,
      clients: "host 10.20.0.0/16 (database all, user all)",
      refused: ["database all, user all: refused by no line"],
    },
    { line: "host all all 10.20.9.0/24 reject", clients: "host 10.20.9.0/24 (database all, user all)", refused: [] },
  ],
  applied: [],
  skipped: [{ line: "local all all peer", reason: "a local socket rule: the destination's own stay" }],
};

const appliedDiff: AccessDiff = {
  ...pendingDiff,
  pending: [],
  applied: pendingDiff.pending.map((p) => p.line),
};

/** Clicks a testid'd button, then the OK of the Popconfirm it opens. */
async function confirm(testId: string, ok: string) {
  fireEvent.click(screen.getByTestId(testId));
  const tip = await screen.findByRole("tooltip");
  fireEvent.click(within(tip).getByRole("button", { name: ok }));
}

describe("Access rules card", () => {
  it("shows the pending rules with why, applies them after review, reloads, and undoes the block", async () => {
    const calls: string[] = [];
    let state: AccessDiff = pendingDiff;
    mockIPC((cmd, args) => {
      calls.push(cmd);
      expect((args as { id: string }).id).toBe(TASK);
      if (cmd === "access_diff") return state;
      if (cmd === "access_apply") {
        state = appliedDiff;
        return { changed: true, rules: appliedDiff };
      }
      if (cmd === "access_undo") {
        state = { ...pendingDiff };
        return { changed: true, rules: pendingDiff };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(<AccessRulesCard taskId={TASK} />);

    const pending = await screen.findByTestId("access-pending");
    expect(pending.textContent).toContain("host all all 10.20.0.0/16 scram-sha-256");
    expect(pending.textContent).toContain("host 10.20.0.0/16 (database all, user all)");
    expect(pending.textContent).toContain("refused by no line");
    expect(pending.textContent).toContain("A reject carried so the block refuses what the source refused");
    expect(screen.getByTestId("access-origin").textContent).toBe("pg_hba_file_rules on the source");
    expect(screen.getByTestId("access-card").textContent).toContain("pg_hba.conf");
    expect(screen.getByTestId("access-skipped").textContent).toContain("a local socket rule");
    expect(screen.queryByTestId("access-undo")).toBeNull();
    expect(screen.queryByTestId("access-applied")).toBeNull();

    // The confirmation reviews the lines it writes.
    fireEvent.click(screen.getByTestId("access-apply"));
    const tip = await screen.findByRole("tooltip");
    expect(tip.textContent).toContain("Write these 2 rules");
    expect(tip.textContent).toContain("host all all 10.20.9.0/24 reject");
    fireEvent.click(within(tip).getByRole("button", { name: "Apply" }));

    const applied = await screen.findByTestId("access-applied");
    expect(applied.textContent).toContain("host all all 10.20.0.0/16 scram-sha-256");
    expect(calls).toEqual(["access_diff", "access_apply", "access_diff"]);
    expect(screen.queryByTestId("access-apply")).toBeNull();
    expect(screen.getByTestId("access-nothing-pending")).toBeTruthy();

    await confirm("access-undo", "Undo");
    await waitFor(() => expect(screen.queryByTestId("access-applied")).toBeNull());
    expect(calls).toEqual(["access_diff", "access_apply", "access_diff", "access_undo", "access_diff"]);
    expect(screen.getByTestId("access-apply")).toBeTruthy();
    expect(screen.queryByTestId("access-undo")).toBeNull();
  });

  it("shows the error of a failed apply with its message, and the diff stays", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "access_diff") return pendingDiff;
      if (cmd === "access_apply")
        throw { code: "access_rules_invalid", message: 'pg_hba.conf line 1: invalid IP mask "10.20.0.0/99"; the file was restored' };
      throw new Error(`unexpected ${cmd}`);
    });
    render(<AccessRulesCard taskId={TASK} />);
    await screen.findByTestId("access-pending");

    await confirm("access-apply", "Apply");
    const alert = await screen.findByTestId("access-action-error");
    expect(alert.textContent).toContain("The access rules were not applied");
    expect(alert.textContent).toContain('invalid IP mask "10.20.0.0/99"; the file was restored');
    await waitFor(() => expect(calls).toEqual(["access_diff", "access_apply", "access_diff"]));
    expect(screen.getByTestId("access-pending")).toBeTruthy();
    expect(screen.getByTestId("access-apply")).toBeTruthy();
  });

  it("offers no Apply when nothing is pending and no Undo when no block is in force", async () => {
    mockIPC((cmd) => (cmd === "access_diff" ? { ...pendingDiff, origin: "copied_file", pending: [], skipped: [] } : null));
    render(<AccessRulesCard taskId={TASK} />);
    expect((await screen.findByTestId("access-nothing-pending")).textContent).toContain("nothing to apply");
    expect(screen.getByTestId("access-origin").textContent).toBe("the copy's pg_hba.conf.from-source");
    expect(screen.getByTestId("access-none-applied")).toBeTruthy();
    expect(screen.queryByTestId("access-apply")).toBeNull();
    expect(screen.queryByTestId("access-undo")).toBeNull();
    expect(screen.queryByTestId("access-skipped")).toBeNull();
  });

  it("shows a failed read as an error, and nothing for an empty answer", async () => {
    mockIPC(() => {
      throw { code: "task_not_found", message: "no task 706666f6b76b" };
    });
    const { unmount } = render(<AccessRulesCard taskId={TASK} />);
    const alert = await screen.findByTestId("access-error");
    expect(alert.textContent).toContain("Could not read the access rules");
    expect(alert.textContent).toContain("no task 706666f6b76b (task_not_found)");
    unmount();

    mockIPC(() => null);
    const { container } = render(<AccessRulesCard taskId={TASK} />);
    await new Promise((r) => setTimeout(r, 50));
    expect(container.querySelector("[data-testid=access-card]")).toBeNull();
  });

  it("is on the details of a streaming or completed task, not of one still copying", async () => {
    for (const [phase, shown] of [
      ["increment", true],
      ["success", true],
      ["basebackup", false],
    ] as [Phase, boolean][]) {
      const task = streamingTask({ id: TASK, phase });
      const asked: string[] = [];
      mockIPC((cmd) => {
        asked.push(cmd);
        if (cmd === "task_status") return task;
        if (cmd === "task_events_before") return { events: [], newest_seq: 0 };
        if (cmd === "task_watch") return 1;
        if (cmd === "access_diff") return pendingDiff;
        return null;
      });
      const { unmount } = render(<TaskDetails id={TASK} navigate={vi.fn()} />);
      await screen.findByTestId("phase-timeline");
      if (shown) expect(await screen.findByTestId("access-pending")).toBeTruthy();
      else {
        await new Promise((r) => setTimeout(r, 50));
        expect(screen.queryByTestId("access-card")).toBeNull();
        expect(asked).not.toContain("access_diff");
      }
      unmount();
    }
  });
});
