/**
 * Support database (docs/design.md §4): PostgreSQL holding bookmarks, run metrics, stored plans and
 * the raw-file ledger, as an RDS instance or as an Aurora Serverless v2 cluster that pauses between
 * runs (`supportDatabase.kind`; ADR 0021). Either way encrypted at rest, TLS enforced
 * (`rds.force_ssl`), never publicly accessible, reachable only from the functions' and Glue
 * connections' security groups. The master password is managed by RDS in Secrets Manager
 * (`manageMasterUserPassword`): it is never in config, state or environment; that secret holds only
 * username and password, so host, port and database name travel beside its ARN
 * (SUPPORT_DB_HOST/PORT/NAME).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { SupportDatabaseConfig } from "./config.js";

export const SUPPORT_DB_PORT = 5432;
export const SUPPORT_DB_NAME = "support";
export const SUPPORT_DB_USER = "lakehouse";

export interface SupportDatabaseArgs {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  /** Security groups allowed to connect (functions, Glue connections). */
  readonly clientSecurityGroupIds: readonly pulumi.Input<string>[];
  readonly config: SupportDatabaseConfig;
  /** Deletion protection, a final snapshot on delete, and Pulumi's retainOnDelete. */
  readonly deletionProtection: boolean;
}

export class SupportDatabase extends pulumi.ComponentResource {
  /** What accepts connections (the instance, or the cluster's writer): migrations wait for it. */
  readonly ready: pulumi.Resource;
  /** `DBInstanceIdentifier` of the instance or the writer: the dimension of its metrics. */
  readonly instanceId: pulumi.Output<string>;
  readonly address: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly dbName: pulumi.Output<string>;
  /** The RDS-managed secret holding the master username and password. */
  readonly secretArn: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;

  constructor(name: string, args: SupportDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:database:SupportDatabase", name, {}, opts);
    const parent = { parent: this };

    const sg = new aws.ec2.SecurityGroup(
      `${name}-db`,
      { vpcId: args.vpcId, description: "oven lakehouse support database" },
      parent,
    );
    args.clientSecurityGroupIds.forEach((client, i) => {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-db-from-client-${i}`,
        {
          securityGroupId: sg.id,
          ipProtocol: "tcp",
          fromPort: SUPPORT_DB_PORT,
          toPort: SUPPORT_DB_PORT,
          referencedSecurityGroupId: client,
          description: "PostgreSQL from the lake's functions and Glue jobs",
        },
        parent,
      );
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-db-to-client-${i}`,
        {
          securityGroupId: client,
          ipProtocol: "tcp",
          fromPort: SUPPORT_DB_PORT,
          toPort: SUPPORT_DB_PORT,
          referencedSecurityGroupId: sg.id,
          description: "the support database",
        },
        parent,
      );
    });

    const subnets = new aws.rds.SubnetGroup(name, { subnetIds: [...args.subnetIds] }, parent);
    const retained = { ...parent, retainOnDelete: args.deletionProtection };
    const protection = {
      deletionProtection: args.deletionProtection,
      skipFinalSnapshot: !args.deletionProtection,
      ...(args.deletionProtection ? { finalSnapshotIdentifier: `${name}-final` } : {}),
      copyTagsToSnapshot: true,
      backupRetentionPeriod: args.config.backupRetentionDays,
      storageEncrypted: true,
      port: SUPPORT_DB_PORT,
      vpcSecurityGroupIds: [sg.id],
      dbSubnetGroupName: subnets.name,
      enabledCloudwatchLogsExports: ["postgresql"],
    };
    const major = args.config.engineVersion.split(".")[0];
    let secrets: pulumi.Output<{ secretArn: string }[] | undefined>;

    if (args.config.kind === "instance") {
      const parameters = new aws.rds.ParameterGroup(
        name,
        {
          family: `postgres${major}`,
          description: "oven lakehouse support database: TLS only",
          parameters: [{ name: "rds.force_ssl", value: "1" }],
        },
        parent,
      );
      const instance = new aws.rds.Instance(
        name,
        {
          ...protection,
          engine: "postgres",
          engineVersion: args.config.engineVersion,
          instanceClass: args.config.instanceClass,
          allocatedStorage: args.config.allocatedStorageGb,
          storageType: "gp3",
          publiclyAccessible: false,
          parameterGroupName: parameters.name,
          dbName: SUPPORT_DB_NAME,
          username: SUPPORT_DB_USER,
          manageMasterUserPassword: true,
          multiAz: args.config.multiAz,
          autoMinorVersionUpgrade: true,
        },
        retained,
      );
      this.ready = instance;
      this.instanceId = instance.identifier;
      this.address = instance.address;
      this.port = instance.port;
      this.dbName = instance.dbName;
      secrets = instance.masterUserSecrets;
    } else {
      const db = args.config;
      const parameters = new aws.rds.ClusterParameterGroup(
        name,
        {
          family: `aurora-postgresql${major}`,
          description: "oven lakehouse support database: TLS only, idle sessions closed",
          parameters: [
            { name: "rds.force_ssl", value: "1" },
            // A frozen Lambda container's pooled connection would keep the cluster from pausing.
            { name: "idle_session_timeout", value: String(db.idleSessionTimeoutSeconds * 1000) },
          ],
        },
        parent,
      );
      const cluster = new aws.rds.Cluster(
        name,
        {
          ...protection,
          engine: "aurora-postgresql",
          engineMode: "provisioned",
          engineVersion: db.engineVersion,
          dbClusterParameterGroupName: parameters.name,
          databaseName: SUPPORT_DB_NAME,
          masterUsername: SUPPORT_DB_USER,
          manageMasterUserPassword: true,
          serverlessv2ScalingConfiguration: {
            minCapacity: db.minCapacity,
            maxCapacity: db.maxCapacity,
            ...(db.minCapacity === 0 ? { secondsUntilAutoPause: db.secondsUntilAutoPause } : {}),
          },
        },
        retained,
      );
      const writer = new aws.rds.ClusterInstance(
        `${name}-writer`,
        {
          clusterIdentifier: cluster.id,
          instanceClass: "db.serverless",
          // Its version is the cluster's: named here, an automatic minor upgrade would show as drift.
          engine: "aurora-postgresql",
          publiclyAccessible: false,
          dbSubnetGroupName: subnets.name,
          autoMinorVersionUpgrade: true,
        },
        retained,
      );
      this.ready = writer;
      this.instanceId = writer.identifier;
      this.address = cluster.endpoint;
      this.port = cluster.port;
      this.dbName = cluster.databaseName;
      secrets = cluster.masterUserSecrets;
    }

    this.securityGroupId = sg.id;
    this.secretArn = secrets.apply((list) => {
      const arn = list?.[0]?.secretArn;
      if (!arn) throw new Error(`${name}: RDS reported no managed master user secret`);
      return arn;
    });

    this.registerOutputs({ address: this.address, port: this.port, secretArn: this.secretArn });
  }
}
