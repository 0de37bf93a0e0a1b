/**
 * Alarm codes the report names. The source documents carry only the number and the class
 * (`info`, `warning`, `error`, `service`); the names are the fleet's documentation's, kept here
 * so every reader (the views, the dashboards, the analysts' SQL) says "101 door open during
 * cooking" rather than "101". A code missing here keeps its number as its label.
 */
export const ALARM_CLASSES = ["info", "warning", "error", "service"] as const;
export type AlarmClass = (typeof ALARM_CLASSES)[number];

export interface AlarmCodeName {
  readonly code: number;
  readonly class: AlarmClass;
  readonly name: string;
}

export const ALARM_CODE_NAMES: readonly AlarmCodeName[] = [
  { code: 101, class: "warning", name: "door open during cooking" },
  { code: 102, class: "warning", name: "core probe not inserted" },
  { code: 110, class: "info", name: "preheat reached" },
  { code: 205, class: "error", name: "chamber over-temperature" },
  { code: 210, class: "error", name: "water supply missing" },
  { code: 231, class: "error", name: "fan motor fault" },
  { code: 305, class: "service", name: "descaling due" },
  { code: 330, class: "service", name: "board temperature high" },
  { code: 404, class: "warning", name: "cloud unreachable" },
];

/** How a code reads in a chart or a table: `101 door open during cooking`, or `999`. */
export function codeLabel(code: number): string {
  const known = ALARM_CODE_NAMES.find((c) => c.code === code);
  return known ? `${code} ${known.name}` : String(code);
}
