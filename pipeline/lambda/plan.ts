/** Lambda entry of the plan step (bundled by infra/functions.ts): see steps.ts. */
import { lambdaHandler } from "./handler.js";
import { planStep } from "./steps.js";

export const handler = lambdaHandler(planStep);
