import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import LagChart, { byteTick, niceAxis } from "./LagChart";

describe("lag chart axes", () => {
  it("ticks seconds at round values, never 0.25 steps shown as 0.3 s / 0.8 s", () => {
    expect(niceAxis(1, 10).ticks).toEqual([0, 0.5, 1]);
    expect(niceAxis(0.8, 10).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
    expect(niceAxis(3.7, 10).ticks).toEqual([0, 1, 2, 3, 4]);
    expect(niceAxis(42, 10).ticks).toEqual([0, 20, 40, 60]);
    expect(niceAxis(0.3, 10).ticks).toEqual([0, 0.1, 0.2, 0.3]);
  });

  it("ticks bytes in binary steps that read round in binary units", () => {
    expect(niceAxis(16 * 1024, 1024).ticks.map(byteTick)).toEqual(["0 B", "4 KiB", "8 KiB", "12 KiB", "16 KiB"]);
    expect(niceAxis(3 * 1024 ** 2, 1024).ticks.map(byteTick)).toEqual(["0 B", "1 MiB", "2 MiB", "3 MiB"]);
    expect(niceAxis(1.8 * 1024 ** 3, 1024).ticks.map(byteTick)).toEqual(["0 B", "512 MiB", "1 GiB", "1.5 GiB", "2 GiB"]);
  });

  it("the top tick is at or above the data", () => {
    for (const v of [0.01, 0.9, 1, 1.01, 7, 99, 123456]) {
      const axis = niceAxis(v, 10);
      expect(axis.top).toBeGreaterThanOrEqual(v);
      expect(axis.ticks.length).toBeLessThanOrEqual(6);
    }
  });
});

describe("lag chart", () => {
  it("draws as wide as its container, with the round ticks", () => {
    const width = Object.getOwnPropertyDescriptor(HTMLElement.prototype, "clientWidth");
    Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => 1180 });
    try {
      render(
        <LagChart
          points={[
            { at: 0, bytes: 2048, seconds: 0.2 },
            { at: 5000, bytes: 9000, seconds: 0.9 },
          ]}
        />,
      );
      const chart = screen.getByTestId("lag-chart");
      expect(chart.getAttribute("data-width")).toBe("1180");
      expect(chart.querySelector("svg")!.getAttribute("width")).toBe("1180");
      expect(screen.getAllByTestId("tick-seconds").map((e) => e.textContent)).toEqual(["0 s", "0.5 s", "1 s"]);
      expect(screen.getAllByTestId("tick-bytes").map((e) => e.textContent)).toEqual(["0 B", "4 KiB", "8 KiB", "12 KiB", "16 KiB"]);
    } finally {
      if (width) Object.defineProperty(HTMLElement.prototype, "clientWidth", width);
    }
  });
});
