/**
 * Stack config parsing (infra/config.ts) and the functions' settings check (infra/functions.ts):
 * both stack files parse, and a bad value fails at program start naming its key, never echoing
 * a secret.
 */
import { describe, expect, it } from "vitest";
import { DEFAULTS, NAMESPACE, parseStackConfig, StackConfigError } from "../../infra/config.js";
import { checkFunctionSettings, FunctionConfigError } from "../../infra/functions.js";
import {
  DEPLOY_VALUES,
  deployableConfig,
  FAKE_PRODUCTION_SECRETS,
  FAKE_SECRETS,
  runStack,
  stackConfig,
} from "./harness.js";

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
    [
      { [k("endpointSubnetIds")]: '["subnet-0b1d3f5a7c9e24680"]' },
      "oven-lakehouse:endpointSubnetIds names subnet-0b1d3f5a7c9e24680, not in oven-lakehouse:subnetIds",
    ],
    [{ [k("retention")]: '{"rawDays": 3}' }, "oven-lakehouse:retention.rawDays"],
    [
      { [k("retention")]: '{"rawNoncurrentDays": 31}' },
      "oven-lakehouse:retention.rawNoncurrentDays must be at most noncurrentDays",
    ],
    [
      { [k("retention")]: '{"noncurrentDays": 5, "rawNoncurrentDays": 6}' },
      "oven-lakehouse:retention.rawNoncurrentDays must be at most noncurrentDays",
    ],
    [{ [k("retention")]: '{"rawNoncurrentDays": 0}' }, "oven-lakehouse:retention.rawNoncurrentDays"],
    [
      { [k("retention")]: '{"rawDays": 7, "rawCuratedDays": 7}' },
      "oven-lakehouse:retention.rawCuratedDays must be less than rawDays",
    ],
    [{ [k("retention")]: '{"rawCuratedDays": 0}' }, "oven-lakehouse:retention.rawCuratedDays"],
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
    [
      { [k("productionDdcConnection")]: '{"engine":"postgres","dbname":"ddc"}' },
      "oven-lakehouse:productionDdcConnection.host is not set",
    ],
    [
      { [k("productionMongodbConnection")]: '{"engine":"mysql","host":"h","dbname":"iot"}' },
      "oven-lakehouse:productionMongodbConnection.engine must be one of postgres, mongodb, mongodb+srv",
    ],
    [
      { [k("productionDdcConnection")]: "postgres://u@h/ddc" },
      "oven-lakehouse:productionDdcConnection must be JSON",
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

  it("keeps raw versions as long as the other layers' unless retention.rawNoncurrentDays is set; curated raw apart", () => {
    const retention = (value: object) =>
      parseStackConfig(raw({ [k("retention")]: JSON.stringify(value) })).retention;
    expect(retention({}).rawNoncurrentDays).toBeUndefined();
    expect(retention({ rawDays: 14, rawNoncurrentDays: 3 })).toMatchObject({
      rawDays: 14,
      rawNoncurrentDays: 3,
      noncurrentDays: DEFAULTS.noncurrentDays,
    });
    // Equal to the bucket-wide rule is allowed (it changes nothing); a version life without an
    // expiry of the current objects is too (it bounds replaced windows' old copies).
    expect(retention({ noncurrentDays: 10, rawNoncurrentDays: 10 }).rawNoncurrentDays).toBe(10);
    expect(retention({ rawNoncurrentDays: 1 }).rawDays).toBeUndefined();
    // Only what curate read expires: the rest is kept until it has (no backstop).
    expect(retention({ rawCuratedDays: 2 })).toMatchObject({ rawCuratedDays: 2 });
    expect(retention({ rawCuratedDays: 2 }).rawDays).toBeUndefined();
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

  describe("the support database", () => {
    const db = (value: object) => raw({ [k("supportDatabase")]: JSON.stringify(value) });

    it("is an RDS instance when the stack file names no kind", () => {
      const config = parseStackConfig(
        db({ instanceClass: "db.t4g.micro", allocatedStorageGb: 20, backupRetentionDays: 1, multiAz: false }),
      );
      expect(config.supportDatabase).toEqual({
        kind: "instance",
        instanceClass: "db.t4g.micro",
        allocatedStorageGb: 20,
        backupRetentionDays: 1,
        multiAz: false,
        engineVersion: DEFAULTS.supportDbEngineVersion,
      });
    });

    it("is a serverless cluster that pauses, by default, when kind is serverless", () => {
      const config = parseStackConfig(db({ kind: "serverless", backupRetentionDays: 7 }));
      expect(config.supportDatabase).toEqual({
        kind: "serverless",
        minCapacity: 0,
        maxCapacity: DEFAULTS.supportDbMaxAcu,
        secondsUntilAutoPause: DEFAULTS.supportDbSecondsUntilAutoPause,
        idleSessionTimeoutSeconds: DEFAULTS.supportDbIdleSessionTimeoutSeconds,
        backupRetentionDays: 7,
        engineVersion: DEFAULTS.supportDbServerlessEngineVersion,
      });
      // A floor above 0 never pauses, so any Aurora PostgreSQL version will do.
      expect(
        parseStackConfig(
          db({ kind: "serverless", minCapacity: 0.5, backupRetentionDays: 7, engineVersion: "15.4" }),
        ).supportDatabase,
      ).toMatchObject({ minCapacity: 0.5, engineVersion: "15.4" });
    });

    it.each([
      [
        { kind: "serverless", backupRetentionDays: 7, maxCapacity: 2.25 },
        "supportDatabase.maxCapacity must be a multiple of 0.5",
      ],
      [
        { kind: "serverless", backupRetentionDays: 7, minCapacity: 4, maxCapacity: 2 },
        "supportDatabase.maxCapacity must be at least minCapacity",
      ],
      [
        { kind: "serverless", backupRetentionDays: 7, maxCapacity: 0.5 },
        "supportDatabase.maxCapacity must be at least minCapacity and at least 1 ACU",
      ],
      [{ kind: "serverless", backupRetentionDays: 7, maxCapacity: 512 }, "supportDatabase.maxCapacity"],
      [
        { kind: "serverless", backupRetentionDays: 7, engineVersion: "16.2" },
        "supportDatabase.engineVersion is too old to pause (minCapacity 0): auto-pause needs Aurora PostgreSQL 13.15, 14.12, 15.7, 16.3",
      ],
      [{ kind: "serverless", backupRetentionDays: 7, engineVersion: "15.6" }, "15.7"],
      [
        { kind: "serverless", backupRetentionDays: 7, engineVersion: "16" },
        "supportDatabase.engineVersion must be an Aurora PostgreSQL version such as 16.6",
      ],
      [
        { kind: "serverless", backupRetentionDays: 7, secondsUntilAutoPause: 60 },
        "supportDatabase.secondsUntilAutoPause",
      ],
      [{ kind: "serverless" }, "supportDatabase.backupRetentionDays"],
      [{ kind: "cluster", backupRetentionDays: 7 }, "supportDatabase.kind"],
      [
        { kind: "instance", allocatedStorageGb: 20, backupRetentionDays: 1, multiAz: false },
        "supportDatabase.instanceClass is not set",
      ],
    ])("refuses %j, naming the key", (value, message) => {
      expect(() => parseStackConfig(db(value))).toThrow(message);
    });

    it("pauses from 16.3, 15.7, 14.12 and 13.15, and on any later major version", () => {
      for (const engineVersion of ["16.3", "16.10", "15.7", "14.12", "13.15", "17.4"])
        expect(() =>
          parseStackConfig(db({ kind: "serverless", backupRetentionDays: 7, engineVersion })),
        ).not.toThrow();
      for (const engineVersion of ["14.11", "13.9", "12.22"])
        expect(() =>
          parseStackConfig(db({ kind: "serverless", backupRetentionDays: 7, engineVersion })),
        ).toThrow("auto-pause");
    });
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

  it("takes the production connections as optional secrets, parsed like the snapshot's", () => {
    const without = parseStackConfig(raw());
    expect(without.productionDdcConnection).toBeUndefined();
    expect(without.productionMongodbConnection).toBeUndefined();
    const live = parseStackConfig(raw(FAKE_PRODUCTION_SECRETS));
    expect(live.productionDdcConnection).toEqual(
      JSON.parse(
        FAKE_PRODUCTION_SECRETS[k("productionDdcConnection") as keyof typeof FAKE_PRODUCTION_SECRETS],
      ),
    );
    // Defaults and aliases as for any connection secret (`database` for `dbname`, no options).
    const alias = parseStackConfig(
      raw({ [k("productionMongodbConnection")]: '{"engine":"mongodb","host":"h","database":"iot"}' }),
    );
    expect(alias.productionMongodbConnection).toMatchObject({ dbname: "iot", options: {} });
    expect(Object.isFrozen(live.productionDdcConnection)).toBe(true);
    // The snapshot's stay required: a production side does not replace them.
    expect(() =>
      parseStackConfig(raw({ ...FAKE_PRODUCTION_SECRETS, [k("ddcConnection")]: undefined })),
    ).toThrow("oven-lakehouse:ddcConnection is not set");
  });

  it.each(["productionDdcConnection", "productionMongodbConnection"])(
    "never echoes a secret value of %s in its errors",
    (key) => {
      const messages: string[] = [];
      for (const value of [
        '{"engine":"postgres","host":"db","dbname":"ddc","password":"hunter2-do-not-print","port":"x"}',
        '{"engine":"postgres","host":"db","dbname":"ddc","password":"hunter2-do-not-print","options":{"a":[1]}}',
        '{"engine":"hunter2-do-not-print","host":"db","dbname":"ddc"}',
        "{hunter2-do-not-print",
      ]) {
        try {
          parseStackConfig(raw({ [k(key)]: value }));
          messages.push("(accepted)");
        } catch (error) {
          expect(error).toBeInstanceOf(StackConfigError);
          messages.push(String(error));
        }
      }
      expect(messages[0]).toContain(`oven-lakehouse:${key}.port`);
      expect(messages[1]).toContain(`oven-lakehouse:${key}.options.a`);
      expect(messages[2]).toContain(`oven-lakehouse:${key}.engine`);
      expect(messages[3]).toContain(`oven-lakehouse:${key} must be JSON`);
      for (const m of messages) expect(m).not.toContain("hunter2");
    },
  );

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
    expect(bad((f) => (f.packs = { windowBytes: 2 * 1024 * 1024, bytes: 1024 * 1024 }))).toThrow(
      "oven-lakehouse:functions.packs windowBytes must be at most bytes",
    );
    expect(bad((f) => (f.packs = { windows: 0 }))).toThrow("oven-lakehouse:functions.packs");
    expect(bad((f) => (f.packs = { windows: 10 }))).not.toThrow();
    expect(bad((f) => (f.packs = false))).not.toThrow();
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
