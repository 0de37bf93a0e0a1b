/**
 * The Alarms report (DESIGN §4–5), as the deployment declares it: the Athena query over the table
 * the `analytics` job writes, the columns QuickSight reads, and the dashboard definition (one bar
 * chart of alarms per day by code, one table per company, model and code). Pure data, no Pulumi.
 *
 * Contract with glue/jobs/analytics.py: the table `analytics.alarms_daily`, one row per company,
 * device model, alarm code and day, with the columns of {@link ALARMS_DAILY_COLUMNS} (as `lakehouse_glue.analytics.alarms_report` writes them).
 */

export const ALARMS_DAILY = { database: "analytics", table: "alarms_daily" } as const;

/** QuickSight input column types (STRING, INTEGER, DECIMAL, DATETIME, ...). */
export type QuickSightType = "STRING" | "INTEGER" | "DECIMAL" | "DATETIME";

export const ALARMS_DAILY_COLUMNS: readonly { readonly name: string; readonly type: QuickSightType }[] = [
  { name: "id_company", type: "INTEGER" },
  { name: "company_name", type: "STRING" },
  { name: "device_model", type: "STRING" },
  { name: "code", type: "INTEGER" },
  { name: "day", type: "DATETIME" },
  { name: "alarms", type: "INTEGER" },
  { name: "alarms_reset", type: "INTEGER" },
  { name: "ttr_p50_seconds", type: "DECIMAL" },
  { name: "ttr_p90_seconds", type: "DECIMAL" },
];

/** The Alarms report of the last 90 days, saved as an Athena named query. */
export const ALARMS_REPORT_SQL = `-- Alarms report: alarms per company, device model, alarm code and day, with time to reset.
SELECT
  company_name,
  device_model,
  code,
  day,
  alarms,
  alarms_reset,
  alarms - alarms_reset AS still_open,
  ttr_p50_seconds,
  ttr_p90_seconds
FROM ${ALARMS_DAILY.database}.${ALARMS_DAILY.table}
WHERE day >= current_date - INTERVAL '90' DAY
ORDER BY day DESC, alarms DESC, company_name, device_model, code`;

/** Identifier of the dataset inside the dashboard definition. */
export const DATASET_IDENTIFIER = "alarms_daily";

const column = (name: string) => ({ DataSetIdentifier: DATASET_IDENTIFIER, ColumnName: name });
const title = (text: string) => ({ Visibility: "VISIBLE", FormatText: { PlainText: text } });
/** Numbers (the alarm code) are numerical dimensions in QuickSight, text categorical. */
const dimension = (name: string) =>
  ALARMS_DAILY_COLUMNS.find((c) => c.name === name)?.type === "INTEGER"
    ? { NumericalDimensionField: { FieldId: name, Column: column(name) } }
    : { CategoricalDimensionField: { FieldId: name, Column: column(name) } };
const measure = (name: string, aggregation: "SUM" | "AVERAGE" | "MAX") => ({
  NumericalMeasureField: {
    FieldId: `${name}_${aggregation.toLowerCase()}`,
    Column: column(name),
    AggregationFunction: { SimpleNumericalAggregation: aggregation },
  },
});

/**
 * The dashboard's `Definition` in the CloudFormation `AWS::QuickSight::Dashboard` shape
 * (pulumi-aws no longer carries QuickSight definitions; the dashboard goes through Cloud Control).
 */
export function alarmsDashboardDefinition(dataSetArn: string) {
  return {
    DataSetIdentifierDeclarations: [{ Identifier: DATASET_IDENTIFIER, DataSetArn: dataSetArn }],
    Sheets: [
      {
        SheetId: "alarms",
        Name: "Alarms",
        Visuals: [
          {
            BarChartVisual: {
              VisualId: "alarms-per-day",
              Title: title("Alarms per day, by code"),
              ChartConfiguration: {
                Orientation: "VERTICAL",
                BarsArrangement: "STACKED",
                FieldWells: {
                  BarChartAggregatedFieldWells: {
                    Category: [
                      {
                        DateDimensionField: { FieldId: "day", Column: column("day"), DateGranularity: "DAY" },
                      },
                    ],
                    Values: [measure("alarms", "SUM")],
                    Colors: [dimension("code")],
                  },
                },
              },
            },
          },
          {
            TableVisual: {
              VisualId: "alarms-by-company",
              Title: title("Alarms by company, device model and code"),
              ChartConfiguration: {
                FieldWells: {
                  TableAggregatedFieldWells: {
                    GroupBy: [dimension("company_name"), dimension("device_model"), dimension("code")],
                    Values: [
                      measure("alarms", "SUM"),
                      measure("alarms_reset", "SUM"),
                      measure("ttr_p50_seconds", "AVERAGE"),
                      measure("ttr_p90_seconds", "MAX"),
                    ],
                  },
                },
              },
            },
          },
        ],
      },
    ],
  };
}
