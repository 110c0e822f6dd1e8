// The console's pages live in the URL's hash, so a reloaded window opens the same page
// (and re-subscribes to whatever it was watching).

import { useCallback, useEffect, useState } from "react";

/** Sections of an instance's left navigation. */
export type Section = "basic" | "connection" | "accounts" | "parameters" | "logs" | "migration";

/** Tabs of Cloud Migration/DR Construction. */
export type MigrationTab = "assessment" | "migration" | "dr";

/** A page of the console. */
export type Route =
  | { page: "instances" }
  | { page: "hosts" }
  | { page: "instance"; name: string; section: Section; tab: MigrationTab }
  | { page: "report"; id: string; instance?: string }
  | { page: "task"; id: string; instance?: string };

const SECTIONS: Section[] = ["basic", "connection", "accounts", "parameters", "logs", "migration"];
const TABS: MigrationTab[] = ["assessment", "migration", "dr"];

/** The route a hash names; anything unknown is the Instances page. */
export function parseHash(hash: string): Route {
  const [path, query = ""] = hash.replace(/^#\/?/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  const from = params.get("from") ?? undefined;
  if (parts[0] === "instances" && parts[1]) {
    const section = SECTIONS.includes(parts[2] as Section) ? (parts[2] as Section) : "basic";
    const tab = TABS.includes(params.get("tab") as MigrationTab) ? (params.get("tab") as MigrationTab) : "assessment";
    return { page: "instance", name: parts[1], section, tab };
  }
  if (parts[0] === "hosts") return { page: "hosts" };
  if (parts[0] === "reports" && parts[1]) return { page: "report", id: parts[1], instance: from };
  if (parts[0] === "tasks" && parts[1]) return { page: "task", id: parts[1], instance: from };
  return { page: "instances" };
}

/** The hash of a route. */
export function href(route: Route): string {
  const e = encodeURIComponent;
  switch (route.page) {
    case "instances":
      return "#/instances";
    case "hosts":
      return "#/hosts";
    case "instance":
      return `#/instances/${e(route.name)}/${route.section}${route.section === "migration" ? `?tab=${route.tab}` : ""}`;
    case "report":
      return `#/reports/${e(route.id)}${route.instance ? `?from=${e(route.instance)}` : ""}`;
    case "task":
      return `#/tasks/${e(route.id)}${route.instance ? `?from=${e(route.instance)}` : ""}`;
  }
}

/** Moves to another page. */
export type Navigate = (route: Route) => void;

/** The current route and a way to change it. */
export function useRoute(): [Route, Navigate] {
  const [route, setRoute] = useState<Route>(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  const navigate = useCallback((next: Route) => {
    const target = href(next);
    if (window.location.hash !== target) window.location.hash = target;
    setRoute(next);
  }, []);
  return [route, navigate];
}

/** Shortcut: an instance's section. */
export function instanceRoute(name: string, section: Section = "basic", tab: MigrationTab = "assessment"): Route {
  return { page: "instance", name, section, tab };
}
