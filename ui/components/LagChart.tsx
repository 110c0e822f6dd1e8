import { Empty, Space, Typography } from "antd";
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

const W = 760;
const H = 220;
const PAD = { left: 70, right: 56, top: 12, bottom: 28 };
const BYTES_COLOR = "#1677ff";
const SECONDS_COLOR = "#fa8c16";

/** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten (or of 1024 for bytes). */
function niceMax(value: number, base: number): number {
  if (value <= 0) return 1;
  const power = Math.pow(base, Math.floor(Math.log(value) / Math.log(base)));
  for (const step of [1, 2, 5, 10, 20, 50, 100, 200, 500]) {
    if (step * power >= value) return step * power;
  }
  return value;
}

function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * Replication lag over time: bytes behind (left axis, solid) and seconds behind (right axis,
 * dashed). A small SVG, so the bundle carries no chart library.
 */
export default function LagChart({ points }: { points: LagPoint[] }) {
  if (points.length === 0) {
    return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("taskDetail.noSamples")} data-testid="lag-chart-empty" />;
  }
  const t0 = points[0].at;
  const t1 = Math.max(points[points.length - 1].at, t0 + 1000);
  // At least 16 KiB and 1 s, so an idle, caught-up standby draws a flat line at zero.
  const maxBytes = niceMax(Math.max(16 * 1024, ...points.map((p) => p.bytes)), 1024);
  const secs = points.filter((p) => p.seconds != null) as (LagPoint & { seconds: number })[];
  const maxSecs = niceMax(Math.max(1, ...secs.map((p) => p.seconds)), 10);
  const x = (at: number) => PAD.left + ((at - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const yBytes = (b: number) => H - PAD.bottom - (b / maxBytes) * (H - PAD.top - PAD.bottom);
  const ySecs = (s: number) => H - PAD.bottom - (s / maxSecs) * (H - PAD.top - PAD.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const bytesLine = points.map((p) => `${x(p.at).toFixed(1)},${yBytes(p.bytes).toFixed(1)}`).join(" ");
  const secsLine = secs.map((p) => `${x(p.at).toFixed(1)},${ySecs(p.seconds).toFixed(1)}`).join(" ");
  return (
    <div data-testid="lag-chart" data-points={points.length}>
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
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={t("taskDetail.lag")} style={{ maxWidth: W }}>
        {ticks.map((f) => {
          const y = H - PAD.bottom - f * (H - PAD.top - PAD.bottom);
          return (
            <g key={f}>
              <line x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} stroke="rgba(5,5,5,0.08)" />
              <text x={PAD.left - 6} y={y + 4} fontSize="11" textAnchor="end" fill={BYTES_COLOR}>
                {formatBytes(Math.round(maxBytes * f))}
              </text>
              <text x={W - PAD.right + 6} y={y + 4} fontSize="11" fill={SECONDS_COLOR}>
                {formatSeconds(maxSecs * f, 1, true)}
              </text>
            </g>
          );
        })}
        <text x={PAD.left} y={H - 8} fontSize="11" fill="#8c8c8c">
          {clock(t0)}
        </text>
        <text x={W - PAD.right} y={H - 8} fontSize="11" fill="#8c8c8c" textAnchor="end">
          {clock(t1)}
        </text>
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
