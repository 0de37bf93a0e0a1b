/**
 * Network: the lake's private paths inside an existing VPC (given by config). The functions and
 * the Glue jobs run in its private subnets and reach AWS APIs through VPC endpoints, so lake
 * data never crosses the internet: S3 through a gateway endpoint (free, routes in the subnets'
 * route tables), the other APIs they call through interface endpoints.
 *
 * The sources (ddc PostgreSQL, MongoDB) may live outside the VPC; reaching them is the VPC's
 * routing (NAT, peering, PrivateLink), which this program does not own.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Interface endpoints, each with the client that needs it. */
export const INTERFACE_ENDPOINTS = {
  /** Lambdas read their connection secrets at cold start; Glue connections resolve SECRET_ID. */
  secretsmanager: "secretsmanager",
  /** Glue jobs in the VPC call the Data Catalog (Iceberg GlueCatalog). */
  glue: "glue",
  /** Glue continuous logging from inside the VPC. */
  logs: "logs",
  /** Glue job metrics (`--enable-metrics`); only when they are on (`glue.metrics`). */
  monitoring: "monitoring",
} as const;

export type InterfaceEndpoint = keyof typeof INTERFACE_ENDPOINTS;

/** The interface endpoints a deployment needs: `monitoring` serves only Glue's job metrics. */
export function interfaceEndpointsFor(glueMetrics: boolean): readonly InterfaceEndpoint[] {
  return (Object.keys(INTERFACE_ENDPOINTS) as InterfaceEndpoint[]).filter(
    (e) => glueMetrics || e !== "monitoring",
  );
}

export const HTTPS = 443;

export interface NetworkArgs {
  readonly region: string;
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  /** Subnets of the interface endpoints (some of `subnetIds`; default all of them). */
  readonly endpointSubnetIds?: readonly string[];
  /** Glue publishes job metrics (`glue.metrics`): the monitoring endpoint is created for them. */
  readonly glueMetrics: boolean;
  /** Route tables of those subnets; the S3 gateway endpoint adds its prefix-list route. */
  readonly routeTableIds: readonly string[];
  /** The source databases the functions and jobs connect to: port and where they are. */
  readonly sources: readonly SourceEndpoint[];
}

/** A source database's port and network, from the stack config (`sourceNetworks`). */
export interface SourceEndpoint {
  readonly name: string;
  readonly port: number;
  readonly cidrs: readonly string[];
  readonly prefixListIds: readonly string[];
}

export class Network extends pulumi.ComponentResource {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  /** Security group of the Lambda functions. */
  readonly functionsSecurityGroupId: pulumi.Output<string>;
  /** Security group of the Glue connections (Glue requires a self-referencing rule). */
  readonly glueSecurityGroupId: pulumi.Output<string>;
  readonly s3Endpoint: aws.ec2.VpcEndpoint;
  readonly interfaceEndpoints: Partial<Record<InterfaceEndpoint, aws.ec2.VpcEndpoint>>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:network:Network", name, {}, opts);
    const parent = { parent: this };
    this.vpcId = args.vpcId;
    this.subnetIds = args.subnetIds;

    this.s3Endpoint = new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: args.vpcId,
        serviceName: `com.amazonaws.${args.region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: [...args.routeTableIds],
      },
      parent,
    );

    const group = (suffix: string, description: string) =>
      new aws.ec2.SecurityGroup(`${name}-${suffix}`, { vpcId: args.vpcId, description }, parent);
    const functions = group("functions", "oven lakehouse Lambda functions");
    const glue = group("glue", "oven lakehouse Glue job connections");
    const endpoints = group("endpoints", "oven lakehouse interface VPC endpoints");
    this.functionsSecurityGroupId = functions.id;
    this.glueSecurityGroupId = glue.id;

    const egress = (
      rule: string,
      sg: aws.ec2.SecurityGroup,
      to: Partial<aws.vpc.SecurityGroupEgressRuleArgs>,
    ) =>
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-${rule}`,
        { securityGroupId: sg.id, ipProtocol: "tcp", ...to } as aws.vpc.SecurityGroupEgressRuleArgs,
        parent,
      );
    for (const [sgName, sg] of [
      ["functions", functions],
      ["glue", glue],
    ] as const) {
      egress(`${sgName}-to-endpoints`, sg, {
        fromPort: HTTPS,
        toPort: HTTPS,
        referencedSecurityGroupId: endpoints.id,
        description: "AWS APIs through interface endpoints",
      });
      egress(`${sgName}-to-s3`, sg, {
        fromPort: HTTPS,
        toPort: HTTPS,
        prefixListId: this.s3Endpoint.prefixListId,
        description: "S3 through the gateway endpoint",
      });
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-endpoints-from-${sgName}`,
        {
          securityGroupId: endpoints.id,
          ipProtocol: "tcp",
          fromPort: HTTPS,
          toPort: HTTPS,
          referencedSecurityGroupId: sg.id,
          description: `HTTPS from the ${sgName} security group`,
        },
        parent,
      );
      // Database traffic goes to the sources' own networks only; the support database's rule
      // is its component's (a security-group reference).
      for (const source of args.sources) {
        const to = { fromPort: source.port, toPort: source.port, description: `${source.name} source` };
        source.cidrs.forEach((cidrIpv4, i) => {
          egress(`${sgName}-to-${source.name}-${i}`, sg, { ...to, cidrIpv4 });
        });
        for (const prefixListId of source.prefixListIds) {
          egress(`${sgName}-to-${source.name}-${prefixListId}`, sg, { ...to, prefixListId });
        }
      }
    }
    // Glue's workers talk to each other: AWS requires an all-TCP rule referencing the group itself.
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-glue-self-ingress`,
      {
        securityGroupId: glue.id,
        ipProtocol: "tcp",
        fromPort: 0,
        toPort: 65535,
        referencedSecurityGroupId: glue.id,
        description: "Glue workers (required self-reference)",
      },
      parent,
    );
    egress("glue-self-egress", glue, {
      fromPort: 0,
      toPort: 65535,
      referencedSecurityGroupId: glue.id,
      description: "Glue workers (required self-reference)",
    });

    const interfaceEndpoints: Partial<Record<InterfaceEndpoint, aws.ec2.VpcEndpoint>> = {};
    for (const key of interfaceEndpointsFor(args.glueMetrics)) {
      interfaceEndpoints[key] = new aws.ec2.VpcEndpoint(
        `${name}-${key}`,
        {
          vpcId: args.vpcId,
          serviceName: `com.amazonaws.${args.region}.${INTERFACE_ENDPOINTS[key]}`,
          vpcEndpointType: "Interface",
          subnetIds: [...(args.endpointSubnetIds ?? args.subnetIds)],
          securityGroupIds: [endpoints.id],
          privateDnsEnabled: true,
        },
        parent,
      );
    }
    this.interfaceEndpoints = interfaceEndpoints;

    this.registerOutputs({
      functionsSecurityGroupId: this.functionsSecurityGroupId,
      glueSecurityGroupId: this.glueSecurityGroupId,
      s3EndpointId: this.s3Endpoint.id,
    });
  }
}
