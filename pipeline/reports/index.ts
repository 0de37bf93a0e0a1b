export * from "./alarm-codes.js";
export * from "./alarms-report.js";
export * from "./questions.js";
export * from "./views.js";
