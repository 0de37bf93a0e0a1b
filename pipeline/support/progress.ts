/**
 * The ingestion's progress report (docs/design.md §4 "Progress"): per collection, what this plan's
 * workers moved, how far the devices' bookmarks are, and documents uploaded so far against the
 * source's own count. Read from the support database's metric and bookmark rows, so a run that
 * died mid-way still reports what it committed.
 */
import { deviceIdOf } from "../ingest/device-ids.js";
import { completeUntil } from "../ingest/windows.js";
import { collection as entryOf } from "../schema/registry.js";
import type { SupportClient } from "./client.js";

export interface DeviceMark {
  readonly idDevice: number;
  readonly lastLogDate: Date | null;
}

export interface CollectionProgress {
  readonly collection: string;
  /** This plan's runs. */
  readonly run: {
    readonly documentsRead: number;
    readonly documentsUploaded: number;
    readonly documentsQuarantined: number;
    readonly bytesUploaded: number;
    readonly queriesRun: number;
    readonly devicesProcessed: number;
    readonly errors: number;
  };
  /** Devices with data whose bookmark reached their last complete unit, of all devices with data. */
  readonly devicesDone: number;
  readonly devicesWithData: number;
  /** Documents uploaded by every run so far (a replayed window counts again). */
  readonly documentsUploadedTotal: number;
  /** The source's count (`estimatedDocumentCount`), when asked for. */
  readonly sourceDocuments: number | null;
  /** Payload keys folded in the whole history, most frequent first (at most 5). */
  readonly topDrift: readonly { key: string; count: number }[];
}

export interface ProgressInput {
  readonly planId: string | null;
  readonly collections: readonly string[];
  readonly devices: readonly DeviceMark[];
  /** Source document counts by collection; omitted when too costly to ask (see README). */
  readonly sourceCounts?: ReadonlyMap<string, number>;
}

const ZERO_RUN: CollectionProgress["run"] = {
  documentsRead: 0,
  documentsUploaded: 0,
  documentsQuarantined: 0,
  bytesUploaded: 0,
  queriesRun: 0,
  devicesProcessed: 0,
  errors: 0,
};

export async function ingestionProgress(
  db: SupportClient,
  input: ProgressInput,
): Promise<CollectionProgress[]> {
  const names = [...input.collections];
  const [runRows, totalRows, marks, drift] = await Promise.all([
    input.planId
      ? db.metric.groupBy({
          by: ["collection"],
          where: { planId: input.planId, collection: { in: names } },
          _sum: {
            documentsRead: true,
            documentsUploaded: true,
            documentsQuarantined: true,
            bytesUploaded: true,
            queriesRun: true,
            devicesProcessed: true,
            errors: true,
          },
        })
      : Promise.resolve([]),
    db.metric.groupBy({
      by: ["collection"],
      where: { collection: { in: names } },
      _sum: { documentsUploaded: true },
    }),
    db.lastts.findMany({
      where: { collection: { in: names } },
      select: { collection: true, idDevice: true, lastts: true },
    }),
    db.driftCount.findMany({
      where: { collection: { in: names } },
      orderBy: [{ count: "desc" }, { key: "asc" }],
    }),
  ]);
  const withData = input.devices.filter(
    (d): d is { idDevice: number; lastLogDate: Date } => d.lastLogDate !== null,
  );

  return names.map((name) => {
    const alignMs = entryOf(name).alignMs;
    const bookmarks = new Map(
      marks.filter((m) => m.collection === name).map((m) => [deviceIdOf(m.idDevice), m.lastts]),
    );
    const devicesDone = withData.filter((d) => {
      const mark = bookmarks.get(d.idDevice);
      return mark !== undefined && mark.getTime() >= completeUntil(d.lastLogDate, alignMs).getTime();
    }).length;
    const sums = runRows.find((r) => r.collection === name)?._sum;
    return {
      collection: name,
      run: sums
        ? {
            documentsRead: sums.documentsRead ?? 0,
            documentsUploaded: sums.documentsUploaded ?? 0,
            documentsQuarantined: sums.documentsQuarantined ?? 0,
            bytesUploaded: Number(sums.bytesUploaded ?? 0),
            queriesRun: sums.queriesRun ?? 0,
            devicesProcessed: sums.devicesProcessed ?? 0,
            errors: sums.errors ?? 0,
          }
        : ZERO_RUN,
      devicesDone,
      devicesWithData: withData.length,
      documentsUploadedTotal: totalRows.find((r) => r.collection === name)?._sum.documentsUploaded ?? 0,
      sourceDocuments: input.sourceCounts?.get(name) ?? null,
      topDrift: drift
        .filter((d) => d.collection === name)
        .slice(0, 5)
        .map((d) => ({ key: d.key, count: Number(d.count) })),
    };
  });
}
