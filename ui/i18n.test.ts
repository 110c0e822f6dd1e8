import { describe, expect, it } from "vitest";
import { LOCALES, getLocale, labelled, setLocale, t, tables } from "./i18n";
import type { MessageKey } from "./i18n";
import { chooseLocale, preferredLocale } from "./locale";
import { formatBytes, formatDuration, formatSeconds, formatTime } from "./units";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

// Strings that read the same in Chinese: names, units, formats and SQL-like words.
const SAME_IN_CHINESE = new Set<MessageKey>([
  "app.name",
  "app.version",
  "common.none",
  "common.fullId",
  "hostCheck.agentVersion",
  "hostCheck.postgres",
  "create.majorOnHost",
  "engine.postgres",
  "assess.findings",
  "newTask.assessmentOption",
  "report.export.json",
  "report.export.md",
  "taskDetail.copyDone",
  "switch.method.pg_promote",
  "switch.method.pg_ctl",
  "sandbox.version",
]);

describe("translation tables", () => {
  const en = tables.en;
  for (const { id } of LOCALES.filter((l) => l.id !== "en")) {
    const table = tables[id];

    it(`${id} has every English key, with the same placeholders`, () => {
      const missing = Object.keys(en).filter((k) => !(k in table) || !table[k as MessageKey].trim());
      expect(missing).toEqual([]);
      const extra = Object.keys(table).filter((k) => !(k in en));
      expect(extra).toEqual([]);
      const mismatched = (Object.keys(en) as MessageKey[]).filter(
        (k) => placeholders(en[k]).join() !== placeholders(table[k]).join(),
      );
      expect(mismatched).toEqual([]);
    });

    it(`${id} translates every string but names and formats`, () => {
      const untranslated = (Object.keys(en) as MessageKey[]).filter((k) => table[k] === en[k] && !SAME_IN_CHINESE.has(k));
      expect(untranslated).toEqual([]);
    });
  }

  it("looks messages up in the chosen language and falls back to English for an unknown one", () => {
    setLocale("zh-CN");
    expect(t("instances.title")).toBe("实例列表");
    expect(t("hosts.removeConfirm", { name: "db1" })).toBe("移除主机 db1？");
    setLocale("zh-TW");
    expect(getLocale()).toBe("zh-CN");
    setLocale("fr-FR");
    expect(getLocale()).toBe("en");
    expect(t("instances.title")).toBe("Instances");
  });

  it("puts the language's colon after a label", () => {
    expect(labelled("report.impact")).toBe("Impact: ");
    setLocale("zh-CN");
    expect(labelled("report.impact")).toBe("影响：");
  });
});

describe("the language preference", () => {
  it("starts in the system language when it is Chinese, else in English", () => {
    const languages = Object.getOwnPropertyDescriptor(window.navigator, "languages");
    try {
      Object.defineProperty(window.navigator, "languages", { value: ["zh-CN", "en"], configurable: true });
      expect(preferredLocale()).toBe("zh-CN");
      Object.defineProperty(window.navigator, "languages", { value: ["de-DE", "zh-CN"], configurable: true });
      expect(preferredLocale()).toBe("en");
    } finally {
      if (languages) Object.defineProperty(window.navigator, "languages", languages);
      else delete (window.navigator as { languages?: unknown }).languages;
    }
  });

  it("keeps the chosen language for the next start", () => {
    chooseLocale("zh-CN");
    expect(getLocale()).toBe("zh-CN");
    setLocale("en"); // a restart begins from scratch…
    expect(preferredLocale()).toBe("zh-CN"); // …and finds the choice
    chooseLocale("en");
    expect(preferredLocale()).toBe("en");
  });
});

describe("units and dates in each language", () => {
  it("says durations and seconds in the language's words", () => {
    expect(formatDuration(185_000)).toBe("3 min 5 s");
    expect(formatSeconds(0.25)).toBe("0.3 s");
    setLocale("zh-CN");
    expect(formatDuration(850)).toBe("850 毫秒");
    expect(formatDuration(4200)).toBe("4.2 秒");
    expect(formatDuration(185_000)).toBe("3 分 5 秒");
    expect(formatDuration(7_800_000)).toBe("2 小时 10 分");
    expect(formatSeconds(2, 1, true)).toBe("2 秒");
    expect(formatBytes(12.34 * 1024 ** 3)).toBe("12.3 GiB");
  });

  it("writes a timestamp as the language does", () => {
    const at = new Date(2026, 10, 24, 9, 15, 2).toISOString();
    expect(formatTime(at)).toBe("2026-11-24 09:15:02");
    setLocale("zh-CN");
    expect(formatTime(at)).toBe("2026年11月24日 09:15:02");
  });
});
