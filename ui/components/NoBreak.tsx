/** A name, endpoint or port that wraps as a whole, never inside ("sandbo/x-dest", "127.0.0.1:710/1"). */
export default function NoBreak({ children, testId }: { children: React.ReactNode; testId?: string }) {
  return (
    <span style={{ whiteSpace: "nowrap" }} data-testid={testId}>
      {children}
    </span>
  );
}

/** Text that wraps at its spaces only, never at a hyphen or a colon inside a word ("2026-12-/04"). */
export function Words({ text }: { text: string }) {
  return (
    <>
      {text.split(/\s+/).filter((w) => w !== "").map((w, i) => (
        <span key={i}>
          {i > 0 && " "}
          <span style={{ whiteSpace: "nowrap" }}>{w}</span>
        </span>
      ))}
    </>
  );
}
