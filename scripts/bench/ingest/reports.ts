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
  /** The run's answers, kept for the replay: queries, and BSON bytes of their documents. */
  readonly recording: { readonly queries: number; readonly bytes: number };
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

/**
 * The recording of what the server answered the worker: by the stages child for the collections
 * (its raw fetches, kept), by the record child for the scaling runs (without-server.ts).
 */
export interface RecordReport {
  readonly queries: number;
  readonly documents: number;
  readonly windows: number;
  /** BSON bytes of every recorded document. */
  readonly bytes: number;
  /** The record child's run; null when the stages child recorded. */
  readonly ms: number | null;
}

/** The worker fed the recording from memory: no MongoDB, no support database. */
export interface ReplayReport {
  /** The worker's window; null: its default, the recorded one. */
  readonly windowMs: number | null;
  readonly documents: number;
  readonly rows: number;
  readonly quarantined: number;
  readonly windows: number;
  readonly objectBytes: number;
  readonly run: Timed;
  /** The recording the replay holds in memory (part of its RSS). */
  readonly recordingMiB: number;
  /** Queries answered as recorded, and window queries answered from a longer recorded window. */
  readonly answers: { readonly recorded: number; readonly split: number };
  readonly setupRssMiB: number;
  readonly peakRssMiB: number;
  readonly atPeak: MemorySample;
}

/**
 * One collection's scaling runs, on a snapshot of their own: recorded at 16× the base window, then
 * replayed at 1×, 4× and 16×: per-window time against per-window documents, and peak RSS.
 */
export interface ScalingReport {
  readonly name: string;
  readonly devices: number;
  readonly days: number;
  readonly baseWindowMs: number;
  readonly record: RecordReport;
  readonly runs: readonly (ReplayReport & { readonly factor: number })[];
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
  readonly record: RecordReport;
  /** The worker without the server, at the worker's default window. */
  readonly replay: ReplayReport;
  readonly encode: EncodeReport;
  readonly duck: DuckReport;
  readonly arrow: ArrowReport;
}

/** What `ingest.ts --json FILE` writes: the run's setting and every collection's figures. */
export interface IngestBenchJson {
  readonly snapshot: {
    readonly seed: number;
    readonly devices: number;
    readonly days: number;
    readonly loadMs: number;
    readonly documents: Readonly<Record<string, number>>;
  };
  readonly node: string;
  readonly cores: number;
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
  readonly wallMs: number;
  /** Node flags of the worker and replay children. */
  readonly workerNodeOptions: string;
  readonly collections: readonly CollectionResult[];
  readonly scaling: readonly ScalingReport[];
}
