/** The command line's one table printer and number format (local/cli/table.ts). */
import { describe, expect, it } from "vitest";
import { count, formatTable, plural } from "../../local/cli/table.js";

describe("formatTable", () => {
  const columns = [
    { header: "company" },
    { header: "code", align: "right" as const },
    { header: "alarms", align: "right" as const },
  ];

  it("aligns by display width, so accented and wide names line up", () => {
    const text = formatTable(columns, [
      ["Panadería La Espiga S.L.", "101", 13],
      ["東京ベーカリー", "7", 281_707],
      ["Plain", "1042", 0],
    ]);
    const lines = text.split("\n");
    expect(lines).toHaveLength(4);
    // Where each cell ends on screen: a wide character takes two columns.
    const ends = lines.map((line) => {
      const cells = line.trim().split(/\s{2,}/);
      let at = 0;
      return cells.map((cell) => {
        at = line.indexOf(cell, at) + cell.length;
        return width(line.slice(0, at));
      });
    });
    // Right-aligned columns end at the same screen column on every line.
    expect(new Set(ends.map((e) => e[1])).size).toBe(1);
    expect(new Set(ends.map((e) => e[2])).size).toBe(1);
    expect(lines[2]).toContain("281,707");
  });

  it("wraps a column given a width at word boundaries, the other cells on the first line", () => {
    const text = formatTable(
      [{ header: "figure" }, { header: "why", wrap: 12 }],
      [["a", "one two three four five"]],
    );
    expect(text).toBe(
      ["  figure  why", "  a       one two", "          three four", "          five"].join("\n"),
    );
  });

  it("prints numbers one way, a missing value as -, no trailing spaces, two-space indent", () => {
    const text = formatTable(columns, [["x", null, 9404]]);
    expect(text).toBe(["  company  code  alarms", "  x           -   9,404"].join("\n"));
    for (const line of text.split("\n")) expect(line).toBe(line.trimEnd());
  });

  it("can leave the header out and indent differently", () => {
    expect(formatTable(columns, [["a", "1", 2]], { header: false, indent: 0 })).toBe("a  1  2");
  });
});

describe("numbers", () => {
  it("groups thousands and keeps one decimal", () => {
    expect(count(281707)).toBe("281,707");
    expect(count(9404)).toBe("9,404");
    expect(count(0.25)).toBe("0.3");
  });

  it("says 1 batch, 2 batches", () => {
    expect(plural(1, "batch", "batches")).toBe("1 batch");
    expect(plural(2, "batch", "batches")).toBe("2 batches");
    expect(plural(1024, "document")).toBe("1,024 documents");
    expect(plural(0, "device")).toBe("0 devices");
  });
});

/** Display width: CJK and fullwidth characters take two columns. */
function width(text: string): number {
  return [...text].reduce(
    (w, c) =>
      w +
      (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(c)
        ? 2
        : 1),
    0,
  );
}
