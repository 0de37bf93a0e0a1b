/**
 * Monitoring (DESIGN §4, §8): alarms that say when the pipeline needs a person, sent to one SNS
 * topic (and the alarm email, if the stack names one). Failed or timed-out executions of the
 * state machine; per collection, worker errors, failed batches and quarantined documents, from
 * the EMF metrics the functions print (pipeline/lambda/metrics.ts names them). CloudWatch alarms
 * cannot SEARCH across dimension values, so there is one alarm per collection of the registry.
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
] as const;

export interface MonitoringArgs {
  readonly stateMachineArn: pulumi.Input<string>;
  readonly alarmEmail?: string;
}

export class Monitoring extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly alarms: aws.cloudwatch.MetricAlarm[] = [];

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
