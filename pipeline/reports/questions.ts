/**
 * Questions analysts ask, each answered by SQL against the views (views.ts): listed in the README's
 * "For analysts", saved as Athena named queries by the deployment, and run on the local lake by
 * the tests, which check each answer against an independent computation. The SQL is what Athena
 * runs; locally the views are session views, so `analytics.` is dropped before Spark runs it
 * (the only difference the tests allow). An ascending sort on a column that may be NULL says
 * `NULLS LAST`: Trino's default, where Spark's is NULLS FIRST.
 */
export interface AnalystQuestion {
  readonly id: string;
  readonly question: string;
  readonly sql: string;
}

export const ANALYST_QUESTIONS: readonly AnalystQuestion[] = [
  {
    id: "open_alarms_by_company",
    question: "Which companies have alarms open right now, and how many of each class?",
    sql: `SELECT company_name, alarm_class, count(*) AS open_alarms, max(open_hours) AS longest_open_hours
FROM analytics.open_alarms
GROUP BY company_name, alarm_class
ORDER BY open_alarms DESC, company_name NULLS LAST, alarm_class`,
  },
  {
    id: "slowest_codes_to_reset",
    question: "Which error and service codes take longest to reset, over the last 90 days of data?",
    sql: `SELECT code_label, alarm_class, count(*) AS alarms,
  avg(ttr_minutes) AS mean_minutes, max(ttr_minutes) AS longest_minutes
FROM analytics.alarm_facts
WHERE alarm_class IN ('error', 'service') AND state = 'reset'
  AND day >= (SELECT max(day) FROM analytics.alarm_facts) - INTERVAL '90' DAY
GROUP BY code_label, alarm_class
ORDER BY mean_minutes DESC, code_label`,
  },
  {
    id: "alarms_per_model_per_device",
    question: "Which device model raises the most alarms per device?",
    sql: `SELECT device_model, count(*) AS alarms, count(DISTINCT id_device) AS devices,
  CAST(count(*) AS double) / count(DISTINCT id_device) AS alarms_per_device
FROM analytics.alarm_facts
GROUP BY device_model
ORDER BY alarms_per_device DESC, device_model NULLS LAST`,
  },
  {
    id: "hottest_chamber_hours",
    question: "Which devices ran hottest, and when (the ten highest hourly mean chamber temperatures)?",
    sql: `SELECT id_device, hour, temp_chamber_avg, temp_chamber_max, samples
FROM analytics.variable_logs_hourly
WHERE temp_chamber_avg IS NOT NULL
ORDER BY temp_chamber_avg DESC, id_device, hour
LIMIT 10`,
  },
  {
    id: "weekly_alarms_for_company",
    question: "How many alarms did each device of one company raise per week?",
    sql: `SELECT company_name, device_serial, date_trunc('week', day) AS week, count(*) AS alarms
FROM analytics.alarm_facts
WHERE company_name = (SELECT company_name FROM analytics.alarm_facts
                      GROUP BY company_name ORDER BY count(*) DESC, company_name NULLS LAST LIMIT 1)
GROUP BY company_name, device_serial, date_trunc('week', day)
ORDER BY week, device_serial NULLS LAST`,
  },
  {
    id: "fleet_as_of_date",
    question: "What did each company's fleet look like on 1 March 2024: how many devices of each model?",
    sql: `WITH as_of AS (SELECT TIMESTAMP '2024-03-01 00:00:00' AS t)
SELECT h.company_name, h.model, count(*) AS devices
FROM analytics.device_history h CROSS JOIN as_of
WHERE h.valid_from <= as_of.t AND (h.valid_to IS NULL OR h.valid_to > as_of.t)
GROUP BY h.company_name, h.model
ORDER BY h.company_name NULLS LAST, h.model`,
  },
  {
    id: "device_changes",
    question: "Which devices changed model, owner or firmware, and what did they have before?",
    sql: `SELECT id_device, serial, valid_from, valid_to, model, company_name, id_firmware
FROM analytics.device_history
WHERE id_device IN (SELECT id_device FROM analytics.device_history GROUP BY id_device HAVING count(*) > 1)
ORDER BY id_device, valid_from`,
  },
];
