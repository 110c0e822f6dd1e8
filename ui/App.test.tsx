import { fireEvent, render, screen, within } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import App from "./App";
import type { InstanceStatus } from "./api/instances";

const info = { version: "9.8.7", state_dir: "/tmp/pgr-home-test", log_dir: "/tmp/pgr-home-test/logs" };

const source: InstanceStatus = {
  id: "a1",
  name: "sandbox-source",
  endpoint: { host: "127.0.0.1", port: 5433, user: "postgres", dbname: "postgres", sslmode: "disable" },
  managed: { data_dir: "/var/lib/pgrelocate/s/data", bin_dir: "/usr/lib/postgresql/15/bin", major: 15, os_user: "postgres" },
  created_at: "2026-11-24T08:00:00Z",
  kind: "managed",
  state: "running",
  connection: {
    version: { major: 15, minor: 14 },
    version_text: "15.14 (Debian 15.14-0+deb12u1)",
    system_identifier: "7300000000000000001",
    role: "primary",
    read_only: false,
    tls: null,
    round_trip_ms: 0.2,
    auth_method: "scram-sha-256",
  },
  error: null,
  storage: { used_bytes: 40 * 1024 ** 2, free_bytes: 10 * 1024 ** 3 },
  retired: null,
};

afterEach(() => {
  window.location.hash = "";
});

describe("console frame", () => {
  it("shows the version, state directory and log folder reported by the shell", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "app_info") return info;
      if (cmd === "instance_list") return { instances: [], creating: [] };
      if (cmd === "task_list") return [];
      throw new Error(`unexpected command ${cmd}`);
    });

    render(<App />);

    expect(await screen.findByText("State: /tmp/pgr-home-test")).toBeTruthy();
    expect(screen.getByTestId("app-version").textContent).toBe("v9.8.7");
    expect(screen.getByTestId("log-dir").textContent).toBe("Logs: /tmp/pgr-home-test/logs");
    expect(calls).toContain("app_info");
  });

  it("explains a failed app_info with the shell's message and code", async () => {
    mockIPC((cmd) => {
      if (cmd === "instance_list") return { instances: [], creating: [] };
      throw { code: "state_dir_unavailable", message: "PGRELOCATE_HOME is set but empty" };
    });

    render(<App />);

    const alert = await screen.findByTestId("app-info-error");
    expect(alert.textContent).toContain("PGRELOCATE_HOME is set but empty (state_dir_unavailable)");
    expect(screen.getByTestId("state-dir").textContent).toBe("State directory unavailable");
  });

  it("opens on the Instances page with its empty state", async () => {
    mockIPC((cmd) => (cmd === "instance_list" ? { instances: [], creating: [] } : cmd === "task_list" ? [] : info));

    render(<App />);

    expect(screen.getByRole("heading", { name: "Instances" })).toBeTruthy();
    expect(await screen.findByText("No instances yet")).toBeTruthy();
  });

  it("reaches the Hosts page from the navigation, and keeps it in the URL", async () => {
    mockIPC((cmd) => {
      if (cmd === "instance_list") return { instances: [], creating: [] };
      if (cmd === "task_list" || cmd === "host_list") return [];
      return info;
    });

    render(<App />);
    fireEvent.click(screen.getByText("Hosts"));

    expect(await screen.findByRole("heading", { name: "Hosts" })).toBeTruthy();
    expect(window.location.hash).toBe("#/hosts");
    expect(await screen.findByTestId("hosts-empty")).toBeTruthy();
  });

  it("keeps the page in the URL: a reload of an instance's section opens it again", async () => {
    window.location.hash = "#/instances/sandbox-source/connection";
    mockIPC((cmd, args) => {
      if (cmd === "app_info") return info;
      if (cmd === "instance_status") {
        expect((args as { name: string }).name).toBe("sandbox-source");
        return source;
      }
      if (cmd === "host_addresses") return ["192.168.10.5", "127.0.0.1"];
      throw new Error(`unexpected command ${cmd}`);
    });

    render(<App />);

    expect(await screen.findByRole("heading", { name: "Database Connection" })).toBeTruthy();
    const nav = screen.getByTestId("detail-nav");
    expect(within(nav).getByText("Logs")).toBeTruthy();
    expect(within(nav).getByText("Cloud Migration/DR Construction")).toBeTruthy();
    expect(await screen.findByText("192.168.10.5")).toBeTruthy();
  });

  it("folds the left menu to icons and unfolds it again, on any page", async () => {
    mockIPC((cmd) => (cmd === "instance_list" ? { instances: [], creating: [] } : cmd === "task_list" ? [] : info));

    render(<App />);
    await screen.findByText("No instances yet");
    const sider = () => screen.getByTestId("nav-menu").closest(".ant-layout-sider")!;
    expect(sider().classList.contains("ant-layout-sider-collapsed")).toBe(false);

    fireEvent.click(screen.getByRole("button", { name: "Fold the menu" }));
    expect(sider().classList.contains("ant-layout-sider-collapsed")).toBe(true);
    expect(screen.getByTestId("nav-toggle").getAttribute("aria-expanded")).toBe("false");

    fireEvent.click(screen.getByRole("button", { name: "Unfold the menu" }));
    expect(sider().classList.contains("ant-layout-sider-collapsed")).toBe(false);
  });

  it("folds an instance's own left navigation to icons, and keeps that choice", async () => {
    window.localStorage.clear();
    window.location.hash = "#/instances/sandbox-source/connection";
    mockIPC((cmd) => {
      if (cmd === "app_info") return info;
      if (cmd === "instance_status") return source;
      if (cmd === "host_addresses") return ["127.0.0.1"];
      if (cmd === "task_list") return [];
      throw new Error(`unexpected command ${cmd}`);
    });

    const { unmount } = render(<App />);
    const nav = await screen.findByTestId("detail-nav");
    expect(nav.classList.contains("ant-menu-inline-collapsed")).toBe(false);
    fireEvent.click(screen.getByTestId("detail-nav-toggle"));
    expect(screen.getByTestId("detail-nav").classList.contains("ant-menu-inline-collapsed")).toBe(true);
    expect(screen.getByTestId("detail-nav-toggle").getAttribute("aria-label")).toBe("Unfold the menu");
    unmount();

    render(<App />);
    expect((await screen.findByTestId("detail-nav")).classList.contains("ant-menu-inline-collapsed")).toBe(true);
    window.localStorage.clear();
  });
});
