/**
 * The support database's migrations, applied as part of the deployment: a `migrate` function in
 * the VPC (bundle of pipeline/lambda/migrate.ts with `prisma/migrations` copied beside it) that
 * `aws.lambda.Invocation` runs whenever the migrations' checksum changes, after the database
 * exists and before the functions that need its tables are used. A function, not a local step:
 * the database is private, so only something inside the VPC can reach it, and `pulumi up` from a
 * laptop or CI then needs no network path to RDS. The runner is pipeline/support/migrate.ts
 * (ADR 0004): idempotent, under Prisma's advisory lock, each migration in one transaction.
 *
 * After the migrations the same function provisions one database user per component (plan,
 * worker, summarize, curate; pipeline/support/users.ts, ADR 0010) with only the grants its code
 * needs, and writes each user's credentials into that component's secret, declared here without a
 * value: passwords never pass through Pulumi's state. The master secret stays for migrations.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  SUPPORT_COMPONENTS,
  SUPPORT_USER_SECRETS_ENV,
  type SupportComponent,
  supportUsersChecksum,
} from "../pipeline/support/users.js";
import { lakeFunction, TLS_ENVIRONMENT } from "./functions.js";
import { PROJECT_ROOT } from "./paths.js";
import { allow, type NetworkScope, readSecrets } from "./policies.js";
import { SECRET_RECOVERY_DAYS } from "./sources.js";

/** Migrations take seconds; the timeout leaves room for waiting on another runner's lock. */
export const MIGRATE_TIMEOUT_SECONDS = 300;
export const MIGRATE_MEMORY_MB = 256;

/** SHA-256 over every migration's folder name and SQL: changes exactly when a migration does. */
export function migrationsChecksum(dir: string = join(PROJECT_ROOT, "prisma", "migrations")): string {
  const hash = createHash("sha256");
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  for (const name of names) {
    hash
      .update(name)
      .update("\0")
      .update(readFileSync(join(dir, name, "migration.sql")))
      .update("\0");
  }
  return hash.digest("hex");
}

export interface SupportMigrationsArgs {
  readonly environment: string;
  readonly codeDir: string;
  readonly database: {
    /** The instance or cluster writer: the migrations run once it accepts connections. */
    readonly ready: pulumi.Resource;
    readonly address: pulumi.Input<string>;
    readonly port: pulumi.Input<number>;
    readonly dbName: pulumi.Input<string>;
    readonly secretArn: pulumi.Input<string>;
  };
  readonly network: NetworkScope;
  readonly logRetentionDays: number;
  /** Longer recovery window for the users' secrets (prod). */
  readonly retain: boolean;
  readonly checksum?: string;
}

export class SupportMigrations extends pulumi.ComponentResource {
  readonly function: aws.lambda.Function;
  readonly invocation: aws.lambda.Invocation;
  readonly checksum: string;
  /** Each component's own credentials, written by the migrate function. */
  readonly userSecrets: Record<SupportComponent, aws.secretsmanager.Secret>;

  constructor(name: string, args: SupportMigrationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:database:SupportMigrations", name, {}, opts);
    const db = args.database;
    this.checksum = args.checksum ?? migrationsChecksum();
    this.userSecrets = {} as Record<SupportComponent, aws.secretsmanager.Secret>;
    for (const component of SUPPORT_COMPONENTS) {
      this.userSecrets[component] = new aws.secretsmanager.Secret(
        `${name}-user-${component}`,
        {
          description: `oven lakehouse: the support database user of ${component}, written by the migrate function`,
          recoveryWindowInDays: args.retain ? SECRET_RECOVERY_DAYS.retained : SECRET_RECOVERY_DAYS.disposable,
        },
        { parent: this },
      );
    }
    const userSecretArns = SUPPORT_COMPONENTS.map((c) => this.userSecrets[c].arn);
    this.function = lakeFunction(
      `${name}-migrate`,
      {
        description: "applies prisma/migrations to the support database (pipeline/support/migrate.ts)",
        codeDir: args.codeDir,
        memoryMb: MIGRATE_MEMORY_MB,
        timeoutSeconds: MIGRATE_TIMEOUT_SECONDS,
        environment: {
          SUPPORT_SECRET_ID: db.secretArn,
          SUPPORT_DB_HOST: db.address,
          SUPPORT_DB_PORT: pulumi.output(db.port).apply(String),
          SUPPORT_DB_NAME: db.dbName,
          LOG_LEVEL: "info",
          NODE_EXTRA_CA_CERTS: TLS_ENVIRONMENT.NODE_EXTRA_CA_CERTS,
          [SUPPORT_USER_SECRETS_ENV]: pulumi.jsonStringify(
            Object.fromEntries(SUPPORT_COMPONENTS.map((c) => [c, this.userSecrets[c].arn])),
          ),
        },
        statements: [
          readSecrets("SupportSecret", [db.secretArn]),
          allow(
            "UserSecrets",
            ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
            userSecretArns,
          ),
        ],
        network: args.network,
        logRetentionDays: args.logRetentionDays,
        logGroupName: `/oven-lakehouse/${args.environment}/lambda/migrate`,
      },
      this,
    );
    this.invocation = new aws.lambda.Invocation(
      `${name}-apply`,
      {
        functionName: this.function.name,
        input: JSON.stringify({ checksum: this.checksum }),
        // Re-invoked exactly when a migration file or a user's grants change; the runner skips
        // applied migrations and unchanged users anyway.
        triggers: {
          migrations: this.checksum,
          users: supportUsersChecksum(),
          secrets: pulumi.all(userSecretArns).apply((arns) => arns.join(",")),
        },
      },
      { parent: this, dependsOn: [db.ready, this.function, ...Object.values(this.userSecrets)] },
    );
    this.registerOutputs({
      functionName: this.function.name,
      checksum: this.checksum,
      userSecretArns: Object.fromEntries(SUPPORT_COMPONENTS.map((c) => [c, this.userSecrets[c].arn])),
    });
  }
}
