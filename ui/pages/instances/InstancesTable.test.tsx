import { fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import InstancesTable from "./InstancesTable";
import type { InstanceRow } from "./status";

const dest: InstanceRow = {
  id: "7f3a9c01d2e84b5f9a6c3e1d0b7f2a48",
  name: "orders-dest",
  status: "running",
  role: "standby",
  engineVersion: "15.18",
  kind: "managed",
  adopted: false,
  runsOn: null,
  host: "127.0.0.1",
  port: 5433,
  storage: { used_bytes: 3 * 1024 ** 3, free_bytes: 120.5 * 1024 ** 3 },
  problem: null,
  retired: null,
};

const source: InstanceRow = {
  id: "inst-11c0",
  name: "orders-prod",
  status: "read_only",
  role: "primary",
  engineVersion: "15.18",
  kind: "external",
  adopted: false,
  runsOn: null,
  host: "db1.example.internal",
  port: 5432,
  storage: null,
  problem: null,
  retired: null,
};

describe("Instances table", () => {
  it("explains how to start when there is no instance", () => {
    render(<InstancesTable instances={[]} />);

    const empty = screen.getByTestId("instances-empty");
    expect(within(empty).getByText("No instances yet")).toBeTruthy();
    expect(empty.textContent).toContain("Create a sandbox");
    expect(empty.textContent).toContain("Register the source instance");
    expect(empty.textContent).toContain("create a managed destination instance");
  });

  it("shows the console's columns, in order", () => {
    render(<InstancesTable instances={[]} />);

    const headers = screen.getAllByRole("columnheader").map((h) => h.textContent);
    expect(headers).toEqual(["Instance", "Status", "Role", "Engine", "Kind", "Host", "Endpoint", "Storage", "Actions"]);
  });

  it("renders a managed and an external instance the way a DBA reads them", () => {
    render(<InstancesTable instances={[dest, source]} />);

    const d = within(screen.getByTestId("instance-row-orders-dest"));
    expect(d.getByText("orders-dest")).toBeTruthy();
    expect(d.getByTestId("instance-id").textContent).toBe("7f3a9c01");
    expect(d.getByText("Running")).toBeTruthy();
    expect(d.getByText("Standby")).toBeTruthy();
    expect(d.getByText("PostgreSQL 15.18")).toBeTruthy();
    expect(d.getByText("Managed here")).toBeTruthy();
    expect(d.getByTestId("instance-host").textContent).toBe("This machine");
    expect(d.getByText("127.0.0.1:5433")).toBeTruthy();
    expect(d.getByText("3.0 GiB used / 120.5 GiB free")).toBeTruthy();

    const s = within(screen.getByTestId("instance-row-orders-prod"));
    expect(s.getByText("Read-only")).toBeTruthy();
    expect(s.getByText("External")).toBeTruthy();
    expect(s.getByText("db1.example.internal:5432")).toBeTruthy();
    // No storage figures, and no host: pgrelocate does not run it anywhere.
    expect(s.getAllByText("—")).toHaveLength(2);
    expect(s.queryByTestId("instance-host")).toBeNull();
    expect(screen.queryByTestId("instances-empty")).toBeNull();
  });

  it("shows the registered host a managed instance runs on", () => {
    render(
      <InstancesTable instances={[{ ...dest, name: "orders-east", runsOn: "db-east", host: "db-east.example.internal" }, dest]} />,
    );

    const remote = within(screen.getByTestId("instance-row-orders-east"));
    expect(remote.getByTestId("instance-host").textContent).toBe("db-east");
    expect(remote.getByText("Managed")).toBeTruthy();
    expect(remote.queryByText("Managed here")).toBeNull();
    const local = within(screen.getByTestId("instance-row-orders-dest"));
    expect(local.getByTestId("instance-host").textContent).toBe("This machine");
  });

  it("asks for confirmation before removing an instance", async () => {
    const onRemove = vi.fn();
    render(<InstancesTable instances={[source]} onRemove={onRemove} />);

    fireEvent.click(screen.getByRole("button", { name: "Remove" }));
    expect(onRemove).not.toHaveBeenCalled();
    expect(await screen.findByText("Remove instance orders-prod?")).toBeTruthy();
    expect(screen.getByText(/the server is not touched/)).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "OK" }));
    expect(onRemove).toHaveBeenCalledWith(source);
  });

  it("tags an adopted instance as managed and adopted, and says removing it leaves the cluster running", async () => {
    const adopted: InstanceRow = { ...dest, name: "legacy-16", adopted: true };
    const onRemove = vi.fn();
    render(<InstancesTable instances={[adopted, dest]} onRemove={onRemove} />);

    const row = within(screen.getByTestId("instance-row-legacy-16"));
    expect(row.getByText("Managed here")).toBeTruthy();
    expect(row.getByTestId("adopted-tag").textContent).toBe("adopted");
    // One pgrelocate created carries no tag.
    expect(within(screen.getByTestId("instance-row-orders-dest")).queryByTestId("adopted-tag")).toBeNull();

    fireEvent.click(row.getByRole("button", { name: "Remove" }));
    expect(await screen.findByText("Remove instance legacy-16?")).toBeTruthy();
    expect(screen.getByText(/the cluster keeps running, with its data folder and configuration as they are/)).toBeTruthy();
    expect(screen.queryByText(/deletes/)).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "OK" }));
    expect(onRemove).toHaveBeenCalledWith(adopted);
  });

  it("warns that removing an instance pgrelocate created deletes the folder it made", async () => {
    render(<InstancesTable instances={[dest]} onRemove={vi.fn()} />);
    fireEvent.click(screen.getByRole("button", { name: "Remove" }));
    expect(await screen.findByText(/pgrelocate stops it and deletes the data folder it created for it/)).toBeTruthy();
  });

  it("offers Stop only for a running managed instance, and asks first", async () => {
    const handlers = { onStart: vi.fn(), onStop: vi.fn() };
    render(<InstancesTable instances={[dest, source]} {...handlers} />);

    const destRow = screen.getByTestId("instance-row-orders-dest");
    const sourceRow = screen.getByTestId("instance-row-orders-prod");
    expect(within(destRow).queryByRole("button", { name: "Start" })).toBeNull();
    expect(within(sourceRow).queryByRole("button", { name: /Start|Stop/ })).toBeNull();

    fireEvent.click(within(destRow).getByRole("button", { name: "Stop" }));
    expect(await screen.findByText("Stop instance orders-dest?")).toBeTruthy();
    expect(handlers.onStop).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole("button", { name: "OK" }));
    expect(handlers.onStop).toHaveBeenCalledWith(dest);
  });

  it("shows an instance being created without actions", () => {
    render(
      <InstancesTable
        instances={[{ ...dest, id: "", name: "sandbox-source", status: "creating", storage: null, host: "", port: 0 }]}
        onRemove={vi.fn()}
      />,
    );
    const row = within(screen.getByTestId("instance-row-sandbox-source"));
    expect(row.getByText("Creating")).toBeTruthy();
    expect(row.queryByRole("button", { name: "Remove" })).toBeNull();
  });

  describe("at a narrow width", () => {
    afterEach(() => {
      delete (navigator as { clipboard?: unknown }).clipboard;
    });

    it("shows a 32-character ID by its first 8 characters, and copies all of it", async () => {
      const writeText = vi.fn(async (_: string) => {});
      Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
      render(<InstancesTable instances={[dest]} />);

      const id = screen.getByTestId("instance-id");
      expect(id.textContent).toBe("7f3a9c01");
      expect(within(id).getByLabelText("ID 7f3a9c01d2e84b5f9a6c3e1d0b7f2a48")).toBeTruthy();
      fireEvent.click(within(id).getByRole("button", { name: /copy/i }));
      await vi.waitFor(() => expect(writeText).toHaveBeenCalledWith("7f3a9c01d2e84b5f9a6c3e1d0b7f2a48"));
    });

    it("never breaks a name, a host or an endpoint inside", () => {
      const long = { ...dest, name: "sandbox-dest", runsOn: "db-east-1", host: "127.0.0.1", port: 7101 };
      render(<InstancesTable instances={[long]} onManage={vi.fn()} />);

      const row = within(screen.getByTestId("instance-row-sandbox-dest"));
      const nowrap = (el: HTMLElement) => el.closest("[style*='white-space: nowrap']");
      expect(nowrap(row.getByText("sandbox-dest"))).toBeTruthy();
      expect(nowrap(row.getByTestId("instance-host"))).toBeTruthy();
      expect(nowrap(row.getByText("127.0.0.1:7101"))).toBeTruthy();
    });

    it("scrolls sideways inside its card, the actions staying in view", () => {
      render(<InstancesTable instances={[dest]} onManage={vi.fn()} />);

      const content = document.querySelector<HTMLElement>(".ant-table-content")!;
      expect(content.style.overflowX).toBe("auto");
      const manage = within(screen.getByTestId("instance-row-orders-dest")).getByRole("button", { name: "Manage" });
      expect(manage.closest("td")!.classList.contains("ant-table-cell-fix-end")).toBe(true);
    });
  });
});
