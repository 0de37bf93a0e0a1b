/**
 * Reference data the synthetic fleet is drawn from: customers, oven models, cities, recipes,
 * alarm codes. Plausible values only; none of it describes a real customer.
 */

import { ALARM_CODE_NAMES, type AlarmClass } from "../../pipeline/reports/alarm-codes.js";
import type { OvenVariable } from "../../pipeline/schema/collections.js";

/** A customer template; a fleet uses the first N of them, so small fleets stay varied. */
export interface CustomerTemplate {
  readonly name: string;
  readonly country: string;
  readonly plan: "free" | "basic" | "premium" | "enterprise";
  /** Device group names the customer organises its ovens in (may be empty). */
  readonly groups: readonly string[];
  /** Kitchen profile, used for device profiles and working hours. */
  readonly kind: "restaurant" | "bakery" | "hotel" | "retail" | "catering" | "fast_food";
}

export const CUSTOMERS: readonly CustomerTemplate[] = [
  {
    name: "Trattoria Da Gino S.r.l.",
    country: "IT",
    plan: "basic",
    groups: ["Cucina", "Pasticceria"],
    kind: "restaurant",
  },
  {
    name: "Bäckerei Schmidt GmbH",
    country: "DE",
    plan: "premium",
    groups: ["Filiale Mitte", "Filiale Nord", "Backstube"],
    kind: "bakery",
  },
  { name: "Boulangerie Martin SARL", country: "FR", plan: "free", groups: [], kind: "bakery" },
  {
    name: "Burger Station Inc.",
    country: "US",
    plan: "enterprise",
    groups: ["Store #12 Chicago", "Store #31 Austin", "Store #40 Denver"],
    kind: "fast_food",
  },
  { name: "Panadería La Espiga S.L.", country: "ES", plan: "basic", groups: ["Obrador"], kind: "bakery" },
  { name: "The Crown Pub Ltd", country: "GB", plan: "free", groups: [], kind: "restaurant" },
  {
    name: "Sakura Dining K.K.",
    country: "JP",
    plan: "premium",
    groups: ["Shinjuku", "Umeda"],
    kind: "restaurant",
  },
  {
    name: "Harbour Catering Pty Ltd",
    country: "AU",
    plan: "premium",
    groups: ["Central Kitchen", "Events"],
    kind: "catering",
  },
  {
    name: "Hotel Alpenblick AG",
    country: "CH",
    plan: "enterprise",
    groups: ["Hauptküche", "Frühstück"],
    kind: "hotel",
  },
  {
    name: "FreshMart Supermarkets",
    country: "US",
    plan: "enterprise",
    groups: ["Deli North", "Deli South", "Bakery Dept"],
    kind: "retail",
  },
  { name: "Café Central Wien", country: "AT", plan: "basic", groups: ["Konditorei"], kind: "restaurant" },
  { name: "Osteria del Porto", country: "IT", plan: "free", groups: [], kind: "restaurant" },
  {
    name: "Campus Dining Services",
    country: "GB",
    plan: "premium",
    groups: ["Hall A", "Hall B"],
    kind: "catering",
  },
  { name: "Le Petit Fournil", country: "FR", plan: "basic", groups: ["Atelier"], kind: "bakery" },
];

export interface CountryInfo {
  /** Hours ahead of UTC (standard time; the generator ignores daylight saving). */
  readonly utcOffset: number;
  readonly cities: readonly string[];
  readonly isps: readonly string[];
  readonly language: string;
  readonly units: "metric" | "imperial";
  /** First octets of plausible public addresses for the country. */
  readonly ipPrefixes: readonly number[];
  readonly vatPrefix: string | null;
}

export const COUNTRIES: Readonly<Record<string, CountryInfo>> = {
  IT: {
    utcOffset: 1,
    cities: ["Milano", "Padova", "Roma", "Torino", "Bologna"],
    isps: ["TIM", "Fastweb", "Vodafone IT"],
    language: "it",
    units: "metric",
    ipPrefixes: [79, 93, 151],
    vatPrefix: "IT",
  },
  DE: {
    utcOffset: 1,
    cities: ["Berlin", "München", "Hamburg", "Köln"],
    isps: ["Deutsche Telekom", "Vodafone DE", "1&1"],
    language: "de",
    units: "metric",
    ipPrefixes: [84, 87, 91],
    vatPrefix: "DE",
  },
  FR: {
    utcOffset: 1,
    cities: ["Paris", "Lyon", "Bordeaux", "Lille"],
    isps: ["Orange", "Free", "SFR"],
    language: "fr",
    units: "metric",
    ipPrefixes: [82, 90, 109],
    vatPrefix: "FR",
  },
  US: {
    utcOffset: -6,
    cities: ["Chicago", "Austin", "Denver", "New York", "Columbus"],
    isps: ["Comcast", "AT&T", "Spectrum"],
    language: "en",
    units: "imperial",
    ipPrefixes: [24, 68, 73],
    vatPrefix: null,
  },
  ES: {
    utcOffset: 1,
    cities: ["Madrid", "Valencia", "Sevilla", "Bilbao"],
    isps: ["Movistar", "Orange ES"],
    language: "es",
    units: "metric",
    ipPrefixes: [80, 83, 88],
    vatPrefix: "ES",
  },
  GB: {
    utcOffset: 0,
    cities: ["London", "Manchester", "Leeds", "Bristol"],
    isps: ["BT", "Virgin Media", "Sky"],
    language: "en",
    units: "metric",
    ipPrefixes: [81, 86, 94],
    vatPrefix: "GB",
  },
  JP: {
    utcOffset: 9,
    cities: ["Tokyo", "Osaka", "Nagoya"],
    isps: ["NTT", "KDDI", "SoftBank"],
    language: "ja",
    units: "metric",
    ipPrefixes: [60, 126, 133],
    vatPrefix: null,
  },
  AU: {
    utcOffset: 10,
    cities: ["Sydney", "Melbourne", "Brisbane"],
    isps: ["Telstra", "Optus", "TPG"],
    language: "en",
    units: "metric",
    ipPrefixes: [1, 101, 120],
    vatPrefix: null,
  },
  CH: {
    utcOffset: 1,
    cities: ["Zürich", "Bern", "Luzern"],
    isps: ["Swisscom", "Sunrise"],
    language: "de",
    units: "metric",
    ipPrefixes: [85, 178, 212],
    vatPrefix: "CHE",
  },
  AT: {
    utcOffset: 1,
    cities: ["Wien", "Graz", "Salzburg"],
    isps: ["A1", "Magenta"],
    language: "de",
    units: "metric",
    ipPrefixes: [62, 80, 91],
    vatPrefix: "ATU",
  },
};

/** An oven model: what it measures, how it is named and which firmware line it runs. */
export interface ModelSpec {
  readonly name: string;
  /** Serial number prefix. */
  readonly prefix: string;
  readonly weight: number;
  readonly variables: readonly OvenVariable[];
  readonly boardModels: readonly number[];
  /** Firmware ids the line went through, oldest first. */
  readonly firmware: readonly number[];
  readonly options: readonly string[];
  /** Whether programs use water (steam, humidity). */
  readonly water: boolean;
}

export const MODELS: readonly ModelSpec[] = [
  {
    name: "CHEFTOP MIND.Maps PLUS",
    prefix: "XEVC",
    weight: 5,
    variables: [
      "temp_chamber",
      "temp_core_probe",
      "temp_set",
      "humidity",
      "humidity_set",
      "fan_speed",
      "temp_board",
      "steam_valve",
    ],
    boardModels: [41, 42],
    firmware: [412, 415, 418, 421, 424],
    options: ["probe", "steam", "wifi", "multi_point_probe", "smoke"],
    water: true,
  },
  {
    name: "CHEFTOP MIND.Maps ONE",
    prefix: "XEVL",
    weight: 3,
    variables: ["temp_chamber", "temp_core_probe", "temp_set", "humidity", "fan_speed", "temp_board"],
    boardModels: [40],
    firmware: [300, 303, 305, 308],
    options: ["probe", "steam", "wifi"],
    water: true,
  },
  {
    name: "BAKERTOP MIND.Maps PLUS",
    prefix: "XEBC",
    weight: 4,
    variables: [
      "temp_chamber",
      "temp_set",
      "humidity",
      "humidity_set",
      "fan_speed",
      "steam_valve",
      "temp_board",
    ],
    boardModels: [41, 43],
    firmware: [412, 415, 418, 421, 424],
    options: ["steam", "wifi", "dehumidifier", "proofer"],
    water: true,
  },
  {
    name: "BAKERTOP MIND.Maps ONE",
    prefix: "XEBL",
    weight: 2,
    variables: ["temp_chamber", "temp_set", "humidity", "fan_speed"],
    boardModels: [40],
    firmware: [300, 303, 305, 308],
    options: ["steam", "wifi"],
    water: true,
  },
  {
    name: "EVEREO",
    prefix: "XEEH",
    weight: 2,
    variables: ["temp_chamber", "temp_set", "temp_core_probe", "temp_board", "motor_current"],
    boardModels: [55],
    firmware: [120, 122, 125],
    options: ["probe", "wifi", "vacuum_seal"],
    water: false,
  },
  {
    name: "SPEED.Pro",
    prefix: "XESP",
    weight: 2,
    variables: [
      "temp_chamber",
      "temp_set",
      "microwave_power",
      "temp_power_board",
      "fan_speed",
      "motor_current",
      "supply_voltage",
    ],
    boardModels: [60, 61],
    firmware: [210, 212, 215, 219],
    options: ["wifi", "catalyst", "ethernet"],
    water: false,
  },
];

/** Firmware id as the oven reports it in `sdata` (e.g. 421 → "4.2.1"). */
export function firmwareVersion(id: number | null | undefined): string {
  if (id == null) return "unknown";
  return `${Math.floor(id / 100)}.${Math.floor((id % 100) / 10)}.${id % 10}`;
}

export const RECIPE_CATEGORIES = [
  "bread",
  "pastry",
  "meat",
  "fish",
  "vegetables",
  "pizza",
  "regeneration",
  "cleaning",
] as const;

export const RECIPE_NAMES: Readonly<Record<(typeof RECIPE_CATEGORIES)[number], readonly string[]>> = {
  bread: ["Baguette", "Ciabatta", "Pane casereccio", "Roggenbrot", "Focaccia genovese", "Sourdough loaf"],
  pastry: ["Croissant", "Pain au chocolat", "Brioche", "Cornetto", "Muffin", "Cheesecake"],
  meat: ["Roast beef", "Porchetta", "Chicken thighs", "Pulled pork", "Lamb shoulder", "Burger patties"],
  fish: ["Salmon fillet", "Baked cod", "Sea bass al cartoccio", "Prawns"],
  vegetables: ["Roast potatoes", "Grilled vegetables", "Steamed broccoli", "Ratatouille"],
  pizza: ["Pizza margherita", "Pinsa romana", "Flammkuchen"],
  regeneration: ["Banquet regeneration", "Plate rethermalisation", "Overnight cooking"],
  cleaning: ["Rinse", "Eco clean", "Long clean"],
};

export const COOKING_MODES = ["convection", "steam", "combi", "delta_t", "microwave", "holding"] as const;

export const RECIPE_AUTHORS = [
  "Chef Marco",
  "Anna Bauer",
  "Julien Moreau",
  "Kenji Sato",
  "Laura Gómez",
  "Tom Baker",
  "Sofia Russo",
  "Emma Clarke",
];

export const LANGUAGES = ["it", "en", "de", "fr", "es", "ja"] as const;

/** Alarm codes with their class (the report's catalog) and how long they usually stay active. */
export interface AlarmCode {
  readonly code: number;
  readonly class: AlarmClass;
  readonly weight: number;
  /** Typical minutes until reset; durations are drawn around it with a long tail. */
  readonly typicalMinutes: number;
}

/** How often each code of the catalog (pipeline/reports/alarm-codes.ts) fires, and for how long. */
const ALARM_BEHAVIOUR: Readonly<Record<number, Pick<AlarmCode, "weight" | "typicalMinutes">>> = {
  101: { weight: 8, typicalMinutes: 3 },
  102: { weight: 5, typicalMinutes: 10 },
  110: { weight: 6, typicalMinutes: 2 },
  205: { weight: 2, typicalMinutes: 45 },
  210: { weight: 2, typicalMinutes: 120 },
  231: { weight: 1, typicalMinutes: 240 },
  305: { weight: 1, typicalMinutes: 2880 },
  330: { weight: 1, typicalMinutes: 4320 },
  404: { weight: 3, typicalMinutes: 30 },
};

export const ALARM_CODES: readonly AlarmCode[] = ALARM_CODE_NAMES.map((c) => {
  const behaviour = ALARM_BEHAVIOUR[c.code];
  if (!behaviour) throw new Error(`alarm code ${c.code} has no behaviour in the snapshot generator`);
  return { code: c.code, class: c.class, ...behaviour };
});

export const EVENT_TYPES = [
  ["door_open", 14],
  ["door_close", 14],
  ["program_start", 8],
  ["program_stop", 8],
  ["setpoint_change", 6],
  ["fan_change", 4],
  ["probe_inserted", 3],
  ["probe_removed", 3],
  ["light_on", 3],
  ["cleaning_start", 1],
  ["cleaning_end", 1],
  ["wifi_reconnect", 2],
  ["power_on", 1],
  ["power_off", 1],
] as const;

export const SD_EVENTS = [
  "sd_inserted",
  "sd_removed",
  "log_rotated",
  "haccp_export",
  "recipe_import",
  "update_check",
  "update_downloaded",
] as const;

export const MESSAGE_TEMPLATES: readonly (readonly [channel: string, level: string, message: string])[] = [
  ["ui", "info", "Program started from favourites"],
  ["ui", "info", "Recipe saved"],
  ["ui", "warn", "Core probe not detected"],
  ["service", "warn", "Descaling recommended within 5 days"],
  ["service", "error", "Water pressure below threshold"],
  ["cloud", "info", "Synchronisation completed"],
  ["cloud", "warn", "Upload retried after timeout"],
  ["update", "info", "Firmware package verified"],
  ["update", "error", "Firmware download interrupted"],
];

export const HACCP_PHASES = ["preheat", "cooking", "holding", "cooling", "cleaning"] as const;

/** Units of the `sd_variables` readings, by variable. */
export const VARIABLE_UNITS: Readonly<Record<OvenVariable, string | null>> = {
  temp_chamber: "°C",
  temp_core_probe: "°C",
  temp_set: "°C",
  temp_board: "°C",
  temp_power_board: "°C",
  humidity: "%",
  humidity_set: "%",
  fan_speed: "rpm",
  microwave_power: "W",
  motor_current: "A",
  supply_voltage: "V",
  steam_valve: null,
};

export const REQUEST_PATHS: readonly (readonly [method: string, path: string, weight: number])[] = [
  ["POST", "/api/v2/devices/{serial}/haccp", 5],
  ["POST", "/api/v2/devices/{serial}/recipes/sync", 3],
  ["PUT", "/api/v2/devices/{serial}/settings", 1],
  ["GET", "/api/v2/devices/{serial}/firmware", 1],
];
