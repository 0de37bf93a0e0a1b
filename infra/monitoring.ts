/**
 * Monitoring (docs/design.md §4, §8): alarms that say when the pipeline needs a person, sent to one SNS
 * topic (and the alarm email, if the stack names one). Failed, timed-out or aborted executions of
 * the state machine, and none succeeding for too long; a schedule start that was never delivered;
 * the support database short of storage, CPU or connections; per collection, worker errors,
 * failed batches and quarantined documents, from the EMF metrics the functions print
 * (pipeline/lambda/metrics.ts names them); and differences reconcile found (docs/design.md §7).
 * CloudWatch alarms cannot SEARCH across dimension values, so there is one alarm per collection of
 * the registry; reconcile prints one record without dimensions for the whole run, for its one alarm.
 * Log retention is set where each log group is declared.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { METRIC, METRIC_NAMESPACE } from "../pipeline/lambda/metrics.js";
import { collections } from "../pipeline/schema/index.js";

/** Per-collection alarms: metric, statistic period and what it means. */
export const COLLECTION_ALARMS = [
  {
    key: "worker-errors",
    metric: METRIC.workerErrors,
    periodSeconds: 3600,
    what: "devices failed inside a worker run",
  },
  {
    key: "failed-batches",
    metric: METRIC.failedBatches,
    periodSeconds: 3600,
    what: "batches failed after their retries",
  },
  {
    key: "quarantine",
    metric: METRIC.documentsQuarantined,
    periodSeconds: 86_400,
    what: "documents quarantined (could not be coerced to the schema)",
  },
] as const;

/** Step Functions metrics that mean an execution did not finish well. */
export const EXECUTION_ALARMS = [
  { key: "executions-failed", metric: "ExecutionsFailed" },
  { key: "executions-timed-out", metric: "ExecutionsTimedOut" },
  { key: "executions-aborted", metric: "ExecutionsAborted" },
] as const;

/**
 * Any difference between the source and curated that quarantine or work in flight does not account
 * for. Over a day: the pipeline reconciles once per execution, and the alarm stays up until a
 * later run finds none (no run is no news, as for the other event alarms).
 */
export const RECONCILE_ALARM = {
  key: "reconcile-differences",
  metric: METRIC.reconcileDifferences,
  periodSeconds: 86_400,
  description:
    "oven lakehouse reconcile: the source and curated differ beyond quarantine and work in flight " +
    "(documents missing or doubled). " +
    "See the Reconcile step's output in the execution's history (differences by cause), or reconcile " +
    "locally; bring the fixable ones in by invoking the reconcile function (stack output " +
    'reconcileFunctionName) with {"repair": true, "shard": {"index": i, "count": N}} for each shard ' +
    "the Reconcile step names (N: orchestration.reconcileShards; a device is in shard id mod N), " +
    "then let the next run curate and reconcile again.",
} as const;

/** The staleness alarm's name suffix: the cutover arms it when it enables the schedule. */
export const NO_SUCCESS_ALARM = "no-successful-run";

export interface MonitoringArgs {
  readonly stateMachineArn: pulumi.Input<string>;
  /** The schedule's dead-letter queue: a start that was never delivered. */
  readonly deadLetterQueueName: pulumi.Input<string>;
  readonly supportDatabase: {
    /** The instance's, or the serverless cluster's writer's. */
    readonly instanceId: pulumi.Input<string>;
    /** An instance's allocated storage; Aurora's grows by itself, so a cluster has none. */
    readonly storage?: { readonly allocatedStorageGb: number; readonly freeStoragePercent: number };
    /** Serverless: alarm when capacity stays above this share of its maximum. */
    readonly capacityPercent?: number;
    readonly cpuPercent: number;
    /** Alarm above this many connections; none when unset. */
    readonly connections?: number;
  };
  /** Hours without a succeeded execution before the staleness alarm. */
  readonly maxHoursWithoutSuccess: number;
  readonly alarmEmail?: string;
}

export class Monitoring extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly alarms: aws.cloudwatch.MetricAlarm[] = [];
  readonly noSuccessAlarm: aws.cloudwatch.MetricAlarm;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:monitoring:Monitoring", name, {}, opts);
    const parent = { parent: this };
    this.topic = new aws.sns.Topic(`${name}-alarms`, { displayName: "oven lakehouse alarms" }, parent);
    if (args.alarmEmail) {
      new aws.sns.TopicSubscription(
        `${name}-alarm-email`,
        { topic: this.topic.arn, protocol: "email", endpoint: args.alarmEmail },
        { parent: this.topic },
      );
    }
    // Every alarm here fires on one or more events of its period. No data means no run, not a
    // problem: a stopped pipeline shows in the executions.
    const onAnyEvent = {
      statistic: "Sum",
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [this.topic.arn],
      okActions: [this.topic.arn],
    };

    for (const a of EXECUTION_ALARMS) {
      this.alarms.push(
        new aws.cloudwatch.MetricAlarm(
          `${name}-${a.key}`,
          {
            alarmDescription: `oven lakehouse pipeline: ${a.metric}`,
            namespace: "AWS/States",
            metricName: a.metric,
            dimensions: { StateMachineArn: args.stateMachineArn },
            period: 300,
            ...onAnyEvent,
          },
          parent,
        ),
      );
    }
    // Every hour without a succeeded execution breaches (no data = no success); N in a row
    // alarm. Created with its actions off: before the cutover no schedule runs, and a page every
    // day would teach people to ignore it. The cutover turns them on; Pulumi leaves that alone.
    this.noSuccessAlarm = new aws.cloudwatch.MetricAlarm(
      `${name}-${NO_SUCCESS_ALARM}`,
      {
        alarmDescription: `oven lakehouse pipeline: no execution succeeded for ${args.maxHoursWithoutSuccess} h`,
        namespace: "AWS/States",
        metricName: "ExecutionsSucceeded",
        dimensions: { StateMachineArn: args.stateMachineArn },
        statistic: "Sum",
        period: 3600,
        evaluationPeriods: args.maxHoursWithoutSuccess,
        datapointsToAlarm: args.maxHoursWithoutSuccess,
        threshold: 1,
        comparisonOperator: "LessThanThreshold",
        treatMissingData: "breaching",
        actionsEnabled: false,
        alarmActions: [this.topic.arn],
        okActions: [this.topic.arn],
      },
      { ...parent, ignoreChanges: ["actionsEnabled"] },
    );
    this.alarms.push(this.noSuccessAlarm);
    this.alarms.push(
      new aws.cloudwatch.MetricAlarm(
        `${name}-schedule-undelivered`,
        {
          alarmDescription: "oven lakehouse schedule: a start could not be delivered (dead-letter queue)",
          namespace: "AWS/SQS",
          metricName: "ApproximateNumberOfMessagesVisible",
          dimensions: { QueueName: args.deadLetterQueueName },
          period: 300,
          ...onAnyEvent,
          statistic: "Maximum",
        },
        parent,
      ),
    );
    const db = args.supportDatabase;
    const rds = (key: string, what: string, alarm: Partial<aws.cloudwatch.MetricAlarmArgs>) =>
      this.alarms.push(
        new aws.cloudwatch.MetricAlarm(
          `${name}-support-db-${key}`,
          {
            alarmDescription: `oven lakehouse support database: ${what}`,
            namespace: "AWS/RDS",
            dimensions: { DBInstanceIdentifier: db.instanceId },
            period: 300,
            evaluationPeriods: 3,
            treatMissingData: "missing",
            alarmActions: [this.topic.arn],
            okActions: [this.topic.arn],
            ...alarm,
          } as aws.cloudwatch.MetricAlarmArgs,
          parent,
        ),
      );
    if (db.storage)
      rds("storage", `less than ${db.storage.freeStoragePercent} % storage free`, {
        metricName: "FreeStorageSpace",
        statistic: "Minimum",
        threshold: Math.floor(
          db.storage.allocatedStorageGb * 1024 ** 3 * (db.storage.freeStoragePercent / 100),
        ),
        comparisonOperator: "LessThanThreshold",
      });
    // A paused cluster reports nothing: missing data leaves the alarm as it was.
    if (db.capacityPercent !== undefined)
      rds("capacity", `capacity above ${db.capacityPercent} % of its maximum for 15 minutes`, {
        metricName: "ACUUtilization",
        statistic: "Average",
        threshold: db.capacityPercent,
        comparisonOperator: "GreaterThanThreshold",
      });
    rds("cpu", `CPU above ${db.cpuPercent} % for 15 minutes`, {
      metricName: "CPUUtilization",
      statistic: "Average",
      threshold: db.cpuPercent,
      comparisonOperator: "GreaterThanThreshold",
    });
    if (db.connections !== undefined)
      rds("connections", `more than ${db.connections} connections`, {
        metricName: "DatabaseConnections",
        statistic: "Maximum",
        threshold: db.connections,
        comparisonOperator: "GreaterThanThreshold",
      });

    this.alarms.push(
      new aws.cloudwatch.MetricAlarm(
        `${name}-${RECONCILE_ALARM.key}`,
        {
          alarmDescription: RECONCILE_ALARM.description,
          namespace: METRIC_NAMESPACE,
          metricName: RECONCILE_ALARM.metric,
          period: RECONCILE_ALARM.periodSeconds,
          ...onAnyEvent,
          // A count the run reports once, not events to add up: any above zero alarms.
          statistic: "Maximum",
          threshold: 0,
          comparisonOperator: "GreaterThanThreshold",
        },
        parent,
      ),
    );

    for (const c of collections) {
      for (const a of COLLECTION_ALARMS) {
        this.alarms.push(
          new aws.cloudwatch.MetricAlarm(
            `${name}-${a.key}-${c.name}`,
            {
              alarmDescription: `oven lakehouse ${c.name}: ${a.what}`,
              namespace: METRIC_NAMESPACE,
              metricName: a.metric,
              dimensions: { Collection: c.name },
              period: a.periodSeconds,
              ...onAnyEvent,
            },
            parent,
          ),
        );
      }
    }
    this.registerOutputs({ topicArn: this.topic.arn });
  }
}
