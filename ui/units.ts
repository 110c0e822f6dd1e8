import { getLocale } from "./i18n";
import type { Locale } from "./i18n";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** The words of a duration in each language. */
const DURATION: Record<Locale, { ms: string; s: string; min: string; h: string }> = {
  en: { ms: "ms", s: "s", min: "min", h: "h" },
  "zh-CN": { ms: "毫秒", s: "秒", min: "分", h: "小时" },
};

/** A number with exactly `digits` decimals, as the active language writes numbers. */
export function formatNumber(value: number, digits = 0): string {
  return new Intl.NumberFormat(getLocale(), {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    useGrouping: false,
  }).format(value);
}

/** Bytes in binary units with one decimal above KiB, e.g. "12.3 GiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${formatNumber(value)} ${UNITS[0]}` : `${formatNumber(value, 1)} ${UNITS[unit]}`;
}

/** A duration in milliseconds as a DBA says it: "850 ms", "4.2 s", "3 min 5 s", "2 h 10 min". */
export function formatDuration(ms: number): string {
  const w = DURATION[getLocale()];
  const say = (n: number, unit: string) => `${n} ${unit}`;
  if (ms < 1000) return say(Math.round(ms), w.ms);
  const s = ms / 1000;
  if (s < 60) return `${formatNumber(s, 1)} ${w.s}`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${say(m, w.min)} ${say(Math.round(s - m * 60), w.s)}`;
  const h = Math.floor(m / 60);
  return `${say(h, w.h)} ${say(m - h * 60, w.min)}`;
}

/**
 * An RFC 3339 timestamp in the viewer's local time: in English the sortable form of server
 * logs ("2026-11-24 09:15:02"), in Chinese as Intl writes it ("2026年11月24日 09:15:02").
 */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const locale = getLocale();
  if (locale !== "en") {
    return new Intl.DateTimeFormat(locale, {
      year: "numeric",
      month: "long",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    }).format(d);
  }
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Seconds and the unit: "0.5 s" / "0.5 秒"; `trim` drops trailing zeros (chart ticks: "1 s"). */
export function formatSeconds(secs: number, digits = 1, trim = false): string {
  const value = new Intl.NumberFormat(getLocale(), {
    minimumFractionDigits: trim ? 0 : digits,
    maximumFractionDigits: digits,
    useGrouping: false,
  }).format(secs);
  return `${value} ${DURATION[getLocale()].s}`;
}
