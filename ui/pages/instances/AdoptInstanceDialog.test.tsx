import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import { runningInstance } from "../../test/fixtures";
import AdoptInstanceDialog from "./AdoptInstanceDialog";
import InstancesPage from "./InstancesPage";

const hosts = [
  { name: "db-east", ssh_user: "pgrelocate", ssh_host: "db-east.example.internal", added_at: "2026-12-01T08:00:00Z" },
  { name: "db-west", ssh_host: "db-west.example.internal", ssh_port: 2222, added_at: "2026-12-01T09:00:00Z" },
];

const record = (name: string, host?: string) => ({
  id: "inst-ad0p",
  name,
  endpoint: { host: "127.0.0.1", port: 5432, user: "postgres", sslmode: "prefer" },
  managed: { data_dir: "/var/lib/postgresql/16/main", bin_dir: "/usr/lib/postgresql/16/bin", major: 16, adopted: true, ...(host ? { host } : {}) },
  created_at: "",
});

const pick = async (field: string, option: string) => {
  fireEvent.mouseDown(within(screen.getByTestId(field)).getByRole("combobox"));
  const choice = await waitFor(() => {
    const found = Array.from(document.querySelectorAll<HTMLElement>(".ant-select-item-option")).find(
      (o) => o.textContent === option,
    );
    if (!found) throw new Error(`no option ${option}`);
    return found;
  });
  fireEvent.click(choice);
};

const type = (testId: string, value: string) => fireEvent.change(screen.getByTestId(testId), { target: { value } });

describe("Adopt Existing Cluster", () => {
  it("asks for the name, the data directory and the password before calling the engine", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "host_list") return [];
      throw new Error(`unexpected ${cmd}`);
    });
    render(<AdoptInstanceDialog open onClose={vi.fn()} onAdopted={vi.fn()} />);

    // The superuser defaults to postgres; without registered hosts there is no Host field.
    expect((screen.getByTestId("adopt-user") as HTMLInputElement).value).toBe("postgres");
    await waitFor(() => expect(calls).toContain("host_list"));
    expect(screen.queryByTestId("adopt-host")).toBeNull();
    fireEvent.click(screen.getByTestId("adopt-ok"));

    expect(await screen.findByText("Type the cluster's data directory.")).toBeTruthy();
    expect(screen.getByText("Type the superuser's password.")).toBeTruthy();
    expect(screen.getByText("Letters, digits, - and _.", { selector: ".ant-form-item-explain-error" })).toBeTruthy();
    // A superuser cleared to blanks is refused too.
    type("adopt-user", "  ");
    expect(await screen.findByText("Type a superuser role to connect as.")).toBeTruthy();
    expect(calls.filter((c) => c === "instance_adopt")).toEqual([]);
  });

  it("adopts a cluster on this machine: no host and no binaries folder are sent when left empty", async () => {
    const sent: Record<string, unknown>[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "host_list") return hosts;
      if (cmd === "instance_adopt") {
        sent.push((args as { request: Record<string, unknown> }).request);
        return record("legacy-16");
      }
      throw new Error(`unexpected ${cmd}`);
    });
    const onAdopted = vi.fn();
    render(<AdoptInstanceDialog open onClose={vi.fn()} onAdopted={onAdopted} />);

    expect(within(await screen.findByTestId("adopt-host")).getByTitle("This machine")).toBeTruthy();
    type("adopt-name", "legacy-16");
    type("adopt-data-dir", "/var/lib/postgresql/16/main ");
    type("adopt-password", "Pa55'word");
    fireEvent.click(screen.getByTestId("adopt-ok"));

    await waitFor(() => expect(onAdopted).toHaveBeenCalled());
    expect(onAdopted.mock.calls[0][0]).toMatchObject({ name: "legacy-16", managed: { adopted: true } });
    expect(sent).toEqual([
      { name: "legacy-16", data_dir: "/var/lib/postgresql/16/main", user: "postgres", password: "Pa55'word" },
    ]);
  });

  it("adopts a cluster on a registered host: the request names the host, the folders are paths there", async () => {
    const sent: Record<string, unknown>[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "host_list") return hosts;
      if (cmd === "instance_adopt") {
        sent.push((args as { request: Record<string, unknown> }).request);
        return record("orders-east", "db-east");
      }
      throw new Error(`unexpected ${cmd}`);
    });
    const onAdopted = vi.fn();
    render(<AdoptInstanceDialog open onClose={vi.fn()} onAdopted={onAdopted} />);

    expect(await screen.findByTestId("adopt-host")).toBeTruthy();
    await pick("adopt-host", "db-east");
    expect(await screen.findByText(/^A folder on db-east, not on this machine:/)).toBeTruthy();
    type("adopt-name", "orders-east");
    type("adopt-data-dir", "/srv/pg/16/main");
    type("adopt-bin-dir", "/usr/pgsql-16/bin");
    type("adopt-user", "dba");
    type("adopt-password", "s3cret");
    fireEvent.click(screen.getByTestId("adopt-ok"));

    await waitFor(() => expect(onAdopted).toHaveBeenCalled());
    expect(sent).toEqual([
      {
        name: "orders-east",
        data_dir: "/srv/pg/16/main",
        bin_dir: "/usr/pgsql-16/bin",
        user: "dba",
        password: "s3cret",
        host: "db-east",
      },
    ]);
  });

  it("shows the engine's message when adopting fails, and clears it when the next attempt starts", async () => {
    let answer: (v: unknown) => void = () => {};
    let attempt = 0;
    mockIPC((cmd) => {
      if (cmd === "host_list") return [];
      if (cmd === "instance_adopt") {
        attempt += 1;
        if (attempt === 1)
          throw {
            code: "cluster_not_running",
            message: "the cluster in /var/lib/postgresql/16/main is not running: start it first, then adopt it",
          };
        return new Promise((resolve) => (answer = resolve));
      }
      throw new Error(`unexpected ${cmd}`);
    });
    const onAdopted = vi.fn();
    render(<AdoptInstanceDialog open onClose={vi.fn()} onAdopted={onAdopted} />);
    type("adopt-name", "legacy-16");
    type("adopt-data-dir", "/var/lib/postgresql/16/main");
    type("adopt-password", "pw");
    fireEvent.click(screen.getByTestId("adopt-ok"));

    const error = await screen.findByTestId("adopt-error");
    expect(error.textContent).toContain("The cluster was not adopted");
    expect(error.textContent).toContain(
      "the cluster in /var/lib/postgresql/16/main is not running: start it first, then adopt it (cluster_not_running)",
    );
    expect(onAdopted).not.toHaveBeenCalled();

    // Retrying: the old failure goes away at once, while the engine works on the new attempt.
    fireEvent.click(screen.getByTestId("adopt-ok"));
    await waitFor(() => expect(attempt).toBe(2));
    expect(screen.queryByTestId("adopt-error")).toBeNull();
    answer(record("legacy-16"));
    await waitFor(() => expect(onAdopted).toHaveBeenCalled());
    expect(screen.queryByTestId("adopt-error")).toBeNull();
  });

  it("is offered beside Create and Register, and the adopted instance appears in the list, tagged", async () => {
    let adopted = false;
    mockIPC((cmd) => {
      if (cmd === "task_list") return [];
      if (cmd === "host_list") return [];
      if (cmd === "instance_list") {
        if (!adopted) return { instances: [], creating: [] };
        const base = runningInstance("legacy-16", 5432);
        return { instances: [{ ...base, managed: { ...base.managed!, adopted: true } }], creating: [] };
      }
      if (cmd === "instance_adopt") {
        adopted = true;
        return record("legacy-16");
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(<InstancesPage navigate={vi.fn()} />);
    expect(await screen.findByTestId("instances-empty")).toBeTruthy();
    expect(screen.getByRole("button", { name: /Create Instance/ })).toBeTruthy();
    expect(screen.getByRole("button", { name: /Register Instance/ })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: /Adopt Existing Cluster/ }));

    type("adopt-name", "legacy-16");
    type("adopt-data-dir", "/var/lib/postgresql/16/main");
    type("adopt-password", "pw");
    fireEvent.click(screen.getByTestId("adopt-ok"));

    const row = within(await screen.findByTestId("instance-row-legacy-16"));
    expect(row.getByText("Managed here")).toBeTruthy();
    expect(row.getByTestId("adopted-tag").textContent).toBe("adopted");
    expect(await screen.findByText("Cluster adopted as instance legacy-16")).toBeTruthy();
  });
});
