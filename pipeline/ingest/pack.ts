/**
 * Raw packs (ADR 0023): the small windows of many devices written as one Parquet object and
 * committed in one statement, instead of an object and a ledger row each. A daily run's window of
 * a device holds a handful of documents in most collections; one object per window made S3
 * requests the largest line of a month's bill and the object's fixed cost (footer, upload) the
 * largest part of a sparse window's work.
 *
 * Order and failure, per device: a device's windows commit in order, each only after every
 * earlier one. Consecutive windows of a device that meet in the open pack become one ledger
 * window (`[first from, last to)`); a window that arrives while its device's previous one is being
 * written goes to the next pack, and packs are written one after another. When a pack fails,
 * its devices are failed for the run: their windows in later packs are dropped, never committed
 * past the lost one, and their next run starts again at the bookmark.
 *
 * Memory: the open pack holds rows up to {@link PackLimits.bytes} (estimated as the Parquet writer
 * estimates row groups); while one pack is being written and another is full, adding waits.
 */
import type { Logger } from "pino";
import { PipelineError } from "../errors.js";
import type { ObjectStore } from "../lake/object-store.js";
import { estimatedRowBytes, writeParquetObject } from "../lake/parquet-object.js";
import type { CollectionEntry } from "../schema/registry.js";
import type { LakeRow } from "../schema/validate.js";
import { RowCountMismatchError } from "./extract.js";
import type {
  IngestState,
  QuarantineRecord,
  WindowCommit,
  WindowCounters,
  WrittenObject,
} from "./ingest-state.js";
import { newPackId, rawPackKey } from "./keys.js";
import { DEFAULT_PACK_LIMITS, type PackLimits } from "./settings.js";
import type { Window } from "./windows.js";

/** The limits live with the other sizing defaults (settings.ts), which the cost model reads. */
export { DEFAULT_PACK_LIMITS, type PackLimits };

/** A pack's rows were lost with an earlier pack of the same device; nothing of it was committed. */
export class PackDroppedError extends PipelineError {
  readonly retryable = true;
}

/** A small window, extracted and validated, that the pack writes and commits. */
export interface SmallWindow {
  readonly idDevice: number;
  readonly window: Window;
  readonly rows: readonly LakeRow[];
  readonly quarantined: readonly QuarantineRecord[];
  readonly drift: ReadonlyMap<string, number>;
  /** The window's counters; `bytesUploaded` is the pack's to set. */
  readonly counters: Omit<WindowCounters, "bytesUploaded">;
}

export interface PackDeps {
  readonly entry: CollectionEntry;
  readonly store: ObjectStore;
  readonly state: Pick<IngestState, "commitWindows" | "intendPack" | "settlePacks">;
  readonly runId: string;
  readonly planId: string | null;
  readonly rowGroupSize?: number;
  readonly log?: Logger;
}

/** One device's windows in one pack, merged into a single ledger window. */
interface Member {
  readonly idDevice: number;
  readonly from: Date;
  to: Date;
  readonly rows: LakeRow[];
  readonly quarantined: QuarantineRecord[];
  readonly drift: Map<string, number>;
  counters: Omit<WindowCounters, "bytesUploaded">;
  /** Called once the member commits, one per window added; the first gets the member's bytes. */
  readonly onCommitted: ((bytes: number) => void)[];
  readonly done: () => void;
  readonly fail: (error: unknown) => void;
}

const noop = (): void => {};

function addCounters(
  a: Omit<WindowCounters, "bytesUploaded">,
  b: Omit<WindowCounters, "bytesUploaded">,
): Omit<WindowCounters, "bytesUploaded"> {
  return {
    documentsRead: a.documentsRead + b.documentsRead,
    documentsUploaded: a.documentsUploaded + b.documentsUploaded,
    documentsQuarantined: a.documentsQuarantined + b.documentsQuarantined,
    queriesRun: a.queriesRun + b.queriesRun,
    computationMs: a.computationMs + b.computationMs,
  };
}

/** `total` split over `parts` in proportion, in whole units that add up to `total`. */
export function shares(total: number, parts: readonly number[]): number[] {
  const sum = parts.reduce((s, p) => s + p, 0);
  if (sum === 0) return parts.map(() => 0);
  let given = 0;
  let seen = 0;
  return parts.map((p) => {
    seen += p;
    const upto = Math.round((total * seen) / sum);
    const share = upto - given;
    given = upto;
    return share;
  });
}

export class Packer {
  private open = new Map<number, Member>();
  private openBytes = 0;
  /** The last pack taken for writing; packs are written one after another. */
  private tail: Promise<void> = Promise.resolve();
  /** Packs taken and not yet written, in order. */
  private readonly queued: Promise<void>[] = [];
  /** Devices whose window failed to commit in this run: nothing later of theirs may commit. */
  private readonly failed = new Map<number, unknown>();
  /** The commit of each device's latest window added. */
  private readonly latest = new Map<number, Promise<void>>();

  constructor(
    private readonly deps: PackDeps,
    readonly limits: PackLimits = DEFAULT_PACK_LIMITS,
  ) {
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isSafeInteger(value) || value < 1)
        throw new RangeError(`pack ${name} must be a positive integer`);
    }
  }

  /**
   * Adds a device's small window to the open pack (following the device's previous window there, if
   * any). Resolves once the window is taken, which may wait while the packs before it are written;
   * {@link committed} says when it is committed, and `onCommitted` is called then with the bytes
   * the window's share of the pack (a device's windows merged in one pack: the first, the rest 0).
   * @throws the error that lost an earlier window of the device in this run.
   */
  async add(small: SmallWindow, onCommitted: (bytes: number) => void = noop): Promise<void> {
    const lost = this.failed.get(small.idDevice);
    if (lost !== undefined) throw lost;
    const member = this.open.get(small.idDevice);
    if (member) {
      if (member.to.getTime() !== small.window.from.getTime()) {
        throw new RangeError(
          `device ${small.idDevice}: window ${small.window.from.toISOString()} does not follow ${member.to.toISOString()}`,
        );
      }
      member.to = small.window.to;
      member.rows.push(...small.rows);
      member.quarantined.push(...small.quarantined);
      for (const [key, n] of small.drift) member.drift.set(key, (member.drift.get(key) ?? 0) + n);
      member.counters = addCounters(member.counters, small.counters);
      member.onCommitted.push(onCommitted);
    } else {
      let done = noop;
      let fail: (error: unknown) => void = noop;
      const committed = new Promise<void>((resolve, reject) => {
        done = resolve;
        fail = reject;
      });
      // Awaited by the device's caller when it needs to; a failure must not go unhandled meanwhile.
      committed.catch(noop);
      this.latest.set(small.idDevice, committed);
      this.open.set(small.idDevice, {
        idDevice: small.idDevice,
        from: small.window.from,
        to: small.window.to,
        rows: [...small.rows],
        quarantined: [...small.quarantined],
        drift: new Map(small.drift),
        counters: small.counters,
        onCommitted: [onCommitted],
        done,
        fail,
      });
    }
    for (const row of small.rows) this.openBytes += estimatedRowBytes(row);
    if (this.openBytes >= this.limits.bytes || this.open.size >= this.limits.windows) {
      this.flush();
      // One pack being written and one waiting at most: the caller's next window waits here.
      while (this.queued.length > 1) await this.queued[0];
    }
  }

  /** The commit of the device's latest window added; resolved when it has none. */
  committed(idDevice: number): Promise<void> {
    return this.latest.get(idDevice) ?? Promise.resolve();
  }

  /**
   * The device's windows committed: writes the open pack now if it holds one of them. What a
   * device commits outside the pack (a large window, a bookmark alone) waits for this first.
   */
  settle(idDevice: number): Promise<void> {
    if (this.open.has(idDevice)) this.flush();
    return this.committed(idDevice);
  }

  /** Writes what the open pack holds, after the packs before it. */
  flush(): void {
    if (!this.open.size) return;
    const members = [...this.open.values()];
    this.open = new Map();
    this.openBytes = 0;
    const written = this.tail.then(() => this.write(members));
    this.tail = written;
    this.queued.push(written);
    void written.then(() => this.queued.splice(this.queued.indexOf(written), 1));
  }

  /** Writes the open pack and waits for every pack. */
  async close(): Promise<void> {
    this.flush();
    await this.tail;
  }

  /**
   * Marks a committed pack's record settled. Committed whatever happens here: the ledger names the
   * pack, so a record left unsettled is never taken for abandoned, only read again.
   */
  private async settleRecord(key: string): Promise<void> {
    try {
      await this.deps.state.settlePacks([key]);
    } catch (error) {
      this.deps.log?.warn(
        { collection: this.deps.entry.name, key, err: error },
        "could not settle a committed pack's record",
      );
    }
  }

  /** Writes and commits one pack; settles its members, never rejects. */
  private async write(members: readonly Member[]): Promise<void> {
    const { entry, store, state, runId, planId } = this.deps;
    const live: Member[] = [];
    for (const m of members) {
      const lost = this.failed.get(m.idDevice);
      if (lost === undefined) live.push(m);
      else
        m.fail(
          new PackDroppedError(
            `device ${m.idDevice}: an earlier window of this run failed to commit`,
            { collection: entry.name, idDevice: m.idDevice },
            { cause: lost },
          ),
        );
    }
    if (!live.length) return;
    const rowCount = live.reduce((n, m) => n + m.rows.length, 0);
    try {
      let object: WrittenObject | null = null;
      if (rowCount > 0) {
        const key = rawPackKey(entry.name, newPackId());
        // Recorded before the upload: a pack whose commit never happens is found and removed.
        await state.intendPack({ collection: entry.name, key, runId });
        const written = await writeParquetObject(entry, rowsOf(live), store, key, {
          rowGroupSize: this.deps.rowGroupSize,
        });
        if (written?.rows !== rowCount) {
          if (written) await store.delete(key);
          throw new RowCountMismatchError(`${key}: ${rowCount} rows packed, ${written?.rows ?? 0} written`, {
            collection: entry.name,
          });
        }
        object = written;
      }
      const bytes = shares(
        object?.bytes ?? 0,
        live.map((m) => m.rows.length),
      );
      const commits: WindowCommit[] = live.map((m, i) => ({
        runId,
        planId,
        collection: entry.name,
        idDevice: m.idDevice,
        window: { from: m.from, to: m.to },
        lastts: m.to,
        // The pack's bytes are shared among its windows by rows, so the ledger's and the run's
        // byte counts add up to what was stored.
        object:
          object && m.rows.length ? { key: object.key, rows: m.rows.length, bytes: bytes[i] ?? 0 } : null,
        quarantined: m.quarantined,
        drift: m.drift,
        counters: { ...m.counters, bytesUploaded: bytes[i] ?? 0 },
      }));
      await state.commitWindows(commits);
      if (object) await this.settleRecord(object.key);
      this.deps.log?.debug(
        { collection: entry.name, key: object?.key ?? null, windows: live.length, rows: rowCount },
        "pack committed",
      );
      live.forEach((m, i) => {
        m.onCommitted.forEach((f, w) => {
          f(w === 0 ? (bytes[i] ?? 0) : 0);
        });
        m.done();
      });
    } catch (error) {
      this.deps.log?.error({ collection: entry.name, windows: live.length, err: error }, "pack failed");
      for (const m of live) {
        this.failed.set(m.idDevice, error);
        m.fail(error);
      }
    }
  }
}

async function* rowsOf(members: readonly Member[]): AsyncGenerator<LakeRow> {
  for (const m of members) yield* m.rows;
}
