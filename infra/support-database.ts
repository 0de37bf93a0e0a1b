/**
 * Support database (docs/design.md §4): RDS PostgreSQL holding bookmarks, run metrics, stored plans and
 * the raw-file ledger. Encrypted at rest, TLS enforced (`rds.force_ssl`), never publicly
 * accessible, reachable only from the functions' and Glue connections' security groups. The
 * master password is managed by RDS in Secrets Manager (`manageMasterUserPassword`): it is never
 * in config, state or environment; that secret holds only username and password, so host, port
 * and database name travel beside its ARN (SUPPORT_DB_HOST/PORT/NAME).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export const SUPPORT_DB_PORT = 5432;
export const SUPPORT_DB_NAME = "support";
export const SUPPORT_DB_USER = "lakehouse";

export interface SupportDatabaseArgs {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  /** Security groups allowed to connect (functions, Glue connections). */
  readonly clientSecurityGroupIds: readonly pulumi.Input<string>[];
  readonly instanceClass: string;
  readonly allocatedStorageGb: number;
  readonly engineVersion: string;
  readonly backupRetentionDays: number;
  readonly multiAz: boolean;
  /** Deletion protection, a final snapshot on delete, and Pulumi's retainOnDelete. */
  readonly deletionProtection: boolean;
}

export class SupportDatabase extends pulumi.ComponentResource {
  readonly instance: aws.rds.Instance;
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
    const major = args.engineVersion.split(".")[0];
    const parameters = new aws.rds.ParameterGroup(
      name,
      {
        family: `postgres${major}`,
        description: "oven lakehouse support database: TLS only",
        parameters: [{ name: "rds.force_ssl", value: "1" }],
      },
      parent,
    );

    this.instance = new aws.rds.Instance(
      name,
      {
        engine: "postgres",
        engineVersion: args.engineVersion,
        instanceClass: args.instanceClass,
        allocatedStorage: args.allocatedStorageGb,
        storageType: "gp3",
        storageEncrypted: true,
        publiclyAccessible: false,
        dbSubnetGroupName: subnets.name,
        vpcSecurityGroupIds: [sg.id],
        parameterGroupName: parameters.name,
        port: SUPPORT_DB_PORT,
        dbName: SUPPORT_DB_NAME,
        username: SUPPORT_DB_USER,
        manageMasterUserPassword: true,
        multiAz: args.multiAz,
        backupRetentionPeriod: args.backupRetentionDays,
        copyTagsToSnapshot: true,
        deletionProtection: args.deletionProtection,
        skipFinalSnapshot: !args.deletionProtection,
        ...(args.deletionProtection ? { finalSnapshotIdentifier: `${name}-final` } : {}),
        autoMinorVersionUpgrade: true,
        enabledCloudwatchLogsExports: ["postgresql"],
      },
      { ...parent, retainOnDelete: args.deletionProtection },
    );

    this.address = this.instance.address;
    this.port = this.instance.port;
    this.dbName = this.instance.dbName;
    this.securityGroupId = sg.id;
    this.secretArn = this.instance.masterUserSecrets.apply((secrets) => {
      const arn = secrets?.[0]?.secretArn;
      if (!arn) throw new Error(`${name}: RDS reported no managed master user secret`);
      return arn;
    });

    this.registerOutputs({ address: this.address, port: this.port, secretArn: this.secretArn });
  }
}
