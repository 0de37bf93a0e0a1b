/**
 * Writer settings every Parquet file of the lake shares, and a writer bound to a registry entry
 * that writes a local file. The worker (streaming to S3) and tests both use these settings, so the
 * files they make agree.
 */
import { open } from "node:fs/promises";
import type { RegistryEntry } from "../schema/registry.js";
import type { LakeRow } from "../schema/validate.js";
import { ParquetEncoder } from "./parquet/writer.js";

/**
 * Rows per row group: the writer's memory is bounded by this (and by {@link ROW_GROUP_BYTES}),
 * not by the window size.
 */
export const PARQUET_WRITER_OPTIONS = { rowGroupSize: 10_000 } as const;

/**
 * Estimated bytes of row data per row group at most. Rows differ by three orders of magnitude
 * (a 100-byte event, a 6 KB request, a document with a huge payload): a row count alone would let
 * a row group of wide rows hold tens of megabytes, times the worker's concurrent devices.
 */
export const ROW_GROUP_BYTES = 4 * 1024 * 1024;

export interface ParquetWriterOptions {
  readonly rowGroupSize: number;
  readonly rowGroupBytes: number;
}

export interface LakeParquetWriter {
  append(row: LakeRow): Promise<void>;
  close(): Promise<void>;
}

export async function openParquetFile(
  entry: RegistryEntry,
  path: string,
  options: Partial<ParquetWriterOptions> = {},
): Promise<LakeParquetWriter> {
  const encoder = new ParquetEncoder(entry, {
    rowGroupSize: options.rowGroupSize ?? PARQUET_WRITER_OPTIONS.rowGroupSize,
    rowGroupBytes: options.rowGroupBytes ?? ROW_GROUP_BYTES,
  });
  const file = await open(path, "w");
  try {
    await file.write(encoder.start());
  } catch (error) {
    await file.close();
    throw error;
  }
  return {
    async append(row) {
      const group = encoder.append(row);
      if (group) await file.write(group);
    },
    async close() {
      try {
        for (const part of encoder.finish()) await file.write(part);
      } finally {
        await file.close();
      }
    },
  };
}
