import { act, fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { setLocale } from "../i18n";
import LagChart, { byteTick, niceAxis, timeLabel, timeTicks } from "./LagChart";
import type { LagPoint } from "./LagChart";

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

  it("ticks time at round local times, a few per chart whatever the period", () => {
    const t0 = new Date(2026, 11, 4, 9, 58, 10).getTime();
    const hour = timeTicks(t0, t0 + 3600_000, 6);
    expect(hour.map((at) => new Date(at).getMinutes() % 10 + new Date(at).getSeconds())).toEqual(hour.map(() => 0));
    expect(hour.length).toBeGreaterThanOrEqual(3);
    expect(hour.length).toBeLessThanOrEqual(6);
    const week = timeTicks(t0, t0 + 7 * 86_400_000, 8);
    expect(week.every((at) => new Date(at).getHours() === 0 && new Date(at).getMinutes() === 0)).toBe(true);
    const year = timeTicks(t0 - 365 * 86_400_000, t0, 6);
    expect(year.every((at) => new Date(at).getDate() === 1)).toBe(true);
    expect(year.length).toBeLessThanOrEqual(6);
    for (const ticks of [hour, week, year]) expect([...ticks].sort((a, b) => a - b)).toEqual(ticks);
  });
});

/** `n` raw samples 5 s apart from 2026-12-04 10:00 local time, bytes rising by 1 KiB each. */
function samples(n: number, start = new Date(2026, 11, 4, 10, 0, 0).getTime()): LagPoint[] {
  return Array.from({ length: n }, (_, i) => ({ at: start + i * 5000, bytes: 1024 * (i + 1), seconds: 0.1 * (i + 1), widthMs: 5000, samples: 1 }));
}

/** Moves the mouse over the plot at `x` px from the chart's left edge (jsdom lays nothing out,
 * so recharts reads the client coordinates as the chart's own). */
function hover(x: number) {
  const wrapper = screen.getByTestId("lag-chart").querySelector(".recharts-wrapper")!;
  fireEvent.mouseMove(wrapper, { clientX: x, clientY: 100 });
}

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
      expect(chart.querySelector("svg.recharts-surface")!.getAttribute("width")).toBe("1180");
      expect(screen.getAllByTestId("tick-seconds").map((e) => e.textContent)).toEqual(["0 s", "0.5 s", "1 s"]);
      expect(screen.getAllByTestId("tick-bytes").map((e) => e.textContent)).toEqual(["0 B", "4 KiB", "8 KiB", "12 KiB", "16 KiB"]);
    } finally {
      if (width) Object.defineProperty(HTMLElement.prototype, "clientWidth", width);
    }
  });

  it("draws every bucket it is given, and the period it is given", () => {
    const points = samples(40);
    const from = points[0].at - 60_000;
    render(<LagChart points={points} domain={[from, from + 15 * 60_000]} />);
    const chart = screen.getByTestId("lag-chart");
    expect(chart.getAttribute("data-points")).toBe("40");
    expect(chart.getAttribute("data-span")).toBe("900");
    // Few buckets: each is a dot on the bytes line.
    expect(screen.getAllByTestId("lag-point")).toHaveLength(40);
  });

  it("draws a band over each outage, one per run of disconnected buckets", () => {
    const points = samples(60);
    render(
      <LagChart
        points={points}
        outages={[
          { at: points[10].at, widthMs: 30_000, state: "disconnect" },
          { at: points[40].at, widthMs: 10_000, state: "disconnect" },
          { at: points[50].at, widthMs: 5_000, state: "catchup" },
        ]}
      />,
    );
    const bands = screen.getAllByTestId("lag-outage");
    expect(bands).toHaveLength(2);
    // A band is as wide as its outage: 30 s of the 295 s drawn is wider than 10 s.
    const w = bands.map((b) => Number(b.getAttribute("width")));
    expect(w[0]).toBeGreaterThan(w[1] * 2.5);
    expect(bands[0].querySelector("title")!.textContent).toContain("Disconnected");
    expect(screen.getAllByTestId("lag-catchup")).toHaveLength(1);
  });

  it("shows a bucket's time, figures and, for an aggregate, its min and max on hover", async () => {
    const hourAgo = new Date(2026, 11, 4, 9, 0, 0).getTime();
    const points: LagPoint[] = [
      { at: hourAgo, bytes: 4096, seconds: 1.5, widthMs: 60_000, samples: 12, bytesMin: 1024, secondsMin: 0.2, worst: "streaming" },
      { at: hourAgo + 60_000, bytes: 8192, seconds: 3, widthMs: 60_000, samples: 12, bytesMin: 2048, secondsMin: 0.5, worst: "disconnect" },
      { at: hourAgo + 120_000, bytes: 2048, seconds: 0.4, widthMs: 60_000, samples: 12, bytesMin: 2048, secondsMin: 0.4, worst: "streaming" },
    ];
    render(<LagChart points={points} />);
    expect(screen.queryByTestId("lag-tooltip")).toBeNull();
    // The middle of the plot (760 px wide) is the middle bucket.
    hover(380);
    const tip = await screen.findByTestId("lag-tooltip");
    expect(screen.getByTestId("lag-tooltip-time").textContent).toContain("2026-12-04 09:01:00");
    expect(tip.textContent).toContain("1 min 0 s, 12 samples");
    expect(screen.getByTestId("lag-tooltip-bytes").textContent).toBe("Bytes behind: max 8.0 KiB · min 2.0 KiB");
    expect(screen.getByTestId("lag-tooltip-seconds").textContent).toBe("Seconds behind: max 3.0 s · min 0.5 s");
    expect(screen.getByTestId("lag-tooltip-state").textContent).toBe("Disconnected");
  });

  it("shows a raw sample's figures without a range", async () => {
    render(<LagChart points={samples(3)} />);
    hover(80);
    expect((await screen.findByTestId("lag-tooltip-bytes")).textContent).toBe("Bytes behind: 1.0 KiB");
    expect(screen.getByTestId("lag-tooltip-seconds").textContent).toBe("Seconds behind: 0.1 s");
  });

  it("labels the time axis in the chosen language", () => {
    const end = new Date(2026, 11, 4, 12, 0, 0).getTime();
    const week = (): string[] => screen.getAllByTestId("tick-time").map((e) => e.textContent ?? "");
    const points = [0, 1, 2, 3].map((i) => ({ at: end - (3 - i) * 2 * 86_400_000, bytes: 1024, seconds: 0.1 }));
    const { unmount } = render(<LagChart points={points} domain={[end - 7 * 86_400_000, end]} />);
    expect(week().length).toBeGreaterThanOrEqual(3);
    expect(week()).toContain("Dec 2");
    for (const label of week()) expect(label).toMatch(/^(Nov|Dec) \d+$/);
    unmount();
    setLocale("zh-CN");
    render(<LagChart points={points} domain={[end - 7 * 86_400_000, end]} />);
    expect(week()).toContain("12月2日");
    for (const label of week()) expect(label).toMatch(/^1[12]月\d+日$/);
    expect(screen.getByText("延迟字节数")).toBeTruthy();
    expect(timeLabel(new Date(2026, 11, 4, 9, 5).getTime(), 3600_000)).toBe("09:05");
  });

  it("zooms into part of the period with the brush, and back", () => {
    const points = samples(20);
    render(<LagChart points={points} />);
    const chart = screen.getByTestId("lag-chart");
    expect(chart.getAttribute("data-view-span")).toBe("95");
    const [start] = screen.getAllByRole("slider");
    for (let i = 0; i < 10; i++) act(() => fireEvent.keyDown(start, { key: "ArrowRight" }));
    // The second half: 10 buckets 5 s apart, the period's span unchanged.
    expect(chart.getAttribute("data-view-span")).toBe("45");
    expect(chart.getAttribute("data-span")).toBe("95");
    expect(screen.getAllByTestId("lag-point")).toHaveLength(10);
    fireEvent.click(screen.getByTestId("lag-zoom-reset"));
    expect(chart.getAttribute("data-view-span")).toBe("95");
    expect(screen.queryByTestId("lag-zoom-reset")).toBeNull();
  });

  it("says so when there is nothing to draw", () => {
    render(<LagChart points={[]} />);
    expect(screen.getByTestId("lag-chart-empty")).toBeTruthy();
  });
});
