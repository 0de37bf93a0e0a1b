/** Lambda entry of the summarize step (bundled by infra/functions.ts): see steps.ts. */
import { lambdaHandler } from "./handler.js";
import { summarizeStep } from "./steps.js";

export const handler = lambdaHandler(summarizeStep);
