/**
 * The QuickSight dashboard of a report definition (pipeline/reports/alarms-report.ts), rendered
 * as the `Definition` of `AWS::QuickSight::Dashboard` (the CloudFormation shape is the API's
 * `DashboardVersionDefinition`; pulumi-aws carries no QuickSight definitions, so the dashboard
 * goes through Cloud Control). Pure data, no Pulumi: the datasets' ARNs come in as strings.
 *
 * One visual per report visual, with the same id, title, fields and measures:
 * - bar → BarChartVisual (stacked by `color`; `limit` keeps the top categories by the value),
 *   line → LineChartVisual, heatmap → HeatMapVisual, kpi → KPIVisual;
 * - table → TableVisual with aggregated field wells (group by, then the measures), sorted
 *   descending by `sortBy`; list → TableVisual with unaggregated field wells (the rows as they are);
 * - a count counts the rows: COUNT of the field (the row's id); a max of a timestamp is a date
 *   measure with MAX;
 * - a percentile is a calculated field `percentileCont({field}, p)`, used as a measure as it is:
 *   linear interpolation over the rows of the group the visual shows, like the local dashboard.
 *   (QuickSight's `percentile`/`percentileDisc` and the field well's percentile aggregation pick
 *   an actual value instead; an AVERAGE of per-day percentiles is no percentile at all.)
 *
 * Filters: each report filter becomes one filter group across datasets (`ALL_DATASETS`), scoped
 * to the visuals whose dataset has its column, with one control on the sheet, as on the local
 * page: a date range picker for `dateRange`, a multi-select dropdown for `multiSelect`.
 */
import {
  type BarVisual,
  type Dimension,
  type LineVisual,
  type Measure,
  measuresOf,
  type ReportDataset,
  type ReportDefinition,
  type ReportFilter,
  type Visual,
} from "../pipeline/reports/alarms-report.js";
import { QUICKSIGHT_TYPE, type QuickSightType } from "../pipeline/schema/reports.js";

/** The dashboard's one sheet. */
export const SHEET_ID = "alarms";

// biome-ignore lint/suspicious/noExplicitAny: the definition is JSON in the API's shape.
type Json = any;

/** The QuickSight type of a dataset's column. */
export function columnType(dataset: ReportDataset, field: string): QuickSightType {
  const col = dataset.view.columns.find((c) => c.name === field);
  if (!col) throw new Error(`${dataset.id}: no column ${field} in view ${dataset.view.name}`);
  return QUICKSIGHT_TYPE[col.type];
}

/** The expression of a percentile measure: QuickSight's linear-interpolation percentile. */
export function percentileExpression(field: string, percentile: number): string {
  if (!(percentile > 0 && percentile < 100)) throw new Error(`percentile ${percentile} is not in (0, 100)`);
  return `percentileCont({${field}}, ${percentile})`;
}

/** A calculated field of the definition: the name a measure's column takes. */
export interface CalculatedField {
  readonly DataSetIdentifier: string;
  readonly Name: string;
  readonly Expression: string;
}

/** The calculated fields the report's percentile measures need, one per dataset and measure id. */
export function calculatedFields(report: ReportDefinition): CalculatedField[] {
  const out = new Map<string, CalculatedField>();
  for (const visual of report.visuals)
    for (const m of measuresOf(visual)) {
      if (m.aggregation.kind !== "percentile") continue;
      const field = {
        DataSetIdentifier: visual.dataset.id,
        Name: m.id,
        Expression: percentileExpression(m.field, m.aggregation.percentile),
      };
      const key = `${field.DataSetIdentifier}.${field.Name}`;
      const known = out.get(key);
      if (known && known.Expression !== field.Expression)
        throw new Error(`measure ${m.id} of ${visual.dataset.id} is defined twice, differently`);
      out.set(key, field);
    }
  return [...out.values()];
}

const column = (dataset: ReportDataset, name: string) => ({
  DataSetIdentifier: dataset.id,
  ColumnName: name,
});
const title = (text: string) => ({ Visibility: "VISIBLE", FormatText: { PlainText: text } });

/** Field ids are unique in the whole definition: `<visual>.<well>.<field or measure>`. */
const fieldId = (visual: Visual, well: string, name: string) => `${visual.id}.${well}.${name}`;

function dimensionField(visual: Visual, well: string, dim: Dimension): Json {
  const id = fieldId(visual, well, dim.field);
  const col = column(visual.dataset, dim.field);
  switch (columnType(visual.dataset, dim.field)) {
    case "DATETIME":
      return {
        DateDimensionField: {
          FieldId: id,
          Column: col,
          ...(dim.granularity ? { DateGranularity: dim.granularity } : {}),
        },
      };
    case "INTEGER":
    case "DECIMAL":
      return { NumericalDimensionField: { FieldId: id, Column: col } };
    case "STRING":
    case "BOOLEAN":
      return { CategoricalDimensionField: { FieldId: id, Column: col } };
  }
}

function measureField(visual: Visual, well: string, m: Measure): Json {
  const id = fieldId(visual, well, m.id);
  const type = columnType(visual.dataset, m.field);
  switch (m.aggregation.kind) {
    case "count":
      if (type === "STRING" || type === "BOOLEAN")
        return {
          CategoricalMeasureField: {
            FieldId: id,
            Column: column(visual.dataset, m.field),
            AggregationFunction: "COUNT",
          },
        };
      if (type === "DATETIME")
        return {
          DateMeasureField: {
            FieldId: id,
            Column: column(visual.dataset, m.field),
            AggregationFunction: "COUNT",
          },
        };
      return {
        NumericalMeasureField: {
          FieldId: id,
          Column: column(visual.dataset, m.field),
          AggregationFunction: { SimpleNumericalAggregation: "COUNT" },
        },
      };
    case "percentile":
      // The calculated field aggregates itself (percentileCont over the visual's group): no
      // aggregation on top of it.
      if (type !== "INTEGER" && type !== "DECIMAL")
        throw new Error(`${visual.id}: percentile of ${m.field}, a ${type} column`);
      return { NumericalMeasureField: { FieldId: id, Column: column(visual.dataset, m.id) } };
    case "max":
      if (type === "DATETIME")
        return {
          DateMeasureField: {
            FieldId: id,
            Column: column(visual.dataset, m.field),
            AggregationFunction: "MAX",
          },
        };
      if (type === "INTEGER" || type === "DECIMAL")
        return {
          NumericalMeasureField: {
            FieldId: id,
            Column: column(visual.dataset, m.field),
            AggregationFunction: { SimpleNumericalAggregation: "MAX" },
          },
        };
      throw new Error(`${visual.id}: max of ${m.field}, a ${type} column`);
  }
}

/** The id and column of a rendered field, whatever its kind. */
function fieldRef(field: Json): {
  FieldId: string;
  Column: { DataSetIdentifier: string; ColumnName: string };
} {
  const inner = Object.values(field)[0] as {
    FieldId: string;
    Column: { DataSetIdentifier: string; ColumnName: string };
  };
  return { FieldId: inner.FieldId, Column: inner.Column };
}

/** Axis labels: the report's label for each field of a chart. */
function axisLabels(fields: readonly { field: Json; label: string }[]) {
  return {
    AxisLabelOptions: fields.map(({ field, label }) => ({ CustomLabel: label, ApplyTo: fieldRef(field) })),
  };
}

const fieldSort = (field: Json, direction: "ASC" | "DESC") => ({
  FieldSort: { FieldId: fieldRef(field).FieldId, Direction: direction },
});

/** One visual of the sheet, in the API's `Visual` union. */
/** A bar or line chart's fields: its category, its colors if any, its value, and the wells holding them. */
function seriesFields(visual: BarVisual | LineVisual) {
  const x = dimensionField(visual, "x", visual.x);
  const color = visual.color ? dimensionField(visual, "color", visual.color) : undefined;
  const value = measureField(visual, "value", visual.value);
  return {
    x,
    color,
    value,
    wells: { Category: [x], ...(color ? { Colors: [color] } : {}), Values: [value] },
  };
}

export function renderVisual(visual: Visual): Json {
  const Title = title(visual.title);
  switch (visual.kind) {
    case "kpi":
      return {
        KPIVisual: {
          VisualId: visual.id,
          Title,
          ChartConfiguration: { FieldWells: { Values: [measureField(visual, "value", visual.value)] } },
        },
      };
    case "bar": {
      const { x, color, value, wells } = seriesFields(visual);
      return {
        BarChartVisual: {
          VisualId: visual.id,
          Title,
          ChartConfiguration: {
            Orientation: "VERTICAL",
            BarsArrangement: color ? "STACKED" : "CLUSTERED",
            FieldWells: { BarChartAggregatedFieldWells: wells },
            SortConfiguration:
              visual.limit === undefined
                ? { CategorySort: [fieldSort(x, "ASC")] }
                : {
                    CategorySort: [fieldSort(value, "DESC")],
                    CategoryItemsLimit: { ItemsLimit: visual.limit, OtherCategories: "EXCLUDE" },
                  },
            CategoryLabelOptions: axisLabels([{ field: x, label: visual.x.label }]),
            ValueLabelOptions: axisLabels([{ field: value, label: visual.value.label }]),
            ...(color && visual.color
              ? { ColorLabelOptions: axisLabels([{ field: color, label: visual.color.label }]) }
              : {}),
          },
        },
      };
    }
    case "line": {
      const { x, value, wells } = seriesFields(visual);
      return {
        LineChartVisual: {
          VisualId: visual.id,
          Title,
          ChartConfiguration: {
            Type: "LINE",
            FieldWells: { LineChartAggregatedFieldWells: wells },
            SortConfiguration: { CategorySort: [fieldSort(x, "ASC")] },
            XAxisLabelOptions: axisLabels([{ field: x, label: visual.x.label }]),
            PrimaryYAxisLabelOptions: axisLabels([{ field: value, label: visual.value.label }]),
          },
        },
      };
    }
    case "table": {
      const groupBy = visual.groupBy.map((d) => ({
        field: dimensionField(visual, "group", d),
        label: d.label,
      }));
      const values = visual.values.map((m) => ({ field: measureField(visual, "value", m), label: m.label }));
      const sortBy = values.find((_, i) => visual.values[i]?.id === visual.sortBy);
      if (!sortBy) throw new Error(`${visual.id}: sorted by ${visual.sortBy}, not one of its measures`);
      return {
        TableVisual: {
          VisualId: visual.id,
          Title,
          ChartConfiguration: {
            FieldWells: {
              TableAggregatedFieldWells: {
                GroupBy: groupBy.map((g) => g.field),
                Values: values.map((v) => v.field),
              },
            },
            SortConfiguration: { RowSort: [fieldSort(sortBy.field, "DESC")] },
            FieldOptions: {
              SelectedFieldOptions: [...groupBy, ...values].map(({ field, label }) => ({
                FieldId: fieldRef(field).FieldId,
                CustomLabel: label,
              })),
            },
          },
        },
      };
    }
    case "list": {
      const columns = visual.columns.map((d) => ({
        field: {
          UnaggregatedField: {
            FieldId: fieldId(visual, "column", d.field),
            Column: column(visual.dataset, d.field),
          },
        },
        label: d.label,
      }));
      const sortBy = columns.find((_, i) => visual.columns[i]?.field === visual.sortBy);
      if (!sortBy) throw new Error(`${visual.id}: sorted by ${visual.sortBy}, not one of its columns`);
      return {
        TableVisual: {
          VisualId: visual.id,
          Title,
          ChartConfiguration: {
            FieldWells: {
              TableUnaggregatedFieldWells: { Values: columns.map((c) => c.field.UnaggregatedField) },
            },
            SortConfiguration: { RowSort: [fieldSort(sortBy.field, "DESC")] },
            FieldOptions: {
              SelectedFieldOptions: columns.map(({ field, label }) => ({
                FieldId: field.UnaggregatedField.FieldId,
                CustomLabel: label,
              })),
            },
          },
        },
      };
    }
    case "heatmap": {
      const rows = dimensionField(visual, "rows", visual.rows);
      const columns = dimensionField(visual, "columns", visual.columns);
      const value = measureField(visual, "value", visual.value);
      return {
        HeatMapVisual: {
          VisualId: visual.id,
          Title,
          ChartConfiguration: {
            FieldWells: {
              HeatMapAggregatedFieldWells: { Rows: [rows], Columns: [columns], Values: [value] },
            },
            SortConfiguration: { HeatMapColumnSort: [fieldSort(columns, "ASC")] },
            RowLabelOptions: axisLabels([{ field: rows, label: visual.rows.label }]),
            ColumnLabelOptions: axisLabels([{ field: columns, label: visual.columns.label }]),
          },
        },
      };
    }
  }
}

/** Grid cells per visual kind (36 columns wide; KPIs two to a row). */
const GRID_SIZE: Record<Visual["kind"], { ColumnSpan: number; RowSpan: number }> = {
  kpi: { ColumnSpan: 18, RowSpan: 4 },
  bar: { ColumnSpan: 36, RowSpan: 12 },
  line: { ColumnSpan: 36, RowSpan: 12 },
  table: { ColumnSpan: 36, RowSpan: 12 },
  list: { ColumnSpan: 36, RowSpan: 12 },
  heatmap: { ColumnSpan: 36, RowSpan: 14 },
};

/** A filter of the report: its filter group, and the one control that sets it. */
export interface RenderedFilter {
  readonly filter: ReportFilter;
  /** The dataset whose column the filter names; QuickSight matches the others by name and type. */
  readonly dataset: ReportDataset;
  /** Every visual whose dataset has the column, whatever the dataset. */
  readonly visualIds: readonly string[];
  readonly group: Json;
  readonly control: Json;
}

/**
 * Each report filter once, as the local page has it: one filter group across datasets
 * (`ALL_DATASETS`: QuickSight applies it to every dataset with a column of that name and type)
 * scoped to the visuals whose dataset has the column, and one control.
 */
export function renderFilters(report: ReportDefinition): RenderedFilter[] {
  const out: RenderedFilter[] = [];
  for (const filter of report.filters) {
    const has = (d: ReportDataset) => d.view.columns.some((c) => c.name === filter.field);
    const visualIds = report.visuals.filter((v) => has(v.dataset)).map((v) => v.id);
    const dataset = report.datasets.find((d) => has(d) && report.visuals.some((v) => v.dataset.id === d.id));
    if (!dataset) continue;
    const col = column(dataset, filter.field);
    const FilterId = `${filter.id}-filter`;
    const FilterControlId = `${filter.id}-control`;
    const body =
      filter.kind === "dateRange"
        ? {
            TimeRangeFilter: {
              FilterId,
              Column: col,
              IncludeMinimum: true,
              IncludeMaximum: true,
              NullOption: "ALL_VALUES",
              TimeGranularity: "DAY",
            },
          }
        : {
            CategoryFilter: {
              FilterId,
              Column: col,
              Configuration: {
                FilterListConfiguration: {
                  MatchOperator: "CONTAINS",
                  SelectAllOptions: "FILTER_ALL_VALUES",
                  NullOption: "ALL_VALUES",
                },
              },
            },
          };
    out.push({
      filter,
      dataset,
      visualIds,
      group: {
        FilterGroupId: filter.id,
        Filters: [body],
        ScopeConfiguration: {
          SelectedSheets: {
            SheetVisualScopingConfigurations: [
              { SheetId: SHEET_ID, Scope: "SELECTED_VISUALS", VisualIds: visualIds },
            ],
          },
        },
        Status: "ENABLED",
        CrossDataset: "ALL_DATASETS",
      },
      control:
        filter.kind === "dateRange"
          ? {
              DateTimePicker: {
                FilterControlId,
                Title: filter.label,
                SourceFilterId: FilterId,
                Type: "DATE_RANGE",
              },
            }
          : {
              Dropdown: {
                FilterControlId,
                Title: filter.label,
                SourceFilterId: FilterId,
                Type: "MULTI_SELECT",
              },
            },
    });
  }
  return out;
}

/** The datasets' ARNs, by report dataset id. */
export type DataSetArns = Readonly<Record<string, string>>;

/** The dashboard `Definition` of `report`. */
export function dashboardDefinition(report: ReportDefinition, dataSetArns: DataSetArns) {
  const filters = renderFilters(report);
  const controlId = (c: Json) => (Object.values(c)[0] as { FilterControlId: string }).FilterControlId;
  return {
    DataSetIdentifierDeclarations: report.datasets.map((d) => {
      const arn = dataSetArns[d.id];
      if (!arn) throw new Error(`no dataset ARN for ${d.id}`);
      return { Identifier: d.id, DataSetArn: arn };
    }),
    CalculatedFields: calculatedFields(report),
    FilterGroups: filters.map((f) => f.group),
    Sheets: [
      {
        SheetId: SHEET_ID,
        Name: report.title,
        ContentType: "INTERACTIVE",
        Visuals: report.visuals.map(renderVisual),
        FilterControls: filters.map((f) => f.control),
        Layouts: [
          {
            Configuration: {
              GridLayout: {
                Elements: report.visuals.map((v) => ({
                  ElementId: v.id,
                  ElementType: "VISUAL",
                  ...GRID_SIZE[v.kind],
                })),
              },
            },
          },
        ],
        SheetControlLayouts: [
          {
            Configuration: {
              GridLayout: {
                Elements: filters.map((f) => ({
                  ElementId: controlId(f.control),
                  ElementType: "FILTER_CONTROL",
                  ColumnSpan: 9,
                  RowSpan: 1,
                })),
              },
            },
          },
        ],
      },
    ],
  };
}
