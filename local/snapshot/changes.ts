/**
 * What changes in `ddc` when the clock moves: device attributes (firmware, IP, city), recipes
 * deleted and re-inserted under new ids, settings rewritten. Pure planning, deterministic given
 * the seed, the new clock and the rows as they are; `advance` applies the plan.
 */

import { deviceSettings, recipeSteps } from "./ddc-rows.js";
import { countryInfo, type DeviceProfile, dataHorizon, type Fleet, randomIp } from "./fleet.js";
import { Rng } from "./random.js";
import { DAY_MS, MINUTE_MS } from "./time.js";
import type { DdcTables } from "./types.js";

/** The device columns `advance` changes. */
export type ChangedColumn = "id_firmware" | "last_ip" | "city";
const CHANGED_COLUMNS: readonly ChangedColumn[] = ["id_firmware", "last_ip", "city"];

/** One device update: new values of some columns, all at one instant (the new `updated_at`). */
export interface DeviceChange {
  readonly id: number;
  readonly at: Date;
  readonly set: Partial<Pick<DdcTables["device"], ChangedColumn>>;
  /** Whether the change was forced to exercise NULL handling (to or from NULL). */
  readonly nullCase?: "to-null" | "from-null";
}

/** Devices that report during `(from, to)`: only those change (a silent oven gets no update). */
export function reportingBetween(fleet: Fleet, from: number, to: number): DeviceProfile[] {
  return fleet.devices.filter((d) => {
    const horizon = dataHorizon(d, to);
    return horizon !== null && horizon > from;
  });
}

/** A random instant in `(from, until)`, on a whole minute. */
function instantBetween(rng: Rng, from: number, until: number): Date {
  const minutes = Math.max(2, Math.floor((until - from) / MINUTE_MS));
  return new Date(from + rng.int(1, minutes - 1) * MINUTE_MS);
}

function nextFirmware(device: DeviceProfile, current: number | null | undefined): number {
  const line = device.model.firmware;
  const i = current == null ? -1 : line.indexOf(current);
  // A device off the known line (or already on the newest) gets the newest build.
  return line[Math.min(line.length - 1, i + 1)] ?? (line.at(-1) as number);
}

function freshValue(
  rng: Rng,
  device: DeviceProfile,
  column: ChangedColumn,
  row: DdcTables["device"],
): number | string {
  switch (column) {
    case "id_firmware":
      return nextFirmware(device, row.id_firmware);
    case "last_ip":
      return randomIp(rng, device.country);
    case "city": {
      const cities = countryInfo(device.country).cities.filter((c) => c !== row.city);
      return rng.pick(cities.length > 0 ? cities : countryInfo(device.country).cities);
    }
  }
}

/**
 * Device changes for the clock moving from `from` to `to`. Rates per day: firmware 3 %, IP 8 %,
 * city 1 %. Every advance also forces one change to NULL, one from NULL and one new IP address
 * (when some device allows it), so the lake's null-safe merge and the IP history are exercised
 * by every run, as they are daily by a fleet of thousands.
 */
export function planDeviceChanges(
  seed: number,
  fleet: Fleet,
  current: ReadonlyMap<number, DdcTables["device"]>,
  from: number,
  to: number,
): DeviceChange[] {
  const days = (to - from) / DAY_MS;
  const p = (daily: number) => 1 - (1 - daily) ** days;
  const changes = new Map<
    number,
    { at: Date; set: DeviceChange["set"]; nullCase?: DeviceChange["nullCase"] }
  >();
  const candidates = reportingBetween(fleet, from, to).filter((d) => current.has(d.id));
  const until = (d: DeviceProfile) => dataHorizon(d, to) ?? to;

  for (const d of candidates) {
    const row = current.get(d.id) as DdcTables["device"];
    const rng = Rng.stream(seed, "device-change", d.id, to);
    const set: DeviceChange["set"] = {};
    const firmware = nextFirmware(d, row.id_firmware);
    if (rng.chance(p(0.03)) && firmware !== row.id_firmware) set.id_firmware = firmware;
    if (rng.chance(p(0.08))) set.last_ip = randomIp(rng, d.country);
    if (rng.chance(p(0.01)) || (set.last_ip && rng.chance(0.3)))
      set.city = freshValue(rng, d, "city", row) as string;
    const at = instantBetween(rng, from, until(d));
    if (Object.keys(set).length > 0) changes.set(d.id, { at, set });
  }

  const rng = Rng.stream(seed, "device-change-null", to);
  const force = (nullCase: "to-null" | "from-null") => {
    const options = candidates.flatMap((d) =>
      CHANGED_COLUMNS.filter((col) => {
        const value = current.get(d.id)?.[col];
        return nullCase === "to-null" ? value != null : value == null;
      }).map((col) => [d, col] as const),
    );
    const taken = options.filter(([d]) => changes.get(d.id)?.nullCase === undefined);
    if (taken.length === 0) return;
    const [d, col] = rng.pick(taken);
    const row = current.get(d.id) as DdcTables["device"];
    const existing = changes.get(d.id);
    const value = nullCase === "to-null" ? null : freshValue(rng, d, col, row);
    changes.set(d.id, {
      at: existing?.at ?? instantBetween(rng, from, until(d)),
      set: { ...existing?.set, [col]: value },
      nullCase,
    });
  };
  force("to-null");
  force("from-null");

  // And at least one new address, so the IP history grows with every advance.
  if (![...changes.values()].some((c) => c.set.last_ip != null)) {
    const quiet = candidates.filter((d) => changes.get(d.id)?.nullCase === undefined);
    if (quiet.length > 0) {
      const d = rng.pick(quiet);
      const existing = changes.get(d.id);
      changes.set(d.id, {
        at: existing?.at ?? instantBetween(rng, from, until(d)),
        set: { ...existing?.set, last_ip: randomIp(rng, d.country) },
      });
    }
  }

  return [...changes.entries()]
    .sort(([a], [b]) => a - b)
    .map(([id, c]) => ({ id, at: c.at, set: c.set, ...(c.nullCase ? { nullCase: c.nullCase } : {}) }));
}

/** IP history rows for device changes that set a new address (a lost address is not history). */
export function ipHistoryFor(
  fleet: Fleet,
  current: ReadonlyMap<number, DdcTables["device"]>,
  changes: readonly DeviceChange[],
  seed: number,
): Omit<DdcTables["device_ip_info_history"], "id">[] {
  const byId = new Map(fleet.devices.map((d) => [d.id, d]));
  return changes
    .filter((c) => c.set.last_ip != null)
    .map((c) => {
      const d = byId.get(c.id) as DeviceProfile;
      const row = current.get(c.id) as DdcTables["device"];
      const rng = Rng.stream(seed, "ip-history", c.id, c.at.getTime());
      return {
        id_device: c.id,
        ip: c.set.last_ip as string,
        city: "city" in c.set ? (c.set.city ?? null) : (row.city ?? null),
        country: d.country,
        isp: rng.chance(0.1) ? null : rng.pick(countryInfo(d.country).isps),
        recorded_at: c.at,
      };
    });
}

/** A `device_recipe` row replaced under a new id (the app deletes and re-inserts on edit). */
export interface RecipeReplacement {
  readonly old: DdcTables["device_recipe"];
  /** The new row; its id comes from the table's identity. */
  readonly next: Omit<DdcTables["device_recipe"], "id">;
}

/**
 * Recipes replaced while the clock moves: each reporting device with recipes edits some with
 * a daily chance of 5 %; at least one is replaced per advance so the key churn is always there.
 */
export function planRecipeReplacements(
  seed: number,
  fleet: Fleet,
  recipes: readonly DdcTables["device_recipe"][],
  from: number,
  to: number,
): RecipeReplacement[] {
  const days = (to - from) / DAY_MS;
  const byDevice = new Map<number, DdcTables["device_recipe"][]>();
  for (const r of recipes) byDevice.set(r.id_device, [...(byDevice.get(r.id_device) ?? []), r]);
  const rng = Rng.stream(seed, "recipe-replace", to);
  const candidates = reportingBetween(fleet, from, to).filter((d) => byDevice.has(d.id));
  const out: RecipeReplacement[] = [];
  for (const d of candidates) {
    const own = byDevice.get(d.id) ?? [];
    const count = rng.poisson(0.05 * days * Math.min(own.length, 6));
    for (const old of rng.sample(own, count)) out.push(replacement(rng, d, old, from, to));
  }
  const first = candidates[0];
  if (out.length === 0 && first) {
    out.push(replacement(rng, first, rng.pick(byDevice.get(first.id) ?? []), from, to));
  }
  return out.sort((a, b) => a.next.created_at.getTime() - b.next.created_at.getTime() || a.old.id - b.old.id);
}

function replacement(
  rng: Rng,
  device: DeviceProfile,
  old: DdcTables["device_recipe"],
  from: number,
  to: number,
): RecipeReplacement {
  const at = instantBetween(rng, from, dataHorizon(device, to) ?? to);
  return {
    old,
    next: {
      id_device: old.id_device,
      name: old.name,
      category: old.category,
      steps: recipeSteps(rng, old.category),
      created_at: at,
      updated_at: at,
    },
  };
}

/** Settings rewritten in place (a replace table updated, no new key), 2 % of devices per day. */
export function planSettingsUpdates(
  seed: number,
  fleet: Fleet,
  settings: readonly DdcTables["device_settings"][],
  from: number,
  to: number,
): Pick<DdcTables["device_settings"], "id" | "settings" | "updated_at">[] {
  const days = (to - from) / DAY_MS;
  const reporting = new Map(reportingBetween(fleet, from, to).map((d) => [d.id, d]));
  const rng = Rng.stream(seed, "settings-update", to);
  return settings.flatMap((s) => {
    const d = reporting.get(s.id_device);
    if (!d || !rng.chance(1 - 0.98 ** days)) return [];
    return [
      {
        id: s.id,
        settings: deviceSettings(rng, d),
        updated_at: instantBetween(rng, from, dataHorizon(d, to) ?? to),
      },
    ];
  });
}
