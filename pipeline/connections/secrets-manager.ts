/**
 * Reads connection secrets from Secrets Manager (or moto locally: the SDK follows
 * `AWS_ENDPOINT_URL`). Lambdas call this once per cold start and keep the clients it feeds.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ConfigError, PipelineError } from "../errors.js";
import { type ConnectionSecret, parseConnectionSecret } from "./secret.js";

/** Secrets Manager could not be reached or refused: a retry may succeed (throttling, network). */
export class SecretUnavailableError extends PipelineError {
  readonly retryable = true;
}

export async function readConnectionSecret(
  client: SecretsManagerClient,
  secretId: string,
  defaults: Partial<Record<string, unknown>> = {},
): Promise<ConnectionSecret> {
  let value: string | undefined;
  try {
    value = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
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
  if (value === undefined) throw new ConfigError(`secret ${secretId} has no string value`);
  return parseConnectionSecret(secretId, value, defaults);
}
