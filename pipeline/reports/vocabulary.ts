/**
 * The words analysts use for the views' columns, beyond the labels the Alarms report already
 * gives them (alarms-report.ts): what a natural-language front end (the QuickSight Q topic,
 * infra/quicksight-topic.ts) needs to map "which customer" to `company_name`. Plain data, keyed
 * by column name; the topic adds each column's own words and its report labels to these.
 */
export const COLUMN_SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  alarm_id: ["alarm", "alarms", "alarm count", "number of alarms"],
  id_device: ["device id", "oven id"],
  device_serial: ["device", "oven", "serial number", "serial"],
  device_model: ["model", "oven model", "device type"],
  id_company: ["company id", "customer id"],
  company_name: ["company", "customer", "client", "account"],
  code: ["alarm number", "code number"],
  code_label: ["alarm code", "code name", "alarm name", "error code", "alarm type"],
  alarm_class: ["class", "severity", "alarm class", "alarm category"],
  active_ts: ["activation time", "raised at", "started at", "open since"],
  reset_ts: ["reset time", "cleared at", "resolved at"],
  day: ["date", "activation day", "period"],
  state: ["status", "open or reset"],
  ttr_minutes: ["time to reset", "reset time in minutes", "resolution time", "time to resolve"],
  exclusion: ["exclusion reason", "implausible reason"],
  generated_at: ["query time", "computed at", "data as of"],
  open_hours: ["hours open", "open for", "age in hours", "how long open"],
};
