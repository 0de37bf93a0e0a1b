/**
 * Reads connection secrets from Secrets Manager (or moto locally: the SDK follows
 * `AWS_ENDPOINT_URL`). Lambdas read a secret when they first open its connection and keep the
 * client it feeds; each invocation then checks the secret's `VersionId` only (a cutover writes a
 * new version: pipeline/lambda/runtime.ts).
 */
import {
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { ConfigError, PipelineError } from "../errors.js";
import { type ConnectionSecret, parseConnectionSecret } from "./secret.js";

/** Secrets Manager could not be reached or refused: a retry may succeed (throttling, network). */
export class SecretUnavailableError extends PipelineError {
  readonly retryable = true;
}

/** A connection secret with the version it was read at: `AWSCURRENT`'s `VersionId` then. */
export interface VersionedSecret {
  readonly secret: ConnectionSecret;
  /** Undefined only if the service leaves it out (AWS and moto always send it). */
  readonly versionId: string | undefined;
}

/**
 * `GetSecretValue`, not `DescribeSecret`, even where only the version is wanted: the functions'
 * roles grant just the former, and its answer names the current version as well.
 */
async function getSecretValue(
  client: SecretsManagerClient,
  secretId: string,
): Promise<GetSecretValueCommandOutput> {
  try {
    return await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  } catch (error) {
    const name = (error as { name?: string }).name;
    // A missing secret or a denied read will not heal by retrying: say which secret.
    if (name === "ResourceNotFoundException" || name === "AccessDeniedException")
      throw new ConfigError(`secret ${secretId}: ${name}`, {}, { cause: error });
    throw new SecretUnavailableError(
      `secret ${secretId} could not be read: ${String(error)}`,
      {},
      { cause: error },
    );
  }
}

export async function readConnectionSecretVersion(
  client: SecretsManagerClient,
  secretId: string,
  defaults: Partial<Record<string, unknown>> = {},
): Promise<VersionedSecret> {
  const { SecretString: value, VersionId: versionId } = await getSecretValue(client, secretId);
  if (value === undefined) throw new ConfigError(`secret ${secretId} has no string value`);
  return { secret: parseConnectionSecret(secretId, value, defaults), versionId };
}

export async function readConnectionSecret(
  client: SecretsManagerClient,
  secretId: string,
  defaults: Partial<Record<string, unknown>> = {},
): Promise<ConnectionSecret> {
  return (await readConnectionSecretVersion(client, secretId, defaults)).secret;
}

/**
 * The secret's current `VersionId`, without parsing its value: a new version that does not parse
 * must still count as a change, so the connection is reopened and the bad value fails loudly there
 * instead of the old source being read on.
 */
export async function readSecretVersionId(
  client: SecretsManagerClient,
  secretId: string,
): Promise<string | undefined> {
  return (await getSecretValue(client, secretId)).VersionId;
}
