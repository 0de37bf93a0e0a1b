/**
 * The benchmarks' targets (issue 17, docs/design.md §8), in one place: the ingestion bench's own
 * printout and the `npm run bench` summary judge by the same numbers.
 */
export const TARGETS = {
  /** The worker's documents/s over a bare cursor read of the same queries. */
  workerOverCursor: 0.8,
  /** A worker's peak RSS, MiB. */
  peakRssMiB: 256,
  /** Our Parquet encode's rows/s over DuckDB's on the same rows. */
  encodeOverDuckdb: 0.5,
  /** Our raw Parquet bytes over pyarrow + snappy's on the same rows. */
  bytesOverPyarrow: 1.1,
  /** How time grows with data: ln(t_large / t_small) / ln(data ratio); 1 is linear. */
  timeExponent: 1.1,
  /** Peak RSS at a longer window over the 1× window's: "flat". */
  rssGrowth: 1.1,
  /** Alarms report on curated Iceberg against raw Parquet, and against the old way. */
  curatedOverRaw: 3,
  curatedOverOldWay: 20,
} as const;
