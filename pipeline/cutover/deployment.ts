/**
 * The deployment's side of a cutover, through the AWS APIs the script may call (ADR 0016):
 * Secrets Manager for the source settings, EventBridge Scheduler for the schedule, CloudWatch for
 * the no-success alarm's actions, Step Functions for running executions, STS for who acts. The
 * SDK follows `AWS_ENDPOINT_URL`, so locally every call goes to moto.
 */
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  DisableAlarmActionsCommand,
  EnableAlarmActionsCommand,
} from "@aws-sdk/client-cloudwatch";
import { GetScheduleCommand, SchedulerClient, UpdateScheduleCommand } from "@aws-sdk/client-scheduler";
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { ListExecutionsCommand, SFNClient } from "@aws-sdk/client-sfn";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { type ConnectionSecret, parseConnectionSecret } from "../connections/secret.js";
import { ConfigError } from "../errors.js";
import type { CutoverTargets } from "./targets.js";

export type ScheduleState = "ENABLED" | "DISABLED";

/** A secret's current value, parsed; `raw` is what a copy writes, never printed. */
export interface SecretValue {
  readonly id: string;
  readonly versionId: string;
  readonly raw: string;
  readonly value: ConnectionSecret;
}

/** What the cutover reads and changes in a deployment. */
export interface Deployment {
  readonly targets: CutoverTargets;
  readSecret(id: string, defaults?: Partial<Record<string, unknown>>): Promise<SecretValue>;
  /** @returns the new version's id. */
  writeSecret(id: string, raw: string): Promise<string>;
  scheduleState(): Promise<ScheduleState>;
  setScheduleState(state: ScheduleState): Promise<void>;
  alarmActionsEnabled(): Promise<boolean>;
  setAlarmActions(enabled: boolean): Promise<void>;
  /** ARNs of the state machine's running executions. */
  runningExecutions(): Promise<string[]>;
  /** Who the script acts as (the AWS principal). */
  principal(): Promise<string>;
  close(): void;
}

export interface AwsClients {
  readonly secrets: SecretsManagerClient;
  readonly scheduler: SchedulerClient;
  readonly cloudwatch: CloudWatchClient;
  readonly sfn: SFNClient;
  readonly sts: STSClient;
}

export function awsClients(): AwsClients {
  return {
    secrets: new SecretsManagerClient({}),
    scheduler: new SchedulerClient({}),
    cloudwatch: new CloudWatchClient({}),
    sfn: new SFNClient({}),
    sts: new STSClient({}),
  };
}

export interface AwsDeploymentOptions {
  /** Where running executions are listed instead of Step Functions (the local guard's folder). */
  readonly runningExecutions?: () => Promise<string[]>;
}

export function awsDeployment(
  targets: CutoverTargets,
  clients: AwsClients = awsClients(),
  options: AwsDeploymentOptions = {},
): Deployment {
  const { name: scheduleName, group: GroupName } = targets.schedule;
  return {
    targets,
    async readSecret(id, defaults = {}) {
      const out = await clients.secrets.send(new GetSecretValueCommand({ SecretId: id }));
      if (out.SecretString === undefined || out.VersionId === undefined)
        throw new ConfigError(`secret ${id} has no string value`);
      return {
        id,
        versionId: out.VersionId,
        raw: out.SecretString,
        value: parseConnectionSecret(id, out.SecretString, defaults),
      };
    },
    async writeSecret(id, raw) {
      const out = await clients.secrets.send(new PutSecretValueCommand({ SecretId: id, SecretString: raw }));
      return out.VersionId ?? "";
    },
    async scheduleState() {
      const out = await clients.scheduler.send(new GetScheduleCommand({ Name: scheduleName, GroupName }));
      return out.State === "ENABLED" ? "ENABLED" : "DISABLED";
    },
    async setScheduleState(State) {
      // UpdateSchedule replaces the whole schedule: send back everything it has, with the state.
      const s = await clients.scheduler.send(new GetScheduleCommand({ Name: scheduleName, GroupName }));
      if (!s.ScheduleExpression || !s.FlexibleTimeWindow || !s.Target)
        throw new ConfigError(`schedule ${scheduleName} is incomplete: no expression, window or target`);
      await clients.scheduler.send(
        new UpdateScheduleCommand({
          Name: scheduleName,
          GroupName,
          State,
          ScheduleExpression: s.ScheduleExpression,
          ScheduleExpressionTimezone: s.ScheduleExpressionTimezone,
          FlexibleTimeWindow: s.FlexibleTimeWindow,
          Target: s.Target,
          Description: s.Description,
          StartDate: s.StartDate,
          EndDate: s.EndDate,
          KmsKeyArn: s.KmsKeyArn,
          ActionAfterCompletion: s.ActionAfterCompletion,
        }),
      );
    },
    async alarmActionsEnabled() {
      const out = await clients.cloudwatch.send(
        new DescribeAlarmsCommand({ AlarmNames: [targets.noSuccessAlarm] }),
      );
      const alarm = out.MetricAlarms?.[0];
      if (!alarm) throw new ConfigError(`alarm ${targets.noSuccessAlarm} does not exist`);
      return alarm.ActionsEnabled === true;
    },
    async setAlarmActions(enabled) {
      const AlarmNames = [targets.noSuccessAlarm];
      await clients.cloudwatch.send(
        enabled
          ? new EnableAlarmActionsCommand({ AlarmNames })
          : new DisableAlarmActionsCommand({ AlarmNames }),
      );
    },
    async runningExecutions() {
      if (options.runningExecutions) return options.runningExecutions();
      const arns: string[] = [];
      let nextToken: string | undefined;
      do {
        const out = await clients.sfn.send(
          new ListExecutionsCommand({
            stateMachineArn: targets.stateMachineArn,
            statusFilter: "RUNNING",
            nextToken,
          }),
        );
        arns.push(...(out.executions ?? []).map((e) => e.executionArn ?? "?"));
        nextToken = out.nextToken;
      } while (nextToken);
      return arns;
    },
    async principal() {
      return (await clients.sts.send(new GetCallerIdentityCommand({}))).Arn ?? "unknown";
    },
    close() {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}
