/**
 * Source connections (docs/design.md §6): one Secrets Manager secret per source database, holding the
 * connection JSON of pipeline/connections/secret.ts. The functions read them at cold start by
 * id; the Glue JDBC connection of `ddc` names the same secret (`SECRET_ID`), so credentials live
 * in one place. The values come from the stack's secret config (`pulumi config set --secret`),
 * encrypted in the stack file and in Pulumi state, never in an environment variable.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ConnectionSecret } from "../pipeline/connections/secret.js";

/** Deleted secrets stay recoverable this long (Secrets Manager allows 7–30 days). */
export const SECRET_RECOVERY_DAYS = { retained: 30, disposable: 7 } as const;

export interface SourceConnectionsArgs {
  readonly ddc: ConnectionSecret;
  readonly mongodb: ConnectionSecret;
  /** Where the Glue connection places the job's network interfaces. */
  readonly subnetId: string;
  readonly glueSecurityGroupId: pulumi.Input<string>;
  /** Longer recovery window for prod. */
  readonly retain: boolean;
}

export class SourceConnections extends pulumi.ComponentResource {
  readonly ddcSecret: aws.secretsmanager.Secret;
  readonly mongodbSecret: aws.secretsmanager.Secret;
  /** Glue JDBC connection of `ddc`, for postgres_extract. */
  readonly ddcConnection: aws.glue.Connection;

  constructor(name: string, args: SourceConnectionsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:sources:SourceConnections", name, {}, opts);
    const parent = { parent: this };
    const secret = (source: string, value: ConnectionSecret) => {
      const s = new aws.secretsmanager.Secret(
        `${name}-${source}`,
        {
          description: `oven lakehouse: connection to the ${source} source (pipeline/connections/secret.ts format)`,
          recoveryWindowInDays: args.retain ? SECRET_RECOVERY_DAYS.retained : SECRET_RECOVERY_DAYS.disposable,
        },
        parent,
      );
      new aws.secretsmanager.SecretVersion(
        `${name}-${source}`,
        { secretId: s.id, secretString: pulumi.secret(JSON.stringify(value)) },
        { parent: s },
      );
      return s;
    };
    this.ddcSecret = secret("ddc", args.ddc);
    this.mongodbSecret = secret("mongodb", args.mongodb);
    this.ddcConnection = jdbcConnection(
      `${name}-ddc`,
      {
        description: "ddc PostgreSQL source (credentials from its secret)",
        jdbcUrl: pulumi.secret(postgresJdbcUrl(args.ddc)),
        secretId: this.ddcSecret.name,
        enforceSsl: requiresTls(args.ddc),
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

/** `jdbc:postgresql://host:port/db`, with the secret's URL options (e.g. `sslmode`). */
export function postgresJdbcUrl(c: Pick<ConnectionSecret, "host" | "port" | "dbname" | "options">): string {
  const params = new URLSearchParams(
    Object.entries(c.options).map(([k, v]): [string, string] => [k, String(v)]),
  );
  const query = params.size > 0 ? `?${params}` : "";
  return `jdbc:postgresql://${c.host}:${c.port ?? 5432}/${c.dbname}${query}`;
}

/** Whether a PostgreSQL secret asks for TLS (`sslmode` require or stricter). */
export function requiresTls(c: Pick<ConnectionSecret, "options">): boolean {
  return ["require", "verify-ca", "verify-full"].includes(String(c.options.sslmode ?? ""));
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
