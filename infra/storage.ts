/**
 * Storage: one S3 bucket per lake layer and helper use (docs/design.md §4–5). Every bucket blocks public
 * access, is owned by the bucket owner (ACLs off), encrypts at rest by default with SSE-KMS
 * (the AWS-managed `aws/s3` key with S3 Bucket Keys: no key policy to keep, and every role that
 * may read an object may decrypt it) and refuses requests without TLS. Lifecycle rules expire
 * what is temporary: Glue's temp files, quarantined documents (after review time), Athena query
 * results and, when the stack sets `retention.rawDays`, raw objects (`rawCuratedDays`: the ones the
 * curate job has tagged as read, sooner); incomplete multipart uploads (a worker killed mid-upload)
 * are aborted everywhere.
 *
 * The data layers are versioned: a delete or an overwrite (by a job, an optimizer or a person)
 * leaves the previous version recoverable for `noncurrentDays`, after which it expires, so the
 * cost of the safety net is bounded; raw objects may keep theirs shorter (`rawNoncurrentDays`).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { QUARANTINE_PREFIX, RAW_CURATED_TAG } from "../pipeline/ingest/keys.js";
import { collections } from "../pipeline/schema/registry.js";
import { denyInsecureTransport, policyDocument } from "./policies.js";

/** The buckets, by the layer or use they hold. */
export const BUCKETS = {
  /** `postgres` database: Iceberg tables written by the postgres_extract job. */
  postgres: "postgres",
  /** MongoDB raw layer: Parquet objects from the worker, `_quarantine/` documents. */
  mongodbRaw: "mongodb-raw",
  /** MongoDB curated layer: Iceberg tables written by the mongodb_curate job (the warehouse). */
  mongodbCurated: "mongodb-curated",
  /** `analytics` database: pre-aggregated report tables. */
  analytics: "analytics",
  /** Athena query results (workgroup output). */
  athenaResults: "athena-results",
  /** Glue job scripts, the shared Python package, the job table list, Spark temp files. */
  glueAssets: "glue-assets",
} as const;

export type BucketKey = keyof typeof BUCKETS;

/** Prefixes the lifecycle rules and the jobs agree on. */
export const PREFIX = {
  quarantine: QUARANTINE_PREFIX,
  glueTemp: "temp/",
  glueScripts: "scripts/",
  glueLibraries: "lib/",
  glueConfig: "config/",
  sparkEvents: "spark-events/",
} as const;

/** The buckets holding lake data: versioned, so no role's delete is final. */
export const VERSIONED_BUCKETS: ReadonlySet<BucketKey> = new Set([
  "postgres",
  "mongodbRaw",
  "mongodbCurated",
  "analytics",
]);

/**
 * The curated layer's storage class: its files move to S3 Intelligent-Tiering as soon as they are
 * written (a lifecycle transition at day 0), so the history nobody reads drops to the infrequent
 * tier after 30 days and the archive instant tier after 90, at no retrieval fee; Athena and the
 * jobs read them as before. S3 leaves objects under 128 KB (Iceberg metadata) in Standard.
 */
export const CURATED_STORAGE_CLASS = "INTELLIGENT_TIERING";

/** An incomplete multipart upload older than this is aborted (its parts cost money, invisibly). */
export const ABORT_MULTIPART_DAYS = 2;

/**
 * A lifecycle rule's expirations under one prefix (and, with `tag`, only of objects carrying it):
 * the current object's, a version's, or both.
 */
interface Expiry {
  readonly id: string;
  readonly prefix: string;
  readonly tag?: { readonly key: string; readonly value: string };
  /** Days after writing the current object expires (versioned: becomes a version). */
  readonly days?: number;
  /** Days a version lives once replaced or expired. */
  readonly noncurrentDays?: number;
}

export interface LakeStorageArgs {
  /** Days quarantined documents stay for review before they expire. */
  readonly quarantineDays: number;
  /** Days Glue's temp files live. */
  readonly tempDays: number;
  /** Days Athena query results live. */
  readonly queryResultsDays: number;
  /** Days a deleted or overwritten version of lake data stays recoverable. */
  readonly noncurrentDays: number;
  /** Days raw Parquet objects live (then `rawNoncurrentDays` more as a version); unset: kept. */
  readonly rawDays?: number;
  /** Days raw objects the curate job has tagged curated live; unset: as long as the others. */
  readonly rawCuratedDays?: number;
  /** Days an expired or replaced raw object stays as a version; unset: `noncurrentDays`. */
  readonly rawNoncurrentDays?: number;
  /** Keep buckets (and their data) when the stack is destroyed; prod. */
  readonly retainOnDelete: boolean;
}

export interface LakeBucket {
  readonly bucket: aws.s3.Bucket;
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  /** `s3://<bucket>/` */
  readonly url: pulumi.Output<string>;
}

export class LakeStorage extends pulumi.ComponentResource {
  readonly buckets: Record<BucketKey, LakeBucket>;

  constructor(name: string, args: LakeStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:storage:LakeStorage", name, {}, opts);
    const { rawDays, rawCuratedDays, rawNoncurrentDays } = args;
    const expiring: Partial<Record<BucketKey, Expiry[]>> = {
      mongodbRaw: [
        { id: "expire-quarantine", prefix: PREFIX.quarantine, days: args.quarantineDays },
        // Rules a collection (`<collection>/idDevice=…`, `<collection>/packs/`): a rule on every
        // key would also reach `_quarantine/`, which keeps its own review time and versions.
        // Where two rules reach an object, S3 honours the shorter expiration of each kind.
        ...(rawDays === undefined && rawNoncurrentDays === undefined
          ? []
          : collections.map((c) => ({
              id: `expire-raw-${c.name}`,
              prefix: `${c.name}/`,
              ...(rawDays === undefined ? {} : { days: rawDays }),
              ...(rawNoncurrentDays === undefined ? {} : { noncurrentDays: rawNoncurrentDays }),
            }))),
        // What the curate job has read (its tag) goes early; the rest waits for it.
        ...(rawCuratedDays === undefined
          ? []
          : collections.map((c) => ({
              id: `expire-curated-raw-${c.name}`,
              prefix: `${c.name}/`,
              tag: RAW_CURATED_TAG,
              days: rawCuratedDays,
            }))),
      ],
      glueAssets: [
        { id: "expire-temp", prefix: PREFIX.glueTemp, days: args.tempDays },
        { id: "expire-spark-events", prefix: PREFIX.sparkEvents, days: args.tempDays },
      ],
      athenaResults: [{ id: "expire-query-results", prefix: "", days: args.queryResultsDays }],
    };
    const buckets = {} as Record<BucketKey, LakeBucket>;
    for (const [key, suffix] of Object.entries(BUCKETS) as [BucketKey, string][]) {
      buckets[key] = this.bucket(`${name}-${suffix}`, expiring[key] ?? [], {
        retainOnDelete: args.retainOnDelete,
        noncurrentDays: VERSIONED_BUCKETS.has(key) ? args.noncurrentDays : undefined,
        storageClass: key === "mongodbCurated" ? CURATED_STORAGE_CLASS : undefined,
      });
    }
    this.buckets = buckets;
    this.registerOutputs(Object.fromEntries(Object.entries(buckets).map(([k, b]) => [k, b.name])));
  }

  private bucket(
    name: string,
    expirations: readonly Expiry[],
    options: {
      readonly retainOnDelete: boolean;
      readonly noncurrentDays?: number;
      readonly storageClass?: string;
    },
  ): LakeBucket {
    const { retainOnDelete, noncurrentDays, storageClass } = options;
    const parent = { parent: this };
    const bucket = new aws.s3.Bucket(name, { forceDestroy: !retainOnDelete }, { ...parent, retainOnDelete });
    const child = { parent: bucket };
    new aws.s3.BucketPublicAccessBlock(
      name,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      child,
    );
    new aws.s3.BucketOwnershipControls(
      name,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      child,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      name,
      {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }],
      },
      child,
    );
    new aws.s3.BucketPolicy(
      name,
      { bucket: bucket.id, policy: policyDocument([denyInsecureTransport(bucket.arn)]) },
      child,
    );
    const versioning =
      noncurrentDays === undefined
        ? undefined
        : new aws.s3.BucketVersioning(
            name,
            { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
            child,
          );
    new aws.s3.BucketLifecycleConfiguration(
      name,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "abort-incomplete-uploads",
            status: "Enabled",
            filter: { prefix: "" },
            abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_MULTIPART_DAYS },
          },
          ...expirations.map((e) => ({
            id: e.id,
            status: "Enabled",
            filter:
              e.tag === undefined
                ? { prefix: e.prefix }
                : { and: { prefix: e.prefix, tags: { [e.tag.key]: e.tag.value } } },
            ...(e.days === undefined ? {} : { expiration: { days: e.days } }),
            ...(e.noncurrentDays === undefined
              ? {}
              : { noncurrentVersionExpiration: { noncurrentDays: e.noncurrentDays } }),
          })),
          ...(storageClass === undefined
            ? []
            : [
                {
                  id: "storage-class",
                  status: "Enabled",
                  filter: { prefix: "" },
                  transitions: [{ days: 0, storageClass }],
                },
              ]),
          ...(noncurrentDays === undefined
            ? []
            : [
                {
                  id: "expire-noncurrent-versions",
                  status: "Enabled",
                  filter: { prefix: "" },
                  noncurrentVersionExpiration: { noncurrentDays },
                  // A delete marker with no versions left behind it is clutter: remove it.
                  expiration: { expiredObjectDeleteMarker: true },
                },
              ]),
        ],
      },
      // Lifecycle rules on a versioned bucket apply once versioning is on.
      { ...child, dependsOn: versioning ? [versioning] : [] },
    );
    return { bucket, name: bucket.bucket, arn: bucket.arn, url: pulumi.interpolate`s3://${bucket.bucket}/` };
  }
}
