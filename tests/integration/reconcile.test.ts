/**
 * Reconcile and repair on the local stack, end to end (docs/design.md §7): the whole state
 * machine (Spark jobs included) over a small snapshot, twice with `snapshot advance` between, must
 * reconcile clean; then documents of unusual history planted straight into the source are each
 * named with their cause, and `repair` brings in what a replay can fix, exactly once, even when
 * run twice. Own databases, secrets, lake and warehouse, so it runs beside the other files.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Document, ObjectId } from "mongodb";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localGlueJobs, writeJobTables } from "../../local/cli/glue-jobs.js";
import type { TaskBinding } from "../../local/orchestration/local-machine.js";
import { runLocalPipeline } from "../../local/orchestration/local-run.js";
import { runSparkJob, type SparkJob } from "../../local/orchestration/spark-job.js";
import { advanceSnapshot, loadSnapshot, type OpenTargets, openTargets } from "../../local/snapshot/index.js";
import { LocalObjectStore } from "../../pipeline/lake/local-store.js";
import { TASK } from "../../pipeline/orchestration/state-machine.js";
import type { Finding } from "../../pipeline/reconcile/causes.js";
import { dayOf } from "../../pipeline/reconcile/days.js";
import {
  type ReconcileOptions,
  type ReconcileReport,
  reconcile,
} from "../../pipeline/reconcile/reconcile.js";
import { formatShard, inShard, shardsOf } from "../../pipeline/reconcile/shard.js";
import { postgresReconcileStore } from "../../pipeline/reconcile/store.js";
import { collection } from "../../pipeline/schema/registry.js";
import { postgresIngestState } from "../../pipeline/support/ingest-state.js";
import { createSupportPool } from "../../pipeline/support/pool.js";
import { throwawayDatabases } from "../support/throwaway.js";

const dbs = throwawayDatabases("recon");
const { name, config } = dbs;
const log = pino({ level: "silent" });
let targets: OpenTargets;
let work: string;
let pool: pg.Pool;
let ddc: pg.Pool;
let jobs: ReturnType<typeof localGlueJobs>;

beforeAll(async () => {
  await dbs.create();
  targets = await openTargets({
    ddcDatabaseUrl: config.DDC_DATABASE_URL,
    mongodbUrl: config.MONGODB_URL,
    mongodbDatabase: name,
  });
  await loadSnapshot(targets, { seed: 13, devices: 3, days: 4, reset: true });
  work = await mkdtemp(join(tmpdir(), "lake-recon-"));
  const dirs = {
    tablesFile: await writeJobTables(join(work, "job-tables.json")),
    warehouse: join(work, "warehouse"),
    rawDir: join(work, "raw"),
    dashboard: join(work, "alarms.html"),
  };
  // postgres_extract reads the ddc secret of this file's local deployment, as the functions do.
  jobs = localGlueJobs(config, { ...dirs, secretPrefix: `lakehouse/test/${name}` });
  pool = createSupportPool(config.SUPPORT_DATABASE_URL);
  ddc = new pg.Pool({ connectionString: config.DDC_DATABASE_URL, max: 2 });
}, 180_000);

afterAll(async () => {
  await pool?.end();
  await ddc?.end();
  await targets?.close();
  await dbs.drop();
  if (work) await rm(work, { recursive: true, force: true });
});

const spark =
  (job: SparkJob): TaskBinding =>
  () =>
    runSparkJob(job);

/** One execution of the whole state machine, the Reconcile stage included; curate as given. */
function execution(curate: TaskBinding, reconcileShards = 1) {
  return runLocalPipeline(
    config,
    {
      rawDir: join(work, "raw"),
      metricsFile: join(work, "metrics.emf.jsonl"),
      log,
      secretPrefix: `lakehouse/test/${name}`,
      sourceCounts: false,
      retryIntervals: { [TASK.worker]: 0 },
      reconcileShards,
    },
    {
      [TASK.postgresExtract]: spark(jobs.postgresExtract),
      [TASK.curate]: curate,
      [TASK.analytics]: spark(jobs.analytics),
    },
    join(work, "executions"),
  );
}

/** One execution with every Spark job. */
async function cycle(reconcileShards = 1) {
  const report = await execution(spark(jobs.curate), reconcileShards);
  expect(report.execution.status, JSON.stringify(report.execution.finalState)).toBe("SUCCEEDED");
  return report;
}

function check(
  mode: "auto" | "full" | "incremental",
  repair = false,
  more: Partial<ReconcileOptions> = {},
): Promise<ReconcileReport> {
  return reconcile(
    {
      source: targets.mongo,
      ddc,
      store: postgresReconcileStore(pool),
      state: postgresIngestState(pool),
      objects: new LocalObjectStore(join(work, "raw")),
      log,
    },
    { runId: `test-${Date.now()}`, mode, repair, ...more },
  );
}

const differences = (r: ReconcileReport) =>
  r.findings.filter((f) => f.cause !== "quarantined" && f.cause !== "in_flight");
const describeFindings = (fs: readonly Finding[]) =>
  fs.map((f) => `${f.cause} ${f.collection} ${f.idDevice} ${f.day} ×${f.count} (${f.detail})`).join("\n");

async function curatedDay(coll: string, idDevice: number, day: string) {
  const { rows } = await pool.query<{ rows: string; keys: string; resets: string }>(
    "SELECT rows, keys, resets FROM curated_day WHERE collection = $1 AND id_device = $2 AND day = $3",
    [coll, idDevice, day],
  );
  const row = rows[0];
  return row ? { rows: Number(row.rows), keys: Number(row.keys), resets: Number(row.resets) } : null;
}

async function bookmark(coll: string, idDevice: number): Promise<Date> {
  const { rows } = await pool.query<{ lastts: Date }>(
    "SELECT lastts FROM lastts WHERE collection = $1 AND id_device = $2",
    [coll, idDevice],
  );
  const mark = rows[0]?.lastts;
  if (!mark) throw new Error(`no ${coll} bookmark for device ${idDevice}`);
  return mark;
}

describe("reconcile on the local stack", () => {
  // Two whole executions, three Spark jobs each: 5 minutes on two cores shared with other work.
  it("is clean after each of two executions with snapshot advance between, and runs as the last stage", async () => {
    const first = await cycle();
    expect(first.reconcile, "the state machine's Reconcile stage reported").not.toBeNull();
    expect(first.reconcile?.mode).toBe("full");
    expect(first.reconcile?.differences, describeFindings((await check("full")).findings)).toBe(0);
    expect(first.reconcile?.inFlight).toBe(0);
    expect(first.reconcile?.daysChecked).toBeGreaterThan(0);

    await advanceSnapshot(targets, { days: 1 });
    const second = await cycle();
    expect(second.reconcile?.mode).toBe("incremental");
    expect(second.reconcile?.differences).toBe(0);
    expect(second.reconcile?.inFlight).toBe(0);
    // Incremental: the days touched since, not the whole history again.
    expect(second.reconcile?.daysChecked).toBeGreaterThan(0);
    expect(second.reconcile?.daysChecked).toBeLessThan(first.reconcile?.daysChecked ?? 0);
  }, 900_000);

  it("names each planted difference with its cause, and repair brings in what a replay fixes, once", async () => {
    const events = collection("events");
    const alarm = collection("alarm");
    const src = (n: string) => targets.mongo.collection<Document>(n);
    const ts = events.sourceTimestampField;
    const devices = (await src(events.name).distinct("idDevice")).filter(
      (d): d is number => typeof d === "number",
    );
    const [a, b, c] = devices.sort((x, y) => x - y);
    if (a === undefined || b === undefined || c === undefined)
      throw new Error("the snapshot has fewer than 3 devices");

    // A late arrival: a valid document below the bookmark, inserted now (a fresh ObjectId).
    const markA = await bookmark(events.name, a);
    const model = await src(events.name).findOne(
      { idDevice: a, [ts]: { $lt: markA } },
      { sort: { [ts]: 1 } },
    );
    if (!model) throw new Error("no events document below the bookmark");
    const lateAt = new Date((model[ts] as Date).getTime() + 1000);
    await src(events.name).insertOne({ ...model, _id: new ObjectId(), [ts]: lateAt });
    const lateDay = dayOf(lateAt);
    // A missing document: below the bookmark too, but with an id as old as its timestamp (no
    // late insertion to show), which only a full reconcile reads.
    const modelB = await src(events.name).findOne({
      idDevice: b,
      [ts]: { $lt: await bookmark(events.name, b) },
    });
    if (!modelB) throw new Error("no events document of device b below the bookmark");
    const missingAt = new Date((modelB[ts] as Date).getTime() + 1000);
    await src(events.name).insertOne({
      ...modelB,
      _id: ObjectId.createFromTime(Math.floor(missingAt.getTime() / 1000)),
      [ts]: missingAt,
    });
    // Documents no window selects and no device claims, found by neither sweep yet.
    await src(events.name).insertOne({ _id: new ObjectId(), idDevice: c, [ts]: "2024-05-01", type: "door" });
    await src(events.name).insertOne({ _id: new ObjectId(), idDevice: 987_654, [ts]: lateAt, type: "door" });
    // Something curated that the source no longer has.
    const gone = await src(events.name).findOneAndDelete({
      idDevice: c,
      [ts]: { $lt: await bookmark(events.name, c) },
    });
    if (!gone) throw new Error("no events document of device c to delete");
    // An alarm re-opened at the source (its reset removed), below its device's bookmark; it is
    // reset again later, written late.
    let reset: Document | null = null;
    for (const d of [a, b, c]) {
      const mark = await bookmark(alarm.name, d);
      reset ??= await src(alarm.name).findOne({
        idDevice: d,
        activeTS: { $lt: mark },
        resetTS: { $lt: mark },
      });
    }
    if (!reset) throw new Error("the snapshot has no reset alarm below a bookmark");
    const resetAt = reset.resetTS as Date;
    const alarmDay = dayOf(reset.activeTS as Date);
    await src(alarm.name).updateOne({ _id: reset._id }, { $unset: { resetTS: "" } });

    const seen = await check("incremental");
    const found = (cause: string, coll = events.name) =>
      seen.findings.filter((f) => f.cause === cause && f.collection === coll);
    expect(found("late_arrival"), describeFindings(seen.findings)).toEqual([
      expect.objectContaining({ idDevice: a, day: lateDay, count: 1 }),
    ]);
    expect(found("unusable_timestamp")).toEqual([
      expect.objectContaining({ idDevice: c, day: null, count: 1 }),
    ]);
    expect(found("unknown_device")).toEqual([expect.objectContaining({ idDevice: null, count: 1 })]);
    expect(found("reopened", alarm.name)).toEqual([
      expect.objectContaining({ idDevice: reset.idDevice, day: alarmDay, count: 1 }),
    ]);
    expect(seen.differences).toBe(4);

    // A full reconcile also reads what no insertion time reveals.
    const full = await check("full");
    const fullCauses = differences(full)
      .map((f) => `${f.cause}:${f.collection}:${f.idDevice}`)
      .sort();
    expect(fullCauses).toEqual(
      [
        `late_arrival:events:${a}`,
        `missing:events:${b}`,
        `extra:events:${c}`,
        `unusable_timestamp:events:${c}`,
        "unknown_device:events:null",
        `reopened:alarm:${reset.idDevice}`,
      ].sort(),
    );

    // Repair, and again before curating: what the first replayed is in flight now (raw, not
    // curated yet), so the second replays nothing and names no difference but the extra one.
    const once = await check("full", true);
    expect(once.windowsReplayed).toBeGreaterThanOrEqual(3);
    expect(once.documentsQuarantinedByRepair).toBe(2);
    const twice = await check("full", true);
    expect(
      differences(twice).map((f) => f.cause),
      describeFindings(twice.findings),
    ).toEqual(["extra"]);
    expect(twice.windowsReplayed).toBe(0);
    expect(twice.documentsQuarantinedByRepair).toBe(0);
    expect(twice.inFlight).toBeGreaterThanOrEqual(3);
    await runSparkJob(jobs.curate);

    const after = await check("incremental");
    // Only what no replay can fix is left: curated holds a document the source deleted.
    expect(
      differences(after).map((f) => f.cause),
      describeFindings(after.findings),
    ).toEqual(["extra"]);
    const day = await curatedDay(events.name, a, lateDay);
    const sourceCount = await src(events.name).countDocuments({
      idDevice: a,
      [ts]: {
        $gte: new Date(`${lateDay}T00:00:00Z`),
        $lt: new Date(new Date(`${lateDay}T00:00:00Z`).getTime() + 86_400_000),
      },
    });
    expect(day).toEqual({ rows: sourceCount, keys: sourceCount, resets: 0 });
    const alarmResets = async () => {
      const start = new Date(`${alarmDay}T00:00:00Z`);
      return src(alarm.name).countDocuments({
        idDevice: reset.idDevice,
        activeTS: { $gte: start, $lt: new Date(start.getTime() + 86_400_000) },
        resetTS: { $type: "date" },
      });
    };
    // Curated follows the source: the alarm is open again (ADR 0013).
    expect((await curatedDay(alarm.name, reset.idDevice as number, alarmDay))?.resets).toBe(
      await alarmResets(),
    );

    // Reset again at the source, at its old time: below the bookmark, written late.
    await src(alarm.name).updateOne({ _id: reset._id }, { $set: { resetTS: resetAt } });
    const late = await check("auto");
    expect(
      differences(late)
        .map((f) => `${f.cause}:${f.collection}:${f.idDevice}:${f.day}`)
        .sort(),
    ).toEqual(
      [
        `late_reset:alarm:${reset.idDevice}:${alarmDay}`,
        `extra:events:${c}:${dayOf(gone[ts] as Date)}`,
      ].sort(),
    );
    const repaired = await check("auto", true);
    expect(repaired.windowsReplayed).toBeGreaterThanOrEqual(1);
    await runSparkJob(jobs.curate);
    expect((await curatedDay(alarm.name, reset.idDevice as number, alarmDay))?.resets).toBe(
      await alarmResets(),
    );
    const fullAfter = await check("full");
    expect(differences(fullAfter).map((f) => f.cause)).toEqual(["extra"]);
    expect(fullAfter.quarantined).toBeGreaterThanOrEqual(full.quarantined + 2);
  }, 600_000);

  it("continues a pass that ran out of time, and moves a watermark only when its collection is done", async () => {
    const marks = async () =>
      (
        await pool.query<{ collection: string; updated_at: Date }>(
          "SELECT collection, updated_at FROM reconcile_watermark",
        )
      ).rows;
    const before = await marks();
    // Time for two groups of one device: the pass stops inside its first collection.
    let groups = 0;
    const budget = { remainingMs: () => (groups++ < 2 ? Number.POSITIVE_INFINITY : 0) };
    const cut = await check("full", false, { budget, concurrency: 1 });
    expect(cut.complete).toBe(false);
    expect(await marks()).toEqual(before);

    const rest = await check("auto");
    expect(rest.complete).toBe(true);
    expect(rest.mode).toBe("full");
    expect(rest.passId).toBe(cut.passId);
    expect(
      (await marks()).every((m) =>
        before.some((b) => b.collection === m.collection && m.updated_at > b.updated_at),
      ),
    ).toBe(true);

    // Together the two runs found what one uninterrupted pass finds.
    const key = (f: Finding) => `${f.cause}|${f.collection}|${f.idDevice}|${f.day}|${f.count}`;
    const whole = await check("full");
    expect([...cut.findings, ...rest.findings].map(key).sort()).toEqual(whole.findings.map(key).sort());
    expect(whole.passId).toBe(whole.reconcileId);
  }, 300_000);

  it("names the documents of a raw object gone before curate read it raw_lost, and a replay brings them back", async () => {
    await advanceSnapshot(targets, { days: 1 });
    // An execution whose curate job fails (for days, in AWS): the new windows stay in raw, in
    // flight, and the Reconcile stage, which runs after a failed Glue job, says so.
    const stalled = await execution(async () => {
      throw new Error("mongodb_curate is down");
    });
    expect(JSON.stringify(stalled.execution.finalState)).toContain("mongodb_curate is down");
    expect(stalled.reconcile?.inFlight).toBeGreaterThan(0);
    // Every uncurated object is still there: nothing is lost yet.
    expect(stalled.reconcile?.byCause.raw_lost).toBeUndefined();

    // The raw object of the newest uncurated window expires (or is deleted) before curate reads it.
    // sd_events: no document planted above, so its watermark is the source's own and the
    // scheduled (incremental) reconcile sees the new day.
    const { rows: uncurated } = await pool.query<{ object_key: string }>(
      `SELECT l.object_key FROM file_ledger l
       LEFT JOIN curated_count c ON c.collection = l.collection
       WHERE l.id > COALESCE(c.position, 0) AND l.collection = 'sd_events'
       ORDER BY l.window_from DESC, l.id DESC LIMIT 1`,
    );
    const key = uncurated[0]?.object_key;
    if (!key) throw new Error("no sd_events window above the curated position");
    const { rows: members } = await pool.query<{ id_device: string }>(
      "SELECT DISTINCT id_device FROM file_ledger WHERE object_key = $1",
      [key],
    );
    await rm(join(work, "raw", key));

    const found = await check("auto");
    const lost = found.findings.filter((f) => f.cause === "raw_lost");
    expect(lost.length, describeFindings(found.findings)).toBeGreaterThan(0);
    // Exactly the devices whose windows the object held; none of it called in flight or missing.
    expect(new Set(lost.map((f) => f.idDevice))).toEqual(new Set(members.map((m) => Number(m.id_device))));
    expect(found.findings.filter((f) => f.cause === "missing" || f.cause === "late_arrival")).toEqual([]);
    // The curate job stops on the gone object: it would skip what the object held.
    await expect(runSparkJob(jobs.curate)).rejects.toThrow(/RawObjectMissingError/);

    const repaired = await check("auto", true);
    expect(repaired.windowsReplayed).toBeGreaterThanOrEqual(members.length);
    const { rows: still } = await pool.query("SELECT 1 FROM file_ledger WHERE object_key = $1", [key]);
    expect(still).toEqual([]);

    const after = await cycle();
    expect(after.reconcile?.inFlight).toBe(0);
    const again = await check("full");
    expect(
      again.findings.filter((f) => ["raw_lost", "missing", "in_flight"].includes(f.cause)),
      describeFindings(again.findings),
    ).toEqual([]);
  }, 900_000);

  it("names the documents of a ddc device without a last_log_date, which no plan extracts", async () => {
    const unplanned = 4_242;
    await ddc.query(
      `INSERT INTO device (id, id_company, serial, model, mirror, last_log_date, created_at, updated_at)
       SELECT $1, id_company, $2, model, mirror, NULL, created_at, updated_at
       FROM device ORDER BY id LIMIT 1`,
      [unplanned, `unplanned-${unplanned}`],
    );
    const events = collection("events");
    const model = await targets.mongo.collection("events").findOne({});
    if (!model) throw new Error("no events document");
    await targets.mongo.collection("events").insertOne({
      ...model,
      _id: new ObjectId(),
      idDevice: unplanned,
      [events.sourceTimestampField]: new Date(),
    });
    for (const mode of ["incremental", "full"] as const) {
      const found = differences(await check(mode)).filter((f) => f.cause === "unplanned_device");
      expect(found, mode).toEqual([
        expect.objectContaining({ collection: "events", idDevice: unplanned, count: 1 }),
      ]);
    }
  }, 120_000);

  it("in shards, finds what one pass finds, each shard with its own passes and watermarks", async () => {
    // Through the state machine: one Reconcile function per shard, each shard's first pass full.
    const sharded = await cycle(2);
    expect(sharded.reconcileShards.map((r) => formatShard(r.shard)).sort()).toEqual(["0/2", "1/2"]);
    expect(sharded.reconcileShards.every((r) => r.mode === "full" && r.complete)).toBe(true);
    expect(sharded.reconcile?.differences).toBe(
      sharded.reconcileShards.reduce((n, r) => n + r.differences, 0),
    );
    expect(sharded.reconcile?.inFlight).toBe(0);

    const events = collection("events");
    const ts = events.sourceTimestampField;
    const src = targets.mongo.collection<Document>(events.name);
    const [device] = (await src.distinct("idDevice", { idDevice: { $ne: 4_242 } })).filter(
      (d): d is number => typeof d === "number",
    );
    if (device === undefined) throw new Error("no events device");
    // A difference of one device (curated holds a document the source no longer has): its shard's
    // alone, in the full passes and, checked again, in the incremental ones.
    const deleted = await src.findOneAndDelete(
      { idDevice: device, [ts]: { $lt: await bookmark(events.name, device) } },
      { sort: { [ts]: 1 } },
    );
    if (!deleted) throw new Error(`no events document of device ${device} below its bookmark`);

    // Three shards, one after another: together exactly the findings of one whole pass, each
    // finding in the shard of its device, documents of no device in shard 0.
    const key = (f: Finding) => `${f.cause}|${f.collection}|${f.idDevice}|${f.day}|${f.count}`;
    const whole = await check("full");
    const shards = shardsOf(3);
    const parts: ReconcileReport[] = [];
    for (const shard of shards) parts.push(await check("full", false, { shard }));
    expect(
      parts
        .flatMap((p) => p.findings)
        .map(key)
        .sort(),
    ).toEqual(whole.findings.map(key).sort());
    expect(parts.map((p) => p.shard)).toEqual(shards);
    expect(parts.reduce((n, p) => n + p.daysChecked, 0)).toBe(whole.daysChecked);
    expect(parts.filter((p) => p.daysChecked > 0).length).toBeGreaterThan(1);
    const ownDevices = (part: ReconcileReport) => {
      for (const f of part.findings)
        expect(f.idDevice === null ? part.shard.index === 0 : inShard(part.shard, f.idDevice), key(f)).toBe(
          true,
        );
    };
    for (const part of parts) {
      expect(part.passId).toBe(part.reconcileId);
      ownDevices(part);
    }
    // Each shard's watermarks are its own: the collections a whole pass marks, once per shard.
    const marked = async (count: number) =>
      (
        await pool.query<{ collection: string; shard_index: number }>(
          "SELECT collection, shard_index FROM reconcile_watermark WHERE shard_count = $1",
          [count],
        )
      ).rows;
    const wholeMarks = (await marked(1)).map((m) => m.collection).sort();
    expect(wholeMarks.length).toBeGreaterThan(0);
    for (const shard of shards)
      expect(
        (await marked(3))
          .filter((m) => m.shard_index === shard.index)
          .map((m) => m.collection)
          .sort(),
      ).toEqual(wholeMarks);

    // A late arrival: the next scheduled reconcile of its device's shard names it, incrementally;
    // the other shards' see nothing new.
    // The newest below the bookmark: a day other than the deleted document's.
    const model = await src.findOne(
      { idDevice: device, [ts]: { $lt: await bookmark(events.name, device) } },
      { sort: { [ts]: -1 } },
    );
    if (!model) throw new Error(`no events document of device ${device} below its bookmark`);
    const lateAt = new Date((model[ts] as Date).getTime() + 1000);
    expect(dayOf(lateAt)).not.toBe(dayOf(deleted[ts] as Date));
    await src.insertOne({ ...model, _id: new ObjectId(), [ts]: lateAt });
    const next = [];
    for (const shard of shards) next.push(await check("auto", false, { shard }));
    expect(next.map((r) => r.mode)).toEqual(["incremental", "incremental", "incremental"]);
    // The days each shard looks at again (its findings' days, open alarms) are its devices' only:
    // together, what one incremental run over every device checks and finds.
    for (const part of next) ownDevices(part);
    const wholeNext = await check("auto");
    expect(wholeNext.mode).toBe("incremental");
    expect(next.reduce((n, p) => n + p.daysChecked, 0)).toBe(wholeNext.daysChecked);
    // Shard 0 reads the whole increment (documents of no device are its); the others, filtered by
    // the server, only their devices' documents: together at most the increment once more.
    expect(wholeNext.incrementRead).toBeGreaterThan(0);
    expect(next[0]?.incrementRead).toBe(wholeNext.incrementRead);
    expect(next.slice(1).reduce((n, p) => n + p.incrementRead, 0)).toBeLessThanOrEqual(
      wholeNext.incrementRead,
    );
    expect(
      next
        .flatMap((p) => p.findings)
        .map(key)
        .sort(),
    ).toEqual(wholeNext.findings.map(key).sort());
    const late = next.map((r) => r.findings.filter((f) => f.cause === "late_arrival").map(key));
    expect(late).toEqual(
      shards.map((shard) =>
        inShard(shard, device) ? [`late_arrival|events|${device}|${dayOf(lateAt)}|1`] : [],
      ),
    );
  }, 600_000);
});
