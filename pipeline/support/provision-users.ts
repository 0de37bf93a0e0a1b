/**
 * Provisioning of the support database's users (users.ts, ADR 0010), run by the migrate function
 * after the migrations, as the master user, under the migrations' advisory lock:
 *
 * 1. each component's login role `<database>_<component>` is created when missing, and refused
 *    when it exists with more power than a plain login (superuser, CREATEROLE, a membership...);
 * 2. its privileges in the database are made exactly the definition's: missing ones granted,
 *    every other one revoked (a narrowed definition takes effect on the next run), then the
 *    effective privileges (PUBLIC's included) are checked against the definition;
 * 3. its password lives only in its Secrets Manager secret. When the secret has no usable value,
 *    or the role cannot log in with it, a new random password is set on the role (as a SCRAM
 *    verifier, scram.ts) and written to the secret with the connection fields
 *    (`engine, host, port, dbname, username, password`: the RDS secret format, which the
 *    functions (connections/secret.ts) and the Glue connection both read).
 *
 * A second run finds nothing to do and reports so: the password is kept while it logs in.
 */
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import pg from "pg";
import { type ConnectionSecret, connectionUrl } from "../connections/secret.js";
import { SecretUnavailableError } from "../connections/secrets-manager.js";
import { ConfigError, PipelineError } from "../errors.js";
import {
  acquireMigrationLock,
  DEFAULT_LOCK_TIMEOUT_MS,
  type MigrationLogger,
  releaseMigrationLock,
} from "./migrate.js";
import { generatePassword, scramSha256Verifier } from "./scram.js";
import {
  type Grant,
  grantChanges,
  grantKey,
  grantsOf,
  type SchemaCatalog,
  SUPPORT_COMPONENTS,
  SUPPORT_USERS,
  type SupportComponent,
  type SupportUserSecrets,
  type SupportUsers,
  supportRoleName,
} from "./users.js";

/**
 * A support user cannot be provisioned as defined: a role of that name with more power than a
 * login, a definition naming a table the database lacks, or privileges that would not go away.
 * Running again does not help; the message says what to fix.
 */
export class SupportUserError extends PipelineError {
  readonly retryable = false;
  readonly role: string;

  constructor(role: string, message: string, options?: { cause?: unknown }) {
    super(`support user ${role}: ${message}`, {}, options);
    this.role = role;
  }
}

/** A login attempt gives up after this long (then the error is raised, not a new password). */
export const LOGIN_CHECK_TIMEOUT_MS = 10_000;

/** SQLSTATEs of a refused login: invalid_password, invalid_authorization_specification. */
const LOGIN_REFUSED = new Set(["28P01", "28000"]);

/** What a new password was set for; `null` in a report when the secret's password still works. */
export type NewPasswordReason = "role created" | "secret has no value" | "secret unusable" | "login refused";

export interface SupportUserReport {
  readonly component: SupportComponent;
  readonly role: string;
  readonly secretId: string;
  readonly created: boolean;
  /** `grantKey`s granted and revoked by this run. */
  readonly granted: readonly string[];
  readonly revoked: readonly string[];
  readonly newPassword: NewPasswordReason | null;
  /** Why the secret was unusable (never its value). */
  readonly secretProblem?: string;
  /** The secret was written: a new password, or connection fields that had changed. */
  readonly secretWritten: boolean;
  readonly changed: boolean;
}

export interface ProvisionSupportUsersOptions {
  /**
   * The master user's connection to the support database. Host, port, database and `options`
   * (TLS) are reused for the users' login checks and written to their secrets (options aside).
   */
  readonly connection: ConnectionSecret;
  readonly secretIds: SupportUserSecrets;
  readonly secrets: SecretsManagerClient;
  /** The definition; {@link SUPPORT_USERS} unless a test narrows it. */
  readonly users?: SupportUsers;
  readonly log?: MigrationLogger;
  readonly lockTimeoutMs?: number;
}

/**
 * Create or update every component's user on the database of `options.connection`.
 * @returns one report per component, in {@link SUPPORT_COMPONENTS} order.
 * @throws SupportUserError (see there), ConfigError when a secret does not exist or may not be
 * read or written, SecretUnavailableError when Secrets Manager fails otherwise (retryable),
 * MigrationLockTimeoutError when another runner holds the lock.
 */
export async function provisionSupportUsers(
  options: ProvisionSupportUsersOptions,
): Promise<SupportUserReport[]> {
  const users = options.users ?? SUPPORT_USERS;
  const client = new pg.Client({
    connectionString: connectionUrl(options.connection),
    application_name: "lakehouse-migrate",
  });
  await client.connect();
  let locked = false;
  try {
    await acquireMigrationLock(client, options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
    locked = true;
    const catalog = await readCatalog(client);
    const reports: SupportUserReport[] = [];
    for (const component of SUPPORT_COMPONENTS) {
      const report = await provisionOne(client, catalog, component, users, options);
      options.log?.info(
        { ...report },
        report.changed ? "support user provisioned" : "support user up to date",
      );
      reports.push(report);
    }
    options.log?.info(
      { roles: reports.map((r) => r.role), changed: reports.filter((r) => r.changed).map((r) => r.role) },
      reports.some((r) => r.changed) ? "support users provisioned" : "support users up to date",
    );
    return reports;
  } finally {
    if (locked) await releaseMigrationLock(client);
    await client.end();
  }
}

async function provisionOne(
  client: pg.Client,
  catalog: SchemaCatalog,
  component: SupportComponent,
  users: SupportUsers,
  options: ProvisionSupportUsersOptions,
): Promise<SupportUserReport> {
  let role: string;
  try {
    role = supportRoleName(catalog.database, component);
  } catch (error) {
    throw new ConfigError(
      `support database ${catalog.database}: ${(error as Error).message}`,
      {},
      { cause: error },
    );
  }
  const secretId = options.secretIds[component];
  let desired: Grant[];
  try {
    desired = grantsOf(users[component], catalog);
  } catch (error) {
    throw new SupportUserError(role, (error as Error).message, { cause: error });
  }

  // Role and grants in one transaction: a failure leaves the role as it was.
  await client.query("BEGIN");
  let created: boolean;
  let changes: { grant: Grant[]; revoke: Grant[] };
  try {
    created = await ensureRole(client, role);
    changes = grantChanges(desired, await currentGrants(client, role));
    for (const g of changes.revoke) await client.query(grantStatement(client, "REVOKE", g, role));
    for (const g of changes.grant) await client.query(grantStatement(client, "GRANT", g, role));
    await checkEffectivePrivileges(client, role, desired, catalog);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }

  const fields = {
    engine: "postgres",
    host: options.connection.host,
    port: options.connection.port ?? 5432,
    dbname: catalog.database,
    username: role,
  } as const;
  const stored = await readUserSecret(options.secrets, secretId, role);
  let newPassword: NewPasswordReason | null = null;
  let password: string;
  if (!created && stored.kind === "usable" && (await canLogIn(options.connection, role, stored.password))) {
    password = stored.password;
  } else {
    newPassword = created
      ? "role created"
      : stored.kind === "missing"
        ? "secret has no value"
        : stored.kind === "unusable"
          ? "secret unusable"
          : "login refused";
    password = generatePassword();
    const verifier = scramSha256Verifier(password);
    await client.query(
      `ALTER ROLE ${client.escapeIdentifier(role)} PASSWORD ${client.escapeLiteral(verifier)}`,
    );
  }
  const keep = stored.kind === "missing" ? {} : stored.value;
  const secretWritten =
    newPassword !== null || Object.entries(fields).some(([k, v]) => String(keep[k]) !== String(v));
  if (secretWritten) await writeUserSecret(options.secrets, secretId, role, { ...keep, ...fields, password });

  const granted = changes.grant.map(grantKey);
  const revoked = changes.revoke.map(grantKey);
  return {
    component,
    role,
    secretId,
    created,
    granted,
    revoked,
    newPassword,
    ...(stored.kind === "unusable" ? { secretProblem: stored.problem } : {}),
    secretWritten,
    changed: created || granted.length > 0 || revoked.length > 0 || secretWritten,
  };
}

/** Tables and serial sequences of the current schema, with the database's name. */
async function readCatalog(client: pg.Client): Promise<SchemaCatalog> {
  const names = await client.query<{ database: string; schema: string }>(
    "SELECT current_database() AS database, current_schema() AS schema",
  );
  const tables = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')`,
  );
  // A serial column's sequence depends on it with deptype 'a' (OWNED BY); an identity column's
  // ('i') is used under the table's own privileges and needs no grant.
  const sequences = await client.query<{ table_name: string; sequence: string }>(
    `SELECT t.relname AS table_name, s.relname AS sequence
     FROM pg_depend d
     JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
     JOIN pg_class t ON t.oid = d.refobjid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
       AND d.deptype = 'a' AND n.nspname = current_schema()
     ORDER BY 1, 2`,
  );
  const serialSequences = new Map<string, string[]>();
  for (const r of sequences.rows)
    serialSequences.set(r.table_name, [...(serialSequences.get(r.table_name) ?? []), r.sequence]);
  const row = names.rows[0] as { database: string; schema: string };
  return {
    database: row.database,
    schema: row.schema,
    tables: new Set(tables.rows.map((r) => r.name)),
    serialSequences,
  };
}

interface RoleRow {
  readonly rolsuper: boolean;
  readonly rolcreaterole: boolean;
  readonly rolcreatedb: boolean;
  readonly rolreplication: boolean;
  readonly rolbypassrls: boolean;
  readonly rolcanlogin: boolean;
  readonly member_of: string[];
}

/**
 * Create the login role, or check that the existing one is a plain login: a role that may do
 * more than its grants (an attribute, or privileges inherited from a role it belongs to) was not
 * made here, and silently using it would defeat the point.
 * @returns whether the role was created.
 */
async function ensureRole(client: pg.Client, role: string): Promise<boolean> {
  const { rows } = await client.query<RoleRow>(
    `SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls, r.rolcanlogin,
       ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
             WHERE m.member = r.oid ORDER BY 1) AS member_of
     FROM pg_roles r WHERE r.rolname = $1`,
    [role],
  );
  const found = rows[0];
  if (!found) {
    // Attributes default to NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS.
    await client.query(`CREATE ROLE ${client.escapeIdentifier(role)} LOGIN`);
    return true;
  }
  const powers = (
    ["rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls"] as const
  ).filter((a) => found[a]);
  if (powers.length > 0 || found.member_of.length > 0) {
    throw new SupportUserError(
      role,
      `the role exists with ${[...powers, ...found.member_of.map((g) => `membership in ${g}`)].join(", ")}; ` +
        "a component's role is a plain login: drop or fix it by hand",
    );
  }
  if (!found.rolcanlogin) await client.query(`ALTER ROLE ${client.escapeIdentifier(role)} LOGIN`);
  return false;
}

/** Every privilege granted to `role` itself in this database and schema (not PUBLIC's). */
async function currentGrants(client: pg.Client, role: string): Promise<Grant[]> {
  const { rows } = await client.query<{
    kind: Grant["kind"];
    object: string;
    column: string | null;
    privilege: string;
  }>(
    `WITH r AS (SELECT oid FROM pg_roles WHERE rolname = $1)
     SELECT 'database' AS kind, d.datname::text AS object, NULL::text AS "column", a.privilege_type AS privilege
       FROM pg_database d, aclexplode(d.datacl) a, r
       WHERE d.datname = current_database() AND a.grantee = r.oid
     UNION ALL
     SELECT 'schema', n.nspname::text, NULL, a.privilege_type
       FROM pg_namespace n, aclexplode(n.nspacl) a, r
       WHERE n.nspname = current_schema() AND a.grantee = r.oid
     UNION ALL
     SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END, c.relname::text, NULL, a.privilege_type
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a, r
       WHERE n.nspname = current_schema() AND a.grantee = r.oid
     UNION ALL
     SELECT 'column', c.relname::text, t.attname::text, a.privilege_type
       FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(t.attacl) a, r
       WHERE n.nspname = current_schema() AND a.grantee = r.oid`,
    [role],
  );
  return rows.map((g) => ({
    kind: g.kind,
    object: g.object,
    ...(g.column === null ? {} : { column: g.column }),
    privilege: g.privilege,
  }));
}

/** `GRANT SELECT ON TABLE "plan" TO "support_plan"`, identifiers quoted. */
function grantStatement(client: pg.Client, verb: "GRANT" | "REVOKE", g: Grant, role: string): string {
  const id = (name: string) => client.escapeIdentifier(name);
  if (!/^[A-Z ]+$/.test(g.privilege)) throw new SupportUserError(role, `unexpected privilege ${g.privilege}`);
  const privilege = g.column === undefined ? g.privilege : `${g.privilege} (${id(g.column)})`;
  const on = g.kind === "column" ? "TABLE" : g.kind.toUpperCase();
  return `${verb} ${privilege} ON ${on} ${id(g.object)} ${verb === "GRANT" ? "TO" : "FROM"} ${id(role)}`;
}

/** Table privileges checked for being exactly the definition's, PUBLIC's and inherited ones included. */
const TABLE_CHECKS = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"];
const SEQUENCE_CHECKS = ["USAGE", "SELECT", "UPDATE"];

/**
 * What the role can do after the changes, as PostgreSQL decides it (PUBLIC's grants included;
 * `has_any_column_privilege` also sees column grants), against the definition: a privilege that
 * another grantor gave, or that PUBLIC holds, would survive a REVOKE silently otherwise. Creating
 * objects in the schema (PUBLIC may, before PostgreSQL 15) or the database is refused too.
 */
async function checkEffectivePrivileges(
  client: pg.Client,
  role: string,
  desired: readonly Grant[],
  catalog: SchemaCatalog,
): Promise<void> {
  const { rows } = await client.query<{ kind: string; object: string; privilege: string }>(
    `SELECT 'table' AS kind, c.relname::text AS object, p AS privilege
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, unnest($2::text[]) p
       WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
         AND CASE WHEN p IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
                  THEN has_any_column_privilege($1, c.oid, p)
                  ELSE has_table_privilege($1, c.oid, p) END
     UNION
     SELECT 'sequence', c.relname::text, p
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, unnest($3::text[]) p
       WHERE n.nspname = current_schema() AND c.relkind = 'S' AND has_sequence_privilege($1, c.oid, p)
     UNION
     SELECT 'schema', current_schema()::text, p FROM unnest(ARRAY['USAGE', 'CREATE']) p
       WHERE has_schema_privilege($1, current_schema(), p)
     UNION
     SELECT 'database', current_database()::text, p FROM unnest(ARRAY['CONNECT', 'CREATE']) p
       WHERE has_database_privilege($1, current_database(), p)`,
    [role, TABLE_CHECKS, SEQUENCE_CHECKS],
  );
  const want = new Set(desired.map(grantKey));
  const have = new Set(
    rows.map((r) => grantKey({ kind: r.kind as Grant["kind"], object: r.object, privilege: r.privilege })),
  );
  const extra = [...have].filter((k) => !want.has(k)).sort();
  const missing = [...want].filter((k) => !have.has(k)).sort();
  if (extra.length || missing.length) {
    throw new SupportUserError(
      role,
      `after granting, the role ${extra.length ? `still has ${extra.join(", ")}` : ""}` +
        `${extra.length && missing.length ? " and " : ""}${missing.length ? `lacks ${missing.join(", ")}` : ""}` +
        ` on ${catalog.database}: granted to PUBLIC or by another grantor? Revoke it by hand`,
    );
  }
}

type StoredSecret =
  | { readonly kind: "missing" }
  | { readonly kind: "unusable"; readonly problem: string; readonly value: Record<string, unknown> }
  | { readonly kind: "usable"; readonly password: string; readonly value: Record<string, unknown> };

/**
 * The component's secret as it stands. A secret the deployment created without a value answers
 * ResourceNotFoundException, like one that does not exist; the write that follows tells them
 * apart (it fails only for the latter).
 */
async function readUserSecret(
  client: SecretsManagerClient,
  secretId: string,
  role: string,
): Promise<StoredSecret> {
  let text: string | undefined;
  try {
    text = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === "ResourceNotFoundException") return { kind: "missing" };
    throw secretError(secretId, "read", error);
  }
  if (text === undefined) return { kind: "unusable", problem: "no string value", value: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { kind: "unusable", problem: "not JSON", value: {} };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    return { kind: "unusable", problem: "not a JSON object", value: {} };
  const value = raw as Record<string, unknown>;
  if (value.username !== role) return { kind: "unusable", problem: `username is not ${role}`, value };
  if (typeof value.password !== "string" || value.password.length === 0)
    return { kind: "unusable", problem: "no password", value };
  return { kind: "usable", password: value.password, value };
}

async function writeUserSecret(
  client: SecretsManagerClient,
  secretId: string,
  role: string,
  value: Record<string, unknown>,
): Promise<void> {
  try {
    await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify(value) }));
  } catch (error) {
    // The role's new password is lost with the write: the next run finds the secret unusable or
    // refused and sets another one.
    throw secretError(
      secretId,
      `write (role ${role} has a password no secret holds until the next run)`,
      error,
    );
  }
}

function secretError(secretId: string, what: string, error: unknown): Error {
  const name = (error as { name?: string }).name;
  if (
    name === "ResourceNotFoundException" ||
    name === "AccessDeniedException" ||
    name === "DecryptionFailure"
  )
    return new ConfigError(`secret ${secretId}: ${name} on ${what}`, {}, { cause: error });
  return new SecretUnavailableError(
    `secret ${secretId}: ${what} failed: ${String(error)}`,
    {},
    { cause: error },
  );
}

/**
 * Whether `role` logs in with `password` over the master's connection settings (TLS included).
 * Only a refused login answers false; any other failure (network, timeout) is thrown, so a
 * transient error never replaces a working password.
 */
async function canLogIn(connection: ConnectionSecret, role: string, password: string): Promise<boolean> {
  const client = new pg.Client({
    connectionString: connectionUrl({ ...connection, username: role, password }),
    connectionTimeoutMillis: LOGIN_CHECK_TIMEOUT_MS,
    application_name: "lakehouse-migrate-login-check",
  });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch (error) {
    if (LOGIN_REFUSED.has(String((error as { code?: unknown }).code))) return false;
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}
