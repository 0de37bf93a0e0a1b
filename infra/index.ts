/**
 * The Pulumi program: one ComponentResource per concern, composed here (DESIGN §5–6).
 *
 * Not built yet: the components arrive with the issue "Pulumi program: the whole AWS deployment
 * from one program". Until then the program declares no resources; it only proves the layering
 * (infra imports the pipeline library's registry, never the reverse) and exports what the catalog
 * will be built from.
 */
import * as pulumi from "@pulumi/pulumi";
import { collections, tables } from "../pipeline/schema/index.js";

const config = new pulumi.Config();

export const environment = config.require("environment");
export const catalogTables = {
  mongodb: collections.map((c) => c.name),
  postgres: tables.map((t) => t.name),
};
