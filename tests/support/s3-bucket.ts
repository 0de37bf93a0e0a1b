/**
 * A throwaway bucket on the local stack's moto server: unique per test file, emptied (objects and
 * pending multipart uploads) and deleted afterwards.
 */
import { randomUUID } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  type BucketLocationConstraint,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  paginateListObjectsV2,
  S3Client,
} from "@aws-sdk/client-s3";
import { LocalConfigSchema } from "../../local/config.js";
import { parseEnv } from "../../pipeline/config.js";

const S3TestConfigSchema = LocalConfigSchema.pick({ AWS_ENDPOINT_URL: true, AWS_REGION: true }).required({
  AWS_ENDPOINT_URL: true,
});

/** A client for moto: path-style addressing (no bucket DNS on loopback), any credentials. */
export function motoClient(overrides: { endpoint?: string; maxAttempts?: number } = {}): S3Client {
  const config = parseEnv(S3TestConfigSchema, "S3 tests");
  return new S3Client({
    endpoint: overrides.endpoint ?? config.AWS_ENDPOINT_URL,
    region: config.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    ...(overrides.maxAttempts !== undefined && { maxAttempts: overrides.maxAttempts }),
  });
}

export async function createTestBucket(client: S3Client, label: string): Promise<string> {
  const bucket = `${label}-${randomUUID().slice(0, 8)}`;
  const region = await client.config.region();
  await client.send(
    new CreateBucketCommand({
      Bucket: bucket,
      CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint },
    }),
  );
  return bucket;
}

/** Multipart uploads started and neither completed nor aborted, as `key (uploadId)`. */
export async function pendingUploads(client: S3Client, bucket: string): Promise<string[]> {
  const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (out.Uploads ?? []).map((u) => `${u.Key} (${u.UploadId})`);
}

export async function deleteTestBucket(client: S3Client, bucket: string): Promise<void> {
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  for (const u of uploads.Uploads ?? []) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
  }
  for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket })) {
    for (const object of page.Contents ?? []) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
    }
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}
