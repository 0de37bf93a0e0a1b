/** The project's command line: `tsx local/cli/main.ts <command>` (npm start runs `local`). */
import { failureReport } from "./failures.js";
import { lakehouseProgram } from "./program.js";

try {
  await lakehouseProgram().parseAsync(process.argv);
} catch (error) {
  // Known failures print one clear line, the stack behind --verbose; a bug keeps its stack.
  const report = failureReport(error);
  for (const line of report.lines) console.error(line);
  process.exitCode = report.exitCode;
}
