/** A name, endpoint or port that wraps as a whole, never inside ("sandbo/x-dest", "127.0.0.1:710/1"). */
export default function NoBreak({ children, testId }: { children: React.ReactNode; testId?: string }) {
  return (
    <span style={{ whiteSpace: "nowrap" }} data-testid={testId}>
      {children}
    </span>
  );
}
