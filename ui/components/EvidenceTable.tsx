import { Table, Typography } from "antd";
import type { JsonValue } from "../api/generated/serde_json/JsonValue";
import { t } from "../i18n";

type JsonObject = { [key in string]: JsonValue };
type Row = { key: string; name: string; value: JsonValue | undefined };

const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

/** A scalar as a DBA reads it: text as is, yes/no, numbers, a dash for nothing. */
function scalarText(v: JsonValue | undefined): string {
  if (v === null || v === undefined || v === "") return t("common.none");
  if (typeof v === "boolean") return t(v ? "common.yes" : "common.no");
  return String(v);
}

/** One evidence value: a scalar as text, a list of scalars as one line, objects as a nested table. */
function EvidenceValue({ value }: { value: JsonValue | undefined }) {
  if (Array.isArray(value)) {
    if (value.length === 0) return <>{t("common.none")}</>;
    if (value.every((v) => !isObject(v) && !Array.isArray(v))) return <>{value.map(scalarText).join(", ")}</>;
    const objects = value.filter(isObject);
    if (objects.length === value.length) return <ObjectList items={objects} />;
    return (
      <div style={{ display: "grid", gap: 4 }}>
        {value.map((v, i) => (
          <EvidenceValue key={i} value={v} />
        ))}
      </div>
    );
  }
  if (isObject(value)) return <EvidenceTable evidence={value} nested />;
  return <span style={{ overflowWrap: "anywhere" }}>{scalarText(value)}</span>;
}

/** A list of objects (slots, tables, sessions) as a table with one column per field. */
function ObjectList({ items }: { items: JsonObject[] }) {
  const names = [...new Set(items.flatMap((i) => Object.keys(i)))];
  return (
    <Table<{ key: string; item: JsonObject }>
      size="small"
      pagination={false}
      bordered
      dataSource={items.map((item, i) => ({ key: String(i), item }))}
      columns={names.map((n) => ({ key: n, title: n, render: (_, row) => <EvidenceValue value={row.item[n]} /> }))}
      data-testid="evidence-list"
    />
  );
}

/** A check's evidence as a small key/value table (the JSON stays in the export). */
export default function EvidenceTable({ evidence, nested }: { evidence: JsonObject; nested?: boolean }) {
  const rows: Row[] = Object.entries(evidence).map(([name, value]) => ({ key: name, name, value }));
  return (
    <Table<Row>
      size="small"
      pagination={false}
      showHeader={false}
      bordered
      dataSource={rows}
      data-testid={nested ? "evidence-nested" : "evidence"}
      onRow={(r) => (nested ? {} : ({ "data-testid": `evidence-${r.name}` } as React.HTMLAttributes<HTMLElement>))}
      columns={[
        {
          key: "name",
          width: nested ? undefined : "30%",
          render: (_, r) => <Typography.Text type="secondary">{r.name}</Typography.Text>,
        },
        { key: "value", render: (_, r) => <EvidenceValue value={r.value} /> },
      ]}
    />
  );
}
