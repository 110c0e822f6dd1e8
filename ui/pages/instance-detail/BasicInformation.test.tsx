import { render, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { runningInstance } from "../../test/fixtures";
import BasicInformation from "./BasicInformation";

describe("Basic Information", () => {
  it("names the registered host a managed instance runs on", () => {
    const here = runningInstance("orders-east", 5433);
    const remote = {
      ...here,
      endpoint: { ...here.endpoint, host: "db-east.example.internal" },
      managed: { ...here.managed!, host: "db-east" },
    };
    render(<BasicInformation instance={remote} onChanged={vi.fn()} />);

    const info = within(screen.getByTestId("basic-info"));
    expect(info.getByTestId("basic-host").textContent).toBe("db-east");
    expect(info.getByText("Managed")).toBeTruthy();
    expect(info.queryByText("Managed here")).toBeNull();
    expect(info.getByText("db-east.example.internal:5433")).toBeTruthy();
  });

  it("says a local managed instance runs on this machine, and shows no host for an external one", () => {
    const { unmount } = render(<BasicInformation instance={runningInstance("orders-dest", 5433)} onChanged={vi.fn()} />);
    expect(screen.getByTestId("basic-host").textContent).toBe("This machine");
    expect(screen.getByText("Managed here")).toBeTruthy();
    unmount();

    render(<BasicInformation instance={runningInstance("orders-prod", 5432, "external")} onChanged={vi.fn()} />);
    expect(screen.queryByTestId("basic-host")).toBeNull();
    expect(screen.getByText("External")).toBeTruthy();
  });

  it("keeps the host, the endpoint and the ID whole, and breaks a path only after a slash", () => {
    const dest = { ...runningInstance("sandbox-dest", 7101), id: "7f3a9c01d2e84b5f9a6c3e1d0b7f2a48" };
    render(<BasicInformation instance={dest} onChanged={vi.fn()} />);

    const info = within(screen.getByTestId("basic-info"));
    expect(info.getByTestId("basic-host").style.whiteSpace).toBe("nowrap");
    expect(info.getByText("127.0.0.1:7101").closest("[style*='white-space: nowrap']")).toBeTruthy();
    expect(info.getByTestId("basic-id").textContent).toBe("7f3a9c01");
    const path = document.querySelector<HTMLElement>("[data-path='/var/lib/pgrelocate/sandbox-dest/data']")!;
    expect(path.textContent).toBe("/var/lib/pgrelocate/sandbox-dest/data");
    expect(path.querySelectorAll("wbr")).toHaveLength(5);
    expect(path.style.wordBreak).toBe("normal");
  });

  it("tags an adopted instance and says removing it leaves the cluster running with its files", () => {
    const here = runningInstance("legacy-16", 5432);
    const adopted = { ...here, managed: { ...here.managed!, adopted: true } };
    const { unmount } = render(<BasicInformation instance={adopted} onChanged={vi.fn()} />);

    const info = within(screen.getByTestId("basic-info"));
    expect(info.getByText("Managed here")).toBeTruthy();
    expect(info.getByTestId("adopted-tag").textContent).toBe("adopted");
    const note = screen.getByTestId("basic-adopted").textContent ?? "";
    expect(note).toContain("the cluster keeps running, with its files and configuration");
    expect(note).not.toMatch(/delet/);
    unmount();

    render(<BasicInformation instance={here} onChanged={vi.fn()} />);
    expect(screen.queryByTestId("adopted-tag")).toBeNull();
    expect(screen.queryByTestId("basic-adopted")).toBeNull();
  });
});
