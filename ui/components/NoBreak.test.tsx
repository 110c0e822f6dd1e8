import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Words } from "./NoBreak";

describe("Words", () => {
  it("keeps the text and lets it wrap between its words only", () => {
    const { container } = render(<Words text="2026-12-04 19:54:43" />);
    expect(container.textContent).toBe("2026-12-04 19:54:43");
    const unbroken = Array.from(container.querySelectorAll<HTMLElement>("span")).filter((s) => s.style.whiteSpace === "nowrap");
    expect(unbroken.map((s) => s.textContent)).toEqual(["2026-12-04", "19:54:43"]);
  });
});
