/**
 * Source connections (docs/design.md §6, docs/adr/0016): per source database, three Secrets
 * Manager secrets holding the connection JSON of pipeline/connections/secret.ts.
 *
 * - `active` (`<name>-<source>`) is the one the pipeline reads: the functions at cold start by id,
 *   the Glue job postgres_extract at each run (`--secret_id`), and the Glue JDBC connection of
 *   `ddc` (`SECRET_ID`), so credentials live in one place. Pulumi creates its value once, from the
 *   snapshot settings; after that the cutover script owns it (`ignoreChanges`), so a later
 *   `pulumi up` never undoes a cutover. The connection's URL stays the snapshot's: the job takes
 *   url, user and password from the secret, and the connection only places it in the VPC.
 * - `snapshot` (`<name>-<source>-snapshot`) and `production` (`<name>-<source>-production`, only
 *   when the stack config names the production database) hold each side's settings and stay
 *   Pulumi's: `pulumi up` writes them from the stack config. The cutover copies one side into
 *   `active`; no function or job may read them.
 *
 * The values come from the stack's secret config (`pulumi config set --secret`), encrypted in the
 * stack file and in Pulumi state, never in an environment variable.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type ConnectionSecret, jdbcUrl, requiresTls } from "../pipeline/connections/secret.js";

/** Deleted secrets stay recoverable this long (Secrets Manager allows 7–30 days). */
export const SECRET_RECOVERY_DAYS = { retained: 30, disposable: 7 } as const;

/** What the cutover script writes in the active secret's version (Secrets Manager `PutSecretValue`). */
export const ACTIVE_SECRET_IGNORED = ["secretString"] as const;

/** One source's two sides: the snapshot the first bulk load reads, and production (if known). */
export interface SourceSides {
  readonly snapshot: ConnectionSecret;
  readonly production?: ConnectionSecret;
}

export interface SourceConnectionsArgs {
  readonly ddc: SourceSides;
  readonly mongodb: SourceSides;
  /** Where the Glue connection places the job's network interfaces. */
  readonly subnetId: string;
  readonly glueSecurityGroupId: pulumi.Input<string>;
  /** Longer recovery window for prod. */
  readonly retain: boolean;
}

/** One source's secrets. */
export interface SourceSecrets {
  /** What the pipeline reads; its value is the cutover script's after the first deployment. */
  readonly active: aws.secretsmanager.Secret;
  readonly snapshot: aws.secretsmanager.Secret;
  /** Absent until the stack config names the production database. */
  readonly production?: aws.secretsmanager.Secret;
}

export class SourceConnections extends pulumi.ComponentResource {
  /** The active secret of `ddc` (what the functions and the Glue connection read). */
  readonly ddcSecret: aws.secretsmanager.Secret;
  /** The active secret of `mongodb`. */
  readonly mongodbSecret: aws.secretsmanager.Secret;
  /** Every secret per source, by side. */
  readonly secrets: { readonly ddc: SourceSecrets; readonly mongodb: SourceSecrets };
  /** Glue JDBC connection of `ddc`, for postgres_extract. */
  readonly ddcConnection: aws.glue.Connection;

  constructor(name: string, args: SourceConnectionsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:sources:SourceConnections", name, {}, opts);
    const parent = { parent: this };
    const recoveryWindowInDays = args.retain
      ? SECRET_RECOVERY_DAYS.retained
      : SECRET_RECOVERY_DAYS.disposable;
    const secret = (
      resourceName: string,
      description: string,
      value: ConnectionSecret,
      versionOpts: pulumi.CustomResourceOptions = {},
    ) => {
      const s = new aws.secretsmanager.Secret(resourceName, { description, recoveryWindowInDays }, parent);
      new aws.secretsmanager.SecretVersion(
        resourceName,
        { secretId: s.id, secretString: pulumi.secret(JSON.stringify(value)) },
        { ...versionOpts, parent: s },
      );
      return s;
    };
    const format = "pipeline/connections/secret.ts format";
    const sourceSecrets = (source: "ddc" | "mongodb", sides: SourceSides): SourceSecrets => ({
      // Names unchanged since the single secret per source, so existing stacks keep it.
      active: secret(
        `${name}-${source}`,
        `oven lakehouse: connection to the ${source} source the pipeline reads (${format}); set by the cutover script after the first deployment`,
        sides.snapshot,
        { ignoreChanges: [...ACTIVE_SECRET_IGNORED] },
      ),
      snapshot: secret(
        `${name}-${source}-snapshot`,
        `oven lakehouse: ${source} snapshot settings (${format}), from the stack config; read by the cutover script only`,
        sides.snapshot,
      ),
      production:
        sides.production &&
        secret(
          `${name}-${source}-production`,
          `oven lakehouse: ${source} production settings (${format}), from the stack config; read by the cutover script only`,
          sides.production,
        ),
    });
    this.secrets = { ddc: sourceSecrets("ddc", args.ddc), mongodb: sourceSecrets("mongodb", args.mongodb) };
    this.ddcSecret = this.secrets.ddc.active;
    this.mongodbSecret = this.secrets.mongodb.active;
    this.ddcConnection = jdbcConnection(
      `${name}-ddc`,
      {
        description: "ddc PostgreSQL source (credentials from its secret)",
        jdbcUrl: pulumi.secret(jdbcUrl(args.ddc.snapshot)),
        secretId: this.ddcSecret.name,
        enforceSsl: requiresTls(args.ddc.snapshot),
        subnetId: args.subnetId,
        securityGroupId: args.glueSecurityGroupId,
      },
      parent,
    );
    this.registerOutputs({
      ddcSecretArn: this.ddcSecret.arn,
      mongodbSecretArn: this.mongodbSecret.arn,
      ddcConnectionName: this.ddcConnection.name,
    });
  }
}

export interface JdbcConnectionArgs {
  readonly description: string;
  readonly jdbcUrl: pulumi.Input<string>;
  /** Secrets Manager secret with `username` and `password` (Glue reads only those two keys). */
  readonly secretId: pulumi.Input<string>;
  /** Glue refuses to connect without TLS (JDBC_ENFORCE_SSL). */
  readonly enforceSsl: boolean;
  readonly subnetId: string;
  readonly securityGroupId: pulumi.Input<string>;
}

/**
 * A Glue JDBC connection in our VPC. Glue needs the subnet's Availability Zone, looked up from
 * the subnet id so config names only ids.
 */
export function jdbcConnection(
  name: string,
  args: JdbcConnectionArgs,
  opts: pulumi.CustomResourceOptions,
): aws.glue.Connection {
  const subnet = aws.ec2.getSubnetOutput({ id: args.subnetId }, { parent: opts.parent });
  return new aws.glue.Connection(
    name,
    {
      description: args.description,
      connectionType: "JDBC",
      connectionProperties: {
        JDBC_CONNECTION_URL: args.jdbcUrl,
        SECRET_ID: args.secretId,
        JDBC_ENFORCE_SSL: String(args.enforceSsl),
      },
      physicalConnectionRequirements: {
        subnetId: args.subnetId,
        availabilityZone: subnet.availabilityZone,
        securityGroupIdLists: [args.securityGroupId],
      },
    },
    opts,
  );
}
