// Every string the console shows, in one table per language. English is the source;
// another language supplies any subset and falls back to English for the rest.

const en = {
  "app.name": "pgrelocate",
  "app.version": "v{version}",
  "app.stateDir": "State: {path}",
  "app.stateDirUnknown": "State directory unavailable",
  "app.infoFailed": "The desktop shell could not report its state directory",

  "nav.instances": "Instances",

  "instances.title": "Instances",
  "instances.create": "Create Instance",
  "instances.register": "Register Instance",
  "instances.sandbox": "Create Sandbox",
  "instances.col.instance": "Instance",
  "instances.col.status": "Status",
  "instances.col.role": "Role",
  "instances.col.engine": "Engine",
  "instances.col.kind": "Kind",
  "instances.col.endpoint": "Endpoint",
  "instances.col.storage": "Storage",
  "instances.col.actions": "Actions",
  "instances.action.manage": "Manage",
  "instances.action.start": "Start",
  "instances.action.stop": "Stop",
  "instances.action.remove": "Remove",
  "instances.removeConfirm": "Remove instance {name}?",
  "instances.removeConfirmManaged":
    "pgrelocate forgets the instance. Its data folder stays on disk until you delete it.",
  "instances.storageValue": "{used} used / {free} free",

  "instances.empty.title": "No instances yet",
  "instances.empty.sandbox":
    "Trying pgrelocate for the first time? Create a sandbox: a demo source with sample data and an empty destination, so you can run an assessment, a migration and a switchover in a minute.",
  "instances.empty.real":
    "Moving a real server? Register the source instance (its endpoint and a migration account), then create a managed destination instance of the same PostgreSQL major version on this host.",

  "status.running": "Running",
  "status.stopped": "Stopped",
  "status.creating": "Creating",
  "status.migrating_in": "Migrating Data In",
  "status.maintaining": "Maintaining Instance",
  "status.fenced": "Read-only/Fenced",
  "status.error": "Error",

  "role.primary": "Primary",
  "role.standby": "Standby",

  "kind.managed": "Managed here",
  "kind.external": "External",

  "engine.postgres": "PostgreSQL {version}",

  "pending.title": "{feature}: not available yet",
  "pending.body":
    "This console is being built step by step. {feature} needs an engine part that is not finished yet; the button starts working when it is.",
  "pending.ok": "OK",
} as const;

/** A key of the message table. */
export type MessageKey = keyof typeof en;

type Table = Partial<Record<MessageKey, string>>;

const tables: Record<string, Table> = { en };

let current: Table = en;

/** Chooses the language; unknown languages fall back to English. */
export function setLocale(locale: string): void {
  current = tables[locale] ?? tables[locale.split("-")[0]] ?? en;
}

/** The message for `key`, with `{name}` placeholders filled from `vars`. */
export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  const text = current[key] ?? en[key];
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in vars ? String(vars[name]) : whole,
  );
}
