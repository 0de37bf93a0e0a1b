/** What each child of the ingestion benchmark prints (one JSON line), and the parent collects. */
import type { ServerCpu, Timed } from "./measure.js";
import type { MemorySample } from "./rss.js";

export interface CursorReport {
  readonly queries: number;
  readonly windows: number;
  readonly documents: number;
  readonly decoded: Timed;
  readonly peakRssMiB: number;
}

export interface WorkerReport {
  readonly documents: number;
  readonly rows: number;
  readonly quarantined: number;
  readonly windows: number;
  readonly objectBytes: number;
  readonly complete: boolean;
  readonly run: Timed;
  /** Sum of the group commits' latencies (one in flight at a time). */
  readonly commitMs: number;
  /** Group commits: statements that committed the run's windows. */
  readonly commitGroups: number;
  readonly setupRssMiB: number;
  readonly peakRssMiB: number;
  /** `process.memoryUsage()` (MiB) of the sample with the highest RSS, taken every 50 ms. */
  readonly atPeak: MemorySample;
  /** `--max-old-space-size` the child ran with, if any. */
  readonly maxOldSpaceMiB: number | null;
}

export interface StagesReport {
  readonly documents: number;
  /** BSON bytes of the windows' documents, as they came off the wire. */
  readonly bytes: number;
  readonly rows: number;
  readonly windows: number;
  readonly ms: {
    /** The first pass's edge probes, and the untimed scan when an edge is untimed. */
    readonly probe: number;
    readonly fetch: number;
    readonly decode: number;
    /** `extractWindow` on the decoded documents: validate, pivot and encode as the worker runs them. */
    readonly extract: number;
    readonly write: number;
    /** The ledger's commit of each window (wall time; `commitCpu` is Node's CPU meanwhile). */
    readonly commit: number;
    readonly commitCpu: number;
  };
  /** The pieces of `extract`, each run alone on the same data (their sum is not `extract`). */
  readonly alone: {
    readonly validate: number;
    readonly pivot: number;
    /** `writeParquetObject` on each window's rows, in memory, writing nothing. */
    readonly encode: number;
  };
  readonly fetchServer: ServerCpu | null;
  readonly ndjsonBytes: number;
  readonly peakRssMiB: number;
}

export interface EncodeReport {
  readonly rows: number;
  /** NDJSON read and parsed, nothing else. */
  readonly parse: Timed;
  /** NDJSON → rows → our writer → folder store. */
  readonly total: Timed;
  readonly fileBytes: number;
  readonly peakRssMiB: number;
}

export interface DuckRun {
  readonly threads: number;
  readonly rows: number;
  readonly ms: number;
  readonly fileBytes: number;
}

export interface DuckReport {
  readonly version: string;
  /** `COPY (SELECT * FROM read_json(...))`, one thread. */
  readonly json1: DuckRun;
  /** The same with every thread. */
  readonly jsonAll: DuckRun;
  /** `COPY table`, the rows already in memory, one thread: encode and write only. */
  readonly table1: DuckRun;
  readonly peakRssMiB: number;
}

/** pyarrow writing the same rows: the raw layer's bytes reference. */
export interface ArrowReport {
  readonly version: string;
  readonly rows: number;
  readonly ms: number;
  readonly fileBytes: number;
}

export interface CollectionResult {
  readonly name: string;
  readonly cursor: CursorReport;
  readonly worker: WorkerReport;
  readonly stages: StagesReport;
  readonly encode: EncodeReport;
  readonly duck: DuckReport;
  readonly arrow: ArrowReport;
}
