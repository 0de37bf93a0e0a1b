/**
 * Local runs keep the stack's connection settings in moto's Secrets Manager under fixed names,
 * written on every run (idempotent), so the functions take the same path as in AWS: secret id in
 * the environment, settings read at cold start.
 */
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import type { ConnectionSecret } from "../../pipeline/connections/secret.js";

export async function putSecret(
  client: SecretsManagerClient,
  name: string,
  value: ConnectionSecret,
): Promise<void> {
  const SecretString = JSON.stringify(value);
  try {
    await client.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await client.send(new CreateSecretCommand({ Name: name, SecretString }));
  }
}
