import type { FormRule } from "antd";
import { t } from "../i18n";

/** Below this a server needs root to listen, and PostgreSQL never runs as root. */
export const FIRST_UNPRIVILEGED_PORT = 1024;

/**
 * The port a user typed, or `null` when it is not one: digits only, 1–65535. Nothing is
 * read up to the first non-digit ("54x2" is not 54) or clamped ("99999" is not 65535).
 */
export function parsePort(typed: string | number | null | undefined): number | null {
  const text = String(typed ?? "").trim();
  if (!/^[0-9]+$/.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}

/**
 * antd rules for a port typed into an `Input` (an `InputNumber` would turn "54x2" into 54).
 * `managed`: a port this host's own server listens on, so a privileged one is refused too.
 */
export function portRules({ required, managed = false }: { required: boolean; managed?: boolean }): FormRule[] {
  return [
    { required, message: t("port.required") },
    {
      validator: async (_rule, value: string | number | null | undefined) => {
        if (value === undefined || value === null || String(value).trim() === "") return;
        const port = parsePort(value);
        if (port === null) throw new Error(t("port.invalid"));
        if (managed && port < FIRST_UNPRIVILEGED_PORT) throw new Error(t("port.privileged"));
      },
    },
  ];
}
