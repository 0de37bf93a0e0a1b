/**
 * What the worker needs from the support database, as an interface: bookmarks in, atomic
 * commits of windows out. The Prisma implementation lives in `pipeline/support`; keeping the
 * worker on this interface keeps it free of the client and lets tests inject failures.
 */
import type { Window } from "./windows.js";

/** A raw object written for a window. */
export interface WrittenObject {
  readonly key: string;
  readonly rows: number;
  readonly bytes: number;
}

/** A refused document, kept in the object store at `objectKey`. */
export interface QuarantineRecord {
  readonly documentId: string | null;
  readonly reason: string;
  readonly objectKey: string;
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

export interface IngestLedger {
  /** Bookmarks of these devices for the collection; absent devices have none. */
  bookmarks(collection: string, devices: readonly number[]): Promise<Map<number, Date>>;
  /**
   * Bookmarks, ledger rows, quarantine rows, drift counts and metric counters of these windows,
   * all or nothing (the worker groups the windows that finish while a commit is in flight).
   */
  commitWindows(commits: readonly WindowCommit[]): Promise<void>;
  /** Close the run's metric row (devices processed, errors); counters came with each commit. */
  finishRun(summary: RunSummary): Promise<void>;
}
