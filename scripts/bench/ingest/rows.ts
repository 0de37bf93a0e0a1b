/**
 * Lake rows outside the worker: read back from the objects it wrote, and as NDJSON, the input the
 * encode and DuckDB children share.
 */
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { ParquetReader } from "@dsnp/parquetjs";
import type { CollectionEntry, LakeRow } from "../../../pipeline/schema/index.js";

export async function* fromArray<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

/**
 * The rows of a raw object as the worker produced them: every column of the entry, in its order,
 * `int64` as a number (parquetjs reads it as a bigint), timestamps as dates, nulls as null.
 */
export async function readObjectRows(entry: CollectionEntry, object: Buffer): Promise<LakeRow[]> {
  const reader = await ParquetReader.openBuffer(object);
  try {
    const cursor = reader.getCursor();
    const rows: LakeRow[] = [];
    for (let record = await cursor.next(); record; record = await cursor.next()) {
      const read = record as Record<string, unknown>;
      const row: LakeRow = {};
      for (const { name } of entry.columns) {
        const value = read[name] ?? null;
        row[name] = typeof value === "bigint" ? Number(value) : value;
      }
      rows.push(row);
    }
    return rows;
  } finally {
    await reader.close();
  }
}

/** Rows appended to an NDJSON file, a megabyte of text at a time. */
export class NdjsonWriter {
  readonly #out: WriteStream;

  constructor(path: string) {
    this.#out = createWriteStream(path);
  }

  async write(rows: readonly LakeRow[]): Promise<void> {
    let chunk = "";
    for (const row of rows) {
      chunk += `${JSON.stringify(row)}\n`;
      if (chunk.length > 1 << 20) {
        await this.#writeAll(chunk);
        chunk = "";
      }
    }
    await this.#writeAll(chunk);
  }

  close(): Promise<void> {
    return new Promise((done, fail) =>
      this.#out.end((error?: Error | null) => (error ? fail(error) : done())),
    );
  }

  async #writeAll(text: string): Promise<void> {
    if (!this.#out.write(text)) await new Promise<void>((done) => this.#out.once("drain", done));
  }
}

/** Rows of an NDJSON file, timestamps revived (JSON holds them as ISO strings). */
export async function* ndjsonRows(path: string, entry: CollectionEntry): AsyncGenerator<LakeRow> {
  const times = entry.columns.filter((c) => c.type === "timestamp").map((c) => c.name);
  let rest = "";
  for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 })) {
    const lines = (rest + (chunk as string)).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      if (!line) continue;
      const row = JSON.parse(line) as LakeRow;
      for (const name of times) {
        const v = row[name];
        if (typeof v === "string") row[name] = new Date(v);
      }
      yield row;
    }
  }
  if (rest) throw new Error(`${path}: last line has no newline`);
}
