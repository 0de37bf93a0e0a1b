/** The support database's ingestion state as the worker uses it, with its commits timed. */
import { performance } from "node:perf_hooks";
import type { IngestState } from "../../../pipeline/ingest/ingest-state.js";

/** One group commit: its wall time, and this process's CPU meanwhile. */
export interface CommitTiming {
  readonly ms: number;
  readonly cpuMs: number;
}

/**
 * `base` with each `commitWindows` call (one group commit) reported to `onCommit`. `around`
 * wraps every call, commits included: the stages run keeps the ledger's time out of the rest.
 */
export function timedLedger(
  base: IngestState,
  onCommit: (timing: CommitTiming) => void,
  around: <T>(fn: () => Promise<T>) => Promise<T> = (fn) => fn(),
): IngestState {
  return {
    bookmarks: (collection, devices) => around(() => base.bookmarks(collection, devices)),
    commitWindows: (commits) =>
      around(async () => {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        try {
          await base.commitWindows(commits);
        } finally {
          const cpu = process.cpuUsage(cpu0);
          onCommit({ ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 });
        }
      }),
    finishRun: (summary) => around(() => base.finishRun(summary)),
    quarantinedKeys: (keys) => around(() => base.quarantinedKeys(keys)),
    intendPack: (upload) => around(() => base.intendPack(upload)),
    abandonedPacks: (collection, before) => around(() => base.abandonedPacks(collection, before)),
    settlePacks: (keys) => around(() => base.settlePacks(keys)),
  };
}

/** Bookmarks of none, commits of nothing: the bare cursor read runs the worker without a database. */
export const NO_LEDGER: IngestState = {
  bookmarks: async () => new Map(),
  commitWindows: async () => {},
  finishRun: async () => {},
  quarantinedKeys: async () => new Set(),
  intendPack: async () => {},
  abandonedPacks: async () => [],
  settlePacks: async () => {},
};
