/**
 * The QuickSight side of the Alarms report (infra/quicksight-dashboard.ts, infra/quicksight-topic.ts)
 * against the report definition (pipeline/reports/alarms-report.ts): the dashboard shows the
 * same visuals with the same fields and measures, percentiles are percentileCont over the rows
 * (never an aggregate of a percentile), filters reach every visual whose dataset has their
 * column; and both the dashboard and the Q topic are what the QuickSight API accepts (botocore).
 */
import { describe, expect, it } from "vitest";
import {
  calculatedFields,
  dashboardDefinition,
  percentileExpression,
  renderFilters,
  SHEET_ID,
} from "../../infra/quicksight-dashboard.js";
import { columnSynonyms, friendlyName, topicDataSets } from "../../infra/quicksight-topic.js";
import { alarmsReport, facts, fieldsOf, open, type Visual } from "../../pipeline/reports/alarms-report.js";
import { validateCall } from "./aws-contract.js";
import { ACCOUNT_ID, REGION } from "./harness.js";

// biome-ignore lint/suspicious/noExplicitAny: the definition is JSON.
type Json = any;

const ARNS = Object.fromEntries(
  alarmsReport.datasets.map((d) => [d.id, `arn:aws:quicksight:${REGION}:${ACCOUNT_ID}:dataset/${d.id}`]),
);
const definition: Json = dashboardDefinition(alarmsReport, ARNS);
const sheet = definition.Sheets[0];
const inner = (union: Json) => Object.values(union)[0] as Json;

/** The field wells of a rendered visual, whatever the visual's kind. */
function wellsOf(visual: Json): Record<string, Json[]> {
  const wells = inner(visual).ChartConfiguration.FieldWells;
  const keys = Object.keys(wells);
  // KPIs put the wells directly in FieldWells; the others in one `<Kind>FieldWells` member.
  return keys.length === 1 && keys[0]?.endsWith("FieldWells") ? wells[keys[0]] : wells;
}

/** A field well entry: a `{ <Kind>Field: {...} }` union, or an unaggregated field as it is. */
const fieldOf = (entry: Json) => ("FieldId" in entry ? entry : inner(entry));

const calculated = new Map<string, string>(
  definition.CalculatedFields.map((f: Json) => [`${f.DataSetIdentifier}.${f.Name}`, f.Expression]),
);

/** The dataset columns a field reads: its column, or those its calculated field's expression names. */
function columnsRead(field: Json): string[] {
  const { DataSetIdentifier, ColumnName } = field.Column;
  const expression = calculated.get(`${DataSetIdentifier}.${ColumnName}`);
  return expression ? [...expression.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string) : [ColumnName];
}

/** The wells in the order `fieldsOf` lists a visual's fields: categories, then colors, then values. */
const WELL_ORDER = ["Category", "Rows", "Columns", "GroupBy", "Colors", "Values"];

function qsColumns(visual: Json): string[] {
  const wells = wellsOf(visual);
  return WELL_ORDER.flatMap((w) => (wells[w] ?? []).flatMap((e: Json) => columnsRead(fieldOf(e))));
}

const measuresOf = (v: Visual) => (v.kind === "table" ? [...v.values] : v.kind === "list" ? [] : [v.value]);

/**
 * Every place the definition aggregates a time-to-reset or percentile column (the raw column, a
 * calculated field, or any column named like one) with an aggregation that is no percentile of
 * the rows: what the old dashboard did, averaging daily medians.
 */
function percentileMisuses(def: Json): string[] {
  const calcNames = new Set((def.CalculatedFields ?? []).map((f: Json) => f.Name as string));
  const isTtr = (column: string) => calcNames.has(column) || /ttr|percentile|_p\d+_/.test(column);
  const out: string[] = [];
  const walk = (node: Json, path: string) => {
    if (Array.isArray(node)) {
      node.forEach((x, i) => {
        walk(x, `${path}[${i}]`);
      });
    } else if (node && typeof node === "object") {
      if (
        node.Column?.ColumnName &&
        node.AggregationFunction !== undefined &&
        isTtr(node.Column.ColumnName)
      ) {
        const agg = node.AggregationFunction;
        const name = typeof agg === "string" ? agg : (agg.SimpleNumericalAggregation ?? Object.keys(agg)[0]);
        if (["AVERAGE", "SUM", "MAX", "MIN", "MEDIAN", "PercentileAggregation"].includes(name))
          out.push(`${path}: ${name} of ${node.Column.ColumnName}`);
      }
      for (const [k, v] of Object.entries(node)) walk(v, `${path}.${k}`);
    }
  };
  walk(def, "Definition");
  for (const f of def.CalculatedFields ?? [])
    if (/\b(avg|sum|max|min|percentile|percentileDisc|median)\s*\(/i.test(f.Expression))
      out.push(`CalculatedFields ${f.Name}: ${f.Expression}`);
  return out;
}

describe("the QuickSight dashboard and the report definition", () => {
  it("show the same visuals, with the same ids, in the same order", () => {
    expect(sheet.Visuals.map((v: Json) => inner(v).VisualId)).toEqual(alarmsReport.visuals.map((v) => v.id));
    expect(sheet.SheetId).toBe(SHEET_ID);
  });

  it.each(alarmsReport.visuals.map((v) => [v.id, v] as const))(
    "%s reads the fields the report names, from its dataset",
    (_id, visual) => {
      const rendered = sheet.Visuals[alarmsReport.visuals.indexOf(visual)];
      expect(qsColumns(rendered)).toEqual(fieldsOf(visual));
      const datasets = new Set(
        Object.values(wellsOf(rendered))
          .flat()
          .map((e: Json) => fieldOf(e).Column.DataSetIdentifier),
      );
      expect([...datasets]).toEqual([visual.dataset.id]);
      expect(inner(rendered).Title.FormatText.PlainText).toBe(visual.title);
    },
  );

  it("renders each kind as the QuickSight visual that shows it", () => {
    const kinds = Object.fromEntries(
      alarmsReport.visuals.map((v, i) => [v.id, `${v.kind} ${Object.keys(sheet.Visuals[i])[0]}`]),
    );
    expect(kinds).toEqual({
      data_up_to: "kpi KPIVisual",
      generated_at: "kpi KPIVisual",
      alarms_per_day: "bar BarChartVisual",
      top_codes: "bar BarChartVisual",
      open_alarms: "list TableVisual",
      time_to_reset_per_code: "table TableVisual",
      time_to_reset_trend: "line LineChartVisual",
      alarms_per_company: "table TableVisual",
      alarms_per_device_day: "heatmap HeatMapVisual",
    });
    const list = sheet.Visuals[alarmsReport.visuals.findIndex((v) => v.kind === "list")];
    expect(Object.keys(inner(list).ChartConfiguration.FieldWells)).toEqual(["TableUnaggregatedFieldWells"]);
  });

  it("computes each measure as the report says: counts, maxima, and percentiles as percentileCont", () => {
    const seen = { count: 0, max: 0, percentile: 0 };
    alarmsReport.visuals.forEach((visual, i) => {
      const values = wellsOf(sheet.Visuals[i]).Values ?? [];
      measuresOf(visual).forEach((m, j) => {
        const entry = values[j];
        const field = fieldOf(entry);
        seen[m.aggregation.kind]++;
        switch (m.aggregation.kind) {
          case "count":
            expect(field.Column.ColumnName, `${visual.id} ${m.id}`).toBe(m.field);
            expect(JSON.stringify(field.AggregationFunction)).toContain("COUNT");
            break;
          case "max":
            expect(entry).toEqual({
              DateMeasureField: expect.objectContaining({ AggregationFunction: "MAX" }),
            });
            expect(field.Column.ColumnName).toBe(m.field);
            break;
          case "percentile": {
            // A calculated field of the visual's dataset, used as it is (it aggregates itself).
            expect(field.AggregationFunction, `${visual.id} ${m.id}`).toBeUndefined();
            const expression = calculated.get(`${visual.dataset.id}.${field.Column.ColumnName}`);
            expect(expression).toBe(`percentileCont({${m.field}}, ${m.aggregation.percentile})`);
            break;
          }
        }
      });
      if (visual.kind !== "list") expect(values).toHaveLength(measuresOf(visual).length);
    });
    expect(seen).toEqual({ count: 5, max: 2, percentile: 5 });
    expect(calculatedFields(alarmsReport).map((f) => f.Expression)).toEqual([
      "percentileCont({ttr_minutes}, 50)",
      "percentileCont({ttr_minutes}, 90)",
    ]);
  });

  it("never averages, sums or takes the maximum of a time to reset or a percentile", () => {
    expect(percentileMisuses(definition)).toEqual([]);
    expect(JSON.stringify(definition)).not.toMatch(
      /PercentileAggregation|"AVERAGE"|percentileDisc|percentile\(/,
    );
  });

  it("would catch the old definition's average of daily medians", () => {
    const old = {
      CalculatedFields: [{ DataSetIdentifier: "d", Name: "p", Expression: "percentile({ttr_minutes}, 50)" }],
      Sheets: [
        {
          Visuals: [
            {
              TableVisual: {
                ChartConfiguration: {
                  FieldWells: {
                    TableAggregatedFieldWells: {
                      Values: [
                        {
                          NumericalMeasureField: {
                            FieldId: "a",
                            Column: { DataSetIdentifier: "d", ColumnName: "ttr_p50_seconds" },
                            AggregationFunction: { SimpleNumericalAggregation: "AVERAGE" },
                          },
                        },
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
    expect(percentileMisuses(old)).toEqual([
      expect.stringContaining("AVERAGE of ttr_p50_seconds"),
      expect.stringContaining("percentile({ttr_minutes}, 50)"),
    ]);
    expect(() => percentileExpression("ttr_minutes", 100)).toThrow();
  });

  it("keeps the top codes by count, largest first", () => {
    const i = alarmsReport.visuals.findIndex((v) => v.id === "top_codes");
    const config = inner(sheet.Visuals[i]).ChartConfiguration;
    const value = fieldOf(config.FieldWells.BarChartAggregatedFieldWells.Values[0]);
    expect(config.SortConfiguration).toEqual({
      CategorySort: [{ FieldSort: { FieldId: value.FieldId, Direction: "DESC" } }],
      CategoryItemsLimit: { ItemsLimit: 15, OtherCategories: "EXCLUDE" },
    });
  });

  it("sorts tables and the open alarms list descending by the report's sort field", () => {
    alarmsReport.visuals.forEach((visual, i) => {
      if (visual.kind !== "table" && visual.kind !== "list") return;
      const config = inner(sheet.Visuals[i]).ChartConfiguration;
      const [sort] = config.SortConfiguration.RowSort;
      const sorted = Object.values(wellsOf(sheet.Visuals[i]))
        .flat()
        .map(fieldOf)
        .find((f: Json) => f.FieldId === sort.FieldSort.FieldId);
      expect(sort.FieldSort.Direction).toBe("DESC");
      const name =
        visual.kind === "list"
          ? visual.sortBy
          : measuresOf(visual).find((m) => m.id === visual.sortBy)?.field;
      expect(sorted.Column.ColumnName).toBe(name);
    });
  });

  it("has the local page's filters: one filter group across datasets and one control each", () => {
    const rendered = renderFilters(alarmsReport);
    expect(rendered.map((r) => r.filter.id)).toEqual(alarmsReport.filters.map((f) => f.id));
    for (const { filter, group, control, dataset } of rendered) {
      expect(group.CrossDataset).toBe("ALL_DATASETS");
      const [scope] = group.ScopeConfiguration.SelectedSheets.SheetVisualScopingConfigurations;
      expect(scope).toEqual({
        SheetId: SHEET_ID,
        Scope: "SELECTED_VISUALS",
        VisualIds: alarmsReport.visuals
          .filter((v) => v.dataset.view.columns.some((c) => c.name === filter.field))
          .map((v) => v.id),
      });
      const body = inner(group.Filters[0]);
      expect(body.Column).toEqual({ DataSetIdentifier: dataset.id, ColumnName: filter.field });
      // Every dataset the filter reaches has the column with the same type (ALL_DATASETS matches on both).
      const types = alarmsReport.datasets
        .map((d) => d.view.columns.find((c) => c.name === filter.field)?.type)
        .filter((t) => t !== undefined);
      expect(new Set(types).size, filter.id).toBe(1);
      if (filter.kind === "dateRange") {
        expect(Object.keys(group.Filters[0])).toEqual(["TimeRangeFilter"]);
        expect(control.DateTimePicker).toMatchObject({
          SourceFilterId: body.FilterId,
          Type: "DATE_RANGE",
          Title: filter.label,
        });
      } else {
        expect(Object.keys(group.Filters[0])).toEqual(["CategoryFilter"]);
        expect(control.Dropdown).toMatchObject({
          SourceFilterId: body.FilterId,
          Type: "MULTI_SELECT",
          Title: filter.label,
        });
      }
    }
    expect(definition.FilterGroups).toEqual(rendered.map((r) => r.group));
    expect(sheet.FilterControls).toEqual(rendered.map((r) => r.control));
    // Every control has a place on the sheet, every visual a cell of the grid.
    expect(sheet.SheetControlLayouts[0].Configuration.GridLayout.Elements).toHaveLength(rendered.length);
    expect(sheet.Layouts[0].Configuration.GridLayout.Elements.map((e: Json) => e.ElementId)).toEqual(
      alarmsReport.visuals.map((v) => v.id),
    );
  });

  it("is a definition the QuickSight API accepts (botocore's CreateDashboard, strictly)", () => {
    const request = {
      AwsAccountId: ACCOUNT_ID,
      DashboardId: "oven-lakehouse-dev-alarms",
      Name: "n",
      Definition: definition,
    };
    expect(
      validateCall({ service: "quicksight", operation: "CreateDashboard", strict: true, request }),
    ).toEqual([]);
  });

  it("declares each dataset once, by its report id", () => {
    expect(definition.DataSetIdentifierDeclarations).toEqual([
      { Identifier: "alarm_facts", DataSetArn: ARNS.alarm_facts },
      { Identifier: "open_alarms", DataSetArn: ARNS.open_alarms },
    ]);
    expect(() => dashboardDefinition(alarmsReport, { alarm_facts: "x" })).toThrow(/open_alarms/);
  });
});

describe("the Q topic", () => {
  const dataSets: Json[] = topicDataSets(alarmsReport, ARNS);

  it("covers every column of each report dataset, described as the view describes it", () => {
    expect(dataSets.map((d) => d.DatasetName)).toEqual(alarmsReport.datasets.map((d) => d.view.name));
    alarmsReport.datasets.forEach((d, i) => {
      expect(dataSets[i].DatasetArn).toBe(ARNS[d.id]);
      expect(dataSets[i].Columns.map((c: Json) => [c.ColumnName, c.ColumnDescription])).toEqual(
        d.view.columns.map((c) => [c.name, c.description]),
      );
    });
  });

  it("knows the words analysts use, from the report's labels and the vocabulary", () => {
    expect(columnSynonyms(alarmsReport, facts, "code_label")).toEqual(
      expect.arrayContaining(["alarm code", "code name", "code"]),
    );
    expect(columnSynonyms(alarmsReport, facts, "company_name")).toEqual(
      expect.arrayContaining(["customer", "company"]),
    );
    expect(columnSynonyms(alarmsReport, open, "open_hours")).toEqual(
      expect.arrayContaining(["open for", "hours open"]),
    );
    expect(friendlyName(alarmsReport, facts, "alarm_class")).toBe("alarm class");
    expect(friendlyName(alarmsReport, facts, "day")).toBe("day");
    for (const d of dataSets)
      for (const c of d.Columns) {
        const lower = c.ColumnSynonyms.map((s: string) => s.toLowerCase());
        expect(new Set(lower).size, c.ColumnName).toBe(lower.length);
        expect(lower).not.toContain(c.ColumnName);
      }
  });

  it("counts alarms, never sums durations, and offers the report's percentiles as percentileCont", () => {
    const columns = Object.fromEntries(dataSets[0].Columns.map((c: Json) => [c.ColumnName, c]));
    expect(columns.alarm_id).toMatchObject({ Aggregation: "COUNT", ColumnDataRole: "DIMENSION" });
    expect(columns.ttr_minutes).toMatchObject({ ColumnDataRole: "MEASURE", NotAllowedAggregations: ["SUM"] });
    expect(columns.day).toMatchObject({ TimeGranularity: "DAY" });
    expect(dataSets[0].CalculatedFields.map((f: Json) => [f.CalculatedFieldName, f.Expression])).toEqual([
      ["ttr_p50_minutes", "percentileCont({ttr_minutes}, 50)"],
      ["ttr_p90_minutes", "percentileCont({ttr_minutes}, 90)"],
    ]);
  });

  it("is a topic the QuickSight API accepts (botocore's CreateTopic, strictly)", () => {
    const request = {
      AwsAccountId: ACCOUNT_ID,
      TopicId: "oven-lakehouse-dev-alarms",
      Topic: { Name: "Alarms (dev)", UserExperienceVersion: "NEW_READER_EXPERIENCE", DataSets: dataSets },
    };
    expect(validateCall({ service: "quicksight", operation: "CreateTopic", strict: true, request })).toEqual(
      [],
    );
  });
});
