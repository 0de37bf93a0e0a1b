/** Lambda entry of the reconcile step (bundled by infra/functions.ts): see steps.ts. */
import { lambdaHandler } from "./handler.js";
import { reconcileStep } from "./steps.js";

export const handler = lambdaHandler(reconcileStep);
