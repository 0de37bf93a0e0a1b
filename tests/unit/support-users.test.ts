/**
 * The support users' definition and its pure helpers: the exact grants of each component, role
 * names, the changes between two grant sets, the checksum that re-runs the migrate function, the
 * migrate function's SUPPORT_USER_SECRETS, and the SCRAM verifier of a password (RFC 7677's
 * vector). The database side is tests/integration/support-users.test.ts.
 */
import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseEnv } from "../../pipeline/config.js";
import { ConfigError } from "../../pipeline/errors.js";
import { MigrateEnvSchema } from "../../pipeline/lambda/migrate.js";
import { generatePassword, scramSha256Verifier } from "../../pipeline/support/scram.js";
import {
  type Grant,
  grantChanges,
  grantKey,
  grantsOf,
  type SchemaCatalog,
  SUPPORT_COMPONENTS,
  SUPPORT_TABLES,
  SUPPORT_USERS,
  type SupportComponent,
  SupportUserSecretsJsonSchema,
  type SupportUsers,
  supportRoleName,
  supportUsersChecksum,
} from "../../pipeline/support/users.js";

/** The migrated schema's tables and serial sequences (prisma/migrations). */
const CATALOG: SchemaCatalog = {
  database: "support",
  schema: "public",
  // Checked against the migrated schema by tests/integration/support-users.test.ts.
  tables: new Set(SUPPORT_TABLES),
  serialSequences: new Map([
    ["metric", ["metric_id_seq"]],
    ["file_ledger", ["file_ledger_id_seq"]],
    ["quarantine", ["quarantine_id_seq"]],
    ["reconcile_run", ["reconcile_run_id_seq"]],
    ["reconcile_difference", ["reconcile_difference_id_seq"]],
  ]),
};

const BASE = ["CONNECT ON DATABASE support", "USAGE ON SCHEMA public"];

describe("support users", () => {
  it.each<[SupportComponent, string[]]>([
    [
      "plan",
      [
        "SELECT ON TABLE lastts",
        "INSERT ON TABLE plan",
        "SELECT ON TABLE plan",
        "INSERT ON TABLE plan_batch",
      ],
    ],
    [
      "worker",
      [
        "INSERT ON TABLE drift_count",
        "SELECT ON TABLE drift_count",
        "UPDATE ON TABLE drift_count",
        "INSERT ON TABLE file_ledger",
        "SELECT ON TABLE file_ledger",
        "UPDATE ON TABLE file_ledger",
        "INSERT ON TABLE lastts",
        "SELECT ON TABLE lastts",
        "UPDATE ON TABLE lastts",
        "INSERT ON TABLE metric",
        "SELECT ON TABLE metric",
        "UPDATE ON TABLE metric",
        "INSERT ON TABLE pack_upload",
        "SELECT ON TABLE pack_upload",
        "UPDATE ON TABLE pack_upload",
        "SELECT ON TABLE plan_batch",
        "INSERT ON TABLE quarantine",
        "SELECT ON TABLE quarantine",
        "USAGE ON SEQUENCE file_ledger_id_seq",
        "USAGE ON SEQUENCE metric_id_seq",
        "USAGE ON SEQUENCE quarantine_id_seq",
      ],
    ],
    [
      "summarize",
      [
        "SELECT ON TABLE drift_count",
        "SELECT ON TABLE lastts",
        "INSERT ON TABLE metric",
        "SELECT ON TABLE metric",
        "UPDATE ON TABLE metric",
        "SELECT ON TABLE plan",
        "UPDATE ON TABLE plan",
        "INSERT ON TABLE quarantine",
        "SELECT ON TABLE quarantine",
        "USAGE ON SEQUENCE metric_id_seq",
        "USAGE ON SEQUENCE quarantine_id_seq",
      ],
    ],
    [
      "curate",
      [
        "INSERT ON TABLE curated_count",
        "SELECT ON TABLE curated_count",
        "UPDATE ON TABLE curated_count",
        "INSERT ON TABLE curated_day",
        "SELECT ON TABLE curated_day",
        "UPDATE ON TABLE curated_day",
        "SELECT ON TABLE file_ledger",
      ],
    ],
    [
      "reconcile",
      [
        "SELECT ON TABLE curated_count",
        "SELECT ON TABLE curated_day",
        "INSERT ON TABLE drift_count",
        "SELECT ON TABLE drift_count",
        "UPDATE ON TABLE drift_count",
        "INSERT ON TABLE file_ledger",
        "SELECT ON TABLE file_ledger",
        "UPDATE ON TABLE file_ledger",
        "INSERT ON TABLE lastts",
        "SELECT ON TABLE lastts",
        "UPDATE ON TABLE lastts",
        "INSERT ON TABLE metric",
        "SELECT ON TABLE metric",
        "UPDATE ON TABLE metric",
        "INSERT ON TABLE quarantine",
        "SELECT ON TABLE quarantine",
        "INSERT ON TABLE reconcile_difference",
        "SELECT ON TABLE reconcile_difference",
        "INSERT ON TABLE reconcile_run",
        "SELECT ON TABLE reconcile_run",
        "UPDATE ON TABLE reconcile_run",
        "INSERT ON TABLE reconcile_watermark",
        "SELECT ON TABLE reconcile_watermark",
        "UPDATE ON TABLE reconcile_watermark",
        "USAGE ON SEQUENCE file_ledger_id_seq",
        "USAGE ON SEQUENCE metric_id_seq",
        "USAGE ON SEQUENCE quarantine_id_seq",
        "USAGE ON SEQUENCE reconcile_difference_id_seq",
        "USAGE ON SEQUENCE reconcile_run_id_seq",
      ],
    ],
  ])("%s gets exactly its grants, USAGE on the serial sequences of what it inserts into", (c, grants) => {
    expect(grantsOf(SUPPORT_USERS[c], CATALOG).map(grantKey)).toEqual([...BASE, ...grants]);
  });

  it("never grants DELETE, and the curate job writes only its day counts", () => {
    for (const c of SUPPORT_COMPONENTS)
      expect(
        grantsOf(SUPPORT_USERS[c], CATALOG).filter((g) => g.privilege === "DELETE"),
        c,
      ).toEqual([]);
    const writes = Object.entries(SUPPORT_USERS.curate.tables)
      .filter(([, privileges]) => privileges.some((p) => p !== "SELECT"))
      .map(([table]) => table);
    expect(writes.sort()).toEqual(["curated_count", "curated_day"]);
  });

  it("refuses a definition that names a table the database lacks", () => {
    const catalog = { ...CATALOG, tables: new Set([...CATALOG.tables].filter((t) => t !== "drift_count")) };
    expect(() => grantsOf(SUPPORT_USERS.worker, catalog)).toThrow(/no table drift_count/);
  });

  it("computes the grants to add and to revoke, column and foreign privileges included", () => {
    const t = (object: string, privilege: string): Grant => ({ kind: "table", object, privilege });
    const desired = [t("plan", "SELECT"), t("plan", "INSERT")];
    const current: Grant[] = [
      t("plan", "SELECT"),
      t("plan", "TRUNCATE"),
      { kind: "column", object: "metric", column: "run_id", privilege: "SELECT" },
    ];
    const changes = grantChanges(desired, current);
    expect(changes.grant.map(grantKey)).toEqual(["INSERT ON TABLE plan"]);
    expect(changes.revoke.map(grantKey)).toEqual([
      "TRUNCATE ON TABLE plan",
      "SELECT (run_id) ON TABLE metric",
    ]);
    expect(grantChanges(desired, desired)).toEqual({ grant: [], revoke: [] });
  });

  it.each([
    ["support", "worker", "support_worker"],
    ["dbusers_0123456789_sdb", "summarize", "dbusers_0123456789_sdb_summarize"],
  ] as const)("names the role of %s's %s %s", (database, component, role) => {
    expect(supportRoleName(database, component)).toBe(role);
  });

  it.each(["Support", "my-db", "", "1db", `${"d".repeat(60)}`])("refuses database name %j", (database) => {
    expect(() => supportRoleName(database, "summarize")).toThrow(RangeError);
  });

  it("checksums the definition: order and repeats do not count, a removed privilege does", () => {
    const reordered: SupportUsers = {
      ...SUPPORT_USERS,
      worker: {
        ...SUPPORT_USERS.worker,
        tables: Object.fromEntries(
          Object.entries(SUPPORT_USERS.worker.tables)
            .reverse()
            .map(([t, p]) => [t, [...p, ...p].reverse()]),
        ),
      },
    };
    expect(supportUsersChecksum(reordered)).toBe(supportUsersChecksum());
    const narrowed: SupportUsers = {
      ...SUPPORT_USERS,
      curate: { ...SUPPORT_USERS.curate, tables: {} },
    };
    expect(supportUsersChecksum(narrowed)).not.toBe(supportUsersChecksum());
    expect(supportUsersChecksum()).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("SUPPORT_USER_SECRETS", () => {
  const ids = { plan: "arn:p", worker: "arn:w", summarize: "arn:s", curate: "arn:c", reconcile: "arn:r" };
  const env = {
    SUPPORT_SECRET_ID: "arn:master",
    SUPPORT_DB_HOST: "db",
    SUPPORT_DB_PORT: "5432",
    SUPPORT_DB_NAME: "support",
  };

  it("parses the JSON map of component to secret id", () => {
    expect(SupportUserSecretsJsonSchema.parse(JSON.stringify(ids))).toEqual(ids);
    expect(
      parseEnv(MigrateEnvSchema, "migrate", { ...env, SUPPORT_USER_SECRETS: JSON.stringify(ids) }),
    ).toEqual({
      ...env,
      SUPPORT_USER_SECRETS: ids,
    });
  });

  it.each([
    [undefined, /SUPPORT_USER_SECRETS is not set/],
    ["{", /SUPPORT_USER_SECRETS is not JSON/],
    [JSON.stringify({ ...ids, worker: undefined }), /SUPPORT_USER_SECRETS.worker is not set/],
    [JSON.stringify({ ...ids, curate: "" }), /SUPPORT_USER_SECRETS.curate/],
    [JSON.stringify({ ...ids, reporter: "arn:r" }), /SUPPORT_USER_SECRETS.*reporter/],
  ])("refuses %j, naming the key", (value, message) => {
    const call = () => parseEnv(MigrateEnvSchema, "migrate", { ...env, SUPPORT_USER_SECRETS: value });
    expect(call).toThrow(ConfigError);
    expect(call).toThrow(message);
  });
});

describe("SCRAM-SHA-256 verifier", () => {
  // RFC 7677 §3: user "user", password "pencil", salt and nonces as exchanged there.
  const salt = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64");
  const authMessage =
    "n=user,r=rOprNGfwEbeRWgbNEkqO," +
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," +
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  const clientProof = Buffer.from("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "base64");
  const serverSignature = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

  it("holds the keys of RFC 7677's exchange, in PostgreSQL's format", () => {
    const verifier = scramSha256Verifier("pencil", salt, 4096);
    const match = /^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$/.exec(verifier);
    expect(match?.[1]).toBe("W22ZaJ0SNY7soEsUEjb6gQ==");
    const storedKey = Buffer.from(match?.[2] ?? "", "base64");
    const serverKey = Buffer.from(match?.[3] ?? "", "base64");
    expect(createHmac("sha256", serverKey).update(authMessage).digest("base64")).toBe(serverSignature);
    // The client's proof XOR its signature is ClientKey, whose hash the server stores.
    const signature = createHmac("sha256", storedKey).update(authMessage).digest();
    const clientKey = Buffer.from(clientProof.map((b, i) => b ^ (signature[i] ?? 0)));
    expect(createHash("sha256").update(clientKey).digest().equals(storedKey)).toBe(true);
  });

  it("salts every verifier, and refuses what would need SASLprep", () => {
    expect(scramSha256Verifier("pencil")).not.toBe(scramSha256Verifier("pencil"));
    expect(() => scramSha256Verifier("pässword")).toThrow(RangeError);
    expect(() => scramSha256Verifier("with space")).toThrow(RangeError);
  });

  it("generates 256-bit base64url passwords", () => {
    const passwords = new Set(Array.from({ length: 100 }, generatePassword));
    expect(passwords.size).toBe(100);
    for (const p of passwords) expect(p).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
