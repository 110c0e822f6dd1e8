import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { Channel } from "@tauri-apps/api/core";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import { failoverReport } from "../../test/fixtures";
import type { SwitchoverEvent } from "../../api/tasks";
import FailoverDialog from "./FailoverDialog";

const task = { id: "d1", source: { id: "s", name: "orders-prod" }, destination: { id: "d", name: "orders-dr" } };

describe("Failover dialog", () => {
  it("needs both acknowledgements, then promotes and names the new primary", async () => {
    let events: Channel<SwitchoverEvent> | undefined;
    mockIPC((cmd, args) => {
      if (cmd === "failover_start") {
        events = (args as { onEvent: Channel<SwitchoverEvent> }).onEvent;
        return null;
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(<FailoverDialog open task={task} destinationEndpoint="10.1.0.7:5432" onClose={vi.fn()} />);

    const now = screen.getByTestId("failover-now") as HTMLButtonElement;
    expect(now.disabled).toBe(true);
    for (const box of screen.getAllByRole("checkbox")) fireEvent.click(box);
    expect(now.disabled).toBe(false);
    fireEvent.click(now);
    await waitFor(() => expect(events).toBeDefined());

    act(() => events!.onmessage({ event: "step", data: { step: "promoting" } }));
    expect(screen.getByTestId("switch-step-promote").getAttribute("data-state")).toBe("running");
    act(() => events!.onmessage({ event: "step", data: { step: "promoted", method: "pg_promote", timeline: 3, elapsed_ms: 80 } }));
    act(() =>
      events!.onmessage({
        event: "failover_succeeded",
        data: failoverReport({ timeline: 3, promote_ms: 80, gap_bytes: null, source_reachable: false, warnings: [], next_steps: [] }),
      }),
    );
    expect(screen.getByTestId("failover-success").textContent).toBe("Failover complete: 10.1.0.7:5432 is the new primary");
    expect(screen.queryByTestId("switch-step-fence")).toBeNull();
  });
});
