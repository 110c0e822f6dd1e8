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

// Tables inside a cell are plain ones: antd shifts a table nested in another's cell by the
// width of an expand column, and evidence has none.
const CELL: React.CSSProperties = { border: "1px solid rgba(5, 5, 5, 0.06)", padding: "2px 8px", textAlign: "start", verticalAlign: "top" };
const HEAD: React.CSSProperties = { ...CELL, background: "rgba(0, 0, 0, 0.02)", fontWeight: 600 };

/** A small table inside an evidence cell; a wide one scrolls inside the cell. */
function InnerTable({ head, rows, testId }: { head?: string[]; rows: React.ReactNode[][]; testId: string }) {
  return (
    <div style={{ overflowX: "auto" }}>
      <table style={{ borderCollapse: "collapse", width: "100%", fontSize: 12 }} data-testid={testId}>
        {head && (
          <thead>
            <tr>
              {head.map((h) => (
                <th key={h} style={HEAD}>
                  {h}
                </th>
              ))}
            </tr>
          </thead>
        )}
        <tbody>
          {rows.map((cells, i) => (
            <tr key={i}>
              {cells.map((c, j) => (
                <td key={j} style={head || j > 0 ? CELL : { ...CELL, color: "rgba(0, 0, 0, 0.45)" }}>
                  {c}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One evidence value: a scalar as text, a list of scalars as one line, objects as a nested table. */
function EvidenceValue({ value }: { value: JsonValue | undefined }) {
  if (Array.isArray(value)) {
    if (value.length === 0) return <>{t("common.none")}</>;
    if (value.every((v) => !isObject(v) && !Array.isArray(v))) return <>{value.map(scalarText).join(", ")}</>;
    const objects = value.filter(isObject);
    if (objects.length === value.length) {
      // A list of objects (slots, tables, sessions): one column per field, one row per item.
      const names = [...new Set(objects.flatMap((o) => Object.keys(o)))];
      const rows = objects.map((o) => names.map((n) => <EvidenceValue key={n} value={o[n]} />));
      return <InnerTable head={names} rows={rows} testId="evidence-list" />;
    }
    return (
      <div style={{ display: "grid", gap: 4 }}>
        {value.map((v, i) => (
          <EvidenceValue key={i} value={v} />
        ))}
      </div>
    );
  }
  if (isObject(value)) {
    const rows = Object.entries(value).map(([k, v]) => [k, <EvidenceValue key={k} value={v} />]);
    return <InnerTable rows={rows} testId="evidence-nested" />;
  }
  return <span style={{ overflowWrap: "anywhere" }}>{scalarText(value)}</span>;
}

/** A check's evidence as a small key/value table (the JSON stays in the export). */
export default function EvidenceTable({ evidence }: { evidence: JsonObject }) {
  const rows: Row[] = Object.entries(evidence).map(([name, value]) => ({ key: name, name, value }));
  return (
    <Table<Row>
      size="small"
      pagination={false}
      showHeader={false}
      bordered
      dataSource={rows}
      data-testid="evidence"
      onRow={(r) => ({ "data-testid": `evidence-${r.name}` }) as React.HTMLAttributes<HTMLElement>}
      columns={[
        { key: "name", width: "30%", render: (_, r) => <Typography.Text type="secondary">{r.name}</Typography.Text> },
        { key: "value", render: (_, r) => <EvidenceValue value={r.value} /> },
      ]}
    />
  );
}
