/**
 * Local-run configuration, parsed once from the environment (scripts/stack.env sets it) into a
 * frozen object. In AWS the handlers read Secrets Manager instead; this is the edge for the CLI.
 */
import { z } from "zod";
import { ConfigError } from "./errors.js";

const LocalConfigSchema = z.object({
  DDC_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  SUPPORT_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  MONGODB_URL: z.url({ protocol: /^mongodb$/ }),
  MONGODB_DATABASE: z.string().regex(/^[A-Za-z0-9_-]+$/),
  AWS_ENDPOINT_URL: z.url({ protocol: /^https?$/ }).optional(),
  AWS_REGION: z.string().min(1).default("eu-west-1"),
});

export type LocalConfig = Readonly<z.infer<typeof LocalConfigSchema>>;

/** @throws ConfigError naming every missing or malformed key. */
export function loadLocalConfig(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const parsed = LocalConfigSchema.safeParse(env);
  if (!parsed.success) {
    const keys = parsed.error.issues.map((i) => `${i.path.join(".")} (${i.message})`).join(", ");
    throw new ConfigError(
      `local configuration is invalid: ${keys}. Run through npm start / npm test, or source scripts/stack.env.`,
    );
  }
  return Object.freeze(parsed.data);
}
