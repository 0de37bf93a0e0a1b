/**
 * How the command line prints tables and numbers: one printer (the `table` package, which aligns
 * by display width, so names with accents or wide characters line up) without borders, and one
 * number format, `9,404`, wherever a count is shown.
 */
import { getBorderCharacters, table } from "table";

export interface Column {
  readonly header: string;
  /** Numbers read best right-aligned; text (the default) left. */
  readonly align?: "left" | "right";
  /** Wrap the column's text at word boundaries to this many characters (default: never wrap). */
  readonly wrap?: number;
}

/** A cell: a number is formatted with {@link count}, a missing value printed as `-`. */
export type Cell = string | number | null | undefined;

export interface TableOptions {
  /** Spaces before every line (default 2: tables sit under the line that introduces them). */
  readonly indent?: number;
  /** Whether the first line names the columns (default true). */
  readonly header?: boolean;
}

/** Rows as aligned text, columns two spaces apart, no trailing spaces. */
export function formatTable(
  columns: readonly Column[],
  rows: readonly (readonly Cell[])[],
  options: TableOptions = {},
): string {
  const header = options.header ?? true;
  const data = [
    ...(header ? [columns.map((c) => c.header)] : []),
    ...rows.map((row) => columns.map((_, i) => cell(row[i]))),
  ];
  if (!data.length) return "";
  const text = table(data, {
    border: getBorderCharacters("void"),
    drawHorizontalLine: () => false,
    columnDefault: { paddingLeft: 0, paddingRight: 2 },
    columns: columns.map((c) => ({
      alignment: c.align ?? "left",
      ...(c.wrap ? { width: c.wrap, wrapWord: true } : {}),
    })),
  });
  const indent = " ".repeat(options.indent ?? 2);
  return text
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => `${indent}${line.trimEnd()}`)
    .join("\n");
}

function cell(value: Cell): string {
  if (value === null || value === undefined) return "-";
  return typeof value === "number" ? count(value) : value;
}

/** A number as every line of the command line shows it: `281,707`, `0.5`. */
export function count(value: number): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: 1 });
}

/** `1 batch`, `2 batches`, `1,024 documents`. */
export function plural(value: number, one: string, many = `${one}s`): string {
  return `${count(value)} ${value === 1 ? one : many}`;
}
