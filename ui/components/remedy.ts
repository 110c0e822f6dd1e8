// A remedy as the engine writes it: one text in which prose lines ("run on the source as a
// superuser:") introduce command lines (SQL, pg_hba.conf lines, shell commands). The console
// shows the prose as text and each run of commands as its own copyable block.

/** A piece of a remedy: words to read, or commands to copy (one or more lines). */
export type RemedyPart = { kind: "prose"; text: string } | { kind: "commands"; text: string };

// SQL (upper-case keywords, as the engine writes them) and SQL comments.
const SQL = /^(--|(ALTER|SELECT|CREATE|GRANT|REVOKE|DROP|COMMIT|ROLLBACK|REINDEX|VACUUM|ANALYZE|SET|RESET|COMMENT|CHECKPOINT)\b)/;
// A pg_hba.conf line: type, database, user, [address,] method.
const HBA = /^(local|host|hostssl|hostnossl|hostgssenc|hostnogssenc)\s+\S+\s+\S+(\s+\S+)?\s+(scram-sha-256|md5|password|trust|reject|cert|peer|ident|gss|sspi|ldap|radius|pam)\b/;
// A shell command line: one of the programs the engine's remedies name, then its arguments.
const SHELL = /^(pgrelocate|pg_ctl|pg_ctlcluster|psql|chown|chmod|apt-get|apt|dnf|yum|locale-gen|systemctl|sudo)\s+\S/;
// Words that start a sentence after a block of commands ("or drop an unused slot:").
const PROSE_START = /^(or|then|and|otherwise|if|else|e\.g\.)\b/;

/**
 * Splits a remedy into prose and command blocks. A line is a command when it is SQL, a
 * pg_hba.conf line or a shell command, or when it follows a line ending in ":" (the engine's
 * "…as a superuser:") and does not start a new sentence ("or …", "then …").
 */
export function splitRemedy(remedy: string): RemedyPart[] {
  const parts: RemedyPart[] = [];
  let introduced = false;
  const push = (kind: RemedyPart["kind"], line: string) => {
    const last = parts[parts.length - 1];
    if (last && last.kind === kind) last.text += `\n${line}`;
    else parts.push({ kind, text: line });
  };
  const isCommand = (line: string) => SQL.test(line) || HBA.test(line) || SHELL.test(line);
  for (const raw of remedy.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    if (SQL.test(line)) {
      push("commands", line);
    } else if (line.endsWith(":")) {
      push("prose", line);
      introduced = true;
    } else if (isCommand(line) || (introduced && !PROSE_START.test(line))) {
      push("commands", line);
    } else {
      // "then reload the source's configuration: SELECT pg_reload_conf();": the words, then the command.
      const colon = line.indexOf(": ");
      const tail = colon < 0 ? "" : line.slice(colon + 2);
      if (tail && isCommand(tail)) {
        push("prose", line.slice(0, colon + 1));
        push("commands", tail);
      } else {
        push("prose", line);
      }
      introduced = false;
    }
  }
  return parts;
}
