/**
 * Local-run configuration, parsed once from the environment (scripts/stack.env sets it) into a
 * frozen object. In AWS the handlers read Secrets Manager instead; this is the edge for the CLI.
 * Each consumer parses only the keys it needs (`parseEnv` with a `pick` of the schema), so the
 * snapshot generator does not demand the support database, yet every key is defined once here.
 */
import { z } from "zod";
import { parseEnv } from "../pipeline/config.js";

const postgresUrl = z
  .string({ error: "is not set" })
  .regex(/^postgres(ql)?:\/\//, "must be a postgres:// connection string");

export const LocalConfigSchema = z.object({
  DDC_DATABASE_URL: postgresUrl,
  SUPPORT_DATABASE_URL: postgresUrl,
  MONGODB_URL: z
    .string({ error: "is not set" })
    .regex(/^mongodb(\+srv)?:\/\//, "must be a mongodb:// connection string"),
  // MongoDB database names cannot hold `/\. "$`; FerretDB also maps them to PostgreSQL schemas.
  MONGODB_DATABASE: z
    .string({ error: "is not set" })
    .regex(/^[A-Za-z0-9_-]{1,63}$/, "must be 1-63 letters, digits, '_' or '-'"),
  // The local example of a cutover (npm run cutover -- --stack local): the databases that stand
  // for production, on the same servers. Unset, the local deployment has no production side.
  PRODUCTION_DDC_DATABASE_URL: postgresUrl.optional(),
  PRODUCTION_MONGODB_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, "must be a mongodb:// connection string")
    .optional(),
  PRODUCTION_MONGODB_DATABASE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, "must be 1-63 letters, digits, '_' or '-'")
    .optional(),
  AWS_ENDPOINT_URL: z.url({ protocol: /^https?$/ }).optional(),
  AWS_REGION: z.string().min(1).default("eu-west-1"),
});

export type LocalConfig = Readonly<z.infer<typeof LocalConfigSchema>>;

export function loadLocalConfig(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  return parseEnv(LocalConfigSchema, "local configuration", env);
}
