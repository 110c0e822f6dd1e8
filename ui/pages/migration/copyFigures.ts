import type { CopyProgress } from "../../api/tasks";
import { t } from "../../i18n";
import { formatBytes, formatDuration } from "../../units";

/** A full copy's figures as the console shows them, in one place for the task table's
 * phase column and the details page. */
export interface CopyFigures {
  /** Percentage done, when the source gave an estimate. */
  percent: number | null;
  /** "37.0 MiB of 100.0 MiB", or "37.0 MiB copied" without an estimate. */
  done: string;
  /** "1.0 MiB/s". */
  rate: string;
  /** "5.0 s", or null when there is no estimate. */
  eta: string | null;
}

export function copyFigures(p: CopyProgress): CopyFigures {
  return {
    percent: p.bytes_total ? Math.min(100, Math.floor((100 * p.bytes_done) / p.bytes_total)) : null,
    done: p.bytes_total
      ? t("taskDetail.copyDone", { done: formatBytes(p.bytes_done), total: formatBytes(p.bytes_total) })
      : t("taskDetail.copyDoneNoTotal", { done: formatBytes(p.bytes_done) }),
    rate: `${formatBytes(p.rate_bytes_per_sec)}/s`,
    eta: p.eta_secs != null ? formatDuration(p.eta_secs * 1000) : null,
  };
}

/** The figures on one line: "37.0 MiB of 100.0 MiB · 1.0 MiB/s · 5.0 s left". */
export function copyLine(p: CopyProgress): string {
  const f = copyFigures(p);
  const parts = [f.done, f.rate];
  if (f.eta != null) parts.push(t("tasks.phase.etaLeft", { eta: f.eta }));
  return parts.join(" · ");
}
