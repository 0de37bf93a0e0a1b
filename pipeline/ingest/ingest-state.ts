/**
 * The ingestion's state in the support database, as the ingest code sees it (its ports): the
 * worker's bookmarks in and atomic commits of windows out ({@link IngestState}), what the plan
 * reads of it ({@link PlanBookmarks}), and the summary's orphan quarantine ({@link OrphanRecords}).
 * Device ids are `number`s: `ddc` declares them bigint, and the plan refuses any beyond
 * `Number.MAX_SAFE_INTEGER` (device-ids.ts), so every id here is exact as a JS number.
 * One adapter implements all three, in SQL over node-postgres (`pipeline/support/ingest-state.ts`);
 * keeping the ingest code on these interfaces keeps it free of the client and lets tests fake the
 * database or inject failures. ("The ledger" is only the `file_ledger` table, the curate job's
 * input, which a window commit writes.)
 */
import type { Window } from "./windows.js";

/** A raw object written for a window. */
export interface WrittenObject {
  readonly key: string;
  readonly rows: number;
  readonly bytes: number;
}

/**
 * A refused document, kept in the object store at `objectKey` (see quarantine.ts). The support
 * database holds one row per key: a commit adds none for a key that has one already.
 */
export interface QuarantineRecord {
  readonly documentId: string | null;
  readonly reason: string;
  readonly objectKey: string;
  /**
   * Null for a document that names no single device (kept as an orphan even when a window met
   * it: its `idDevice` is an array); otherwise the row takes the committing device.
   */
  readonly idDevice?: null;
}

/** Counters of one window, added to the run's metric row in the same commit. */
export interface WindowCounters {
  readonly documentsRead: number;
  readonly documentsUploaded: number;
  readonly documentsQuarantined: number;
  readonly bytesUploaded: number;
  readonly queriesRun: number;
  readonly computationMs: number;
}

export interface WindowCommit {
  readonly runId: string;
  readonly planId: string | null;
  readonly collection: string;
  readonly idDevice: number;
  /** The window extracted; `window.to` becomes the bookmark. Null window: bookmark only. */
  readonly window: Window | null;
  readonly lastts: Date;
  readonly object: WrittenObject | null;
  readonly quarantined: readonly QuarantineRecord[];
  /** Keys that folded into `payload` (or were dropped by the pivot), with their counts. */
  readonly drift: ReadonlyMap<string, number>;
  readonly counters: WindowCounters;
}

export interface RunSummary {
  readonly runId: string;
  readonly planId: string | null;
  readonly collection: string;
  readonly devices: readonly number[];
  readonly devicesProcessed: number;
  readonly errors: number;
}

export interface IngestState {
  /** Bookmarks of these devices for the collection; absent devices have none. */
  bookmarks(collection: string, devices: readonly number[]): Promise<Map<number, Date>>;
  /**
   * Bookmarks, ledger rows, quarantine rows, drift counts and metric counters of these windows,
   * all or nothing (the worker groups the windows that finish while a commit is in flight).
   */
  commitWindows(commits: readonly WindowCommit[]): Promise<void>;
  /** Close the run's metric row (devices processed, errors); counters came with each commit. */
  finishRun(summary: RunSummary): Promise<void>;
  /**
   * Which of these quarantine object keys have a row already: a document met again (by every
   * run's untimed sweep, or by the windows of each device an array names) is not kept twice.
   */
  quarantinedKeys(keys: readonly string[]): Promise<Set<string>>;
  /**
   * Records a pack's key before its upload (ADR 0023). A pack's key is new on every write, so a
   * pack whose commit never happened (a killed worker) is found only through this record.
   */
  intendPack(upload: PackUpload): Promise<void>;
  /** Keys of the collection's unsettled packs recorded before `before` that no ledger row names. */
  abandonedPacks(collection: string, before: Date): Promise<string[]>;
  /** Marks packs settled: committed, or removed as abandoned. */
  settlePacks(keys: readonly string[]): Promise<void>;
}

/** A pack about to be uploaded. */
export interface PackUpload {
  readonly collection: string;
  readonly key: string;
  readonly runId: string;
}

/** What the plan reads of the ingestion state: the bookmarks, and whether any device has one yet. */
export interface PlanBookmarks extends Pick<IngestState, "bookmarks"> {
  /** False before the first commit of any collection: an `auto` plan then loads history (bulk). */
  hasBookmarks(): Promise<boolean>;
}

/** Orphans (documents of no device) quarantined by one sweep of a collection. */
export interface OrphanCommit {
  readonly runId: string;
  readonly planId: string | null;
  readonly collection: string;
  readonly quarantined: readonly QuarantineRecord[];
}

/** What the summary's orphan sweep needs of the ingestion state (orphans.ts). */
export interface OrphanRecords extends Pick<IngestState, "quarantinedKeys"> {
  /**
   * The orphans' quarantine rows (no device), and their counts in the run's metric row (read and
   * quarantined), all or nothing.
   */
  commitOrphans(commit: OrphanCommit): Promise<void>;
}
