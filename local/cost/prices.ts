/**
 * AWS list prices the cost model multiplies by (issue 17), each with its unit, region, the date it
 * stands for and the AWS page it comes from. On-demand, no free tier, no Savings Plans, USD.
 *
 * These were NOT fetched from AWS by this repository: the session that wrote them had no internet
 * access, so they are the public list prices as recalled for the date below (`verified: false`).
 * Check them against the pages (or the AWS Pricing Calculator) before quoting a figure; a changed
 * price is a one-line edit here, and the tests check the model's arithmetic, never these values.
 *
 * The billing rules that are not prices (minimum billed durations and sizes, proration) are in
 * {@link BILLING}, each with its source.
 */

/** Where the figures below apply: the region of both `Pulumi.dev.yaml` and `Pulumi.prod.yaml`. */
export const PRICED_REGION = "eu-west-1";
/** The month the figures stand for. */
export const PRICES_AS_OF = "2025-06";

/** How the figures were obtained (every price carries it as `basis`). */
export const PRICE_BASIS =
  "public list prices recalled, not fetched (the session that wrote them had no internet access): verify before quoting";

export interface Price {
  readonly key: PriceKey;
  readonly service: string;
  readonly what: string;
  readonly usd: number;
  /** What one `usd` buys: `GB-second`, `1,000 requests`, `DPU-hour` ... */
  readonly unit: string;
  readonly region: string;
  readonly asOf: string;
  /** The AWS pricing page. */
  readonly source: string;
  /** False: recalled, not read off the page by this repository ({@link PRICE_BASIS}). */
  readonly verified: boolean;
  readonly basis: string;
}

type Entry = Omit<Price, "key" | "region" | "asOf" | "verified" | "source" | "basis"> & {
  readonly url: string;
};

const LAMBDA = "https://aws.amazon.com/lambda/pricing/";
const S3 = "https://aws.amazon.com/s3/pricing/";
const RDS = "https://aws.amazon.com/rds/postgresql/pricing/";
const AURORA = "https://aws.amazon.com/rds/aurora/pricing/";
const GLUE = "https://aws.amazon.com/glue/pricing/";
const CLOUDWATCH = "https://aws.amazon.com/cloudwatch/pricing/";
const VPC = "https://aws.amazon.com/privatelink/pricing/";

const ENTRIES = {
  lambdaArmGbSecond: {
    service: "Lambda",
    what: "duration, Arm (Graviton), first 7.5 billion GB-s a month",
    usd: 0.0000133334,
    unit: "GB-second",
    url: LAMBDA,
  },
  lambdaX86GbSecond: {
    service: "Lambda",
    what: "duration, x86, first 6 billion GB-s a month",
    usd: 0.0000166667,
    unit: "GB-second",
    url: LAMBDA,
  },
  lambdaRequests: {
    service: "Lambda",
    what: "requests",
    usd: 0.2,
    unit: "1,000,000 requests",
    url: LAMBDA,
  },
  stepFunctionsTransitions: {
    service: "Step Functions",
    what: "Standard workflow state transitions",
    usd: 0.025,
    unit: "1,000 transitions",
    url: "https://aws.amazon.com/step-functions/pricing/",
  },
  glueDpuHour: {
    service: "Glue",
    what: "Spark job (Glue 5.0, standard execution), billed per second",
    usd: 0.44,
    unit: "DPU-hour",
    url: GLUE,
  },
  glueFlexDpuHour: {
    service: "Glue",
    what: "Spark job, Flex execution class (spare capacity; start and run times vary)",
    usd: 0.29,
    unit: "DPU-hour",
    url: GLUE,
  },
  glueOptimizerDpuHour: {
    service: "Glue",
    what: "Iceberg table optimizers (compaction, snapshot retention, orphan file deletion)",
    usd: 0.44,
    unit: "DPU-hour",
    url: GLUE,
  },
  s3StandardGbMonth: {
    service: "S3",
    what: "S3 Standard storage, first 50 TB a month",
    usd: 0.023,
    unit: "GB-month",
    url: S3,
  },
  s3IntelligentInfrequentGbMonth: {
    service: "S3",
    what: "S3 Intelligent-Tiering, Infrequent Access tier (objects not read for 30 days)",
    usd: 0.0125,
    unit: "GB-month",
    url: S3,
  },
  s3IntelligentArchiveInstantGbMonth: {
    service: "S3",
    what: "S3 Intelligent-Tiering, Archive Instant Access tier (objects not read for 90 days)",
    usd: 0.005,
    unit: "GB-month",
    url: S3,
  },
  s3IntelligentMonitoring: {
    service: "S3",
    what: "S3 Intelligent-Tiering monitoring and automation (objects of 128 KB or more)",
    usd: 0.0025,
    unit: "1,000 objects a month",
    url: S3,
  },
  s3PutRequests: {
    service: "S3",
    what: "PUT, COPY, POST, LIST requests (S3 Standard)",
    usd: 0.005,
    unit: "1,000 requests",
    url: S3,
  },
  s3GetRequests: {
    service: "S3",
    what: "GET, SELECT and other requests (S3 Standard)",
    usd: 0.0004,
    unit: "1,000 requests",
    url: S3,
  },
  athenaTbScanned: {
    service: "Athena",
    what: "SQL queries, per TB scanned (10 MB minimum per query)",
    usd: 5,
    unit: "TB scanned",
    url: "https://aws.amazon.com/athena/pricing/",
  },
  rdsGp3GbMonth: {
    service: "RDS",
    what: "PostgreSQL gp3 storage, Single-AZ (Multi-AZ bills twice)",
    usd: 0.127,
    unit: "GB-month",
    url: RDS,
  },
  auroraServerlessAcuHour: {
    service: "RDS",
    what: "Aurora PostgreSQL Serverless v2 capacity, Aurora Standard (nothing while paused at 0 ACU)",
    usd: 0.14,
    unit: "ACU-hour",
    url: AURORA,
  },
  auroraStorageGbMonth: {
    service: "RDS",
    what: "Aurora Standard storage, the volume's used bytes",
    usd: 0.11,
    unit: "GB-month",
    url: AURORA,
  },
  auroraIoRequests: {
    service: "RDS",
    what: "Aurora Standard I/O requests",
    usd: 0.22,
    unit: "1,000,000 requests",
    url: AURORA,
  },
  rdsT4gMicroHour: {
    service: "RDS",
    what: "db.t4g.micro PostgreSQL, Single-AZ on-demand",
    usd: 0.018,
    unit: "instance-hour",
    url: RDS,
  },
  rdsT4gSmallHour: {
    service: "RDS",
    what: "db.t4g.small PostgreSQL, Single-AZ on-demand",
    usd: 0.036,
    unit: "instance-hour",
    url: RDS,
  },
  rdsT4gMediumHour: {
    service: "RDS",
    what: "db.t4g.medium PostgreSQL, Single-AZ on-demand",
    usd: 0.072,
    unit: "instance-hour",
    url: RDS,
  },
  rdsT4gLargeHour: {
    service: "RDS",
    what: "db.t4g.large PostgreSQL, Single-AZ on-demand",
    usd: 0.144,
    unit: "instance-hour",
    url: RDS,
  },
  rdsM7gLargeHour: {
    service: "RDS",
    what: "db.m7g.large PostgreSQL, Single-AZ on-demand",
    usd: 0.186,
    unit: "instance-hour",
    url: RDS,
  },
  vpcInterfaceEndpointHour: {
    service: "VPC",
    what: "interface endpoint (PrivateLink), per endpoint per Availability Zone",
    usd: 0.011,
    unit: "endpoint-AZ-hour",
    url: VPC,
  },
  vpcInterfaceEndpointGb: {
    service: "VPC",
    what: "data processed by interface endpoints, first PB",
    usd: 0.01,
    unit: "GB",
    url: VPC,
  },
  natGatewayGb: {
    service: "VPC",
    what: "NAT gateway data processed",
    usd: 0.048,
    unit: "GB",
    url: "https://aws.amazon.com/vpc/pricing/",
  },
  interAzTransferGb: {
    service: "EC2",
    what: "data transfer between Availability Zones, each direction",
    usd: 0.01,
    unit: "GB",
    url: "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer",
  },
  secretsManagerSecretMonth: {
    service: "Secrets Manager",
    what: "secret stored (RDS-managed secrets included)",
    usd: 0.4,
    unit: "secret-month",
    url: "https://aws.amazon.com/secrets-manager/pricing/",
  },
  secretsManagerApiCalls: {
    service: "Secrets Manager",
    what: "API calls",
    usd: 0.05,
    unit: "10,000 API calls",
    url: "https://aws.amazon.com/secrets-manager/pricing/",
  },
  kmsKeyMonth: {
    service: "KMS",
    what: "customer managed key (AWS managed keys have no monthly fee)",
    usd: 1,
    unit: "key-month",
    url: "https://aws.amazon.com/kms/pricing/",
  },
  kmsRequests: {
    service: "KMS",
    what: "symmetric requests",
    usd: 0.03,
    unit: "10,000 requests",
    url: "https://aws.amazon.com/kms/pricing/",
  },
  cloudwatchLogsIngestGb: {
    service: "CloudWatch",
    what: "Logs ingestion, Standard log class",
    usd: 0.57,
    unit: "GB ingested",
    url: CLOUDWATCH,
  },
  cloudwatchLogsStorageGbMonth: {
    service: "CloudWatch",
    what: "Logs storage (archived, compressed)",
    usd: 0.03,
    unit: "GB-month",
    url: CLOUDWATCH,
  },
  cloudwatchMetricMonth: {
    service: "CloudWatch",
    what: "custom metric (EMF included), first 10,000, prorated by the hour",
    usd: 0.3,
    unit: "metric-month",
    url: CLOUDWATCH,
  },
  cloudwatchAlarmMonth: {
    service: "CloudWatch",
    what: "standard-resolution alarm metric",
    usd: 0.1,
    unit: "alarm-month",
    url: CLOUDWATCH,
  },
  quicksightAuthorMonth: {
    service: "QuickSight",
    what: "Enterprise author",
    usd: 24,
    unit: "user-month",
    url: "https://aws.amazon.com/quicksight/pricing/",
  },
  quicksightReaderMonth: {
    service: "QuickSight",
    what: "Enterprise reader",
    usd: 3,
    unit: "user-month",
    url: "https://aws.amazon.com/quicksight/pricing/",
  },
} as const satisfies Record<string, Entry>;

export type PriceKey = keyof typeof ENTRIES;
export type PriceBook = Readonly<Record<PriceKey, Price>>;

/** The RDS instance classes priced here, by class name. */
export const RDS_INSTANCE_PRICES: Readonly<Record<string, PriceKey>> = {
  "db.t4g.micro": "rdsT4gMicroHour",
  "db.t4g.small": "rdsT4gSmallHour",
  "db.t4g.medium": "rdsT4gMediumHour",
  "db.t4g.large": "rdsT4gLargeHour",
  "db.m7g.large": "rdsM7gLargeHour",
};

/** The price book of a region; only {@link PRICED_REGION} is priced. */
export function pricesFor(region: string): PriceBook | undefined {
  if (region !== PRICED_REGION) return undefined;
  return Object.freeze(
    Object.fromEntries(
      Object.entries(ENTRIES).map(([key, e]) => {
        const { url, ...rest } = e as Entry;
        const price: Price = {
          key: key as PriceKey,
          ...rest,
          region,
          asOf: PRICES_AS_OF,
          source: url,
          verified: false,
          basis: PRICE_BASIS,
        };
        return [key, Object.freeze(price)];
      }),
    ) as Record<PriceKey, Price>,
  );
}

/** How AWS bills, beyond the prices: minimums and proration the model applies. */
export const BILLING = {
  /** Glue 2.0 and later bill Spark jobs per second with a 1-minute minimum per run. */
  glueMinimumSeconds: { value: 60, source: `${GLUE} ("1-minute minimum billing duration")` },
  /** Athena bills at least 10 MB per query, rounded up to the next megabyte. */
  athenaMinimumBytes: {
    value: 10_000_000,
    source: 'https://aws.amazon.com/athena/pricing/ ("10 MB minimum per query")',
  },
  /** Custom metrics are billed for the hours in which they receive data. */
  metricHoursPerMonth: {
    value: 730,
    source: `${CLOUDWATCH} ("metrics are prorated by the hour")`,
  },
  /** A month, as AWS's monthly prices count it. */
  hoursPerMonth: { value: 730, source: "AWS pricing pages (monthly figures = 730 hours)" },
  /** Multi-AZ RDS bills the instance and its storage twice (primary and standby). */
  rdsMultiAzFactor: { value: 2, source: RDS },
  /** A Glue DPU: 4 vCPUs and 16 GB; G.1X is 1 DPU, G.2X 2, G.4X 4, G.8X 8. */
  dpuPerWorker: {
    value: { "G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8 } as Readonly<Record<string, number>>,
    source: "https://docs.aws.amazon.com/glue/latest/dg/add-job.html (worker types)",
  },
  vcpusPerDpu: { value: 4, source: GLUE },
} as const;
