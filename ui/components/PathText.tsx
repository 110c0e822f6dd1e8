import { Fragment } from "react";

/** A file path that wraps only after a "/" ("/var/lib/pgrelocate/" then "sandbox-dest/data"), never inside a name. */
export default function PathText({ path }: { path: string }) {
  const parts = path.split("/");
  return (
    <span style={{ wordBreak: "normal", overflowWrap: "break-word" }} data-path={path}>
      {parts.map((part, i) => (
        <Fragment key={i}>
          {part}
          {i < parts.length - 1 && (
            <>
              /<wbr />
            </>
          )}
        </Fragment>
      ))}
    </span>
  );
}
