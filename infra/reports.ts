/**
 * The Alarms report (docs/design.md §4–5), as the deployment declares it: the Athena query over the table
 * the `analytics` job writes, the columns QuickSight reads, and the dashboard definition (one bar
 * chart of alarms per day by code, one table per company, model and code). Pure data, no Pulumi.
 *
 * The table and its columns are the registry's report table `alarmsDaily`
 * (pipeline/schema/reports.ts), which the analytics job also writes from: a column named here
 * that the table does not declare fails to compile.
 */
import {
  alarmsDaily,
  type QuickSightType,
  quickSightColumnsOf,
  type ReportColumnName,
} from "../pipeline/schema/index.js";

export const ALARMS_DAILY = { database: alarmsDaily.database, table: alarmsDaily.name } as const;

type DailyColumn = ReportColumnName<typeof alarmsDaily>;

/** The dataset's input columns: every column of the table, typed by the registry's mapping. */
export const ALARMS_DAILY_COLUMNS: readonly { readonly name: DailyColumn; readonly type: QuickSightType }[] =
  quickSightColumnsOf(alarmsDaily);

/** A column of the table in SQL text, checked against the declaration at compile time. */
const c = (name: DailyColumn) => name;

/** The Alarms report of the last 90 days, saved as an Athena named query. */
export const ALARMS_REPORT_SQL = `-- Alarms report: alarms per company, device model, alarm code and day, with time to reset.
SELECT
  ${c("company_name")},
  ${c("device_model")},
  ${c("code")},
  ${c("day")},
  ${c("alarms")},
  ${c("alarms_reset")},
  ${c("alarms")} - ${c("alarms_reset")} AS still_open,
  ${c("ttr_p50_seconds")},
  ${c("ttr_p90_seconds")},
  ${c("excluded_reset_before_active")},
  ${c("excluded_reset_too_late")}
FROM ${ALARMS_DAILY.database}.${ALARMS_DAILY.table}
WHERE ${c("day")} >= current_date - INTERVAL '90' DAY
ORDER BY ${c("day")} DESC, ${c("alarms")} DESC, ${c("company_name")}, ${c("device_model")}, ${c("code")}`;

/** Identifier of the dataset inside the dashboard definition. */
export const DATASET_IDENTIFIER = "alarms_daily";

const column = (name: DailyColumn) => ({ DataSetIdentifier: DATASET_IDENTIFIER, ColumnName: name });
const title = (text: string) => ({ Visibility: "VISIBLE", FormatText: { PlainText: text } });
/** Numbers (the alarm code) are numerical dimensions in QuickSight, text categorical. */
const dimension = (name: DailyColumn) =>
  ALARMS_DAILY_COLUMNS.find((c) => c.name === name)?.type === "INTEGER"
    ? { NumericalDimensionField: { FieldId: name, Column: column(name) } }
    : { CategoricalDimensionField: { FieldId: name, Column: column(name) } };
const measure = (name: DailyColumn, aggregation: "SUM" | "AVERAGE" | "MAX") => ({
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
                      measure("excluded_reset_before_active", "SUM"),
                      measure("excluded_reset_too_late", "SUM"),
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
