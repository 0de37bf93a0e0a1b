/**
 * Stack config parsing (infra/config.ts) and the functions' settings check (infra/functions.ts):
 * both stack files parse, and a bad value fails at program start naming its key, never echoing
 * a secret.
 */
import { describe, expect, it } from "vitest";
import { DEFAULTS, NAMESPACE, parseStackConfig, StackConfigError } from "../../infra/config.js";
import { checkFunctionSettings, FunctionConfigError } from "../../infra/functions.js";
import { DEPLOY_VALUES, deployableConfig, FAKE_SECRETS, runStack, stackConfig } from "./harness.js";

const raw = (overrides: Record<string, string | undefined> = {}, stack: "dev" | "prod" = "dev") => {
  const config: Record<string, string | undefined> = {
    ...deployableConfig(stack),
    ...FAKE_SECRETS,
    ...overrides,
  };
  return (key: string) => config[key];
};
const k = (key: string) => `${NAMESPACE}:${key}`;

describe("stack config", () => {
  it.each(["dev", "prod"] as const)("parses Pulumi.%s.yaml into a frozen object", (stack) => {
    const config = parseStackConfig(raw({}, stack));
    expect(config.environment).toBe(stack);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.functions.worker)).toBe(true);
    expect(config.retention.quarantineDays).toBe(90);
    expect(() => checkFunctionSettings(config)).not.toThrow();
  });

  it.each([
    [{ [k("vpcId")]: undefined }, "oven-lakehouse:vpcId is not set"],
    [{ "aws:region": undefined }, "aws:region is not set"],
    [{ [k("vpcId")]: "my-vpc" }, "oven-lakehouse:vpcId must look like vpc-0a1b2c3d4e5f67890"],
    [
      { [k("subnetIds")]: '["subnet-04d2b7e9a1c3f5860"]' },
      "oven-lakehouse:subnetIds needs at least two subnets",
    ],
    [{ [k("subnetIds")]: "subnet-04d2b7e9a1c3f5860" }, "oven-lakehouse:subnetIds must be JSON"],
    [{ [k("vpcId")]: "vpc-0123456789abcdef0" }, "oven-lakehouse:vpcId is a placeholder"],
    [{ [k("vpcId")]: "vpc-00000000000000000" }, "oven-lakehouse:vpcId is a placeholder"],
    [
      { [k("subnetIds")]: '["subnet-04d2b7e9a1c3f5860","subnet-0fedcba9876543210"]' },
      "oven-lakehouse:subnetIds.1 is a placeholder",
    ],
    [
      { [k("quicksightPrincipalArn")]: "arn:aws:quicksight:eu-west-1:123456789012:group/default/x" },
      "oven-lakehouse:quicksightPrincipalArn names a placeholder account",
    ],
    [{ [k("alarmEmail")]: "alarms@example.com" }, "oven-lakehouse:alarmEmail is an example address"],
    [
      { [k("sourceNetworks")]: '{"ddc":{"cidrs":["0.0.0.0/0"]},"mongodb":{"cidrs":["10.1.0.0/16"]}}' },
      "oven-lakehouse:sourceNetworks.ddc.cidrs.0 must name the source's network, not every address",
    ],
    [
      { [k("sourceNetworks")]: '{"ddc":{"cidrs":["10.1.0.0/16"]},"mongodb":{}}' },
      "oven-lakehouse:sourceNetworks.mongodb needs at least one CIDR block or prefix list",
    ],
    [{ [k("sourceNetworks")]: undefined }, "oven-lakehouse:sourceNetworks is not set"],
    [{ [k("logRetentionDays")]: "10" }, "oven-lakehouse:logRetentionDays must be one of 1, 3, 5, 7, 14"],
    [{ [k("athenaBytesScannedLimit")]: "1000" }, "oven-lakehouse:athenaBytesScannedLimit"],
    [{ [k("environment")]: "staging" }, "oven-lakehouse:environment"],
    [{ [k("deletionProtection")]: "yes" }, "oven-lakehouse:deletionProtection"],
    [{ [k("ddcConnection")]: undefined }, "oven-lakehouse:ddcConnection is not set"],
    [
      { [k("mongodbConnection")]: '{"engine":"mongodb","host":"h"}' },
      "oven-lakehouse:mongodbConnection.dbname is not set",
    ],
  ])("refuses %o naming the key", (overrides, message) => {
    expect(() => parseStackConfig(raw(overrides))).toThrow(StackConfigError);
    expect(() => parseStackConfig(raw(overrides))).toThrow(message);
  });

  it.each(["dev", "prod"] as const)(
    "refuses the committed Pulumi.%s.yaml's placeholders, naming every key a user must set",
    (stack) => {
      const file = { ...stackConfig(stack), ...FAKE_SECRETS };
      let message = "";
      try {
        parseStackConfig((key) => file[key as keyof typeof file]);
      } catch (error) {
        message = (error as Error).message;
      }
      for (const key of Object.keys(DEPLOY_VALUES[stack])) expect(message).toContain(key);
      expect(message).toContain("placeholder");
    },
  );

  it("names nested keys with their path", () => {
    const functions = JSON.parse(stackConfig("dev")[k("functions")] as string);
    functions.worker.memoryMb = 64;
    expect(() => parseStackConfig(raw({ [k("functions")]: JSON.stringify(functions) }))).toThrow(
      "oven-lakehouse:functions.worker.memoryMb",
    );
  });

  it("sizes the reconcile function by default when a stack file leaves it out", () => {
    const functions = JSON.parse(stackConfig("dev")[k("functions")] as string);
    delete functions.reconcile;
    const config = parseStackConfig(raw({ [k("functions")]: JSON.stringify(functions) }));
    expect(config.functions.reconcile).toEqual({
      memoryMb: DEFAULTS.reconcileMemoryMb,
      timeoutSeconds: DEFAULTS.reconcileTimeoutSeconds,
    });
    functions.reconcile = { memoryMb: 1024, timeoutSeconds: 901 };
    expect(() => parseStackConfig(raw({ [k("functions")]: JSON.stringify(functions) }))).toThrow(
      "oven-lakehouse:functions.reconcile.timeoutSeconds",
    );
  });

  it("never echoes a secret value in its errors", () => {
    const secret =
      '{"engine":"postgres","host":"db","dbname":"ddc","password":"hunter2-do-not-print","port":"x"}';
    let message = "";
    try {
      parseStackConfig(raw({ [k("ddcConnection")]: secret }));
    } catch (error) {
      message = String(error);
    }
    expect(message).toContain("oven-lakehouse:ddcConnection.port");
    expect(message).not.toContain("hunter2");
    let broken = "";
    try {
      parseStackConfig(raw({ [k("ddcConnection")]: "{hunter2" }));
    } catch (error) {
      broken = String(error);
    }
    expect(broken).toContain("oven-lakehouse:ddcConnection must be JSON");
    expect(broken).not.toContain("hunter2");
  });

  it("checks the functions' settings with the pipeline's schemas, naming the config key", () => {
    const functions = JSON.parse(stackConfig("dev")[k("functions")] as string);
    const bad = (change: (f: typeof functions) => void) => {
      const f = structuredClone(functions);
      change(f);
      return () => checkFunctionSettings(parseStackConfig(raw({ [k("functions")]: JSON.stringify(f) })));
    };
    expect(bad((f) => (f.workers = { bulk: { not_a_collection: 3 } }))).toThrow(
      "oven-lakehouse:functions.workers unknown collection name",
    );
    expect(bad((f) => (f.safetyMarginSeconds = 900))).toThrow(FunctionConfigError);
    expect(bad((f) => (f.safetyMarginSeconds = 900))).toThrow(
      "oven-lakehouse:functions.safetyMarginSeconds (900) must be below oven-lakehouse:functions.worker.timeoutSeconds (900)",
    );
  });

  it("fails the program at start, before declaring anything", async () => {
    await expect(runStack("dev", { [k("vpcId")]: undefined })).rejects.toThrow(
      "oven-lakehouse:vpcId is not set",
    );
  });
});
