/**
 * The QuickSight Q topic of a report (`AWS::QuickSight::Topic`, through Cloud Control like the
 * dashboard): its datasets with every column described and named the ways analysts ask for it,
 * so "which customer had most error alarms last week" finds `company_name`, `alarm_class` and
 * `day`. Pure data, no Pulumi.
 *
 * What Q reads per column comes from the definitions, not from a hand-kept list of the topic:
 * the description is the view column's (pipeline/reports/views.ts); the friendly name and the
 * synonyms are the column's words, the labels the Alarms report gives it (its filters,
 * dimensions and count measures) and the analysts' vocabulary (pipeline/reports/vocabulary.ts).
 * The report's percentile measures become calculated fields of the topic, computed as the
 * dashboard computes them.
 */
import {
  type Measure,
  measuresOf,
  type ReportDataset,
  type ReportDefinition,
  type Visual,
} from "../pipeline/reports/alarms-report.js";
import { COLUMN_SYNONYMS } from "../pipeline/reports/vocabulary.js";
import { QUICKSIGHT_TYPE } from "../pipeline/schema/reports.js";
import { type DataSetArns, percentileExpression } from "./quicksight-dashboard.js";

/** API limits (botocore quicksight model): descriptions of columns, of datasets, synonyms. */
const COLUMN_DESCRIPTION_MAX = 500;
const DATASET_DESCRIPTION_MAX = 256;
const SYNONYM_MAX = 256;

const words = (name: string) => name.replaceAll("_", " ");
/** A report label as a word: `open since (UTC)` → `open since`. */
const asWord = (label: string) =>
  label
    .replace(/\([^)]*\)/g, "")
    .replace(/\s+/g, " ")
    .trim()
    .toLowerCase();

function dimensionsOf(visual: Visual) {
  switch (visual.kind) {
    case "bar":
    case "line":
      return [visual.x, ...(visual.color ? [visual.color] : [])];
    case "table":
      return [...visual.groupBy];
    case "list":
      return [...visual.columns];
    case "heatmap":
      return [visual.rows, visual.columns];
    case "kpi":
      return [];
  }
}

/** The labels the report gives a dataset's column: filters first, then dimensions and counts. */
export function reportLabels(report: ReportDefinition, dataset: ReportDataset, column: string): string[] {
  const visuals = report.visuals.filter((v) => v.dataset.id === dataset.id);
  return [
    ...report.filters.filter((f) => f.field === column).map((f) => f.label),
    ...visuals
      .flatMap(dimensionsOf)
      .filter((d) => d.field === column)
      .map((d) => d.label),
    ...visuals
      .flatMap(measuresOf)
      .filter((m) => m.field === column && m.aggregation.kind === "count")
      .map((m) => m.label),
  ];
}

/**
 * The name Q shows for a column: its multi-select filter's label (`alarm class`), else its first
 * label in a visual (`day`, not the date range control's `period`), else its words.
 */
export function friendlyName(report: ReportDefinition, dataset: ReportDataset, column: string): string {
  const filter = report.filters.find((f) => f.field === column && f.kind === "multiSelect");
  const dimension = report.visuals
    .filter((v) => v.dataset.id === dataset.id)
    .flatMap(dimensionsOf)
    .find((d) => d.field === column);
  const label = filter?.label ?? dimension?.label;
  return label ? asWord(label) : words(column);
}

/** Distinct, non-empty, case-insensitively; never the column's own name. */
function distinctWords(name: string, candidates: readonly string[]): string[] {
  const seen = new Set([name.toLowerCase()]);
  const out: string[] = [];
  for (const c of candidates) {
    const w = asWord(c).slice(0, SYNONYM_MAX);
    if (w === "" || seen.has(w)) continue;
    seen.add(w);
    out.push(w);
  }
  return out;
}

/** The synonyms of a column: its words, its report labels, the analysts' words for it. */
export function columnSynonyms(report: ReportDefinition, dataset: ReportDataset, column: string): string[] {
  return distinctWords(column, [
    words(column),
    ...reportLabels(report, dataset, column),
    ...(COLUMN_SYNONYMS[column] ?? []),
  ]);
}

/** One dataset of the topic (the API's `DatasetMetadata`). */
export function topicDataSet(report: ReportDefinition, dataset: ReportDataset, arn: string) {
  const view = dataset.view;
  const counted = new Set(
    report.visuals
      .filter((v) => v.dataset.id === dataset.id)
      .flatMap(measuresOf)
      .filter((m) => m.aggregation.kind === "count")
      .map((m) => m.field),
  );
  const percentiles = new Map<string, Measure>();
  for (const v of report.visuals.filter((x) => x.dataset.id === dataset.id))
    for (const m of measuresOf(v)) if (m.aggregation.kind === "percentile") percentiles.set(m.id, m);
  const hasDay = view.columns.some((c) => c.name === "day" && c.type === "date");
  return {
    DatasetArn: arn,
    DatasetName: view.name,
    DatasetDescription: view.description.slice(0, DATASET_DESCRIPTION_MAX),
    ...(hasDay
      ? { DataAggregation: { DatasetRowDateGranularity: "DAY", DefaultDateColumnName: "day" } }
      : {}),
    Columns: view.columns.map((c) => {
      const type = QUICKSIGHT_TYPE[c.type];
      // Decimals are durations here (minutes, hours): measures, never summed. Integers are ids
      // and codes: dimensions.
      const measure = type === "DECIMAL";
      return {
        ColumnName: c.name,
        ColumnFriendlyName: friendlyName(report, dataset, c.name),
        ColumnDescription: c.description.slice(0, COLUMN_DESCRIPTION_MAX),
        ColumnSynonyms: columnSynonyms(report, dataset, c.name),
        ColumnDataRole: measure ? "MEASURE" : "DIMENSION",
        IsIncludedInTopic: true,
        ...(measure ? { Aggregation: "MEDIAN", NotAllowedAggregations: ["SUM"] } : {}),
        ...(counted.has(c.name) ? { Aggregation: "COUNT" } : {}),
        ...(c.type === "date" ? { TimeGranularity: "DAY" } : {}),
      };
    }),
    CalculatedFields: [...percentiles.values()].map((m) => {
      if (m.aggregation.kind !== "percentile") throw new Error("unreachable");
      const p = m.aggregation.percentile;
      const of = view.columns.find((c) => c.name === m.field);
      return {
        CalculatedFieldName: m.id,
        CalculatedFieldDescription:
          `p${p} (linear interpolation) of ${m.field}: ${of?.description ?? ""}`.slice(
            0,
            COLUMN_DESCRIPTION_MAX,
          ),
        Expression: percentileExpression(m.field, p),
        CalculatedFieldSynonyms: distinctWords(m.id, [
          m.label,
          ...[words(m.field), ...(COLUMN_SYNONYMS[m.field] ?? []).slice(0, 1)].flatMap((w) => [
            ...(p === 50 ? [`median ${w}`] : []),
            `${p}th percentile ${w}`,
          ]),
        ]),
        ColumnDataRole: "MEASURE",
        IsIncludedInTopic: true,
      };
    }),
  };
}

/** The topic's `DataSets`: one per report dataset. */
export function topicDataSets(report: ReportDefinition, arns: DataSetArns) {
  return report.datasets.map((d) => {
    const arn = arns[d.id];
    if (!arn) throw new Error(`no dataset ARN for ${d.id}`);
    return topicDataSet(report, d, arn);
  });
}
