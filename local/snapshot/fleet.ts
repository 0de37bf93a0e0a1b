/**
 * The fleet: companies, device groups and devices, with the per-device traits the document
 * builders need (model, working hours, install and retirement dates). Pure and deterministic.
 */
import type { OvenVariable } from "../../pipeline/schema/collections.js";
import { Rng } from "./random.js";
import {
  COUNTRIES,
  type CountryInfo,
  CUSTOMERS,
  type CustomerTemplate,
  MODELS,
  type ModelSpec,
} from "./reference.js";
import { DAY_MS, dayOf, dayStart, HOUR_MS, MINUTE_MS } from "./time.js";
import type { DdcTables, SnapshotConfig } from "./types.js";

/** First device id; real fleets do not start at 1, and a gap catches id/index mix-ups. */
export const FIRST_DEVICE_ID = 1001;

/** A device with the traits that drive its data. The `ddc` row is derived (see {@link deviceRowAt}). */
export interface DeviceProfile {
  readonly id: number;
  readonly companyId: number;
  readonly groupId: number | null;
  readonly country: string;
  readonly kind: CustomerTemplate["kind"];
  readonly model: ModelSpec;
  readonly serial: string;
  /** Variables this oven's sensors report in `variable_logs`. */
  readonly variables: readonly OvenVariable[];
  /** Hours ahead of UTC, from the company's country. */
  readonly utcOffset: number;
  /** Local opening and closing hour of the kitchen. */
  readonly openHour: number;
  readonly closeHour: number;
  /** Weekly closing day (0 = Sunday) or null when open every day. */
  readonly closedWeekday: number | null;
  readonly middayBreak: boolean;
  /** Busy-ness multiplier of document rates (a quiet café vs a burger chain). */
  readonly activity: number;
  /** UTC midnight of the first day with data, or null for a device that never reported. */
  readonly installAt: number | null;
  /** UTC midnight after the last day with data, or null while it still reports. */
  readonly retireAt: number | null;
  /** The `ddc` row right after `load`, `last_log_date` aside (that depends on the clock). */
  readonly initial: Omit<DdcTables["device"], "last_log_date">;
  /** IP history up to the load clock, oldest first; the last entry matches `initial`. */
  readonly ipHistory: readonly Omit<DdcTables["device_ip_info_history"], "id">[];
}

export interface Fleet {
  readonly companies: readonly DdcTables["company"][];
  readonly groups: readonly DdcTables["device_group"][];
  readonly devices: readonly DeviceProfile[];
}

const HOURS: Readonly<
  Record<CustomerTemplate["kind"], { open: [number, number]; close: [number, number]; breakChance: number }>
> = {
  bakery: { open: [3, 5], close: [13, 16], breakChance: 0 },
  restaurant: { open: [9, 11], close: [22, 24], breakChance: 0.6 },
  hotel: { open: [5, 6], close: [22, 23], breakChance: 0.2 },
  retail: { open: [6, 8], close: [20, 21], breakChance: 0 },
  catering: { open: [6, 7], close: [17, 20], breakChance: 0 },
  fast_food: { open: [9, 10], close: [23, 24], breakChance: 0 },
};

/** Models each kind of kitchen tends to buy, on top of the global weights. */
const MODEL_BIAS: Readonly<Record<CustomerTemplate["kind"], readonly string[]>> = {
  bakery: ["BAKERTOP MIND.Maps PLUS", "BAKERTOP MIND.Maps ONE"],
  restaurant: ["CHEFTOP MIND.Maps PLUS", "CHEFTOP MIND.Maps ONE", "SPEED.Pro"],
  hotel: ["CHEFTOP MIND.Maps PLUS", "EVEREO"],
  retail: ["BAKERTOP MIND.Maps ONE", "SPEED.Pro", "CHEFTOP MIND.Maps ONE"],
  catering: ["EVEREO", "CHEFTOP MIND.Maps PLUS"],
  fast_food: ["SPEED.Pro", "CHEFTOP MIND.Maps ONE"],
};

const PLAN_WEIGHT: Readonly<Record<CustomerTemplate["plan"], number>> = {
  free: 1,
  basic: 1.5,
  premium: 2.5,
  enterprise: 4,
};

export function countryInfo(code: string): CountryInfo {
  const info = COUNTRIES[code];
  if (!info) throw new RangeError(`no reference data for country ${code}`);
  return info;
}

/** A plausible public IPv4 address of a country. */
export function randomIp(rng: Rng, country: string): string {
  const prefix = rng.pick(countryInfo(country).ipPrefixes);
  return `${prefix}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

/** Number of companies for a fleet size: about one per three devices, at least two. */
export function companyCount(devices: number): number {
  return Math.max(1, Math.min(CUSTOMERS.length, devices < 2 ? 1 : Math.max(2, Math.round(devices / 3))));
}

/** Build the whole fleet for a config. */
export function buildFleet(config: SnapshotConfig): Fleet {
  const start = config.end - config.days * DAY_MS;
  const rng = Rng.stream(config.seed, "fleet");
  const templates = CUSTOMERS.slice(0, companyCount(config.devices));

  const companies: DdcTables["company"][] = templates.map((tpl, i) => {
    const created = start - rng.int(200, 2800) * DAY_MS - rng.int(0, 23) * HOUR_MS;
    const info = countryInfo(tpl.country);
    return {
      id: i + 1,
      name: tpl.name,
      country: tpl.country,
      vat_number: info.vatPrefix && rng.chance(0.85) ? `${info.vatPrefix}${rng.digits(9)}` : null,
      plan: tpl.plan,
      created_at: new Date(created),
      updated_at: new Date(created + rng.int(0, Math.floor((start - created) / HOUR_MS)) * HOUR_MS),
    };
  });

  const groups: DdcTables["device_group"][] = [];
  const groupsOf = new Map<number, number[]>();
  templates.forEach((tpl, i) => {
    const company = companies[i] as DdcTables["company"];
    const ids: number[] = [];
    for (const name of tpl.groups) {
      const id = groups.length + 1;
      const created = company.created_at.getTime() + rng.int(1, 300) * DAY_MS;
      groups.push({
        id,
        id_company: company.id,
        name,
        created_at: new Date(created),
        updated_at: new Date(created + rng.int(0, 90) * DAY_MS),
      });
      ids.push(id);
    }
    groupsOf.set(company.id, ids);
  });

  // Every company gets one device first, so small fleets still cover every customer.
  const owners: number[] = [];
  for (let i = 0; i < config.devices; i++) {
    owners.push(
      i < templates.length ? i : rng.weighted(templates.map((tpl, k) => [k, PLAN_WEIGHT[tpl.plan]] as const)),
    );
  }

  // About one device in ten never reports (registered, never connected); at least one in any
  // fleet of four or more, so "no lastts, no last_log_date" is always exercised.
  const silentCount = config.devices >= 4 ? Math.max(1, Math.round(config.devices * 0.1)) : 0;
  const silent = new Set(rng.sample(range(config.devices), silentCount));

  // The first reporting devices cover every model once, so even a small fleet fills every
  // collection (evereo_sess comes only from EVEREO ovens).
  const showroom = rng.shuffle(MODELS);
  let covered = 0;
  const devices = owners.map((owner, index) =>
    buildDevice(config, start, index, {
      tpl: templates[owner] as CustomerTemplate,
      company: companies[owner] as DdcTables["company"],
      groupIds: groupsOf.get(owner + 1) ?? [],
      silent: silent.has(index),
      model: silent.has(index) ? undefined : showroom[covered++],
    }),
  );
  return { companies, groups, devices };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

interface DeviceSeed {
  readonly tpl: CustomerTemplate;
  readonly company: DdcTables["company"];
  readonly groupIds: readonly number[];
  readonly silent: boolean;
  /** Imposed model, or undefined to draw one the customer's kind favours. */
  readonly model: ModelSpec | undefined;
}

function buildDevice(config: SnapshotConfig, start: number, index: number, seed: DeviceSeed): DeviceProfile {
  const { tpl, company, groupIds, silent } = seed;
  const id = FIRST_DEVICE_ID + index;
  const rng = Rng.stream(config.seed, "device", id);
  const info = countryInfo(tpl.country);
  const bias = MODEL_BIAS[tpl.kind];
  const drawn = rng.weighted(MODELS.map((m) => [m, m.weight * (bias.includes(m.name) ? 4 : 1)] as const));
  const model = seed.model ?? drawn;
  const hours = HOURS[tpl.kind];

  const startDay = dayOf(start);
  let installAt: number | null = null;
  let retireAt: number | null = null;
  if (!silent) {
    // Installs skew early so most devices have weeks of data, yet spread over the window: each
    // device's first document is on its own install day, not on a common start.
    const u = rng.float();
    const offset = Math.min(config.days - 1, Math.floor(u * u * config.days * 0.85));
    installAt = dayStart(startDay + offset);
    const remaining = config.days - offset;
    if (remaining >= 6 && rng.chance(0.08)) retireAt = installAt + rng.int(3, remaining - 2) * DAY_MS;
  }

  // Never-connected devices mostly have nothing the cloud learns on first contact.
  const unknown = (p: number) => rng.chance(silent ? 0.75 : p);
  const firmwareIndex = Math.max(
    0,
    model.firmware.length - 1 - Math.floor(rng.float() ** 2 * model.firmware.length),
  );
  const id_firmware = unknown(0.08) ? null : (model.firmware[firmwareIndex] ?? null);
  const connection_kind = unknown(0.05)
    ? null
    : rng.weighted([
        ["wifi", 0.65],
        ["ethernet", 0.35],
      ] as const);
  const city = unknown(0.15) ? null : rng.pick(info.cities);
  const hasIp = !unknown(0.08);

  const createdAt =
    installAt !== null
      ? installAt - rng.int(1, 30) * DAY_MS - rng.int(0, 23) * HOUR_MS
      : start + rng.int(0, config.days - 1) * DAY_MS + rng.int(8, 18) * HOUR_MS;

  // IP history from install to the load clock; the newest entry is the device's current address.
  const ipHistory: Omit<DdcTables["device_ip_info_history"], "id">[] = [];
  if (hasIp && installAt !== null) {
    const changes = rng.int(1, 4);
    const minutes = Math.floor(((retireAt ?? config.end) - installAt) / MINUTE_MS);
    const times = Array.from(
      { length: changes },
      (_, k) =>
        installAt + (k === 0 ? rng.int(5, 600) : rng.int(601, Math.max(601, minutes - 1))) * MINUTE_MS,
    ).sort((a, b) => a - b);
    for (const time of times) {
      ipHistory.push({
        id_device: id,
        ip: randomIp(rng, tpl.country),
        city: rng.chance(0.15) ? null : rng.pick(info.cities),
        country: rng.chance(0.03) ? null : tpl.country,
        isp: rng.chance(0.1) ? null : rng.pick(info.isps),
        recorded_at: new Date(time),
      });
    }
  }
  const lastIp = ipHistory.at(-1);
  if (lastIp) lastIp.city = city;

  const lastChange = Math.max(createdAt, ...ipHistory.map((h) => h.recorded_at.getTime()));
  const initial: Omit<DdcTables["device"], "last_log_date"> = {
    id,
    id_company: company.id,
    id_device_group: groupIds.length > 0 && rng.chance(0.85) ? rng.pick(groupIds) : null,
    serial: `${model.prefix}${rng.digits(3)}${String(id).padStart(6, "0")}`,
    model: model.name,
    id_board_model: unknown(0.05) ? null : rng.pick(model.boardModels),
    board_serial: unknown(0.08) ? null : `B${rng.hex(10).toUpperCase()}`,
    id_firmware,
    // A reporting device's address is its newest history entry; a silent one may have
    // registered from an address without ever uploading (no history then).
    last_ip: !hasIp ? null : silent ? randomIp(rng, tpl.country) : (lastIp?.ip ?? null),
    city,
    connection_kind,
    bridge_firm: rng.chance(0.4) ? null : `1.${rng.int(2, 6)}.${rng.int(0, 9)}`,
    cloud_pin: unknown(0.2) ? null : rng.digits(6),
    mirror: rng.chance(0.06),
    created_at: new Date(createdAt),
    updated_at: new Date(Math.min(config.end - MINUTE_MS, lastChange + rng.int(0, 120) * MINUTE_MS)),
  };

  const closedWeekday =
    tpl.kind === "restaurant" && rng.chance(0.6) ? 1 : tpl.kind === "bakery" && rng.chance(0.5) ? 0 : null;
  return {
    id,
    companyId: company.id,
    groupId: initial.id_device_group ?? null,
    country: tpl.country,
    kind: tpl.kind,
    model,
    serial: initial.serial,
    // Most ovens report every sensor of their model; a few lack an optional one.
    variables: model.variables.filter((_, k) => k < 3 || !rng.chance(0.1)),
    utcOffset: info.utcOffset,
    openHour: rng.int(hours.open[0], hours.open[1]),
    closeHour: rng.int(hours.close[0], hours.close[1]),
    closedWeekday,
    middayBreak: rng.chance(hours.breakChance),
    activity: rng.between(0.5, 1.6),
    installAt,
    retireAt,
    initial,
    ipHistory,
  };
}

/**
 * The instant up to which a device's data is generated at a given clock (exclusive), or null
 * when it has none yet. Devices report through the clock until they retire.
 */
export function dataHorizon(device: DeviceProfile, clock: number): number | null {
  if (device.installAt === null || device.installAt >= clock) return null;
  return Math.min(clock, device.retireAt ?? Number.POSITIVE_INFINITY);
}

/** Share of reporting devices whose latest upload is not yet marked complete. */
export const IN_FLIGHT_SHARE = 0.15;

/**
 * `last_log_date` of every device at a clock. A complete device is marked at the end of what it
 * uploaded (the clock, or its retirement), so a `[from, last_log_date)` window takes every
 * document. A few reporting devices are "in flight": documents after their mark already sit in
 * MongoDB, as when an upload has landed but the mark has not been moved yet.
 */
export function marksAt(
  seed: number,
  devices: readonly DeviceProfile[],
  clock: number,
): Map<number, Date | null> {
  const reporting = devices.filter((d) => dataHorizon(d, clock) === clock).map((d) => d.id);
  const count = reporting.length === 0 ? 0 : Math.max(1, Math.round(reporting.length * IN_FLIGHT_SHARE));
  const inFlight = new Set(Rng.stream(seed, "in-flight", clock).sample(reporting, count));
  const marks = new Map<number, Date | null>();
  for (const d of devices) {
    const horizon = dataHorizon(d, clock);
    if (horizon === null) {
      marks.set(d.id, null);
    } else if (inFlight.has(d.id)) {
      const lag = Rng.stream(seed, "lag", d.id, clock).int(6 * 60, 20 * 60) * MINUTE_MS;
      marks.set(d.id, new Date(Math.max(d.installAt ?? 0, clock - lag)));
    } else {
      marks.set(d.id, new Date(horizon));
    }
  }
  return marks;
}

/** The `ddc` device row right after `load`. */
export function deviceRowAt(device: DeviceProfile, mark: Date | null): DdcTables["device"] {
  return { ...device.initial, last_log_date: mark };
}
