/**
 * An object store from a URL: `s3://bucket/prefix` in AWS (or against moto), `file:///path` for
 * a local lake folder. Configuration names one URL per layer; code never branches on the kind.
 */

import { fileURLToPath } from "node:url";
import { S3Client } from "@aws-sdk/client-s3";
import { ConfigError } from "../errors.js";
import { LocalObjectStore } from "./local-store.js";
import type { ObjectStore } from "./object-store.js";
import { S3ObjectStore } from "./s3-store.js";

export function openObjectStore(url: string, s3: () => S3Client = defaultS3Client): ObjectStore {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`lake URL ${url} is not a URL (s3://bucket/prefix or file:///path)`);
  }
  switch (parsed.protocol) {
    case "s3:":
      if (!parsed.hostname) throw new ConfigError(`lake URL ${url} names no bucket`);
      return new S3ObjectStore({
        client: s3(),
        bucket: parsed.hostname,
        // Encryption is the bucket's default (KMS, set by the deployment), not per request.
        prefix: decodeURIComponent(parsed.pathname.replace(/^\//, "")),
      });
    case "file:":
      return new LocalObjectStore(fileURLToPath(parsed));
    default:
      throw new ConfigError(`lake URL ${url}: only s3:// and file:// are supported`);
  }
}

/** The SDK's default chain; against moto (AWS_ENDPOINT_URL set) buckets are addressed by path. */
export function defaultS3Client(): S3Client {
  return new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) });
}
