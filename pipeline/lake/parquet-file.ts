/**
 * Writer settings every Parquet file of the lake shares, and a writer bound to a registry entry.
 * The worker (streaming to S3) and tests both open writers here, so the files they make agree.
 */
import { ParquetWriter } from "@dsnp/parquetjs";
import { parquetSchemaOf } from "../schema/parquet.js";
import type { RegistryEntry } from "../schema/registry.js";
import type { LakeRow } from "../schema/validate.js";
import { installFlatShred } from "./flat-shred.js";

// Before any writer opens: parquetjs then shreds the lake's flat rows the fast way (flat-shred.ts).
installFlatShred();

/**
 * Rows buffered per row group: the writer's memory is bounded by this, not by the window size.
 * Data page V1 because Spark's and Arrow's vectorised readers handle it best from this writer.
 * No page index: parquetjs keeps every row group's index in memory until the footer (about half
 * of its per-row-group growth, measured by scripts/bench/parquet-memory.ts), and the curate job
 * reads raw files whole, so the index would never skip a page.
 */
export const PARQUET_WRITER_OPTIONS: Readonly<ParquetWriterOptions> = {
  rowGroupSize: 10_000,
  useDataPageV2: false,
  pageIndex: false,
};

export interface ParquetWriterOptions {
  readonly rowGroupSize: number;
  readonly useDataPageV2: boolean;
  readonly pageIndex: boolean;
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
  const writer = await ParquetWriter.openFile(parquetSchemaOf(entry), path, {
    ...PARQUET_WRITER_OPTIONS,
    ...options,
  });
  return { append: (row) => writer.appendRow(row), close: () => writer.close() };
}
