/**
 * Per-collection document builders: the documents one device writes on one UTC day. Each
 * collection draws from its own stream (seed, collection, device, day), so a day is identical
 * whether `load` or a later `advance` generates it, and `_id`s are deterministic too.
 */
import { ObjectId } from "mongodb";
import { collections } from "../../pipeline/schema/registry.js";
import type { DeviceProfile } from "./fleet.js";
import { Rng, round } from "./random.js";
import {
  ALARM_CODES,
  COOKING_MODES,
  EVENT_TYPES,
  firmwareVersion,
  HACCP_PHASES,
  MESSAGE_TEMPLATES,
  RECIPE_NAMES,
  REQUEST_PATHS,
  SD_EVENTS,
  VARIABLE_UNITS,
} from "./reference.js";
import { type DaySchedule, instantIn } from "./schedule.js";
import { MINUTE_MS, SECOND_MS, totalLength } from "./time.js";
import type { Draft, ExtraFields, SourceCollection, SourceDocuments } from "./types.js";
import { variableLogDrafts } from "./variable-logs.js";

/** The 13 collections, in registry order; a collection's index is packed into its `_id`s. */
export const SOURCE_COLLECTIONS = collections.map((c) => c.name) as readonly SourceCollection[];

/** The timestamp field of each collection as stored in MongoDB, from the registry. */
export const SOURCE_TIMESTAMP_FIELD = Object.fromEntries(
  collections.map((c) => [c.name, c.sourceTimestampField]),
) as { readonly [K in SourceCollection]: keyof SourceDocuments[K] & string };

/** Share of documents that carry a deliberate extra field (payload folding, drift counts). */
export const EXTRA_FIELD_SHARE = 0.02;

/** What a builder knows about the device-day it fills. */
export interface DayContext {
  readonly seed: number;
  readonly device: DeviceProfile;
  readonly schedule: DaySchedule;
  /**
   * End (exclusive) of the data the device has uploaded. An alarm that clears after it is
   * still open in the snapshot; `advance` sets its `resetTS` once the clock passes it.
   */
  readonly horizon: number;
  /** Firmware id the device runs at an instant (it changes during `advance`). */
  readonly firmwareAt: (ms: number) => number | null;
}

type Builder<K extends SourceCollection> = (ctx: DayContext, rng: Rng) => Draft<K>[];

/** A document at a random instant of the day, mostly while the oven is on. */
const at = (ctx: DayContext, rng: Rng, inside = 0.95) => new Date(instantIn(rng, ctx.schedule, inside));

const alarm: Builder<"alarm"> = (ctx, rng) => {
  const { device, schedule } = ctx;
  const n = rng.poisson(schedule.working ? 1.1 * device.activity : 0.15);
  const out: Draft<"alarm">[] = [];
  for (let i = 0; i < n; i++) {
    const code = rng.weighted(ALARM_CODES.map((a) => [a, a.weight] as const));
    const activeTS = at(ctx, rng);
    // Long-tailed time to reset: most clear within minutes, service alarms take days.
    const minutes = Math.max(0.1, code.typicalMinutes * Math.exp(rng.normal(0, 0.9)));
    const resetAt = activeTS.getTime() + Math.round(minutes * MINUTE_MS);
    const mailed = code.class === "error" || code.class === "service" ? rng.chance(0.8) : rng.chance(0.1);
    const activationMail = rng.chance(0.05) ? null : mailed;
    const resetMail = mailed && rng.chance(0.7);
    // Every random draw happens before this test, so the document's other fields and `_id` do
    // not depend on the horizon: `advance` regenerates the day to find the reset instant.
    out.push(
      resetAt < ctx.horizon
        ? {
            idDevice: device.id,
            code: code.code,
            class: code.class,
            activeTS,
            resetTS: new Date(resetAt),
            activationMail,
            resetMail,
          }
        : { idDevice: device.id, code: code.code, class: code.class, activeTS, activationMail },
    );
  }
  return out;
};

function recipeNamesFor(device: DeviceProfile): readonly string[] {
  const bakery = device.model.name.startsWith("BAKERTOP");
  return bakery
    ? [...RECIPE_NAMES.bread, ...RECIPE_NAMES.pastry, ...RECIPE_NAMES.pizza]
    : [...RECIPE_NAMES.meat, ...RECIPE_NAMES.fish, ...RECIPE_NAMES.vegetables, ...RECIPE_NAMES.regeneration];
}

const endOfProg: Builder<"end_of_prog"> = (ctx, rng) => {
  const { device, schedule } = ctx;
  if (!schedule.working) return [];
  const n = rng.poisson(10 * device.activity);
  const names = recipeNamesFor(device);
  const out: Draft<"end_of_prog">[] = [];
  for (let i = 0; i < n; i++) {
    const programKind = rng.weighted([
      ["recipe", 5],
      ["manual", 3],
      ["multilevel", 1],
      ["delta_t", 1],
      ["cleaning", 0.5],
    ] as const);
    const cleaning = programKind === "cleaning";
    const durationSec = cleaning
      ? rng.int(30, 120) * 60
      : Math.round(Math.min(180, Math.max(2, rng.normal(25, 12))) * 60 + rng.int(0, 59));
    const outcome = rng.weighted([
      ["completed", 86],
      ["aborted", 10],
      ["error", 4],
    ] as const);
    const kw = device.model.name === "EVEREO" ? 1.5 : rng.between(3, 9);
    out.push({
      idDevice: device.id,
      ts: at(ctx, rng),
      programName: cleaning
        ? rng.pick(RECIPE_NAMES.cleaning)
        : programKind === "manual"
          ? "Manual"
          : rng.pick(names),
      recipeId: programKind === "recipe" ? `R${rng.int(1000, 9999)}` : null,
      programKind,
      durationSec,
      outcome,
      cavityTempMax: rng.chance(0.03)
        ? null
        : round(device.model.name === "EVEREO" ? rng.between(60, 90) : rng.between(120, 280)),
      energyKwh: rng.chance(0.05) ? null : round((durationSec / 3600) * kw * rng.between(0.4, 0.9), 2),
      waterLiters: device.model.water ? round(rng.between(0, cleaning ? 25 : 8), 2) : null,
      steps: cleaning ? null : programKind === "manual" ? 1 : rng.int(1, 6),
    });
  }
  return out;
};

const endOfProgAggregated: Builder<"end_of_prog_aggregated"> = (ctx) => {
  // The daily aggregate summarises exactly the day's end_of_prog documents.
  const programs = documentsOfDay("end_of_prog", ctx);
  if (programs.length === 0) return [];
  const sum = (values: (number | null | undefined)[]) => {
    const known = values.filter((v): v is number => v != null);
    return known.length === 0
      ? null
      : round(
          known.reduce((a, b) => a + b, 0),
          2,
        );
  };
  return [
    {
      idDevice: ctx.device.id,
      day: new Date(ctx.schedule.start),
      programs: programs.length,
      completed: programs.filter((p) => p.outcome === "completed").length,
      aborted: programs.filter((p) => p.outcome === "aborted").length,
      totalDurationSec: programs.reduce((a, p) => a + p.durationSec, 0),
      energyKwh: sum(programs.map((p) => p.energyKwh)),
      waterLiters: sum(programs.map((p) => p.waterLiters)),
    },
  ];
};

const OFF_DAY_EVENTS = ["wifi_reconnect", "power_on", "power_off", "door_open", "door_close"] as const;

const events: Builder<"events"> = (ctx, rng) => {
  const { device, schedule } = ctx;
  const n = schedule.working ? rng.poisson(45 * device.activity) : rng.poisson(3);
  const out: Draft<"events">[] = [];
  for (let i = 0; i < n; i++) {
    const type = schedule.working ? rng.weighted(EVENT_TYPES) : rng.pick(OFF_DAY_EVENTS);
    const doc: Draft<"events"> = {
      idDevice: device.id,
      timestamp: at(ctx, rng),
      type,
      source: rng.weighted([
        ["panel", 70],
        ["app", 12],
        ["cloud", 8],
        ["system", 10],
      ] as const),
    };
    // Optional fields are absent rather than null on most documents, as the ovens send them.
    if (type === "setpoint_change") doc.value = String(rng.int(30, 280));
    else if (type === "fan_change") doc.value = String(rng.int(1, 5));
    else if (rng.chance(0.05)) doc.value = null;
    if (type === "wifi_reconnect" || type.startsWith("power")) doc.severity = rng.int(0, 3);
    out.push(doc);
  }
  return out;
};

const evereoSess: Builder<"evereo_sess"> = (ctx, rng) => {
  const { device, schedule } = ctx;
  if (device.model.name !== "EVEREO" || !schedule.working) return [];
  const n = rng.poisson(3 * device.activity);
  const out: Draft<"evereo_sess">[] = [];
  for (let i = 0; i < n; i++) {
    const startTS = at(ctx, rng);
    // Sessions are written once; an end past the day is cut at midnight, when the oven closes
    // a session for its daily report.
    const end = Math.min(schedule.end - SECOND_MS, startTS.getTime() + rng.int(20, 240) * MINUTE_MS);
    out.push({
      idDevice: device.id,
      startTS,
      endTS: rng.chance(0.03) ? null : new Date(end),
      mode: rng.weighted([
        ["holding", 5],
        ["regeneration", 3],
        ["low_temp_cooking", 2],
      ] as const),
      trays: rng.chance(0.1) ? null : rng.int(1, 10),
      targetTemp: round(rng.between(55, 85)),
    });
  }
  return out;
};

/** A request body of several KB: the JSON the oven uploads. */
function requestBody(rng: Rng, device: DeviceProfile, path: string, time: number): string {
  const records = rng.int(40, 180);
  if (path.endsWith("/haccp")) {
    return JSON.stringify({
      serial: device.serial,
      records: Array.from({ length: records }, (_, k) => ({
        t: new Date(time - (records - k) * 30 * SECOND_MS).toISOString(),
        phase: rng.pick(HACCP_PHASES),
        probe: round(rng.between(20, 95)),
        chamber: round(rng.between(60, 260)),
      })),
    });
  }
  if (path.endsWith("/recipes/sync")) {
    return JSON.stringify({
      serial: device.serial,
      recipes: Array.from({ length: Math.ceil(records / 8) }, () => ({
        name: rng.pick(recipeNamesFor(device)),
        steps: Array.from({ length: rng.int(1, 6) }, (_, s) => ({
          step: s + 1,
          mode: rng.pick(COOKING_MODES),
          tempC: rng.int(60, 280),
          minutes: rng.int(2, 60),
        })),
      })),
    });
  }
  return JSON.stringify({
    serial: device.serial,
    settings: Object.fromEntries(
      Array.from({ length: records }, (_, k) => [
        `param_${k}`,
        rng.chance(0.5) ? rng.int(0, 1000) : rng.hex(12),
      ]),
    ),
  });
}

const request: Builder<"request"> = (ctx, rng) => {
  const { device, schedule } = ctx;
  const n = rng.poisson(schedule.working ? 0.45 : 0.1);
  const out: Draft<"request">[] = [];
  for (let i = 0; i < n; i++) {
    const [method, template] = rng.weighted(REQUEST_PATHS.map(([m, p, w]) => [[m, p] as const, w] as const));
    const path = template.replace("{serial}", device.serial);
    const requestTS = at(ctx, rng, 0.8);
    out.push({
      idDevice: device.id,
      requestTS,
      method,
      path,
      status: rng.weighted([
        [method === "POST" ? 201 : 200, 90],
        [400, 3],
        [401, 1],
        [500, 3],
        [503, 3],
      ] as const),
      latencyMs: rng.chance(0.05) ? null : Math.round(Math.exp(rng.normal(5, 0.8))),
      body: method === "GET" ? null : requestBody(rng, device, path, requestTS.getTime()),
    });
  }
  return out;
};

const sdEvents: Builder<"sd_events"> = (ctx, rng) => {
  const { device, schedule } = ctx;
  const n = schedule.working ? rng.poisson(5 * device.activity) : rng.poisson(1);
  return Array.from({ length: n }, () => {
    const event = rng.pick(SD_EVENTS);
    const doc: Draft<"sd_events"> = { idDevice: device.id, time: at(ctx, rng), event };
    if (rng.chance(0.5)) doc.code = rng.int(1, 99);
    if (event === "log_rotated" || event === "haccp_export") doc.detail = `file log_${rng.digits(6)}.csv`;
    else if (rng.chance(0.1)) doc.detail = null;
    return doc;
  });
};

const sdHaccp: Builder<"sd_haccp"> = (ctx, rng) => {
  const { device, schedule } = ctx;
  if (!schedule.working) return [];
  const n = rng.poisson(8 * device.activity);
  return Array.from({ length: n }, () => {
    const phase = rng.pick(HACCP_PHASES);
    const probeTemp = rng.chance(0.3) ? null : round(rng.between(phase === "cooling" ? 2 : 40, 96));
    return {
      idDevice: device.id,
      time: at(ctx, rng),
      phase,
      probeTemp,
      chamberTemp: round(phase === "cooling" ? rng.between(-20, 10) : rng.between(60, 260)),
      recipeId: rng.chance(0.6) ? `R${rng.int(1000, 9999)}` : null,
      passed: probeTemp === null ? null : phase === "cooling" ? probeTemp < 10 : probeTemp >= 72,
    };
  });
};

const sdMessages: Builder<"sd_messages"> = (ctx, rng) => {
  const { device, schedule } = ctx;
  const n = schedule.working ? rng.poisson(5 * device.activity) : rng.poisson(0.8);
  return Array.from({ length: n }, () => {
    const [channel, level, message] = rng.pick(MESSAGE_TEMPLATES);
    return { idDevice: device.id, sentAt: at(ctx, rng), channel, level, message };
  });
};

const VARIABLE_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  temp_chamber: [25, 280],
  temp_core_probe: [4, 95],
  temp_set: [30, 280],
  temp_board: [30, 65],
  temp_power_board: [35, 80],
  humidity: [0, 100],
  humidity_set: [0, 100],
  fan_speed: [0, 3000],
  microwave_power: [0, 1000],
  motor_current: [0.5, 4],
  supply_voltage: [220, 240],
  steam_valve: [0, 1],
};

const sdVariables: Builder<"sd_variables"> = (ctx, rng) => {
  const { device, schedule } = ctx;
  if (!schedule.working) return [];
  const n = rng.poisson(15 * device.activity);
  return Array.from({ length: n }, () => {
    const name = rng.pick(device.variables);
    const [lo, hi] = VARIABLE_RANGES[name] ?? [0, 1];
    return {
      idDevice: device.id,
      time: at(ctx, rng),
      name,
      value: rng.chance(0.02) ? null : name === "steam_valve" ? rng.int(0, 1) : round(rng.between(lo, hi)),
      unit: VARIABLE_UNITS[name],
    };
  });
};

const sdata: Builder<"sdata"> = (ctx, rng) => {
  const { device, schedule } = ctx;
  // Every device sends its identity on its first day, then now and then (reboots, updates).
  const first = device.installAt === schedule.start;
  if (!first && !rng.chance(0.1)) return [];
  const ts = at(ctx, rng);
  const options = rng.sample(device.model.options, rng.int(1, device.model.options.length));
  return [
    {
      idDevice: device.id,
      ts,
      firmware: firmwareVersion(ctx.firmwareAt(ts.getTime())),
      serial: device.serial,
      model: device.model.name,
      options: rng.chance(0.2) ? null : options.join(";"),
    },
  ];
};

const workingMinutesLogs: Builder<"working_minutes_logs"> = (ctx, rng) => {
  const { device, schedule } = ctx;
  // Counters are synchronised every other working day or so, not daily.
  if (!schedule.working || !rng.chance(0.5)) return [];
  const working = Math.round(totalLength(schedule.on) / MINUTE_MS);
  const cooking = Math.round(working * rng.between(0.3, 0.8));
  return [
    {
      idDevice: device.id,
      date: new Date(schedule.start),
      workingMinutes: working,
      idleMinutes: rng.chance(0.1) ? null : working - cooking,
      cookingMinutes: rng.chance(0.05) ? null : cooking,
    },
  ];
};

const BUILDERS: { [K in SourceCollection]: Builder<K> } = {
  alarm,
  end_of_prog: endOfProg,
  end_of_prog_aggregated: endOfProgAggregated,
  events,
  evereo_sess: evereoSess,
  request,
  sd_events: sdEvents,
  sd_haccp: sdHaccp,
  sd_messages: sdMessages,
  sd_variables: sdVariables,
  sdata,
  variable_logs: (ctx) => variableLogDrafts(ctx),
  working_minutes_logs: workingMinutesLogs,
};

/**
 * A deterministic ObjectId: the document's timestamp in seconds (as MongoDB's own ids carry the
 * insert time), then device id (3 bytes), collection index (1), sequence within the device-day
 * (2) and two random bytes. Unique by construction, unlike 8 random bytes.
 */
export function objectIdFor(
  time: number,
  idDevice: number,
  collection: number,
  seq: number,
  rng: Rng,
): ObjectId {
  if (idDevice > 0xffffff || seq > 0xffff) {
    throw new RangeError(`cannot pack device ${idDevice} / sequence ${seq} into an ObjectId`);
  }
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(Math.floor(time / SECOND_MS) >>> 0, 0);
  bytes.writeUIntBE(idDevice, 4, 3);
  bytes.writeUInt8(collection, 7);
  bytes.writeUInt16BE(seq, 8);
  bytes.writeUInt16BE(rng.int(0, 0xffff), 10);
  return new ObjectId(bytes);
}

function extraFields(rng: Rng, collection: SourceCollection, time: number): ExtraFields {
  // variable_logs slots already weigh ~10 KB: they only get the small one.
  const kind = collection === "variable_logs" ? "fwBuild" : rng.pick(["fwBuild", "extra", "tags"] as const);
  switch (kind) {
    case "fwBuild":
      return { fwBuild: `b${rng.int(1000, 9999)}-${rng.hex(7)}` };
    case "extra":
      return {
        extra: { nested: { slot: rng.int(0, 7), flag: rng.chance(0.5), note: `diag ${time % 997}` } },
      };
    case "tags":
      return { tags: rng.sample(["beta", "field-test", "refurbished", "loaner", "vip"], rng.int(1, 3)) };
  }
}

/**
 * All documents one device writes to one collection on one day, sorted by timestamp, with
 * their deterministic `_id`s and the occasional extra field.
 */
export function documentsOfDay<K extends SourceCollection>(
  collection: K,
  ctx: DayContext,
): SourceDocuments[K][] {
  const { seed, device, schedule } = ctx;
  const rng = Rng.stream(seed, collection, device.id, schedule.day);
  const builder = BUILDERS[collection] as Builder<K>;
  const field = SOURCE_TIMESTAMP_FIELD[collection];
  const timeOf = (d: Draft<K>) => ((d as Record<string, unknown>)[field] as Date).getTime();
  const drafts = builder(ctx, rng).sort((a, b) => timeOf(a) - timeOf(b));
  const idx = SOURCE_COLLECTIONS.indexOf(collection);
  const idRng = Rng.stream(seed, "ids", collection, device.id, schedule.day);
  return drafts.map((draft, seq) => {
    const time = timeOf(draft);
    const extra = idRng.chance(EXTRA_FIELD_SHARE) ? extraFields(idRng, collection, time) : {};
    return { _id: objectIdFor(time, device.id, idx, seq, idRng), ...draft, ...extra } as SourceDocuments[K];
  });
}
