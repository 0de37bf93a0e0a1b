/**
 * CloudWatch metrics in Embedded Metric Format (EMF): JSON log lines that CloudWatch turns into
 * metrics, with no API calls from the function. The names here are the contract with the
 * deployment's alarms (`infra/`), so they live in one place.
 */
import { createMetricsLogger, MetricsLogger as Logger, type MetricsLogger, Unit } from "aws-embedded-metrics";
import type { IEnvironment } from "aws-embedded-metrics/lib/environment/IEnvironment.js";
import { LogSerializer } from "aws-embedded-metrics/lib/serializers/LogSerializer.js";

export const METRIC_NAMESPACE = "OvenLakehouse";

/** Metric names; each carries the dimension `Collection`. */
export const METRIC = {
  documentsRead: "DocumentsRead",
  documentsUploaded: "DocumentsUploaded",
  documentsQuarantined: "DocumentsQuarantined",
  bytesUploaded: "BytesUploaded",
  windows: "Windows",
  devicesPending: "DevicesPending",
  /** Devices whose extraction failed inside a worker run (the run then fails and retries). */
  workerErrors: "WorkerErrors",
  failedBatches: "FailedBatches",
  /** Share of devices whose bookmark reached `last_log_date` (0..1), from the summary. */
  devicesDoneRatio: "DevicesDoneRatio",
  batchesPlanned: "BatchesPlanned",
  /**
   * Reconcile's findings not accounted for by quarantine or work in flight (one record per
   * collection, and one without a dimension for the whole run: the alarm's).
   */
  reconcileDifferences: "ReconcileDifferences",
  /** Days reconcile compared, per collection. */
  reconcileDaysChecked: "ReconcileDaysChecked",
} as const;

export { Unit };

/** Makes one metrics logger per invocation; flushed once at the end. */
export type MetricsFactory = () => MetricsLogger;

/** Lambda: the library detects the environment and prints EMF lines to stdout. */
export const lambdaMetrics: MetricsFactory = () => createMetricsLogger();

/**
 * The same EMF lines handed to `write` (a file, a test's array): local runs keep stdout for
 * their own report, and the library's environment probing (EC2 metadata calls) is skipped.
 */
export function emfLines(write: (line: string) => void): MetricsFactory {
  const serializer = new LogSerializer();
  const environment: IEnvironment = {
    probe: async () => true,
    getName: () => "lakehouse-local",
    getType: () => "Local",
    getLogGroupName: () => "lakehouse-local",
    configureContext: () => undefined,
    getSink: () => ({
      name: "lines",
      accept: async (context) => {
        for (const line of serializer.serialize(context)) write(line);
      },
    }),
  };
  return () => new Logger(async () => environment);
}
