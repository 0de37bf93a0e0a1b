/**
 * The local deployment: the resources `pulumi up` creates in AWS that a cutover acts on, created
 * in moto the way Pulumi does after ADR 0016. Every run writes the Pulumi-owned ones (each side's
 * settings, the support secret) and creates the script-owned ones only when missing: the secrets
 * the functions read (from the snapshot settings), the schedule (disabled) and the no-success
 * alarm (actions off). So a run after `npm run cutover -- --stack local --execute` reads
 * production, as a deployed stack does after `pulumi up`.
 *
 * moto keeps its state in memory: after `npm run stack stop` the next run creates the local
 * deployment anew, on the snapshot.
 */
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand } from "@aws-sdk/client-cloudwatch";
import {
  CreateScheduleCommand,
  GetScheduleCommand,
  ResourceNotFoundException as ScheduleNotFound,
  SchedulerClient,
} from "@aws-sdk/client-scheduler";
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import {
  type ConnectionSecret,
  parseConnectionSecret,
  secretFromUrl,
} from "../../pipeline/connections/secret.js";
import { sameSettings } from "../../pipeline/cutover/cutover.js";
import type { CutoverTargets, Side, Source } from "../../pipeline/cutover/targets.js";
import type { LocalConfig } from "../config.js";
import { putSecret } from "../connections/local-secrets.js";
import { LOCAL_STATE_MACHINE_ARN } from "./local-machine.js";

/** Secret names of the local run: fixed per prefix. */
export const LOCAL_SECRET_PREFIX = "lakehouse/local";
export const localSecretNames = (prefix = LOCAL_SECRET_PREFIX) =>
  ({ ddc: `${prefix}/ddc`, mongodb: `${prefix}/mongodb`, support: `${prefix}/support` }) as const;

const slug = (prefix: string) => prefix.replace(/[^A-Za-z0-9-]+/g, "-");

/** Each side's settings from the local configuration; production only when it is configured. */
export function localSides(config: LocalConfig): Record<Side, Partial<Record<Source, ConnectionSecret>>> {
  return {
    snapshot: {
      ddc: secretFromUrl(config.DDC_DATABASE_URL),
      mongodb: secretFromUrl(config.MONGODB_URL, config.MONGODB_DATABASE),
    },
    production: {
      ...(config.PRODUCTION_DDC_DATABASE_URL && { ddc: secretFromUrl(config.PRODUCTION_DDC_DATABASE_URL) }),
      ...(config.PRODUCTION_MONGODB_DATABASE && {
        mongodb: secretFromUrl(
          config.PRODUCTION_MONGODB_URL ?? config.MONGODB_URL,
          config.PRODUCTION_MONGODB_DATABASE,
        ),
      }),
    },
  };
}

/** What `npm run cutover -- --stack local` acts on (the stack output `cutover` of a real stack). */
export function localCutoverTargets(config: LocalConfig, prefix = LOCAL_SECRET_PREFIX): CutoverTargets {
  const names = localSecretNames(prefix);
  const production = localSides(config).production;
  const source = (s: Source) => ({
    active: names[s],
    snapshot: `${prefix}/snapshot/${s}`,
    ...(production[s] && { production: `${prefix}/production/${s}` }),
  });
  return {
    secrets: { ddc: source("ddc"), mongodb: source("mongodb") },
    schedule: { name: `${slug(prefix)}-schedule`, group: "default" },
    noSuccessAlarm: `${slug(prefix)}-no-success`,
    stateMachineArn: LOCAL_STATE_MACHINE_ARN,
    support: { secret: names.support },
  };
}

async function readValue(client: SecretsManagerClient, id: string): Promise<ConnectionSecret | undefined> {
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: id }));
    return out.SecretString === undefined ? undefined : parseConnectionSecret(id, out.SecretString);
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/**
 * Creates or brings up to date the local deployment (idempotent), as `pulumi up` would.
 * @returns the cutover targets, and which side the sources are read from.
 */
export async function provisionLocalDeployment(
  config: LocalConfig,
  prefix = LOCAL_SECRET_PREFIX,
): Promise<{ targets: CutoverTargets; reading: Record<Source, Side> }> {
  const targets = localCutoverTargets(config, prefix);
  const sides = localSides(config);
  const secrets = new SecretsManagerClient({});
  const scheduler = new SchedulerClient({});
  const cloudwatch = new CloudWatchClient({});
  try {
    await putSecret(secrets, localSecretNames(prefix).support, secretFromUrl(config.SUPPORT_DATABASE_URL));
    const reading = {} as Record<Source, Side>;
    for (const source of ["ddc", "mongodb"] as const) {
      const ids = targets.secrets[source];
      const snapshot = sides.snapshot[source] as ConnectionSecret;
      const production = sides.production[source];
      await putSecret(secrets, ids.snapshot, snapshot);
      if (ids.production && production) await putSecret(secrets, ids.production, production);
      // The active secret is the cutover's once it exists. One that holds neither side is from
      // other settings (the stack's ports or databases changed): it starts again on the snapshot.
      const active = await readValue(secrets, ids.active);
      if (active && production && sameSettings(active, production)) reading[source] = "production";
      else {
        if (!active || !sameSettings(active, snapshot)) await putSecret(secrets, ids.active, snapshot);
        reading[source] = "snapshot";
      }
    }
    await ensureSchedule(scheduler, targets);
    await ensureAlarm(cloudwatch, targets);
    return { targets, reading };
  } finally {
    secrets.destroy();
    scheduler.destroy();
    cloudwatch.destroy();
  }
}

async function ensureSchedule(client: SchedulerClient, targets: CutoverTargets): Promise<void> {
  const { name: Name, group: GroupName } = targets.schedule;
  try {
    await client.send(new GetScheduleCommand({ Name, GroupName }));
  } catch (error) {
    if (!(error instanceof ScheduleNotFound)) throw error;
    await client.send(
      new CreateScheduleCommand({
        Name,
        GroupName,
        Description: "local stand-in of the pipeline's schedule (enabled by the cutover)",
        ScheduleExpression: "rate(1 day)",
        FlexibleTimeWindow: { Mode: "OFF" },
        State: "DISABLED",
        Target: {
          Arn: targets.stateMachineArn,
          RoleArn: "arn:aws:iam::000000000000:role/lakehouse-local-scheduler",
        },
      }),
    );
  }
}

async function ensureAlarm(client: CloudWatchClient, targets: CutoverTargets): Promise<void> {
  const found = await client.send(new DescribeAlarmsCommand({ AlarmNames: [targets.noSuccessAlarm] }));
  if (found.MetricAlarms?.length) return;
  await client.send(
    new PutMetricAlarmCommand({
      AlarmName: targets.noSuccessAlarm,
      AlarmDescription: "local stand-in of the no-success alarm (armed by the cutover)",
      Namespace: "AWS/States",
      MetricName: "ExecutionsSucceeded",
      Dimensions: [{ Name: "StateMachineArn", Value: targets.stateMachineArn }],
      Statistic: "Sum",
      Period: 3600,
      EvaluationPeriods: 24,
      Threshold: 1,
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "breaching",
      ActionsEnabled: false,
    }),
  );
}
