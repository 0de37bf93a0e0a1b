/**
 * The connection-secret contract between the functions and the Glue job postgres_extract, which
 * reads its database's login from the same secret (`--secret_id`): one fixture,
 * tests/fixtures/connection-secrets.json, checked here against the TypeScript functions and in
 * glue/tests/test_connection_secret.py against the job's parser (lakehouse_glue.connection_secret).
 *
 * Each case is a secret's JSON and what the job must make of it: its JDBC URL, user and
 * password, or an error naming the bad field. The job's login is, in TypeScript terms,
 * `parseConnectionSecret` with the ddc function's defaults (pipeline/lambda/runtime.ts), the job's
 * two rules of its own (a PostgreSQL engine, a username), and `jdbcUrl`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jdbcUrl, parseConnectionSecret } from "../../pipeline/connections/secret.js";
import { ConfigError } from "../../pipeline/errors.js";

interface Login {
  readonly jdbcUrl: string;
  readonly user: string;
  readonly password: string;
}

interface Case {
  readonly name: string;
  readonly secret: unknown;
  readonly expect: Login | { readonly error: string };
}

/** The secret's name in every case (glue/tests/test_connection_secret.py uses the same). */
const SECRET_ID = "lakehouse/ddc";

const CASES = JSON.parse(
  readFileSync(join(import.meta.dirname, "..", "fixtures", "connection-secrets.json"), "utf8"),
) as readonly Case[];

/** What the Glue job makes of a secret, with the TypeScript functions. */
function jobLogin(secret: unknown): Login {
  const c = parseConnectionSecret(SECRET_ID, JSON.stringify(secret), { engine: "postgres" });
  const problems: string[] = [];
  if (c.engine !== "postgres") problems.push("engine must be postgres (the job reads PostgreSQL over JDBC)");
  if (c.username === undefined) problems.push("username is not set (the job logs in with it)");
  if (c.username === undefined || problems.length > 0)
    throw new ConfigError(`secret ${SECRET_ID}: ${problems.join("; ")}`);
  return { jdbcUrl: jdbcUrl(c), user: c.username, password: c.password ?? "" };
}

function passwordOf(secret: unknown): string | undefined {
  const password = (secret as { password?: unknown } | null)?.password;
  return typeof password === "string" ? password : undefined;
}

describe("connection secret contract (tests/fixtures/connection-secrets.json)", () => {
  it("has cases, each named once", () => {
    expect(CASES.length).toBeGreaterThan(10);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  for (const c of CASES) {
    const expected = c.expect;
    if ("error" in expected) {
      it(`refuses: ${c.name}`, () => {
        let message = "";
        try {
          jobLogin(c.secret);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          message = (error as Error).message;
        }
        expect(message).toContain(`secret ${SECRET_ID}`);
        expect(message).toContain(expected.error);
        const password = passwordOf(c.secret);
        if (password) expect(message).not.toContain(password);
      });
    } else {
      it(`logs in: ${c.name}`, () => {
        expect(jobLogin(c.secret)).toEqual(expected);
      });
    }
  }
});
