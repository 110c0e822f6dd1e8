import { describe, expect, it } from "vitest";
import { splitRemedy } from "./remedy";

// The remedies below are the engine's own (crates/engine/src/assess/checks), filled in.
describe("a remedy split into prose and commands", () => {
  it("keeps the SQL after 'as a superuser:' apart from the words, and the restart note out of it", () => {
    expect(
      splitRemedy(
        "run on the source as a superuser:\nALTER SYSTEM SET max_replication_slots = 4;\nthen restart the source (this setting needs a restart)\nor drop an unused slot:\nSELECT pg_drop_replication_slot('old');\nSELECT pg_drop_replication_slot('older');",
      ),
    ).toEqual([
      { kind: "prose", text: "run on the source as a superuser:" },
      { kind: "commands", text: "ALTER SYSTEM SET max_replication_slots = 4;" },
      { kind: "prose", text: "then restart the source (this setting needs a restart)\nor drop an unused slot:" },
      { kind: "commands", text: "SELECT pg_drop_replication_slot('old');\nSELECT pg_drop_replication_slot('older');" },
    ]);
  });

  it("takes a pg_hba.conf line as a command and the SQL after a colon inside a sentence", () => {
    expect(
      splitRemedy(
        "add this line near the top of the source's pg_hba.conf:\nhost    all migrator 10.0.0.7/32 scram-sha-256\nthen reload the source's configuration: SELECT pg_reload_conf();",
      ),
    ).toEqual([
      { kind: "prose", text: "add this line near the top of the source's pg_hba.conf:" },
      { kind: "commands", text: "host    all migrator 10.0.0.7/32 scram-sha-256" },
      { kind: "prose", text: "then reload the source's configuration:" },
      { kind: "commands", text: "SELECT pg_reload_conf();" },
    ]);
  });

  it("takes shell commands, SQL comments and configuration lines introduced by a colon", () => {
    expect(splitRemedy("use a primary: create a fresh destination\npgrelocate instance create sandbox-dest-new --major 17")).toEqual([
      { kind: "prose", text: "use a primary: create a fresh destination" },
      { kind: "commands", text: "pgrelocate instance create sandbox-dest-new --major 17" },
    ]);
    expect(
      splitRemedy(
        "if their contents matter, make them logged before the copy (this writes them to WAL):\n-- in database shop:\nALTER TABLE public.cache SET LOGGED;\nor accept that they start empty",
      ),
    ).toEqual([
      { kind: "prose", text: "if their contents matter, make them logged before the copy (this writes them to WAL):" },
      { kind: "commands", text: "-- in database shop:\nALTER TABLE public.cache SET LOGGED;" },
      { kind: "prose", text: "or accept that they start empty" },
    ]);
    expect(splitRemedy("carry the ones you need into the destination's postgresql.conf (or ALTER SYSTEM on it):\nwork_mem = '64MB'\nshared_buffers = '1GB'")).toEqual([
      { kind: "prose", text: "carry the ones you need into the destination's postgresql.conf (or ALTER SYSTEM on it):" },
      { kind: "commands", text: "work_mem = '64MB'\nshared_buffers = '1GB'" },
    ]);
    expect(splitRemedy("chown -R postgres: /srv/pg/data")).toEqual([{ kind: "commands", text: "chown -R postgres: /srv/pg/data" }]);
  });

  it("leaves a remedy in words as words, even when it names a program", () => {
    expect(splitRemedy("synchronise both hosts' clocks with NTP (chrony or systemd-timesyncd)")).toEqual([
      { kind: "prose", text: "synchronise both hosts' clocks with NTP (chrony or systemd-timesyncd)" },
    ]);
    expect(
      splitRemedy(
        "pgrelocate offers nothing to drop on a server that serves as a primary (1 session). Choose another destination, or create a fresh one:\npgrelocate instance create shop-new --major 15",
      ),
    ).toEqual([
      { kind: "prose", text: "pgrelocate offers nothing to drop on a server that serves as a primary (1 session). Choose another destination, or create a fresh one:" },
      { kind: "commands", text: "pgrelocate instance create shop-new --major 15" },
    ]);
  });
});
