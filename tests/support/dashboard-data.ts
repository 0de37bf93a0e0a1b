/**
 * A small, hand-made export of the dashboard's views (the shape the analytics job writes): three
 * companies (one unknown: a device missing from ddc), two models, known and unknown codes, three
 * weeks, reset and open alarms. Deterministic, so tests can compute what every figure must be.
 */
import type { Cell, DashboardData } from "../../local/dashboard/figures.js";
import { alarmFacts, openAlarms } from "../../pipeline/reports/views.js";

export interface FactRow {
  alarm_id: string;
  id_device: number;
  device_serial: string | null;
  device_model: string | null;
  id_company: number | null;
  company_name: string | null;
  code: number;
  code_label: string;
  alarm_class: string;
  active_ts: string;
  reset_ts: string | null;
  day: string;
  state: "open" | "reset";
  ttr_minutes: number | null;
  generated_at: string;
}

const DEVICES = [
  { id: 1, serial: "SN-1", model: "CHEFTOP", company: 10, name: "Bistro Uno" },
  { id: 2, serial: "SN-2", model: "BAKERTOP", company: 10, name: "Bistro Uno" },
  { id: 3, serial: "SN-3", model: "CHEFTOP", company: 20, name: "Panadería Dos" },
  { id: 4, serial: null, model: null, company: null, name: null },
] as const;

const CODES = [
  { code: 101, label: "101 door open during cooking", cls: "warning" },
  { code: 110, label: "110 preheat reached", cls: "info" },
  { code: 205, label: "205 chamber over-temperature", cls: "error" },
  { code: 999, label: "999", cls: "service" },
] as const;

export const GENERATED_AT = "2026-03-01T12:00:00.000Z";

/** 60 alarms from 2026-02-02 (a Monday) over 21 days; every seventh one still open. */
export function factRows(): FactRow[] {
  const rows: FactRow[] = [];
  for (let i = 0; i < 60; i++) {
    const device = DEVICES[i % DEVICES.length] as (typeof DEVICES)[number];
    const code = CODES[(i * 7) % CODES.length] as (typeof CODES)[number];
    const active = new Date(Date.UTC(2026, 1, 2) + (i % 21) * 86_400_000 + (i % 5) * 3_600_000 + i * 60_000);
    const open = i % 7 === 3;
    const ttr = open ? null : 1 + ((i * 37) % 200) / 3;
    rows.push({
      alarm_id: `a${String(i).padStart(3, "0")}`,
      id_device: device.id,
      device_serial: device.serial,
      device_model: device.model,
      id_company: device.company,
      company_name: device.name,
      code: code.code,
      code_label: code.label,
      alarm_class: code.cls,
      active_ts: active.toISOString(),
      reset_ts: ttr === null ? null : new Date(active.getTime() + ttr * 60_000).toISOString(),
      day: active.toISOString().slice(0, 10),
      state: open ? "open" : "reset",
      ttr_minutes: ttr,
      generated_at: GENERATED_AT,
    });
  }
  return rows;
}

/** The open alarms' view rows of the same alarms, aged as of {@link GENERATED_AT}. */
export function openRows(facts: readonly FactRow[]): Record<string, Cell>[] {
  return facts
    .filter((r) => r.state === "open")
    .map((r) => ({
      ...r,
      open_hours: (Date.parse(GENERATED_AT) - Date.parse(r.active_ts)) / 3_600_000,
    }));
}

export function dashboardData(): DashboardData {
  const facts = factRows();
  const table = (
    columns: readonly { name: string; type: string }[],
    rows: readonly Record<string, unknown>[],
  ) => ({
    columns: columns.map((c) => ({ name: c.name, type: c.type })),
    rows: rows.map((r) => columns.map((c) => (r[c.name] ?? null) as Cell)),
  });
  return {
    generatedAt: GENERATED_AT,
    datasets: {
      [alarmFacts.name]: table(alarmFacts.columns, facts as unknown as Record<string, unknown>[]),
      [openAlarms.name]: table(openAlarms.columns, openRows(facts)),
    },
  };
}
