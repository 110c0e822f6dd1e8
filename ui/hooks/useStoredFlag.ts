import { useState } from "react";

/** A yes/no preference of the user's that outlives the page (the console's local storage). */
export function useStoredFlag(key: string, initial: boolean): [boolean, (value: boolean) => void] {
  const [value, setValue] = useState(() => {
    const stored = window.localStorage?.getItem(key);
    return stored === null || stored === undefined ? initial : stored === "1";
  });
  const set = (v: boolean) => {
    setValue(v);
    window.localStorage?.setItem(key, v ? "1" : "0");
  };
  return [value, set];
}
