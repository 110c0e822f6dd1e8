import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import type { Channel } from "@tauri-apps/api/core";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import type { AddHostRequest, HostCheck, HostProgress } from "../../api/hosts";
import AddHostDialog from "./AddHostDialog";

const FINGERPRINT = "SHA256:0fJ4mYwH3m3c5GzUSl0u6zB7q8K1m9x2ZzT1vLwq1Xk";

const check = (request: AddHostRequest): HostCheck => ({
  host: { name: request.name, ssh_user: "postgres", ssh_host: "127.0.0.1", ssh_port: 2222, host_key: FINGERPRINT, added_at: "2026-12-03T11:00:00Z" },
  ssh_ms: 12,
  agent: { how: "uploaded", path: "/home/postgres/.cache/pgrelocate/agent/ab/pgrelocate", bytes: 30_000_000 },
  facts: { version: "0.1.0", os: "Linux", arch: "x86_64", user: "postgres", state_dir: "/home/postgres/.local/share/pgrelocate", installations: [] },
});

function fill() {
  fireEvent.change(screen.getByTestId("host-name"), { target: { value: "db1" } });
  fireEvent.change(screen.getByTestId("host-destination"), { target: { value: "postgres@127.0.0.1" } });
  fireEvent.change(screen.getByTestId("host-port"), { target: { value: "2222" } });
  fireEvent.change(screen.getByTestId("host-identity"), { target: { value: "/tmp/id_ed25519" } });
  fireEvent.click(screen.getByTestId("host-add-ok"));
}

describe("Add Host", () => {
  it("shows the key an unknown host offers, and adds it only when trusted, with that fingerprint", async () => {
    const adds: AddHostRequest[] = [];
    const offered: AddHostRequest[] = [];
    mockIPC((cmd, args) => {
      const { request } = args as { request: AddHostRequest };
      if (cmd === "host_add") {
        adds.push(request);
        if (!request.accept_host_key)
          throw { code: "host_key_unknown", message: `the SSH host key of postgres@127.0.0.1 is not known: ED25519 ${FINGERPRINT}` };
        return check(request);
      }
      if (cmd === "host_offered_keys") {
        offered.push(request);
        return [{ kind: "ED25519", fingerprint: FINGERPRINT }];
      }
      throw new Error(`unexpected ${cmd}`);
    });
    const onAdded = vi.fn();
    render(<AddHostDialog open onClose={vi.fn()} onAdded={onAdded} />);
    fill();

    const dialog = await screen.findByTestId("trust-key-dialog");
    expect(within(dialog).getByTestId("trust-key-fingerprint").textContent).toBe(FINGERPRINT);
    expect(within(dialog).getByText("ED25519")).toBeTruthy();
    expect(within(dialog).getByTestId("trust-key-warning").textContent).toMatch(/Compare the fingerprint .* administrator/);
    const sent = { name: "db1", destination: "postgres@127.0.0.1", port: 2222, identity: "/tmp/id_ed25519" };
    expect(offered).toEqual([sent]);
    expect(onAdded).not.toHaveBeenCalled();

    fireEvent.click(screen.getByTestId("trust-key-ok"));
    await waitFor(() => expect(onAdded).toHaveBeenCalled());
    expect(adds).toEqual([sent, { ...sent, accept_host_key: FINGERPRINT }]);
    expect((onAdded.mock.calls[0][0] as HostCheck).host.name).toBe("db1");
  });

  it.each([
    ["host_key_changed", "The host's SSH key has changed", "the SSH host key of db1 has changed: it now offers SHA256:AAA"],
    ["ssh_auth_failed", "The SSH login was refused", "postgres@127.0.0.1 refused the SSH login: Permission denied (publickey)"],
  ])("shows the engine's message for %s, without offering to trust anything", async (code, title, text) => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "host_add") throw { code, message: text };
      throw new Error(`unexpected ${cmd}`);
    });
    const onAdded = vi.fn();
    render(<AddHostDialog open onClose={vi.fn()} onAdded={onAdded} />);
    fill();

    const alert = await screen.findByTestId("host-add-error");
    expect(alert.textContent).toContain(title);
    expect(alert.textContent).toContain(`${text} (${code})`);
    expect(screen.queryByTestId("trust-key-dialog")).toBeNull();
    expect(calls).toEqual(["host_add"]);
    expect(onAdded).not.toHaveBeenCalled();
  });

  it("shows each step while the host is being added", async () => {
    let progress: Channel<HostProgress> | undefined;
    let finish: (v: unknown) => void = () => {};
    mockIPC((cmd, args) => {
      if (cmd === "host_add") {
        const a = args as { request: AddHostRequest; onProgress: Channel<HostProgress> };
        progress = a.onProgress;
        return new Promise((resolve) => (finish = () => resolve(check(a.request))));
      }
      throw new Error(`unexpected ${cmd}`);
    });
    const onAdded = vi.fn();
    render(<AddHostDialog open onClose={vi.fn()} onAdded={onAdded} />);
    fill();
    await waitFor(() => expect(progress).toBeDefined());

    act(() => progress!.onmessage({ step: "connecting" }));
    expect(screen.getByTestId("host-step-connecting").getAttribute("data-state")).toBe("running");
    act(() => progress!.onmessage({ step: "probing" }));
    act(() => progress!.onmessage({ step: "uploading", sent: 1024, total: 4096 }));
    act(() => progress!.onmessage({ step: "uploading", sent: 4096, total: 4096 }));
    expect(screen.getByTestId("host-step-connecting").getAttribute("data-state")).toBe("done");
    // Upload progress is one line that grows.
    expect(screen.getAllByTestId("host-step-uploading")).toHaveLength(1);
    expect(screen.getByTestId("host-step-uploading").textContent).toBe("Uploading the agent (4.0 KiB of 4.0 KiB)");
    act(() => progress!.onmessage({ step: "starting_agent" }));
    expect(screen.getByTestId("host-step-starting_agent").textContent).toBe("Starting the agent");
    expect(screen.getByTestId("host-step-starting_agent").getAttribute("data-state")).toBe("running");

    act(() => finish(null));
    await waitFor(() => expect(onAdded).toHaveBeenCalled());
  });

  it("refuses a malformed port before asking the engine", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      throw new Error(`unexpected ${cmd}`);
    });
    render(<AddHostDialog open onClose={vi.fn()} onAdded={vi.fn()} />);
    fireEvent.change(screen.getByTestId("host-name"), { target: { value: "db1" } });
    fireEvent.change(screen.getByTestId("host-destination"), { target: { value: "db1.example.com" } });
    fireEvent.change(screen.getByTestId("host-port"), { target: { value: "22x" } });
    fireEvent.click(screen.getByTestId("host-add-ok"));
    expect(await screen.findByText(/^A port is a number from 1 to 65535/)).toBeTruthy();
    expect(calls).toEqual([]);
  });
});
