import { render, screen } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it } from "vitest";
import App from "./App";

describe("console frame", () => {
  it("shows the version and state directory reported by the shell", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "app_info") return { version: "9.8.7", state_dir: "/tmp/pgr-home-test" };
      throw new Error(`unexpected command ${cmd}`);
    });

    render(<App />);

    expect(await screen.findByText("State: /tmp/pgr-home-test")).toBeTruthy();
    expect(screen.getByTestId("app-version").textContent).toBe("v9.8.7");
    expect(calls).toEqual(["app_info"]);
  });

  it("explains a failed app_info with the shell's message and code", async () => {
    mockIPC(() => {
      throw { code: "state_dir_unavailable", message: "PGRELOCATE_HOME is set but empty" };
    });

    render(<App />);

    const alert = await screen.findByTestId("app-info-error");
    expect(alert.textContent).toContain("PGRELOCATE_HOME is set but empty (state_dir_unavailable)");
    expect(screen.getByTestId("state-dir").textContent).toBe("State directory unavailable");
  });

  it("opens on the Instances page with its empty state", async () => {
    mockIPC(() => ({ version: "0.1.0", state_dir: "/x" }));

    render(<App />);

    expect(screen.getByRole("heading", { name: "Instances" })).toBeTruthy();
    expect(screen.getByText("No instances yet")).toBeTruthy();
    await screen.findByText("State: /x");
  });
});
