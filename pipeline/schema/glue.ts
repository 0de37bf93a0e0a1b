/** Glue Data Catalog columns of a registry entry: what Pulumi declares instead of a crawler. */
import type { RegistryEntry } from "./registry.js";
import { GLUE_TYPE } from "./targets.js";

export interface GlueColumn {
  readonly name: string;
  readonly type: string;
  readonly comment?: string;
}

export function glueColumnsOf(entry: RegistryEntry): GlueColumn[] {
  return entry.columns.map((col) => ({
    name: col.name,
    type: GLUE_TYPE[col.type],
    ...(col.source !== col.name ? { comment: `source field ${col.source}` } : {}),
  }));
}
