/**
 * Connection settings of a database, as kept in Secrets Manager (docs/design.md §6): one secret per
 * source, so switching from the snapshot to production is a secret update, not a redeploy.
 *
 * Field names follow the AWS convention for database secrets (`engine`, `host`, `port`,
 * `dbname`, `username`, `password`), which RDS-managed and rotated secrets already use;
 * `database` and `user` are accepted as aliases. A secret may hold only the credentials (an
 * RDS-managed master secret does): the rest then comes from non-secret defaults the deployment
 * sets next to the secret id.
 */
import { z } from "zod";
import { ConfigError } from "../errors.js";

export const ENGINES = ["postgres", "mongodb", "mongodb+srv"] as const;
export type Engine = (typeof ENGINES)[number];

const aliases = (raw: unknown) => {
  if (typeof raw !== "object" || raw === null) return raw;
  const r = raw as Record<string, unknown>;
  return { ...r, dbname: r.dbname ?? r.database, username: r.username ?? r.user };
};

export const ConnectionSecretSchema = z.preprocess(
  aliases,
  z.object({
    engine: z.enum(ENGINES, { error: `must be one of ${ENGINES.join(", ")}` }),
    host: z.string({ error: "is not set" }).min(1),
    /** Unused by mongodb+srv, where DNS names the hosts and ports. */
    port: z.coerce.number().int().min(1).max(65_535).optional(),
    dbname: z.string({ error: "is not set" }).min(1),
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    /** Extra URL parameters: `sslmode`, `tls`, `authSource`, `replicaSet`, ... */
    options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  }),
);

export type ConnectionSecret = z.infer<typeof ConnectionSecretSchema>;

/**
 * Parse a secret string merged over `defaults`.
 * @throws ConfigError naming the secret and every bad field; the values never appear in it.
 */
export function parseConnectionSecret(
  name: string,
  secretString: string,
  defaults: Partial<Record<string, unknown>> = {},
): ConnectionSecret {
  let raw: unknown;
  try {
    raw = JSON.parse(secretString);
  } catch {
    throw new ConfigError(`secret ${name} is not JSON`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new ConfigError(`secret ${name} must be a JSON object`);
  const defined = Object.fromEntries(Object.entries(defaults).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = ConnectionSecretSchema.safeParse({ ...defined, ...raw });
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"} ${i.message}`).join("; ");
    throw new ConfigError(`secret ${name}: ${detail}`);
  }
  return parsed.data;
}

/** A driver URL for the connection, with credentials percent-encoded. */
export function connectionUrl(c: ConnectionSecret): string {
  const auth = c.username
    ? `${encodeURIComponent(c.username)}${c.password !== undefined ? `:${encodeURIComponent(c.password)}` : ""}@`
    : "";
  const params = new URLSearchParams(
    Object.entries(c.options).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();
  const query = params ? `?${params}` : "";
  switch (c.engine) {
    case "postgres":
      return `postgres://${auth}${c.host}:${c.port ?? 5432}/${encodeURIComponent(c.dbname)}${query}`;
    case "mongodb":
      // The database is chosen by name at use; the path only names where credentials live.
      return `mongodb://${auth}${c.host}:${c.port ?? 27017}/${query}`;
    case "mongodb+srv":
      return `mongodb+srv://${auth}${c.host}/${query}`;
  }
}

/**
 * The JDBC URL of a PostgreSQL connection, `jdbc:postgresql://host:port/db`, with the secret's
 * URL options (e.g. `sslmode`) and no credentials: what a Glue JDBC connection's
 * `JDBC_CONNECTION_URL` holds (the credentials stay in the secret it names).
 */
export function jdbcUrl(c: Pick<ConnectionSecret, "host" | "port" | "dbname" | "options">): string {
  const params = new URLSearchParams(
    Object.entries(c.options).map(([k, v]): [string, string] => [k, String(v)]),
  );
  const query = params.size > 0 ? `?${params}` : "";
  // The driver URL-decodes the database name: `+`, `?`, `/` or `%` in it must be encoded.
  return `jdbc:postgresql://${c.host}:${c.port ?? 5432}/${encodeURIComponent(c.dbname)}${query}`;
}

/**
 * Whether a PostgreSQL connection asks for TLS (`sslmode` require or stricter): a Glue JDBC
 * connection's `JDBC_ENFORCE_SSL`.
 */
export function requiresTls(c: Pick<ConnectionSecret, "options">): boolean {
  return ["require", "verify-ca", "verify-full"].includes(String(c.options.sslmode ?? ""));
}

/** The same settings with the password masked, for logs and dry runs. */
export function describeConnection(c: ConnectionSecret): string {
  return connectionUrl({ ...c, password: c.password === undefined ? undefined : "***" });
}

/**
 * The secret for a driver URL: how local runs and tests put the local stack's settings into
 * (moto's) Secrets Manager, so the functions read them exactly as they do in AWS.
 */
export function secretFromUrl(url: string, dbname?: string): ConnectionSecret {
  const u = new URL(url);
  const engine = u.protocol.replace(/:$/, "").replace(/^postgresql$/, "postgres");
  const path = decodeURIComponent(u.pathname.replace(/^\//, ""));
  return ConnectionSecretSchema.parse({
    engine,
    host: u.hostname,
    port: u.port || undefined,
    dbname: dbname ?? path,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    options: Object.fromEntries(u.searchParams),
  });
}
