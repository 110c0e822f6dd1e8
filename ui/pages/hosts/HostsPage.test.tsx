import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it } from "vitest";
import type { HostCheck, HostRecord } from "../../api/hosts";
import HostsPage from "./HostsPage";

const db1: HostRecord = {
  name: "db1",
  ssh_user: "postgres",
  ssh_host: "db1.example.com",
  ssh_port: 2222,
  host_key: "SHA256:0fJ4mYwH3m3c5GzUSl0u6zB7q8K1m9x2ZzT1vLwq1Xk",
  added_at: "2026-12-03T11:00:00Z",
};
const db2: HostRecord = { name: "db2", ssh_host: "db2", added_at: "2026-12-03T11:05:00Z" };

const found: HostCheck = {
  host: db1,
  ssh_ms: 37,
  agent: { how: "installed", path: "/usr/bin/pgrelocate" },
  facts: {
    version: "0.1.0",
    os: "Linux",
    arch: "x86_64",
    user: "postgres",
    state_dir: "/var/lib/postgresql/.local/share/pgrelocate",
    installations: [
      { bin_dir: "/usr/lib/postgresql/16/bin", version: { major: 16, minor: 4 }, version_text: "16.4", binaries: [], can_run_servers: true },
    ],
  },
};

describe("Hosts page", () => {
  it("lists the hosts with their SSH destination, port and accepted key", async () => {
    mockIPC((cmd) => {
      if (cmd === "host_list") return [db1, db2];
      throw new Error(`unexpected ${cmd}`);
    });
    render(<HostsPage />);
    const row = await screen.findByTestId("host-row-db1");
    expect(within(row).getByText("postgres@db1.example.com")).toBeTruthy();
    expect(within(row).getByText("2222")).toBeTruthy();
    expect(within(row).getByTestId("host-key-cell").textContent).toBe(db1.host_key);
    const other = screen.getByTestId("host-row-db2");
    expect(within(other).getByTestId("host-destination-cell").textContent).toBe("db2");
    expect(within(other).getByText("ssh default")).toBeTruthy();
    expect(within(other).getByText("known to ssh")).toBeTruthy();
  });

  it("never breaks a host's name or SSH destination inside", async () => {
    mockIPC((cmd) => {
      if (cmd === "host_list") return [db1];
      throw new Error(`unexpected ${cmd}`);
    });
    render(<HostsPage />);
    const row = within(await screen.findByTestId("host-row-db1"));
    expect(row.getByText("db1").closest("[style*='white-space: nowrap']")).toBeTruthy();
    expect(row.getByTestId("host-destination-cell").style.whiteSpace).toBe("nowrap");
  });

  it("shows what a check found: system, user, agent and where it came from, PostgreSQL, ssh time", async () => {
    mockIPC((cmd, args) => {
      if (cmd === "host_list") return [db1];
      if (cmd === "host_check") {
        expect((args as { name: string }).name).toBe("db1");
        return found;
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(<HostsPage />);
    fireEvent.click(await screen.findByTestId("host-check-db1"));
    const drawer = await screen.findByTestId("host-check");
    expect(within(drawer).getByTestId("host-check-system").textContent).toBe("Linux x86_64");
    expect(within(drawer).getByTestId("host-check-user").textContent).toBe("postgres");
    expect(within(drawer).getByTestId("host-check-agent").textContent).toBe("pgrelocate 0.1.0");
    expect(within(drawer).getByTestId("host-check-placement").textContent).toBe("installed on the host at /usr/bin/pgrelocate");
    expect(within(drawer).getByTestId("host-check-postgres").textContent).toBe("PostgreSQL 16.4 (/usr/lib/postgresql/16/bin)");
    expect(within(drawer).getByTestId("host-check-ssh").textContent).toBe("37 ms");
  });

  it("shows why a check failed", async () => {
    mockIPC((cmd) => {
      if (cmd === "host_list") return [db1];
      if (cmd === "host_check") throw { code: "host_key_changed", message: "the SSH host key of db1 has changed" };
      throw new Error(`unexpected ${cmd}`);
    });
    render(<HostsPage />);
    fireEvent.click(await screen.findByTestId("host-check-db1"));
    expect((await screen.findByTestId("host-check-error")).textContent).toContain(
      "the SSH host key of db1 has changed (host_key_changed)",
    );
  });

  it("removes a host only once confirmed", async () => {
    const calls: string[] = [];
    let hosts = [db1, db2];
    mockIPC((cmd, args) => {
      calls.push(cmd);
      if (cmd === "host_list") return hosts;
      if (cmd === "host_remove") {
        const { name } = args as { name: string };
        hosts = hosts.filter((h) => h.name !== name);
        return null;
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(<HostsPage />);
    fireEvent.click(await screen.findByTestId("host-remove-db1"));
    expect(await screen.findByText("Remove host db1?")).toBeTruthy();
    expect(calls).not.toContain("host_remove");
    fireEvent.click(screen.getByTestId("host-remove-ok"));
    await waitFor(() => expect(screen.queryByTestId("host-row-db1")).toBeNull());
    expect(calls.filter((c) => c === "host_remove")).toHaveLength(1);
    expect(screen.getByTestId("host-row-db2")).toBeTruthy();
  });
});
