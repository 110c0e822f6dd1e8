import { Empty, Space, Typography } from "antd";
import { useEffect, useState } from "react";
import { t } from "../i18n";
import { formatBytes, formatSeconds } from "../units";

/** One point of the lag chart. */
export interface LagPoint {
  /** When it was sampled (ms since the epoch). */
  at: number;
  /** Bytes the destination has not replayed yet. */
  bytes: number;
  /** Seconds behind, when the servers report it. */
  seconds: number | null;
}

/** Width before the container is measured (and in jsdom, which measures nothing). */
const DEFAULT_W = 760;
const MIN_W = 320;
const H = 220;
const PAD = { left: 70, right: 56, top: 12, bottom: 28 };
const BYTES_COLOR = "#1677ff";
const SECONDS_COLOR = "#fa8c16";

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

const DAY_MS = 24 * 3600 * 1000;

function clock(ms: number, withDate = false): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  const time = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return withDate ? `${p(d.getMonth() + 1)}-${p(d.getDate())} ${time.slice(0, 5)}` : time;
}

/**
 * Replication lag over time: bytes behind (left axis, solid) and seconds behind (right axis,
 * dashed). A small SVG, so the bundle carries no chart library.
 */
export default function LagChart({
  points,
  domain,
  outages = [],
}: {
  points: LagPoint[];
  /** The period drawn (ms since the epoch), when it is wider than the points. */
  domain?: [number, number];
  /** Stretches the standby was disconnected: drawn as bands, so an outage shows whatever the period. */
  outages?: { at: number; widthMs: number }[];
}) {
  const [ref, W] = useWidth();
  if (points.length === 0 && outages.length === 0) {
    return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("taskDetail.noSamples")} data-testid="lag-chart-empty" />;
  }
  const first = points[0]?.at ?? outages[0].at;
  const last = points[points.length - 1]?.at ?? outages[outages.length - 1].at;
  const t0 = domain ? Math.min(domain[0], first) : first;
  const t1 = Math.max(domain ? domain[1] : last, t0 + 1000);
  // At least 16 KiB and 1 s, so an idle, caught-up standby draws a flat line at zero.
  const bytesAxis = niceAxis(Math.max(16 * 1024, ...points.map((p) => p.bytes)), 1024);
  const secs = points.filter((p) => p.seconds != null) as (LagPoint & { seconds: number })[];
  const secsAxis = niceAxis(Math.max(1, ...secs.map((p) => p.seconds)), 10);
  const maxBytes = bytesAxis.top;
  const maxSecs = secsAxis.top;
  const x = (at: number) => PAD.left + ((at - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const yBytes = (b: number) => H - PAD.bottom - (b / maxBytes) * (H - PAD.top - PAD.bottom);
  const ySecs = (s: number) => H - PAD.bottom - (s / maxSecs) * (H - PAD.top - PAD.bottom);
  const bytesLine = points.map((p) => `${x(p.at).toFixed(1)},${yBytes(p.bytes).toFixed(1)}`).join(" ");
  const secsLine = secs.map((p) => `${x(p.at).toFixed(1)},${ySecs(p.seconds).toFixed(1)}`).join(" ");
  return (
    <div ref={ref} data-testid="lag-chart" data-points={points.length} data-width={W} data-span={Math.round((t1 - t0) / 1000)}>
      <Space size="large" style={{ marginBottom: 4 }}>
        <Typography.Text>
          <span style={{ display: "inline-block", width: 16, height: 2, background: BYTES_COLOR, verticalAlign: "middle", marginRight: 6 }} />
          {t("taskDetail.lagBytes")}
        </Typography.Text>
        <Typography.Text>
          <span
            style={{ display: "inline-block", width: 16, borderTop: `2px dashed ${SECONDS_COLOR}`, verticalAlign: "middle", marginRight: 6 }}
          />
          {t("taskDetail.lagSeconds")}
        </Typography.Text>
      </Space>
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={t("taskDetail.lag")} style={{ display: "block", maxWidth: "100%", height: "auto" }}>
        {bytesAxis.ticks.map((b) => {
          const y = yBytes(b);
          return (
            <g key={`b${b}`}>
              <line x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} stroke="rgba(5,5,5,0.08)" />
              <text x={PAD.left - 6} y={y + 4} fontSize="11" textAnchor="end" fill={BYTES_COLOR} data-testid="tick-bytes">
                {byteTick(b)}
              </text>
            </g>
          );
        })}
        {secsAxis.ticks.map((s) => (
          <text key={`s${s}`} x={W - PAD.right + 6} y={ySecs(s) + 4} fontSize="11" fill={SECONDS_COLOR} data-testid="tick-seconds">
            {formatSeconds(s, 3, true)}
          </text>
        ))}
        <text x={PAD.left} y={H - 8} fontSize="11" fill="#8c8c8c">
          {clock(t0, t1 - t0 > DAY_MS)}
        </text>
        <text x={W - PAD.right} y={H - 8} fontSize="11" fill="#8c8c8c" textAnchor="end">
          {clock(t1, t1 - t0 > DAY_MS)}
        </text>
        {outages.map((o) => (
          <rect
            key={`o${o.at}`}
            x={x(o.at)}
            y={PAD.top}
            width={Math.max(2, x(o.at + o.widthMs) - x(o.at))}
            height={H - PAD.top - PAD.bottom}
            fill="rgba(255,77,79,0.18)"
            data-testid="lag-outage"
          >
            <title>{`${clock(o.at)} · ${t("tasks.replication.disconnect")}`}</title>
          </rect>
        ))}
        <polyline points={bytesLine} fill="none" stroke={BYTES_COLOR} strokeWidth="2" />
        {secs.length > 0 && <polyline points={secsLine} fill="none" stroke={SECONDS_COLOR} strokeWidth="2" strokeDasharray="5 4" />}
        {points.map((p) => (
          <circle key={p.at} cx={x(p.at)} cy={yBytes(p.bytes)} r="2.5" fill={BYTES_COLOR} data-testid="lag-point">
            <title>{`${clock(p.at)} · ${formatBytes(p.bytes)}${p.seconds != null ? ` · ${formatSeconds(p.seconds)}` : ""}`}</title>
          </circle>
        ))}
      </svg>
    </div>
  );
}
