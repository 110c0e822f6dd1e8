import { render, screen } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import type { Housekeeping } from "../../api/tasks";
import { streamingTask } from "../../test/fixtures";
import HousekeepingAlert from "./HousekeepingAlert";
import TaskDetails from "./TaskDetails";

const failed: Housekeeping = {
  steps: [
    { step: "destination_login", state: "done", attempts: 1, at: "2026-12-03T06:00:00Z" },
    {
      step: "remove_aside_dir",
      state: "failed",
      error: "cannot remove /d.pgrelocate-x-empty: Operation not permitted (os error 1)",
      attempts: 2,
      at: "2026-12-03T06:00:01Z",
    },
  ],
};

describe("Housekeeping after promotion", () => {
  it("names each step that is not done, with the error of a failed one", () => {
    render(<HousekeepingAlert housekeeping={failed} />);
    const alert = screen.getByTestId("housekeeping-alert");
    expect(alert.textContent).toContain("a step after the switchover failed");
    expect(alert.textContent).toContain("Remove the destination's former empty data directory: failed");
    expect(alert.textContent).toContain("Operation not permitted");
    expect(alert.textContent).not.toContain("Store the source's login");
  });

  it("says pending steps are still to do", () => {
    render(
      <HousekeepingAlert
        housekeeping={{ steps: [{ step: "destination_login", state: "pending", attempts: 0 }] }}
      />,
    );
    expect(screen.getByTestId("housekeeping-alert").textContent).toContain("Store the source's login for the destination: pending");
  });

  it("shows nothing once every step is done or for a task that has none", () => {
    const { container } = render(
      <>
        <HousekeepingAlert housekeeping={{ steps: [{ step: "remove_aside_dir", state: "done", attempts: 1 }] }} />
        <HousekeepingAlert housekeeping={null} />
      </>,
    );
    expect(container.querySelector("[data-testid=housekeeping-alert]")).toBeNull();
  });

  it("appears on the details of a switched-over task whose housekeeping failed", async () => {
    const task = streamingTask({ phase: "success", replication: "finish", housekeeping: failed });
    mockIPC((cmd) => {
      if (cmd === "task_status") return task;
      if (cmd === "task_watch") return 1;
      return null;
    });
    render(<TaskDetails id={task.id} navigate={vi.fn()} />);
    expect((await screen.findByTestId("housekeeping-alert")).textContent).toContain("Operation not permitted");
  });
});
