/**
 * Orchestration (docs/design.md §6): the pipeline's one state machine and the schedule that starts it.
 * The definition is `buildStateMachine` from pipeline/orchestration, the very function the local
 * runner executes, rendered here with the deployed function ARNs and job names.
 *
 * The schedule is created DISABLED: the cutover script enables it once the production sources
 * are switched in. Pulumi then leaves its state alone (`ignoreChanges`), so a later `pulumi up`
 * never silently stops (or starts) the pipeline. A start the scheduler could not deliver lands in
 * a dead-letter queue (alarmed by Monitoring) instead of vanishing.
 *
 * The machine has a fixed name, so its ARN is known before it exists: its own role may then list
 * its executions (the Guard state) without a dependency cycle.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { buildStateMachine, type TaskTimeouts } from "../pipeline/orchestration/state-machine.js";
import { allow, assumedBy, LOG_DELIVERY_ACTIONS, policyDocument } from "./policies.js";

/** Glue's `.sync` integration polls the run (docs: "Step Functions IAM policies for AWS Glue"). */
export const GLUE_SYNC_ACTIONS = [
  "glue:StartJobRun",
  "glue:GetJobRun",
  "glue:GetJobRuns",
  "glue:BatchStopJobRun",
] as const;

/** Undelivered starts are kept two weeks (SQS's maximum): time for an operator to look. */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600;

export interface OrchestrationArgs {
  readonly region: string;
  readonly accountId: pulumi.Input<string>;
  readonly environment: string;
  readonly functions: {
    readonly plan: aws.lambda.Function;
    readonly worker: aws.lambda.Function;
    readonly summarize: aws.lambda.Function;
    readonly reconcile: aws.lambda.Function;
  };
  readonly jobs: {
    readonly postgresExtract: aws.glue.Job;
    readonly curate: aws.glue.Job;
    readonly analytics: aws.glue.Job;
  };
  readonly maxConcurrency: number;
  readonly workerRetries: number;
  readonly reconcileShards: number;
  /** Each task state's TimeoutSeconds (`taskTimeouts` of the functions' and jobs' limits). */
  readonly timeouts: TaskTimeouts;
  /** Seconds an execution may run in all. */
  readonly executionTimeoutSeconds: number;
  readonly scheduleExpression: string;
  readonly scheduleTimezone: string;
  readonly logRetentionDays: number;
  /** Resources that must exist before an execution can succeed (the migrated support database). */
  readonly readyAfter?: pulumi.Resource[];
}

export class Orchestration extends pulumi.ComponentResource {
  readonly stateMachine: aws.sfn.StateMachine;
  readonly role: aws.iam.Role;
  readonly schedule: aws.scheduler.Schedule;
  /** Schedule deliveries that failed after their retries. */
  readonly deadLetters: aws.sqs.Queue;
  /** The rendered ASL, as deployed. */
  readonly definition: pulumi.Output<string>;

  constructor(name: string, args: OrchestrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:orchestration:Orchestration", name, {}, opts);
    const parent = { parent: this };
    const f = args.functions;
    const j = args.jobs;
    const jobArn = (job: aws.glue.Job) =>
      pulumi.interpolate`arn:aws:glue:${args.region}:${args.accountId}:job/${job.name}`;
    const machineName = `oven-lakehouse-${args.environment}-pipeline`;
    const machineArn = pulumi.interpolate`arn:aws:states:${args.region}:${args.accountId}:stateMachine:${machineName}`;

    this.role = new aws.iam.Role(
      `${name}-states`,
      { assumeRolePolicy: assumedBy("states.amazonaws.com", args.accountId) },
      parent,
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-states`,
      {
        role: this.role.id,
        policy: policyDocument([
          allow(
            "InvokeSteps",
            ["lambda:InvokeFunction"],
            [f.plan.arn, f.worker.arn, f.summarize.arn, f.reconcile.arn],
          ),
          allow("RunJobs", GLUE_SYNC_ACTIONS, [
            jobArn(j.postgresExtract),
            jobArn(j.curate),
            jobArn(j.analytics),
          ]),
          // The Guard state (aws-sdk:sfn:listExecutions) runs as this role.
          allow("ListOwnExecutions", ["states:ListExecutions"], [machineArn]),
          allow("ExecutionLogs", LOG_DELIVERY_ACTIONS, "*"),
        ]),
      },
      { parent: this.role },
    );

    this.definition = pulumi
      .all([
        f.plan.arn,
        f.worker.arn,
        f.summarize.arn,
        f.reconcile.arn,
        j.postgresExtract.name,
        j.curate.name,
        j.analytics.name,
      ])
      .apply(
        ([
          planFunctionArn,
          workerFunctionArn,
          summarizeFunctionArn,
          reconcileFunctionArn,
          postgresExtractJob,
          curateJob,
          analyticsJob,
        ]) =>
          JSON.stringify(
            buildStateMachine(
              {
                planFunctionArn,
                workerFunctionArn,
                summarizeFunctionArn,
                reconcileFunctionArn,
                postgresExtractJob,
                curateJob,
                analyticsJob,
              },
              {
                maxConcurrency: args.maxConcurrency,
                workerRetries: args.workerRetries,
                reconcileShards: args.reconcileShards,
                timeouts: args.timeouts,
                executionTimeoutSeconds: args.executionTimeoutSeconds,
              },
            ),
          ),
      );

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-executions`,
      { name: `/oven-lakehouse/${args.environment}/states/pipeline`, retentionInDays: args.logRetentionDays },
      parent,
    );
    this.stateMachine = new aws.sfn.StateMachine(
      name,
      {
        name: machineName,
        type: "STANDARD",
        roleArn: this.role.arn,
        definition: this.definition,
        loggingConfiguration: {
          level: "ERROR",
          includeExecutionData: true,
          logDestination: pulumi.interpolate`${logGroup.arn}:*`,
        },
      },
      { ...parent, dependsOn: [policy, ...(args.readyAfter ?? [])] },
    );

    const schedulerRole = new aws.iam.Role(
      `${name}-scheduler`,
      { assumeRolePolicy: assumedBy("scheduler.amazonaws.com", args.accountId) },
      parent,
    );
    this.deadLetters = new aws.sqs.Queue(
      `${name}-schedule-dlq`,
      { sqsManagedSseEnabled: true, messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS },
      parent,
    );
    const schedulerPolicy = new aws.iam.RolePolicy(
      `${name}-scheduler`,
      {
        role: schedulerRole.id,
        policy: policyDocument([
          allow("StartPipeline", ["states:StartExecution"], [this.stateMachine.arn]),
          // The scheduler delivers to its dead-letter queue with the schedule's role.
          allow("DeadLetters", ["sqs:SendMessage"], [this.deadLetters.arn]),
        ]),
      },
      { parent: schedulerRole },
    );
    this.schedule = new aws.scheduler.Schedule(
      `${name}-schedule`,
      {
        description: "starts the oven lakehouse pipeline; enabled by the cutover script",
        scheduleExpression: args.scheduleExpression,
        scheduleExpressionTimezone: args.scheduleTimezone,
        flexibleTimeWindow: { mode: "OFF" },
        state: "DISABLED",
        target: {
          arn: this.stateMachine.arn,
          roleArn: schedulerRole.arn,
          // The plan's mode `auto`: bulk on the first load, operations after.
          input: JSON.stringify({}),
          retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
          deadLetterConfig: { arn: this.deadLetters.arn },
        },
      },
      { ...parent, dependsOn: [schedulerPolicy], ignoreChanges: ["state"] },
    );

    this.registerOutputs({
      stateMachineArn: this.stateMachine.arn,
      scheduleName: this.schedule.name,
      deadLetterQueueArn: this.deadLetters.arn,
    });
  }
}
