/**
 * Passwords of the support database's users: generated here, and handed to PostgreSQL only as a
 * SCRAM-SHA-256 verifier, the form it stores them in. `ALTER ROLE ... PASSWORD '<verifier>'`
 * keeps the cleartext out of the server's statement log (RDS logs DDL when `log_statement` asks
 * for it), which is why psql's `\password` does the same (PQencryptPasswordConn;
 * https://www.postgresql.org/docs/16/sql-alterrole.html, "Notes").
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";

/** Bytes of randomness in a generated password: 256 bits, 43 base64url characters. */
export const PASSWORD_BYTES = 32;

/** PostgreSQL's default `scram_iterations` (RFC 7677's minimum). */
export const SCRAM_ITERATIONS = 4096;

/**
 * A new password: base64url, so it needs no escaping in a URL, a JDBC property or JSON, and is
 * its own SASLprep normalization (printable ASCII).
 */
export function generatePassword(): string {
  return randomBytes(PASSWORD_BYTES).toString("base64url");
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password`
 * (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, RFC 5802 §3 and
 * src/common/scram-common.c `scram_build_secret`).
 * @throws RangeError for a password outside printable ASCII: PostgreSQL would SASLprep it first,
 * which this does not implement (generated passwords never need it).
 */
export function scramSha256Verifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations: number = SCRAM_ITERATIONS,
): string {
  if (!/^[\x21-\x7e]+$/.test(password))
    throw new RangeError("only printable ASCII passwords are hashed here (no SASLprep)");
  const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}
