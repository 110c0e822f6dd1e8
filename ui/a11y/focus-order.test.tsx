// Keyboard focus order (console-pages.md: "keyboard focus order that works"): a DBA can
// reach every control with Tab in the order they see it, operate it from the keyboard, and
// get focus back where they were when a dialog closes.

import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { UserEvent } from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { ConfigProvider } from "antd";
import { describe, expect, it, vi } from "vitest";
import type { SwitchoverPreview, TaskStatus } from "../api/tasks";
import InstancesPage from "../pages/instances/InstancesPage";
import MigrationTasks from "../pages/migration/MigrationTasks";
import { runningInstance, streamingTask } from "../test/fixtures";
import { instanceRoute } from "../router";

/**
 * Renders without antd's animations: jsdom never fires `animationend`, and antd moves focus
 * into a dialog (and back out) only when its open/close animation has ended.
 */
function renderStill(ui: React.ReactElement) {
  return render(<ConfigProvider theme={{ token: { motion: false } }}>{ui}</ConfigProvider>);
}

// Controls are found by their text or label, not by role: role queries compute styles for
// the whole antd tree and take seconds each in jsdom.

type Scope = Pick<typeof screen, "getByText">;

/** The button (or link) whose visible text is `text`. */
function control(scope: Scope, text: string | RegExp, tag: "button" | "a" = "button"): HTMLElement {
  const el = scope.getByText(text).closest(tag);
  if (!el) throw new Error(`no <${tag}> around ${String(text)}`);
  return el as HTMLElement;
}

/** Presses Tab `n` times and returns each element that received focus. */
async function tabThrough(user: UserEvent, n: number): Promise<Element[]> {
  const seen: Element[] = [];
  for (let i = 0; i < n; i += 1) {
    await user.tab();
    seen.push(document.activeElement!);
  }
  return seen;
}

describe("Instances page focus order", () => {
  it("reaches the page buttons, then each row's link, ID and endpoint copies and actions, in visual order", async () => {
    mockIPC((cmd) => {
      if (cmd === "instance_list") return { instances: [runningInstance("orders-dest", 5433), runningInstance("orders-prod", 5432, "external")], creating: [] };
      if (cmd === "task_list") return [];
      throw new Error(`unexpected ${cmd}`);
    });
    const navigate = vi.fn();
    const user = userEvent.setup();
    renderStill(<InstancesPage navigate={navigate} />);
    const dest = within(await screen.findByTestId("instance-row-orders-dest"));
    const prod = within(screen.getByTestId("instance-row-orders-prod"));

    const expected = [
      control(screen, "Create Instance"),
      control(screen, "Register Instance"),
      control(screen, "Adopt Existing Cluster"),
      control(screen, "Create Sandbox"),
      screen.getByLabelText("Refresh"),
      control(dest, "orders-dest", "a"),
      dest.getByLabelText("Copy the full ID"),
      dest.getByLabelText("Copy"),
      control(dest, "Manage"),
      control(dest, "Stop"),
      control(dest, "Remove"),
      control(prod, "orders-prod", "a"),
      prod.getByLabelText("Copy the full ID"),
      prod.getByLabelText("Copy"),
      control(prod, "Manage"),
      control(prod, "Remove"),
    ];
    expect(await tabThrough(user, expected.length)).toEqual(expected);

    // The last Manage reached by keyboard opens that instance.
    await user.tab({ shift: true });
    expect(document.activeElement).toBe(control(prod, "Manage"));
    await user.keyboard("{Enter}");
    expect(navigate).toHaveBeenCalledWith(instanceRoute("orders-prod"));
  });
});

describe("Register Instance dialog focus order", () => {
  function setup() {
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "instance_list") return { instances: [], creating: [] };
      if (cmd === "task_list") return [];
      if (cmd === "instance_register")
        return { instance: { id: "i1", name: "orders-prod", endpoint: { host: "db1", port: 5432, user: "migrator", dbname: "postgres", sslmode: "prefer" }, created_at: "" }, connection: null };
      throw new Error(`unexpected ${cmd}`);
    });
    renderStill(<InstancesPage navigate={vi.fn()} />);
    return { calls, user: userEvent.setup() };
  }

  /** Tabs to Register Instance, opens it with Enter and waits for focus in its first field; returns the button. */
  async function openByKeyboard(user: UserEvent): Promise<HTMLElement> {
    const opener = control(screen, "Register Instance");
    await screen.findByTestId("instances-empty");
    await tabThrough(user, 2);
    expect(document.activeElement).toBe(opener);
    await user.keyboard("{Enter}");
    const name = within(await screen.findByRole("dialog", { hidden: true })).getByLabelText("Instance name");
    await waitFor(() => expect(document.activeElement).toBe(name));
    return opener;
  }

  it("starts in the first field, tabs in visual order, and Escape returns focus to its opener", async () => {
    const { user } = setup();
    const opener = await openByKeyboard(user);
    const dialog = within(screen.getByRole("dialog", { hidden: true }));

    const expected = [
      dialog.getByLabelText("Endpoint"),
      dialog.getByLabelText("Port"),
      dialog.getByLabelText("User"),
      dialog.getByLabelText("Database"),
      dialog.getByLabelText("SSL mode"),
      dialog.getByLabelText("Connect timeout (s)"),
      dialog.getByLabelText("Allowed authentication"),
      dialog.getByLabelText("Password"),
      dialog.getByLabelText(/show/i),
      control(dialog, "Test connection"),
      control(dialog, "Cancel"),
      control(dialog, "Register"),
    ];
    expect(await tabThrough(user, expected.length)).toEqual(expected);

    await user.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByRole("dialog", { hidden: true })).toBeNull());
    expect(document.activeElement).toBe(opener);
  });

  it("registers an instance typed entirely from the keyboard", async () => {
    const { user, calls } = setup();
    await openByKeyboard(user);

    await user.keyboard("orders-prod");
    await user.tab();
    await user.keyboard("db1");
    await user.tab(); // port keeps 5432
    await user.tab();
    await user.keyboard("{Control>}a{/Control}migrator");
    await tabThrough(user, 5); // database, sslmode, connect timeout, allowed authentication, password
    await user.keyboard("s3cret");
    await tabThrough(user, 4); // show, Test connection, Cancel, Register
    expect(document.activeElement).toBe(screen.getByTestId("register-ok"));
    await user.keyboard("{Enter}");

    await waitFor(() => expect(calls.some((c) => c.cmd === "instance_register")).toBe(true));
    expect(calls.find((c) => c.cmd === "instance_register")!.args).toEqual({
      request: {
        name: "orders-prod",
        connection: { host: "db1", port: 5432, user: "migrator", dbname: undefined, sslmode: "prefer" },
        password: "s3cret",
      },
    });
    await waitFor(() => expect(screen.queryByRole("dialog", { hidden: true })).toBeNull());
  });
});

describe("Switchover dialog focus order", () => {
  const dest = runningInstance("orders-dest", 5433);
  const syncing: TaskStatus = streamingTask();
  const ready: SwitchoverPreview = {
    guardrails: [{ id: "replication.lag", title: "Replication lag", status: "pass", message: "0 B behind" }],
    strategy: "sql",
    guarantee: "every commit the source acknowledged is on the destination",
    ready: true,
    fences: [],
    default_strategy: "sql",
  };

  /** Opens a task row's Switchover (or, on the DR tab, Failover) dialog with Enter; returns that button. */
  async function setup(mode: "migration" | "dr" = "migration") {
    const started: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "task_list") return [{ ...syncing, mode }];
      if (cmd === "switchover_preview") return ready;
      if (cmd === "switchover_start") {
        const a = args as { id: string; timeoutSecs: number };
        started.push({ id: a.id, timeoutSecs: a.timeoutSecs });
        return null;
      }
      throw new Error(`unexpected ${cmd}`);
    });
    const user = userEvent.setup();
    renderStill(<MigrationTasks instance={dest} mode={mode} navigate={vi.fn()} />);
    const opener = await screen.findByTestId(mode === "dr" ? "action-failover" : "action-switchover");
    opener.focus();
    await user.keyboard("{Enter}");
    if (mode === "migration") await screen.findByTestId("switch-fence");
    await waitFor(() => expect(screen.getByRole("dialog", { hidden: true }).contains(document.activeElement)).toBe(true));
    return { user, started, opener };
  }

  it("reaches each acknowledgement, ticks it with Space, and only then lets Enter on Switch Now start", async () => {
    const { user, started } = await setup();
    const dialog = within(screen.getByRole("dialog", { hidden: true }));
    const switchNow = dialog.getByTestId("switch-now") as HTMLButtonElement;
    const acks = ["Writes to the source", "Applications must reconnect", "The source stays read-only"].map(
      (text) => dialog.getByLabelText(new RegExp(text), { selector: "input" }) as HTMLInputElement,
    );

    const expected = [
      dialog.getByLabelText("Close", { selector: "button" }),
      control(dialog, /Evaluate again/),
      dialog.getByLabelText(/Catch-up timeout/i),
      dialog.getByLabelText(/^Command$/),
      ...acks,
      control(dialog, "Cancel"),
    ];
    expect(await tabThrough(user, expected.length)).toEqual(expected);
    expect(switchNow.disabled).toBe(true);

    // Back to the first acknowledgement; tick each in turn with Space.
    for (let i = 0; i < acks.length; i += 1) await user.tab({ shift: true });
    for (const [i, ack] of acks.entries()) {
      expect(document.activeElement).toBe(ack);
      expect(switchNow.disabled).toBe(true);
      await user.keyboard(" ");
      expect(ack.checked).toBe(true);
      if (i < acks.length - 1) await user.tab();
    }
    expect(switchNow.disabled).toBe(false);

    expect(await tabThrough(user, 2)).toEqual([control(dialog, "Cancel"), switchNow]);
    expect(started).toEqual([]);
    await user.keyboard("{Enter}");
    await waitFor(() => expect(started).toEqual([{ id: "42ef39b6e467", timeoutSecs: 300 }]));
    expect(await screen.findByTestId("switch-run")).toBeTruthy();
  });

  it.each(["migration", "dr"] as const)("closes on Escape and returns focus to the row's button (%s)", async (mode) => {
    const { user, started, opener } = await setup(mode);
    await user.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByRole("dialog", { hidden: true })).toBeNull());
    expect(document.activeElement).toBe(opener);
    expect(started).toEqual([]);
  });
});
