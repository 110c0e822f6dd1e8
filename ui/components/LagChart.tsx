import { Button, Empty, Space, Typography } from "antd";
import { useEffect, useMemo, useState } from "react";
import { Brush, CartesianGrid, ComposedChart, Line, ReferenceArea, Tooltip, XAxis, YAxis } from "recharts";
import type { DotItemDotProps, XAxisTickContentProps, YAxisTickContentProps } from "recharts";
import type { ReplicationState } from "../api/generated/ReplicationState";
import { getLocale, t } from "../i18n";
import { formatBytes, formatDuration, formatSeconds, formatTime } from "../units";

/** One point of the lag chart: a stored bucket (one raw sample at the finest resolution). */
export interface LagPoint {
  /** Where the bucket starts (ms since the epoch). */
  at: number;
  /** The most bytes the destination had not replayed in it (the worst, which is drawn). */
  bytes: number;
  /** The most seconds behind, when the servers report it. */
  seconds: number | null;
  /** The bucket's width (ms): 5 s for raw samples, a minute or an hour for aggregates. */
  widthMs?: number;
  /** Samples folded into the bucket. */
  samples?: number;
  /** The fewest bytes / seconds behind in it (aggregates). */
  bytesMin?: number | null;
  secondsMin?: number | null;
  /** The worst replication state seen in it. */
  worst?: ReplicationState | null;
}

/** A stretch the standby was not streaming: drawn as a band whatever the period. */
export interface LagBand {
  at: number;
  widthMs: number;
  /** `disconnect` (an outage, red) or `catchup` (orange). */
  state?: "disconnect" | "catchup";
}

/** Width before the container is measured (and in jsdom, which measures nothing). */
const DEFAULT_W = 760;
const MIN_W = 320;
const H = 240;
const BRUSH_H = 22;
const BYTES_COLOR = "#1677ff";
const SECONDS_COLOR = "#fa8c16";
const BAND_FILL: Record<NonNullable<LagBand["state"]>, string> = {
  disconnect: "rgba(255,77,79,0.18)",
  catchup: "rgba(250,173,20,0.16)",
};

/** An axis: round tick values from zero up to `top`, which is at or above the data. */
export interface Axis {
  top: number;
  ticks: number[];
}

/** Steps an axis may take per power of its base: seconds go 0.5 s, 1 s, 2 s, 5 s…; bytes
 * go in binary steps (256 KiB, 512 KiB, 1 MiB…) so labels stay round in binary units. */
const STEPS: Record<number, number[]> = { 10: [1, 2, 5, 10], 1024: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] };

/**
 * Round ticks for values up to `max`: about `count` intervals of a step of 1, 2 or 5 × 10ⁿ
 * (seconds) or 2ᵏ × 1024ⁿ (bytes), so labels read "0 s, 0.5 s, 1 s", never "0.3 s / 0.8 s".
 */
export function niceAxis(max: number, base: 10 | 1024, count = 4): Axis {
  const value = max > 0 ? max : 1;
  const raw = value / count;
  const power = Math.pow(base, Math.floor(Math.log(raw) / Math.log(base)));
  const step = (STEPS[base].find((m) => m * power >= raw * (1 - 1e-9)) ?? base) * power;
  const n = Math.max(1, Math.ceil(value / step - 1e-9));
  // toPrecision drops float dust (0.30000000000000004) from the multiples of the step.
  const ticks = Array.from({ length: n + 1 }, (_, i) => Number((i * step).toPrecision(12)));
  return { top: ticks[n], ticks };
}

/** A byte tick without a needless ".0": "512 KiB", "1.5 MiB". */
export function byteTick(b: number): string {
  return formatBytes(b).replace(/\.0 /, " ");
}

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Time steps a time axis may take, shortest first; from 28 days on they are months. */
const TIME_STEPS = [
  10 * SEC, 15 * SEC, 30 * SEC, MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY,
];
const MONTH_STEPS = [1, 2, 3, 6, 12];

/**
 * Ticks at round local times between `t0` and `t1` (ms), at most `count` of them: every 5 min,
 * every 3 h, at local midnight, on the first of a month…
 */
export function timeTicks(t0: number, t1: number, count = 6): number[] {
  const span = Math.max(1, t1 - t0);
  const step = TIME_STEPS.find((s) => span / s <= count);
  const ticks: number[] = [];
  if (step != null) {
    // Round in local time: the zone's offset at t0 (a DST change inside a span is rare and
    // only moves ticks by an hour).
    const tz = new Date(t0).getTimezoneOffset() * MIN;
    const align = step >= DAY ? DAY : step;
    let at = Math.ceil((t0 - tz) / align) * align + tz;
    if (step >= 7 * DAY) {
      // Weeks start on a Monday.
      while (new Date(at).getDay() !== 1) at += DAY;
    }
    for (; at <= t1; at += step) ticks.push(at);
    return ticks;
  }
  const months = MONTH_STEPS.find((m) => span / (m * 30 * DAY) <= count) ?? 12 * Math.ceil(span / (365 * DAY) / count);
  const d = new Date(t0);
  let cursor = new Date(d.getFullYear(), d.getMonth() + (d.getDate() === 1 && d.getHours() === 0 ? 0 : 1), 1);
  // Months at multiples of the step (Jan, Apr, Jul, Oct for three), so ticks read round.
  while (cursor.getMonth() % months !== 0) cursor = new Date(cursor.getFullYear(), cursor.getMonth() + 1, 1);
  for (; cursor.getTime() <= t1; cursor = new Date(cursor.getFullYear(), cursor.getMonth() + months, 1)) {
    ticks.push(cursor.getTime());
  }
  return ticks;
}

/** The label of a time tick in the active language, as fine as the span needs. */
export function timeLabel(at: number, spanMs: number): string {
  const locale = getLocale();
  const d = new Date(at);
  const midnight = d.getHours() === 0 && d.getMinutes() === 0;
  if (spanMs <= 2 * DAY && !(midnight && spanMs > 6 * HOUR)) {
    return new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(d);
  }
  if (spanMs <= 90 * DAY) return new Intl.DateTimeFormat(locale, { month: "short", day: "numeric" }).format(d);
  return new Intl.DateTimeFormat(locale, { year: "numeric", month: "short" }).format(d);
}

/** The width of the chart's container, followed as it resizes. */
function useWidth(): [(el: HTMLDivElement | null) => void, number] {
  const [width, setWidth] = useState(DEFAULT_W);
  const [el, setEl] = useState<HTMLDivElement | null>(null);
  useEffect(() => {
    if (!el) return;
    const measure = () => {
      const w = el.clientWidth;
      if (w > 0) setWidth(Math.max(MIN_W, Math.floor(w)));
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [el]);
  return [setEl, width];
}

/** The first index whose point starts at or after `at` (points are in time order). */
function indexAt(points: LagPoint[], at: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid].at < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A figure with its bucket's range when the bucket holds several samples. */
function withRange(value: string, min: string | null, several: boolean): string {
  return several && min != null && min !== value ? t("lagChart.range", { value, min }) : value;
}

/** A card over the plot, as antd's popovers look. */
const TOOLTIP_STYLE = {
  padding: "6px 10px",
  fontSize: 12,
  lineHeight: "20px",
  background: "#fff",
  borderRadius: 6,
  boxShadow: "0 6px 16px 0 rgba(0,0,0,0.08), 0 3px 6px -4px rgba(0,0,0,0.12), 0 9px 28px 8px rgba(0,0,0,0.05)",
} as const;

/** What the tooltip says about one bucket. */
function LagTooltip({ point }: { point: LagPoint }) {
  const several = (point.samples ?? 1) > 1;
  const width = point.widthMs ?? 0;
  return (
    <div style={TOOLTIP_STYLE} data-testid="lag-tooltip">
      <div data-testid="lag-tooltip-time">
        {formatTime(new Date(point.at).toISOString())}
        {several && width > 0 && (
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {" · "}
            {t("lagChart.bucket", { width: formatDuration(width), samples: point.samples ?? 1 })}
          </Typography.Text>
        )}
      </div>
      <div style={{ color: BYTES_COLOR }} data-testid="lag-tooltip-bytes">
        {t("taskDetail.lagBytes")}: {withRange(formatBytes(point.bytes), point.bytesMin != null ? formatBytes(point.bytesMin) : null, several)}
      </div>
      {point.seconds != null && (
        <div style={{ color: SECONDS_COLOR }} data-testid="lag-tooltip-seconds">
          {t("taskDetail.lagSeconds")}:{" "}
          {withRange(formatSeconds(point.seconds), point.secondsMin != null ? formatSeconds(point.secondsMin) : null, several)}
        </div>
      )}
      {point.worst && point.worst !== "streaming" && (
        <div data-testid="lag-tooltip-state">{t(`tasks.replication.${point.worst}`)}</div>
      )}
    </div>
  );
}

/**
 * Replication lag over the chosen period (recharts): bytes behind (left axis, solid) and
 * seconds behind (right axis, dashed) on a time axis in the viewer's language, a tooltip per
 * bucket, bands where the standby was disconnected or catching up, and a brush under the
 * chart to zoom into part of the period. It is fed a period's buckets (at most ~720), never
 * raw history.
 */
export default function LagChart({
  points,
  domain,
  outages = [],
}: {
  points: LagPoint[];
  /** The period drawn (ms since the epoch), when it is wider than the points. */
  domain?: [number, number];
  /** Stretches the standby was not streaming: drawn as bands, so an outage shows whatever the period. */
  outages?: LagBand[];
}) {
  const [ref, W] = useWidth();
  // The zoom, as times (the buckets are re-read every few seconds and shift under indices).
  const [zoom, setZoom] = useState<[number, number] | null>(null);
  const first = points[0]?.at ?? outages[0]?.at ?? 0;
  const last = points[points.length - 1]?.at ?? outages[outages.length - 1]?.at ?? 0;
  const t0 = domain ? Math.min(domain[0], first) : first;
  const t1 = Math.max(domain ? domain[1] : last, t0 + 1000);
  // Another period is another chart: its zoom starts over.
  const periodKey = Math.round((t1 - t0) / 60000);
  useEffect(() => setZoom(null), [periodKey]);

  const range = useMemo(() => {
    if (!zoom || points.length < 2) return null;
    const start = Math.min(indexAt(points, zoom[0]), points.length - 2);
    const end = Math.max(start + 1, Math.min(indexAt(points, zoom[1]), points.length - 1));
    return { start, end };
  }, [zoom, points]);
  const v0 = range ? points[range.start].at : t0;
  const v1 = range ? points[range.end].at : t1;
  const shown = range ? points.slice(range.start, range.end + 1) : points;

  // At least 16 KiB and 1 s, so an idle, caught-up standby draws a flat line at zero.
  const bytesAxis = niceAxis(shown.reduce((m, p) => Math.max(m, p.bytes), 16 * 1024), 1024);
  const secsAxis = niceAxis(shown.reduce((m, p) => Math.max(m, p.seconds ?? 0), 1), 10);
  const hasSeconds = points.some((p) => p.seconds != null);
  const ticks = timeTicks(v0, v1, Math.max(3, Math.floor(W / 130)));

  if (points.length === 0 && outages.length === 0) {
    return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("taskDetail.noSamples")} data-testid="lag-chart-empty" />;
  }
  const bands = outages.filter((o) => o.at + o.widthMs >= v0 && o.at <= v1);
  return (
    <div
      ref={ref}
      data-testid="lag-chart"
      data-points={points.length}
      data-width={W}
      data-span={Math.round((t1 - t0) / 1000)}
      data-view-span={Math.round((v1 - v0) / 1000)}
    >
      <Space size="large" style={{ marginBottom: 4 }}>
        <Typography.Text>
          <span style={{ display: "inline-block", width: 16, height: 2, background: BYTES_COLOR, verticalAlign: "middle", marginRight: 6 }} />
          {t("taskDetail.lagBytes")}
        </Typography.Text>
        {hasSeconds && (
          <Typography.Text>
            <span
              style={{ display: "inline-block", width: 16, borderTop: `2px dashed ${SECONDS_COLOR}`, verticalAlign: "middle", marginRight: 6 }}
            />
            {t("taskDetail.lagSeconds")}
          </Typography.Text>
        )}
        {range && (
          <Button size="small" type="link" onClick={() => setZoom(null)} data-testid="lag-zoom-reset">
            {t("lagChart.resetZoom")}
          </Button>
        )}
      </Space>
      <ComposedChart
        width={W}
        height={H}
        data={points}
        margin={{ top: 8, right: 4, bottom: 0, left: 4 }}
        role="img"
        aria-label={t("taskDetail.lag")}
      >
        <CartesianGrid vertical={false} stroke="rgba(5,5,5,0.08)" yAxisId="bytes" />
        <XAxis
          dataKey="at"
          type="number"
          scale="time"
          domain={[v0, v1]}
          ticks={ticks}
          allowDataOverflow
          tick={(props: XAxisTickContentProps) => (
            <text x={props.x} y={props.y} dy={12} fontSize="11" textAnchor="middle" fill="#8c8c8c" data-testid="tick-time">
              {timeLabel(Number(props.payload.value), v1 - v0)}
            </text>
          )}
          height={22}
        />
        <YAxis
          yAxisId="bytes"
          domain={[0, bytesAxis.top]}
          ticks={bytesAxis.ticks}
          allowDataOverflow
          width={66}
          tick={(props: YAxisTickContentProps) => (
            <text x={props.x} y={props.y} dy={4} fontSize="11" textAnchor="end" fill={BYTES_COLOR} data-testid="tick-bytes">
              {byteTick(Number(props.payload.value))}
            </text>
          )}
        />
        <YAxis
          yAxisId="seconds"
          orientation="right"
          domain={[0, secsAxis.top]}
          ticks={secsAxis.ticks}
          allowDataOverflow
          width={hasSeconds ? 50 : 8}
          hide={!hasSeconds}
          tick={(props: YAxisTickContentProps) => (
            <text x={props.x} y={props.y} dy={4} fontSize="11" textAnchor="start" fill={SECONDS_COLOR} data-testid="tick-seconds">
              {formatSeconds(Number(props.payload.value), 3, true)}
            </text>
          )}
        />
        {bands.map((o) => (
          <ReferenceArea
            key={`o${o.at}`}
            yAxisId="bytes"
            x1={Math.max(o.at, v0)}
            x2={Math.min(o.at + o.widthMs, v1)}
            ifOverflow="hidden"
            shape={(p: { x: number; y: number; width: number; height: number }) => (
              <rect
                x={p.x}
                y={p.y}
                width={Math.max(3, p.width)}
                height={p.height}
                fill={BAND_FILL[o.state ?? "disconnect"]}
                data-testid={o.state === "catchup" ? "lag-catchup" : "lag-outage"}
              >
                <title>{`${formatTime(new Date(o.at).toISOString())} · ${formatDuration(o.widthMs)} · ${t(`tasks.replication.${o.state ?? "disconnect"}`)}`}</title>
              </rect>
            )}
          />
        ))}
        <Line
          yAxisId="bytes"
          dataKey="bytes"
          stroke={BYTES_COLOR}
          strokeWidth={2}
          // A dot per bucket while they are few enough to tell apart.
          dot={
            points.length <= 120
              ? (p: DotItemDotProps) => (
                  <circle key={p.index} cx={p.cx} cy={p.cy} r={2.5} fill={BYTES_COLOR} data-testid="lag-point" />
                )
              : false
          }
          activeDot={{ r: 4 }}
          isAnimationActive={false}
        />
        {hasSeconds && (
          <Line
            yAxisId="seconds"
            dataKey="seconds"
            stroke={SECONDS_COLOR}
            strokeWidth={2}
            strokeDasharray="5 4"
            dot={false}
            connectNulls
            isAnimationActive={false}
          />
        )}
        <Tooltip
          isAnimationActive={false}
          content={({ active, payload }) => {
            const point = payload?.[0]?.payload as LagPoint | undefined;
            return active && point ? <LagTooltip point={point} /> : null;
          }}
        />
        {points.length > 2 && (
          <Brush
            dataKey="at"
            height={BRUSH_H}
            travellerWidth={8}
            stroke="#91caff"
            startIndex={range?.start ?? 0}
            endIndex={range?.end ?? points.length - 1}
            tickFormatter={(at: number) => timeLabel(at, Math.min(t1 - t0, DAY))}
            ariaLabel={t("lagChart.zoom")}
            onChange={(r) => {
              if (r.startIndex == null || r.endIndex == null) return;
              if (r.startIndex <= 0 && r.endIndex >= points.length - 1) setZoom(null);
              else setZoom([points[r.startIndex].at, points[r.endIndex].at]);
            }}
          />
        )}
      </ComposedChart>
    </div>
  );
}
