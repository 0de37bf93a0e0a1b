/**
 * The worker's {@link IngestLedger} on the support database. One short interactive transaction
 * per window: bookmark, ledger row, quarantine rows, drift counts and the run's metric counters
 * commit together or not at all (DESIGN §4 "Write").
 */
import pRetry, { AbortError } from "p-retry";
import { Prisma } from "../generated/prisma/client.js";
import type { IngestLedger, RunSummary, WindowCommit } from "../ingest/ledger.js";
import type { SupportClient } from "./client.js";

/** Interactive transaction limits: a window commit is a handful of statements. */
const TX = { maxWait: 10_000, timeout: 20_000 } as const;

/**
 * Concurrent windows of one run share the metric row and drift rows, so a commit can lose a
 * write conflict (Prisma P2034). The transaction rolled back whole; running it again is safe.
 */
const COMMIT_RETRIES = { retries: 4, minTimeout: 50, maxTimeout: 1000, randomize: true } as const;

function retryOnConflict<T>(commit: () => Promise<T>): Promise<T> {
  return pRetry(async () => {
    try {
      return await commit();
    } catch (error) {
      const conflict = error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2034";
      throw conflict ? error : new AbortError(error as Error);
    }
  }, COMMIT_RETRIES);
}

export function prismaIngestLedger(db: SupportClient): IngestLedger {
  return {
    async bookmarks(collection, devices) {
      const rows = await db.lastts.findMany({
        where: { collection, idDevice: { in: [...devices] } },
        select: { idDevice: true, lastts: true },
      });
      return new Map(rows.map((r) => [r.idDevice, r.lastts]));
    },

    async commitWindow(c: WindowCommit) {
      const now = new Date();
      // Shared rows are locked in one order (drift keys sorted, metric last) so two commits of
      // the same run never wait on each other in a cycle.
      const drift = [...c.drift].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      await retryOnConflict(() =>
        db.$transaction(async (tx) => {
          await tx.lastts.upsert({
            where: { idDevice_collection: { idDevice: c.idDevice, collection: c.collection } },
            create: { idDevice: c.idDevice, collection: c.collection, lastts: c.lastts },
            update: { lastts: c.lastts },
          });
          if (c.object && c.window) {
            // A replayed window rewrote the same object key (an operator moved the bookmark
            // back). Its row is replaced, not updated, so it takes a new id past the curate
            // job's position and the rewritten object is curated again (merged on its key).
            await tx.fileLedger.deleteMany({ where: { objectKey: c.object.key } });
            await tx.fileLedger.create({
              data: {
                objectKey: c.object.key,
                collection: c.collection,
                idDevice: c.idDevice,
                windowFrom: c.window.from,
                windowTo: c.window.to,
                rows: c.object.rows,
                bytes: c.object.bytes,
                runId: c.runId,
              },
            });
          }
          if (c.quarantined.length) {
            await tx.quarantine.createMany({
              data: c.quarantined.map((q) => ({
                runId: c.runId,
                collection: c.collection,
                idDevice: c.idDevice,
                documentId: q.documentId,
                reason: q.reason.slice(0, 4000),
                objectKey: q.objectKey,
              })),
            });
          }
          for (const [key, count] of drift) {
            await tx.driftCount.upsert({
              where: { collection_key: { collection: c.collection, key } },
              create: { collection: c.collection, key, count, firstSeen: now, lastSeen: now },
              update: { count: { increment: count }, lastSeen: now },
            });
          }
          const k = c.counters;
          await tx.metric.upsert({
            where: { runId_collection: { runId: c.runId, collection: c.collection } },
            create: { runId: c.runId, planId: c.planId, collection: c.collection, ...k },
            update: {
              documentsRead: { increment: k.documentsRead },
              documentsUploaded: { increment: k.documentsUploaded },
              documentsQuarantined: { increment: k.documentsQuarantined },
              bytesUploaded: { increment: k.bytesUploaded },
              queriesRun: { increment: k.queriesRun },
              computationMs: { increment: k.computationMs },
            },
          });
        }, TX),
      );
    },

    async finishRun(s: RunSummary) {
      const sorted = [...s.devices].sort((a, b) => a - b);
      const fields = {
        firstDevice: sorted[0] ?? null,
        lastDevice: sorted.at(-1) ?? null,
        devicesToQuery: s.devices.length,
        devicesProcessed: s.devicesProcessed,
        errors: s.errors,
        finishedAt: new Date(),
      };
      await db.metric.upsert({
        where: { runId_collection: { runId: s.runId, collection: s.collection } },
        create: { runId: s.runId, planId: s.planId, collection: s.collection, ...fields },
        update: fields,
      });
    },
  };
}
