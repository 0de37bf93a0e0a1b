import { describe, expect, it } from "vitest";
import { groupCommits } from "../../pipeline/ingest/group-commit.js";
import type { WindowCommit } from "../../pipeline/ingest/ingest-state.js";

const commitOf = (idDevice: number): WindowCommit => ({
  runId: "run",
  planId: null,
  collection: "events",
  idDevice,
  window: null,
  lastts: new Date(idDevice),
  object: null,
  quarantined: [],
  drift: new Map(),
  counters: {
    documentsRead: 0,
    documentsUploaded: 0,
    documentsQuarantined: 0,
    bytesUploaded: 0,
    queriesRun: 0,
    computationMs: 0,
  },
});

/** A ledger whose commits finish when the test says, recording the groups it got. */
function gatedLedger(failGroup?: number) {
  const groups: number[][] = [];
  const gates: (() => void)[] = [];
  return {
    groups,
    open: () => gates.shift()?.(),
    ledger: {
      commitWindows(commits: readonly WindowCommit[]) {
        groups.push(commits.map((c) => c.idDevice));
        const index = groups.length - 1;
        return new Promise<void>((done, fail) => {
          gates.push(() => (index === failGroup ? fail(new Error(`group ${index} failed`)) : done()));
        });
      },
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));

describe("groupCommits", () => {
  it("commits at once when idle, and groups what arrives while a commit is in flight", async () => {
    const gated = gatedLedger();
    const commit = groupCommits(gated.ledger);
    const first = commit(commitOf(1));
    const rest = [2, 3, 4].map((d) => commit(commitOf(d)));
    await settle();
    expect(gated.groups).toEqual([[1]]);
    gated.open();
    await first;
    await settle();
    expect(gated.groups).toEqual([[1], [2, 3, 4]]);
    gated.open();
    await Promise.all(rest);
  });

  it("never puts more than maxGroup windows in one commit", async () => {
    const gated = gatedLedger();
    const commit = groupCommits(gated.ledger, 2);
    const all = [1, 2, 3, 4, 5].map((d) => commit(commitOf(d)));
    for (let i = 0; i < 3; i++) {
      await settle();
      gated.open();
    }
    await Promise.all(all);
    expect(gated.groups).toEqual([[1], [2, 3], [4, 5]]);
  });

  it("fails exactly the windows of a failed group; later groups still commit", async () => {
    const gated = gatedLedger(1);
    const commit = groupCommits(gated.ledger);
    const results = [1, 2, 3].map((d) =>
      commit(commitOf(d)).then(
        () => "ok",
        (e: Error) => e.message,
      ),
    );
    await settle();
    gated.open();
    await settle();
    const late = commit(commitOf(4)).then(() => "ok");
    gated.open();
    await settle();
    gated.open();
    expect(await Promise.all([...results, late])).toEqual(["ok", "group 1 failed", "group 1 failed", "ok"]);
    expect(gated.groups).toEqual([[1], [2, 3], [4]]);
  });
});
