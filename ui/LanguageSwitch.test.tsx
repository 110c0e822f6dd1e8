import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import App from "./App";
import { getLocale } from "./i18n";
import { preferredLocale } from "./locale";
import { runningInstance } from "./test/fixtures";

const info = { version: "9.8.7", state_dir: "/tmp/pgr-home-test", log_dir: null };

afterEach(() => {
  window.location.hash = "";
});

describe("the language switch", () => {
  it("re-renders the console in Chinese, antd's own buttons too, and keeps the choice", async () => {
    mockIPC((cmd) => {
      if (cmd === "app_info") return info;
      if (cmd === "instance_list") return { instances: [runningInstance("sandbox-dest", 5434)], creating: [] };
      if (cmd === "task_list") return [];
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<App />);
    const row = await screen.findByTestId("instance-row-sandbox-dest");
    expect(within(row).getByText("Running")).toBeTruthy();
    expect(screen.getByRole("heading", { name: "Instances" })).toBeTruthy();

    fireEvent.click(screen.getByTestId("language-zh-CN"));

    // The page re-renders without a reload: its title, table and the menu.
    expect(await screen.findByRole("heading", { name: "实例列表" })).toBeTruthy();
    const translated = screen.getByTestId("instance-row-sandbox-dest");
    expect(within(translated).getByText("运行中")).toBeTruthy();
    expect(within(translated).getByText("本机托管")).toBeTruthy();
    expect(screen.getByRole("columnheader", { name: "状态" })).toBeTruthy();
    expect(within(screen.getByTestId("nav-menu")).getByText("主机")).toBeTruthy();
    expect(document.documentElement.lang).toBe("zh-CN");

    // antd's own strings come from its zh_CN locale: the Popconfirm's buttons.
    fireEvent.click(within(translated).getByRole("button", { name: "停止" }));
    const confirm = await screen.findByRole("tooltip");
    expect(within(confirm).getByText("停止实例 sandbox-dest？")).toBeTruthy();
    const buttons = within(confirm)
      .getAllByRole("button")
      .map((b) => b.textContent?.replace(/\s/g, ""));
    expect(buttons).toEqual(["取消", "确定"]);

    // A restart starts in the stored choice.
    expect(preferredLocale()).toBe("zh-CN");

    fireEvent.click(screen.getByTestId("language-en"));
    await waitFor(() => expect(screen.getByRole("heading", { name: "Instances" })).toBeTruthy());
    expect(getLocale()).toBe("en");
    expect(preferredLocale()).toBe("en");
  });
});
