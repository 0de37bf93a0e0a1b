/**
 * The ingestion branch of the deployed state machine, executed locally with the real handlers:
 * connections read from moto's Secrets Manager, plans stored in the support database, workers
 * writing to a lake folder, the summary reading metrics back. Own databases, secrets and folders,
 * so it runs beside the other integration tests.
 */
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localFunctions } from "../../local/orchestration/local-functions.js";
import { type LocalIngestionOptions, runLocalIngestion } from "../../local/orchestration/local-run.js";
import { advanceSnapshot, loadSnapshot, type OpenTargets, openTargets } from "../../local/snapshot/index.js";
import type { PlanOutput } from "../../pipeline/lambda/events.js";
import { defineHandler } from "../../pipeline/lambda/handler.js";
import { emfLines, METRIC, METRIC_NAMESPACE } from "../../pipeline/lambda/metrics.js";
import { openRuntime } from "../../pipeline/lambda/runtime.js";
import { workerStep } from "../../pipeline/lambda/steps.js";
import { TASK } from "../../pipeline/orchestration/state-machine.js";
import { createSupportClient, type SupportClient } from "../../pipeline/support/index.js";
import { throwawayDatabases } from "../support/throwaway.js";

const dbs = throwawayDatabases("lsfn");
const { name, config } = dbs;
const log = pino({ level: "silent" });
let targets: OpenTargets;
let support: SupportClient;
let work: string;
let metricsFile: string;

beforeAll(async () => {
  await dbs.create();
  targets = await openTargets({
    ddcDatabaseUrl: config.DDC_DATABASE_URL,
    mongodbUrl: config.MONGODB_URL,
    mongodbDatabase: name,
  });
  await loadSnapshot(targets, { seed: 11, devices: 4, days: 5, reset: true });
  support = createSupportClient(config.SUPPORT_DATABASE_URL);
  work = await mkdtemp(join(tmpdir(), "lake-sfn-"));
  metricsFile = join(work, "metrics.emf.jsonl");
}, 180_000);

afterAll(async () => {
  await support?.$disconnect();
  await targets?.close();
  await dbs.drop();
  await rm(work, { recursive: true, force: true });
});

function ingest(rawDir: string, extra: Partial<LocalIngestionOptions> = {}) {
  const plans: PlanOutput[] = [];
  return runLocalIngestion(config, {
    rawDir,
    metricsFile,
    log,
    secretPrefix: `lakehouse/test/${name}`,
    sourceCounts: false,
    retryIntervals: { [TASK.worker]: 0 },
    mapConcurrency: 3,
    hooks: { onPlan: (p) => plans.push(p) },
    ...extra,
  }).then((report) => ({ ...report, plan: plans[0] }));
}

async function emfRecords() {
  const text = await readFile(metricsFile, "utf8");
  return text
    .trim()
    .split("\n")
    .map(
      (l) =>
        JSON.parse(l) as Record<string, unknown> & {
          _aws: {
            CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
          };
        },
    );
}

describe("local ingestion through the state machine", () => {
  it("plans in bulk, stores the plan, sends tiny Map items and summarizes every collection", async () => {
    const { execution, summary, plan } = await ingest(join(work, "raw"), { sourceCounts: true });
    expect(execution.status).toBe("SUCCEEDED");
    expect(plan?.mode).toBe("bulk");
    expect(summary?.status).toBe("succeeded");
    expect(summary?.failedBatches).toBe(0);

    // Map items carry only the reference; the devices are in plan_batch.
    for (const item of plan?.items ?? [])
      expect(Object.keys(item).sort()).toEqual(["batch", "collection", "planId"]);
    const stored = await support.plan.findUniqueOrThrow({
      where: { id: plan?.planId },
      include: { batches: true },
    });
    expect(stored.status).toBe("succeeded");
    expect(stored.batches).toHaveLength(plan?.items.length ?? -1);

    // Every device with data caught up; counts agree with the source and the ledger.
    for (const c of summary?.collections ?? []) {
      expect(c.devicesDone, c.collection).toBe(c.devicesWithData);
      expect(c.sourceDocuments, c.collection).toBe(
        await targets.mongo.collection(c.collection).countDocuments(),
      );
      expect(c.documentsUploadedTotal + c.documentsQuarantined, c.collection).toBeLessThanOrEqual(
        c.sourceDocuments ?? 0,
      );
      if (c.collection !== "variable_logs") {
        const ledger = await support.fileLedger.aggregate({
          where: { collection: c.collection },
          _sum: { rows: true },
        });
        expect(ledger._sum.rows ?? 0, c.collection).toBe(c.documentsUploaded);
      }
    }
    expect(summary?.collections.map((c) => c.collection)).toContain("variable_logs");
    // The generator adds fields outside the schema to ~2 % of documents: the summary names them.
    const drift = await support.driftCount.findMany({ orderBy: [{ count: "desc" }, { key: "asc" }] });
    expect(drift.length).toBeGreaterThan(0);
    const top = drift[0];
    expect(summary?.collections.find((c) => c.collection === top?.collection)?.topDrift[0]).toEqual({
      key: top?.key,
      count: Number(top?.count),
    });

    // EMF: one record per worker invocation with the Collection dimension, summing to the summary.
    const records = await emfRecords();
    expect(records.every((r) => r._aws.CloudWatchMetrics[0]?.Namespace === METRIC_NAMESPACE)).toBe(true);
    const uploaded = records.filter((r) =>
      r._aws.CloudWatchMetrics[0]?.Metrics.some((m) => m.Name === METRIC.documentsUploaded),
    );
    expect(uploaded.length).toBe(plan?.items.length);
    const events = summary?.collections.find((c) => c.collection === "events");
    const emfEvents = uploaded
      .filter((r) => r.Collection === "events")
      .reduce((a, r) => a + Number(r[METRIC.documentsUploaded]), 0);
    expect(emfEvents).toBe(events?.documentsUploaded);
    expect(uploaded[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["Collection"]]);
  }, 240_000);

  it("plans nothing when nothing is new, in operations mode", async () => {
    const { execution, summary, plan } = await ingest(join(work, "raw"));
    expect(execution.status).toBe("SUCCEEDED");
    expect(plan?.mode).toBe("operations");
    expect(plan?.items).toEqual([]);
    expect(summary?.collections).toEqual([]);
    expect(summary?.status).toBe("succeeded");
  }, 60_000);

  it("retries a failing batch, records it failed, keeps the other collections, and the next run catches up", async () => {
    await advanceSnapshot(targets, { days: 1 });
    const broken = join(work, "raw-broken");
    await rm(broken, { recursive: true, force: true });
    await mkdir(broken, { recursive: true });
    // A file where the alarm prefix should be: every alarm write fails.
    await writeFile(join(broken, "alarm"), "not a folder");
    const before = await support.lastts.findMany({ where: { collection: "alarm" } });

    const failed = await ingest(broken, { collections: ["alarm", "events"] });
    expect(failed.execution.status).toBe("SUCCEEDED");
    expect(failed.summary?.status).toBe("failed");
    expect(failed.summary?.failures.map((f) => f.collection)).toEqual(["alarm"]);
    expect(failed.execution.retries.get(TASK.worker)).toBe(2);
    const alarm = failed.summary?.collections.find((c) => c.collection === "alarm");
    expect(alarm?.failedBatches).toBe(1);
    expect(failed.summary?.collections.find((c) => c.collection === "events")?.failedBatches).toBe(0);
    expect((await support.plan.findUniqueOrThrow({ where: { id: failed.plan?.planId } })).status).toBe(
      "failed",
    );
    // No bookmark moved past an alarm that was not written (a device with nothing new in its
    // window may still advance: an empty window writes nothing).
    const after = await support.lastts.findMany({ where: { collection: "alarm" } });
    for (const mark of after) {
      const from = before.find((b) => b.idDevice === mark.idDevice)?.lastts ?? new Date(0);
      if (mark.lastts.getTime() === from.getTime()) continue;
      const range = { $gte: from, $lt: mark.lastts };
      const skipped = await targets.mongo
        .collection("alarm")
        .countDocuments({ idDevice: mark.idDevice, $or: [{ activeTS: range }, { resetTS: range }] });
      expect(skipped, `device ${mark.idDevice}`).toBe(0);
    }
    expect(
      after.some(
        (m) => m.lastts.getTime() === before.find((b) => b.idDevice === m.idDevice)?.lastts.getTime(),
      ),
    ).toBe(true);

    const retry = await ingest(join(work, "raw"), { collections: ["alarm", "events"] });
    expect(retry.summary?.status).toBe("succeeded");
    expect(retry.summary?.collections.map((c) => c.collection)).toEqual(["alarm"]);
    expect(retry.summary?.collections[0]?.documentsUploaded).toBeGreaterThan(0);
  }, 120_000);

  it("leaves devices for the next run when the time budget is spent, without failing", async () => {
    await advanceSnapshot(targets, { days: 1 });
    const ledgerBefore = await support.fileLedger.count();
    const spent = await ingest(join(work, "raw"), {
      collections: ["events"],
      budgetMs: 1_000,
      env: { INGEST_SAFETY_MARGIN_SECONDS: "5" },
    });
    expect(spent.summary?.status).toBe("succeeded");
    expect(spent.summary?.devicesPending).toBeGreaterThan(0);
    expect(await support.fileLedger.count()).toBe(ledgerBefore);

    const next = await ingest(join(work, "raw"), { collections: ["events"] });
    expect(next.summary?.devicesPending).toBe(0);
    expect(next.summary?.collections[0]?.devicesDone).toBe(next.summary?.collections[0]?.devicesWithData);
    expect(await support.fileLedger.count()).toBeGreaterThan(ledgerBefore);
  }, 120_000);

  it("packs a day's small windows unless the stack's functions.packs turns packs off (INGEST_PACKS)", async () => {
    const keysSince = async (id: number) =>
      (
        await support.fileLedger.findMany({
          where: { collection: "events", id: { gt: id } },
          select: { objectKey: true },
        })
      ).map((r) => r.objectKey);
    const newest = async () => (await support.fileLedger.aggregate({ _max: { id: true } }))._max.id ?? 0;

    await advanceSnapshot(targets, { days: 1 });
    const before = await newest();
    // One worker for every device, in either mode, so the devices' windows can share a pack.
    const oneWorker = { INGEST_WORKERS: '{"bulk":{"events":1},"operations":{"events":1}}' };
    const off = await ingest(join(work, "raw"), {
      collections: ["events"],
      env: { ...oneWorker, INGEST_PACKS: "false" },
    });
    expect(off.summary?.status).toBe("succeeded");
    const own = await keysSince(before);
    expect(own.length).toBeGreaterThan(1);
    expect(own.every((k) => k.startsWith("events/idDevice="))).toBe(true);

    await advanceSnapshot(targets, { days: 1 });
    const middle = await newest();
    await ingest(join(work, "raw"), { collections: ["events"], env: oneWorker });
    const packed = await keysSince(middle);
    expect(packed.length).toBeGreaterThan(1);
    // The devices' days share one pack (far below the limits).
    expect(new Set(packed).size).toBe(1);
    expect(packed.every((k) => k.startsWith("events/packs/"))).toBe(true);
  }, 120_000);
});

describe("documents without a device", () => {
  it("are quarantined once each by the summary's sweep, with their reason, and counted", async () => {
    const events = targets.mongo.collection<{ _id: string } & Record<string, unknown>>("events");
    const at = new Date(Date.UTC(2024, 4, 20));
    await events.insertMany([
      { _id: `${name}-missing`, timestamp: at, type: "door", source: "s" },
      { _id: `${name}-null`, idDevice: null, timestamp: at, type: "door", source: "s" },
      { _id: `${name}-string`, idDevice: "1001", timestamp: at, type: "door", source: "s" },
    ]);
    await advanceSnapshot(targets, { days: 1 });
    const first = await ingest(join(work, "raw"), { collections: ["events"] });
    const row = first.summary?.collections.find((c) => c.collection === "events");
    expect(row?.orphansQuarantined).toBe(3);
    const records = await support.quarantine.findMany({ where: { collection: "events", idDevice: null } });
    expect(records.map((r) => r.documentId).sort()).toEqual([
      `${name}-missing`,
      `${name}-null`,
      `${name}-string`,
    ]);
    expect(records.find((r) => r.documentId === `${name}-string`)?.reason).toMatch(/idDevice is a string/);
    const copy = JSON.parse(await readFile(join(work, "raw", records[0]?.objectKey ?? ""), "utf8"));
    expect(copy.document._id).toBe(records[0]?.documentId);

    await advanceSnapshot(targets, { days: 1 });
    const again = await ingest(join(work, "raw"), { collections: ["events"] });
    expect(again.summary?.collections.find((c) => c.collection === "events")?.orphansQuarantined).toBe(0);
    expect(await support.quarantine.count({ where: { collection: "events", idDevice: null } })).toBe(3);
  }, 120_000);
});

describe("function edges", () => {
  it("refuses an invalid event as TerminalError naming the field", async () => {
    const fns = await localFunctions(config, {
      rawDir: join(work, "raw"),
      metricsFile,
      log,
      secretPrefix: `lakehouse/test/${name}`,
    });
    try {
      const call = fns.bindings[TASK.worker]?.({ planId: "not-a-uuid", collection: "nope", batch: -1 });
      await expect(call).rejects.toMatchObject({ name: "TerminalError" });
      await expect(call).rejects.toThrow(/InvalidEventError: worker event: planId .*collection .*batch/);
    } finally {
      await fns.close();
    }
  });

  it("fails terminally, naming the secret, when a connection secret does not exist", async () => {
    const runtime = openRuntime({
      ...process.env,
      DDC_SECRET_ID: `lakehouse/test/${name}/missing`,
      MONGODB_SECRET_ID: `lakehouse/test/${name}/missing`,
      SUPPORT_SECRET_ID: `lakehouse/test/${name}/missing`,
      RAW_LAKE_URL: `file://${work}/raw`,
    });
    const lines: string[] = [];
    const worker = defineHandler(workerStep, {
      runtime: () => runtime,
      metrics: emfLines((l) => lines.push(l)),
      log,
    });
    try {
      const call = worker(
        { planId: randomUUID(), collection: "events", batch: 0 },
        { awsRequestId: "r1", getRemainingTimeInMillis: () => 60_000 },
      );
      await expect(call).rejects.toMatchObject({ name: "TerminalError" });
      await expect(call).rejects.toThrow(
        `ConfigError: secret lakehouse/test/${name}/missing: ResourceNotFoundException`,
      );
      // The invocation still leaves its EMF record (duration), so a dashboard sees it ran.
      expect(lines.length).toBeGreaterThan(0);
    } finally {
      await runtime.close();
    }
  });
});
