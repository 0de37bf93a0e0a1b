/** Lambda entry of the worker step (bundled by infra/functions.ts): see steps.ts. */
import { lambdaHandler } from "./handler.js";
import { workerStep } from "./steps.js";

export const handler = lambdaHandler(workerStep);
