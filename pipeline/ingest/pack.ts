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
 * Memory: a window's rows stream into its pack's object as it joins (the writer holds a row
 * group); a pack is closed at {@link PackLimits.bytes} of row data (estimated as the Parquet
 * writer estimates row groups) or {@link PackLimits.windows} windows. While one pack is being
 * committed and another is full, adding waits.
 */
import { Readable } from "node:stream";
import type { Logger } from "pino";
import { PipelineError } from "../errors.js";
import type { ObjectStore } from "../lake/object-store.js";
import { type WrittenParquetObject, writeParquetObject } from "../lake/parquet-object.js";
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
  /** The rows' estimated bytes (`estimatedRowBytes`, summed as extract.ts read them). */
  readonly rowBytes: number;
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
  rows: number;
  readonly quarantined: QuarantineRecord[];
  readonly drift: Map<string, number>;
  counters: Omit<WindowCounters, "bytesUploaded">;
  /** Called once the member commits, one per window added; the first gets the member's bytes. */
  readonly onCommitted: ((bytes: number) => void)[];
  readonly done: () => void;
  readonly fail: (error: unknown) => void;
}

/** The object a pack's rows stream into while windows join it. */
interface PackWriter {
  readonly key: string;
  readonly rows: Readable;
  readonly written: Promise<WrittenParquetObject | null>;
}

/** The pack windows are joining. */
interface OpenPack {
  readonly members: Map<number, Member>;
  bytes: number;
  /** Started with the first window that has rows: its key recorded, then the upload opened. */
  writer: Promise<PackWriter> | null;
  /** Windows' rows on their way into the writer. */
  readonly pushes: Promise<void>[];
}

const newPack = (): OpenPack => ({ members: new Map(), bytes: 0, writer: null, pushes: [] });

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
  private open: OpenPack = newPack();
  /** The last pack taken for committing; packs commit one after another. */
  private tail: Promise<void> = Promise.resolve();
  /** Packs taken and not yet committed, in order. */
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
   * any); its rows stream into the pack's object at once. Resolves once the window is taken, which
   * may wait while the packs before it are committed; {@link committed} says when it is committed,
   * and `onCommitted` is called then with the window's share of the pack's bytes (a device's
   * windows merged in one pack: the first gets the member's, the rest 0).
   * @throws the error that lost an earlier window of the device in this run.
   */
  async add(small: SmallWindow, onCommitted: (bytes: number) => void = noop): Promise<void> {
    const lost = this.failed.get(small.idDevice);
    if (lost !== undefined) throw lost;
    // Everything up to the first await is one step: the window joins the pack open now.
    const pack = this.open;
    const member = pack.members.get(small.idDevice);
    if (member) {
      if (member.to.getTime() !== small.window.from.getTime()) {
        throw new RangeError(
          `device ${small.idDevice}: window ${small.window.from.toISOString()} does not follow ${member.to.toISOString()}`,
        );
      }
      member.to = small.window.to;
      member.rows += small.rows.length;
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
      pack.members.set(small.idDevice, {
        idDevice: small.idDevice,
        from: small.window.from,
        to: small.window.to,
        rows: small.rows.length,
        quarantined: [...small.quarantined],
        drift: new Map(small.drift),
        counters: small.counters,
        onCommitted: [onCommitted],
        done,
        fail,
      });
    }
    pack.bytes += small.rowBytes;
    if (small.rows.length) {
      pack.writer ??= this.startWriter();
      const pushed = pack.writer.then((writer) => {
        for (const row of small.rows) writer.rows.push(row);
      });
      pushed.catch(noop); // the pack's commit reports a writer that never started
      pack.pushes.push(pushed);
    }
    if (pack.bytes >= this.limits.bytes || pack.members.size >= this.limits.windows) {
      this.flush();
      // One pack committing and one waiting at most: the caller's next window waits here.
      while (this.queued.length > 1) await this.queued[0];
    }
  }

  /** The commit of the device's latest window added; resolved when it has none. */
  committed(idDevice: number): Promise<void> {
    return this.latest.get(idDevice) ?? Promise.resolve();
  }

  /**
   * The device's windows committed: commits the open pack now if it holds one of them. What a
   * device commits outside the pack (a large window, a bookmark alone) waits for this first.
   */
  settle(idDevice: number): Promise<void> {
    if (this.open.members.has(idDevice)) this.flush();
    return this.committed(idDevice);
  }

  /** Closes the open pack and commits it, after the packs before it. */
  flush(): void {
    const pack = this.open;
    if (!pack.members.size) return;
    this.open = newPack();
    const committed = this.tail.then(() => this.commit(pack));
    this.tail = committed;
    this.queued.push(committed);
    void committed.then(() => this.queued.splice(this.queued.indexOf(committed), 1));
  }

  /** Commits the open pack and waits for every pack. */
  async close(): Promise<void> {
    this.flush();
    await this.tail;
  }

  /**
   * The pack's key recorded, then its object opened: rows stream into it as windows join, so the
   * encoding runs while other windows are read, and memory holds a row group, not the pack.
   */
  private async startWriter(): Promise<PackWriter> {
    const { entry, store, state, runId } = this.deps;
    const key = rawPackKey(entry.name, newPackId());
    // Recorded before the upload: a pack whose commit never happens is found and removed.
    await state.intendPack({ collection: entry.name, key, runId });
    const rows = new Readable({ objectMode: true, read: noop });
    const written = writeParquetObject(entry, rows, store, key, { rowGroupSize: this.deps.rowGroupSize });
    written.catch(noop); // awaited by the pack's commit
    return { key, rows, written };
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

  /** Ends the pack's object and commits its windows; settles its members, never rejects. */
  private async commit(pack: OpenPack): Promise<void> {
    const { entry, state, runId, planId } = this.deps;
    const members = [...pack.members.values()];
    const rowCount = members.reduce((n, m) => n + m.rows, 0);
    try {
      let object: WrittenObject | null = null;
      if (pack.writer) {
        const writer = await pack.writer;
        await Promise.all(pack.pushes);
        writer.rows.push(null);
        const written = await writer.written;
        if (written?.rows !== rowCount) {
          throw new RowCountMismatchError(
            `${writer.key}: ${rowCount} rows packed, ${written?.rows ?? 0} written`,
            { collection: entry.name },
          );
        }
        object = written;
      }
      // A device whose earlier pack failed in this run: its rows are in this object, but its
      // window must not commit past the lost one. Unlisted, they are never curated.
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
      // The pack's bytes are shared among its windows by rows, so the ledger's and the run's
      // byte counts add up to what was stored.
      const bytes = shares(
        object?.bytes ?? 0,
        live.map((m) => m.rows),
      );
      const commits: WindowCommit[] = live.map((m, i) => ({
        runId,
        planId,
        collection: entry.name,
        idDevice: m.idDevice,
        window: { from: m.from, to: m.to },
        lastts: m.to,
        object: object && m.rows ? { key: object.key, rows: m.rows, bytes: bytes[i] ?? 0 } : null,
        quarantined: m.quarantined,
        drift: m.drift,
        counters: { ...m.counters, bytesUploaded: bytes[i] ?? 0 },
      }));
      if (commits.length) await state.commitWindows(commits);
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
      this.deps.log?.error({ collection: entry.name, windows: members.length, err: error }, "pack failed");
      for (const m of members) {
        if (!this.failed.has(m.idDevice)) this.failed.set(m.idDevice, error);
        m.fail(error);
      }
    }
  }
}
