import { message } from "antd";
import { useState } from "react";
import { exportReport } from "../../api/assessments";
import type { ExportFormat } from "../../api/assessments";
import { asCommandError } from "../../api/core";
import type { CommandError } from "../../api/core";
import { t } from "../../i18n";

/** Exporting a report: the call, the busy flag, the saved path or the error, and a notice. */
export function useExport() {
  const [notice, holder] = message.useMessage();
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<string>();
  const [error, setError] = useState<CommandError>();
  const run = async (id: string, format: ExportFormat) => {
    setBusy(true);
    // The last export's outcome, saved or failed, gives way to this one's.
    setError(undefined);
    setSaved(undefined);
    try {
      const { path } = await exportReport(id, format);
      if (path) {
        setSaved(path);
        void notice.success(t("report.exported", { path }));
      }
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, saved, error, holder };
}
