/**
 * Group commit: windows that finish while a commit is in flight wait for it, then commit
 * together in the next one. One commit in flight per worker, so a worker's commits never contend
 * with each other, and the support database sees one statement per group instead of one
 * transaction per window. Each window's promise settles with its own group: a failed group
 * fails exactly the windows in it, whose objects are rewritten at the same keys on the rerun.
 */
import type { IngestState, WindowCommit } from "./ingest-state.js";

/** Windows per statement at most: keeps one statement's parameters and lock set small. */
export const MAX_GROUP = 64;

interface Waiting {
  readonly commit: WindowCommit;
  readonly done: () => void;
  readonly fail: (error: unknown) => void;
}

export type CommitWindow = (commit: WindowCommit) => Promise<void>;

export function groupCommits(state: Pick<IngestState, "commitWindows">, maxGroup = MAX_GROUP): CommitWindow {
  const waiting: Waiting[] = [];
  let flushing = false;

  async function flush(): Promise<void> {
    flushing = true;
    try {
      while (waiting.length) {
        const group = waiting.splice(0, maxGroup);
        try {
          await state.commitWindows(group.map((w) => w.commit));
          for (const w of group) w.done();
        } catch (error) {
          for (const w of group) w.fail(error);
        }
      }
    } finally {
      flushing = false;
    }
  }

  return (commit) =>
    new Promise<void>((done, fail) => {
      waiting.push({ commit, done, fail });
      if (!flushing) void flush();
    });
}
