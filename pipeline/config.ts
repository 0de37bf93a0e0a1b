/**
 * Configuration parsed once at the edge: every entry point (a Lambda handler, the local CLI)
 * reads its environment through {@link parseEnv} with a zod schema of the keys it needs, into a
 * frozen object; an error names each missing or malformed key.
 */
import type { z } from "zod";
import { ConfigError } from "./errors.js";

/**
 * Parse `env` with `schema` into a frozen object.
 * @throws ConfigError naming every missing or malformed key.
 */
export function parseEnv<S extends z.ZodObject>(
  schema: S,
  what: string,
  env: NodeJS.ProcessEnv = process.env,
  hint = "run through npm start / npm test, or source scripts/stack.env",
): Readonly<z.infer<S>> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ");
    throw new ConfigError(`${what}: ${detail} (${hint})`);
  }
  return Object.freeze(parsed.data);
}
