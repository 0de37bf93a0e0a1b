/** The least-privilege helpers (infra/policies.ts) refuse what the rules forbid. */

import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { allow, assumedByAccount, PolicyError, UNSCOPED_ACTIONS } from "../../infra/policies.js";

describe("allow", () => {
  it.each([
    [["s3:*"], ["arn:aws:s3:::b/*"], "wildcard action s3:*"],
    [["*"], ["arn:aws:s3:::b"], "wildcard action *"],
    [["s3:Get*"], ["arn:aws:s3:::b/*"], "wildcard action s3:Get*"],
    [["s3:GetObject"], "*", 's3:GetObject must name its resources, not "*"'],
    [["secretsmanager:GetSecretValue"], "*", "must name its resources"],
    [["s3:GetObject"], [], "no resources"],
  ] as const)("refuses %o on %o", (actions, resources, message) => {
    expect(() => allow("Test", actions, resources)).toThrow(PolicyError);
    expect(() => allow("Test", actions, resources)).toThrow(message);
  });

  it("accepts '*' only for actions AWS cannot scope, none of them on data", () => {
    expect(allow("Describe", ["ec2:DescribeNetworkInterfaces"], "*").Resource).toBe("*");
    for (const action of UNSCOPED_ACTIONS)
      expect(action).toMatch(/^(ec2:Describe|cloudwatch:PutMetricData|logs:)/);
  });
});

describe("assumedByAccount", () => {
  it("trusts the account itself, so its admins grant the role: no service, no other account", async () => {
    const text = await new Promise<string>((resolve) => assumedByAccount("481516234200").apply(resolve));
    expect(JSON.parse(text)).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { AWS: "arn:aws:iam::481516234200:root" }, Action: "sts:AssumeRole" },
      ],
    });
    expect(pulumi.Output.isInstance(assumedByAccount("481516234200"))).toBe(true);
  });
});
