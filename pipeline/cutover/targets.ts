/**
 * What a cutover acts on (docs/adr/0016): the names of one deployment's resources, as the stack
 * exports them (`pulumi stack output cutover`) or as the local deployment names them. The script
 * reads these names, never Pulumi's state; the values it switches live in the resources.
 *
 * Per source there are three secrets: `active` is the one the functions and the Glue connection
 * read (the script owns its value after the first deployment); `snapshot` and `production` hold
 * each side's settings and stay Pulumi's, from the stack config. Switching a side copies that
 * side's value into `active`, so no secret value passes through a command line or a log. The Glue
 * job postgres_extract reads the active secret too (`--secret_id`): its Glue connection only
 * places it in the VPC, so nothing else names a database.
 */
import { z } from "zod";

export const SOURCES = ["ddc", "mongodb"] as const;
export type Source = (typeof SOURCES)[number];

export const SIDES = ["snapshot", "production"] as const;
export type Side = (typeof SIDES)[number];

const name = z.string().min(1);

const SourceSecretsSchema = z.object({
  active: name,
  snapshot: name,
  /** Unset until the stack config names the production database. */
  production: name.optional(),
});

export const CutoverTargetsSchema = z.object({
  secrets: z.object({ ddc: SourceSecretsSchema, mongodb: SourceSecretsSchema }),
  schedule: z.object({ name, group: name.default("default") }),
  /** The no-success alarm, created with its actions off: armed together with the schedule. */
  noSuccessAlarm: name,
  /** Whose running executions stop a cutover. */
  stateMachineArn: name,
  /** The support database's owner secret (bookmarks and the cutover log), with its address. */
  support: z.object({
    secret: name,
    host: name.optional(),
    port: z.coerce.number().int().optional(),
    dbname: name.optional(),
  }),
});

export type CutoverTargets = z.infer<typeof CutoverTargetsSchema>;
