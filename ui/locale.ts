// The console language the user chose: kept in the webview's local storage (it outlives a
// restart of the app), else the system's language when that is Chinese, else English.

import type { Locale as AntdLocale } from "antd/es/locale";
import antdEnUS from "antd/locale/en_US";
import antdZhCN from "antd/locale/zh_CN";
import { useSyncExternalStore } from "react";
import { LOCALES, getLocale, resolveLocale, setLocale, subscribeLocale } from "./i18n";
import type { Locale } from "./i18n";

const STORAGE_KEY = "pgrelocate.language";

/** antd's own strings (pagination, modal buttons, empty tables, …) in each language. */
export const ANTD_LOCALES: Record<Locale, AntdLocale> = { en: antdEnUS, "zh-CN": antdZhCN };

/** The language to start in: the stored choice, else the system's first language. */
export function preferredLocale(): Locale {
  const stored = window.localStorage?.getItem(STORAGE_KEY);
  if (LOCALES.some((l) => l.id === stored)) return stored as Locale;
  return resolveLocale(navigator.languages?.[0] ?? navigator.language ?? "en");
}

/** Switches the console to `locale` and remembers the choice. */
export function chooseLocale(locale: Locale): void {
  window.localStorage?.setItem(STORAGE_KEY, locale);
  setLocale(locale);
}

/** The language in use; the component re-renders when it changes. */
export function useLocale(): Locale {
  return useSyncExternalStore(subscribeLocale, getLocale);
}
