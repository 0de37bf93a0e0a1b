/**
 * The support database's users: one login role per component, each granted exactly what that
 * component's code does to the tables (ADR 0010). The migrate function creates the roles and
 * keeps their grants and passwords (provision-users.ts); the master user only runs migrations.
 *
 * Plain data and pure functions: the deployment imports this module (secret per component, the
 * migrate function's `SUPPORT_USER_SECRETS`, a trigger when the definition changes), so it holds
 * no database or AWS code.
 */
import { createHash } from "node:crypto";
import { z } from "zod";

/** The programs that connect to the support database, each as its own user. */
export const SUPPORT_COMPONENTS = ["plan", "worker", "summarize", "curate", "reconcile"] as const;
export type SupportComponent = (typeof SUPPORT_COMPONENTS)[number];

/**
 * The support database's tables (the `@@map` names of prisma/schema.prisma), `_prisma_migrations`
 * aside: nobody but the master user touches it. tests/integration/support-users.test.ts checks this
 * list against the migrated schema, so a new table fails there until it is listed here.
 */
export const SUPPORT_TABLES = [
  "lastts",
  "metric",
  "file_ledger",
  "plan",
  "plan_batch",
  "drift_count",
  "quarantine",
  "curated_day",
  "curated_count",
  "reconcile_run",
  "reconcile_watermark",
  "reconcile_difference",
  // The cutover script runs as the master user (an operator's tool, not a component).
  "cutover_log",
  "pack_upload",
] as const;
export type SupportTable = (typeof SUPPORT_TABLES)[number];

/** Table privileges a definition may grant. TRUNCATE, REFERENCES, TRIGGER are never granted. */
export const TABLE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE"] as const;
export type TablePrivilege = (typeof TABLE_PRIVILEGES)[number];

export interface SupportUser {
  /** Where the code that needs these grants lives, for the reader of a failed statement. */
  readonly code: readonly string[];
  /**
   * Privileges per table; a table left out gets nothing. INSERT on a table also grants USAGE on
   * the sequences of its serial columns (provisioning finds them in the catalog), which
   * `nextval()` in the column default needs.
   */
  readonly tables: Readonly<Partial<Record<SupportTable, readonly TablePrivilege[]>>>;
}

export type SupportUsers = Readonly<Record<SupportComponent, SupportUser>>;

/**
 * What each component's code does to the support database. PostgreSQL checks more than a
 * statement's verb (https://www.postgresql.org/docs/16/sql-insert.html, "Privileges"):
 * `INSERT ... ON CONFLICT DO UPDATE` needs SELECT besides INSERT and UPDATE (even the ledger upsert,
 * whose SET reads only EXCLUDED, is refused without it), `UPDATE ... WHERE` needs SELECT on the
 * columns it filters on, and `RETURNING` (Prisma's `create` and `update`) on what it returns.
 * Foreign-key checks run as the table owner and need nothing here. The integration test takes
 * each privilege away in turn and sees the component fail.
 */
export const SUPPORT_USERS = {
  plan: {
    code: [
      "pipeline/lambda/steps.ts planStep",
      "pipeline/ingest/plan-pass.ts",
      "pipeline/support/plan-store.ts",
    ],
    tables: {
      // hasBookmarks picks bulk or operations; planPass reads the bookmarks (ingest-state.ts).
      lastts: ["SELECT"],
      // postgresPlanStore.save: INSERT INTO plan ... RETURNING id.
      plan: ["SELECT", "INSERT"],
      // postgresPlanStore.save: INSERT INTO plan_batch in the same statement.
      plan_batch: ["INSERT"],
    },
  },
  worker: {
    code: [
      "pipeline/lambda/steps.ts workerStep",
      "pipeline/support/plan-store.ts load",
      "pipeline/support/ingest-state.ts",
      "pipeline/support/commit-statement.ts",
    ],
    tables: {
      // postgresPlanStore.load.
      plan_batch: ["SELECT"],
      // Bookmarks read, then upserted by the group commit.
      lastts: ["SELECT", "INSERT", "UPDATE"],
      // The group commit's ledger upsert (a replayed window takes a new id on conflict).
      file_ledger: ["SELECT", "INSERT", "UPDATE"],
      // The group commit's quarantine rows; quarantinedKeys reads which keys have one already
      // (the untimed sweep of every run, documents naming several devices: issue 13).
      quarantine: ["SELECT", "INSERT"],
      // The group commit adds to `drift_count.count` on conflict.
      drift_count: ["SELECT", "INSERT", "UPDATE"],
      // The group commit adds to the run's counters; finishRun closes the row (both upserts).
      metric: ["SELECT", "INSERT", "UPDATE"],
      // Packs (ADR 0023): recorded before their upload and settled once committed; when a worker
      // starts, the abandoned ones are found (with the ledger's keys) and settled once removed.
      pack_upload: ["SELECT", "INSERT", "UPDATE"],
    },
  },
  summarize: {
    code: [
      "pipeline/lambda/steps.ts summarizeStep",
      "pipeline/ingest/orphans.ts quarantineOrphans",
      "pipeline/support/progress.ts",
      "pipeline/support/plan-store.ts setStatus",
    ],
    tables: {
      // quarantineOrphans: which orphans' keys have a row read, new ones inserted.
      quarantine: ["SELECT", "INSERT"],
      // quarantineOrphans upserts the step's own metric row; ingestionProgress sums the rows.
      metric: ["SELECT", "INSERT", "UPDATE"],
      // ingestionProgress: bookmarks and drift counts.
      lastts: ["SELECT"],
      drift_count: ["SELECT"],
      // postgresPlanStore.setStatus: UPDATE plan ... WHERE id ... RETURNING id.
      plan: ["SELECT", "UPDATE"],
    },
  },
  curate: {
    code: [
      "glue/lakehouse_glue/curate/file_ledger.py ledger_bounds, pending_entries",
      "glue/lakehouse_glue/curate/day_counts.py DayCountStore",
    ],
    tables: {
      // The ledger's bounds and pending rows, and the windows of the days to count.
      file_ledger: ["SELECT"],
      // day_counts.py: the days a commit touched, counted in the table, upserted with the
      // position they were counted up to, in one transaction.
      curated_day: ["SELECT", "INSERT", "UPDATE"],
      curated_count: ["SELECT", "INSERT", "UPDATE"],
    },
  },
  reconcile: {
    code: [
      "pipeline/lambda/steps.ts reconcileStep",
      "pipeline/reconcile/store.ts",
      "pipeline/support/commit-statement.ts (repair replays windows as the worker commits them)",
    ],
    tables: {
      // What the source is compared with: curated day counts, how far they reach, quarantine.
      curated_day: ["SELECT"],
      curated_count: ["SELECT"],
      // Bookmarks (in flight above them) and ledger windows (what --repair replays); the
      // replay's commit is the worker's statement, which upserts both (the bookmark unchanged).
      lastts: ["SELECT", "INSERT", "UPDATE"],
      file_ledger: ["SELECT", "INSERT", "UPDATE"],
      quarantine: ["SELECT", "INSERT"],
      drift_count: ["SELECT", "INSERT", "UPDATE"],
      metric: ["SELECT", "INSERT", "UPDATE"],
      // Its own records: runs (RETURNING id), watermarks (upserted), findings.
      reconcile_run: ["SELECT", "INSERT", "UPDATE"],
      reconcile_watermark: ["SELECT", "INSERT", "UPDATE"],
      reconcile_difference: ["SELECT", "INSERT"],
    },
  },
} as const satisfies SupportUsers;

/** PostgreSQL's limit on identifiers (NAMEDATALEN - 1); longer names are cut silently. */
const MAX_IDENTIFIER_BYTES = 63;
const PLAIN_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * The login role of a component on a database: `<database>_<component>`, e.g. `support_worker`.
 * Roles are cluster-wide in PostgreSQL; naming them after the database keeps two databases on one
 * server (tests' throwaway databases, two environments on one instance) from sharing a role, its
 * grants or its password.
 * @throws RangeError when the database name is not a plain lowercase identifier, or the role name
 * would pass PostgreSQL's 63-byte limit (PostgreSQL would cut it, and two names could meet).
 */
export function supportRoleName(database: string, component: SupportComponent): string {
  if (!PLAIN_NAME.test(database))
    throw new RangeError(`database name ${JSON.stringify(database)} is not a plain lowercase identifier`);
  const role = `${database}_${component}`;
  if (Buffer.byteLength(role) > MAX_IDENTIFIER_BYTES)
    throw new RangeError(`role name ${role} is longer than ${MAX_IDENTIFIER_BYTES} bytes`);
  return role;
}

/**
 * One privilege held by a role, as provisioning compares and reports it. Besides a definition's
 * table privileges: CONNECT on the database and USAGE on the schema, which every user gets, and
 * whatever else the catalog shows (column grants, TRUNCATE, CREATE, ...), which is revoked.
 */
export interface Grant {
  readonly kind: "database" | "schema" | "table" | "column" | "sequence";
  /** The database, schema, table or sequence; a column's table. */
  readonly object: string;
  /** Only for `column`. */
  readonly column?: string;
  /** PostgreSQL's privilege name: `SELECT`, `USAGE`, `CONNECT`, `TRUNCATE`, ... */
  readonly privilege: string;
}

/** What the database holds that the grants depend on. */
export interface SchemaCatalog {
  readonly database: string;
  /** The schema of the tables (Prisma's `public`). */
  readonly schema: string;
  readonly tables: ReadonlySet<string>;
  /** Sequences owned by a serial column, by table (`metric` → `metric_id_seq`). */
  readonly serialSequences: ReadonlyMap<string, readonly string[]>;
}

/**
 * The exact grants of a user on a database with this catalog, sorted.
 * @throws RangeError when the user names a table the database does not have: the definition and
 * the migrations disagree, and guessing would grant too little or too much.
 */
export function grantsOf(user: SupportUser, catalog: SchemaCatalog): Grant[] {
  const grants: Grant[] = [
    { kind: "database", object: catalog.database, privilege: "CONNECT" },
    { kind: "schema", object: catalog.schema, privilege: "USAGE" },
  ];
  for (const [table, privileges] of Object.entries(user.tables) as [SupportTable, TablePrivilege[]][]) {
    if (!catalog.tables.has(table))
      throw new RangeError(`the support database has no table ${table}: are the migrations applied?`);
    for (const privilege of new Set(privileges)) grants.push({ kind: "table", object: table, privilege });
    if (privileges.includes("INSERT")) {
      for (const sequence of catalog.serialSequences.get(table) ?? [])
        grants.push({ kind: "sequence", object: sequence, privilege: "USAGE" });
    }
  }
  return grants.sort(compareGrants);
}

/** `SELECT ON TABLE plan`, `USAGE ON SEQUENCE metric_id_seq`, `SELECT (rows) ON TABLE file_ledger`. */
export function grantKey(g: Grant): string {
  const on = g.kind === "column" ? "TABLE" : g.kind.toUpperCase();
  return `${g.privilege}${g.column === undefined ? "" : ` (${g.column})`} ON ${on} ${g.object}`;
}

const KIND_ORDER: Record<Grant["kind"], number> = {
  database: 0,
  schema: 1,
  table: 2,
  column: 3,
  sequence: 4,
};

function compareGrants(a: Grant, b: Grant): number {
  const ka = [KIND_ORDER[a.kind], a.object, a.column ?? "", a.privilege].join("\u0000");
  const kb = [KIND_ORDER[b.kind], b.object, b.column ?? "", b.privilege].join("\u0000");
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The grants to add and to take away to go from `current` to `desired`, each sorted. */
export function grantChanges(
  desired: readonly Grant[],
  current: readonly Grant[],
): { readonly grant: Grant[]; readonly revoke: Grant[] } {
  const want = new Set(desired.map(grantKey));
  const have = new Set(current.map(grantKey));
  return {
    grant: desired.filter((g) => !have.has(grantKey(g))).sort(compareGrants),
    revoke: current.filter((g) => !want.has(grantKey(g))).sort(compareGrants),
  };
}

/**
 * SHA-256 of the definition: the deployment re-invokes the migrate function when it changes
 * (with the migrations' checksum), so a narrowed grant is revoked by the next `pulumi up`.
 */
export function supportUsersChecksum(users: SupportUsers = SUPPORT_USERS): string {
  const canonical = SUPPORT_COMPONENTS.map((c) => [
    c,
    Object.entries(users[c].tables)
      .map(([t, p]) => [t, [...new Set(p as readonly string[])].sort()] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ]);
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex");
}

/** The Secrets Manager secret id (name or ARN) of each component's credentials. */
export const SupportUserSecretsSchema = z.strictObject({
  plan: z.string({ error: "is not set" }).min(1),
  worker: z.string({ error: "is not set" }).min(1),
  summarize: z.string({ error: "is not set" }).min(1),
  curate: z.string({ error: "is not set" }).min(1),
  reconcile: z.string({ error: "is not set" }).min(1),
} satisfies Record<SupportComponent, z.ZodType>);
export type SupportUserSecrets = Readonly<z.infer<typeof SupportUserSecretsSchema>>;

/** The migrate function's environment variable holding {@link SupportUserSecretsSchema} as JSON. */
export const SUPPORT_USER_SECRETS_ENV = "SUPPORT_USER_SECRETS";

/** {@link SupportUserSecretsSchema} from its JSON text (an environment variable). */
export const SupportUserSecretsJsonSchema = z
  .string({ error: "is not set" })
  .transform((text, ctx): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      ctx.addIssue({ code: "custom", message: "is not JSON" });
      return z.NEVER;
    }
  })
  .pipe(SupportUserSecretsSchema);
