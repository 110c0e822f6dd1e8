import { theme } from "antd";

/** A short bordered list of rows (antd's List is deprecated; these lists are never long). */
export default function ItemList<T>({
  items,
  render,
  rowKey,
  testId,
  rowProps,
  style,
}: {
  items: T[];
  render: (item: T) => React.ReactNode;
  rowKey: (item: T) => string;
  testId?: string;
  rowProps?: (item: T) => Record<string, string>;
  style?: React.CSSProperties;
}) {
  const { token } = theme.useToken();
  return (
    <ul
      data-testid={testId}
      style={{
        listStyle: "none",
        margin: 0,
        padding: 0,
        border: `1px solid ${token.colorBorderSecondary}`,
        borderRadius: token.borderRadiusLG,
        ...style,
      }}
    >
      {items.map((item, i) => (
        <li
          key={rowKey(item)}
          {...rowProps?.(item)}
          style={{ padding: "8px 16px", borderTop: i === 0 ? undefined : `1px solid ${token.colorBorderSecondary}` }}
        >
          {render(item)}
        </li>
      ))}
    </ul>
  );
}
