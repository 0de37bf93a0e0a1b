/**
 * Rows of the `ddc` tables at the load clock: the fleet's companies, groups and devices, plus
 * recipes with their links and history, IP history, parameters, profiles and settings.
 */
import { countryInfo, type DeviceProfile, deviceRowAt, type Fleet, marksAt } from "./fleet.js";
import { Rng } from "./random.js";
import { COOKING_MODES, LANGUAGES, RECIPE_AUTHORS, RECIPE_CATEGORIES, RECIPE_NAMES } from "./reference.js";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "./time.js";
import type { DdcRows, DdcTables, SnapshotConfig } from "./types.js";

/** Recipe steps as the ovens store them (jsonb): one object per phase. */
export function recipeSteps(rng: Rng, category: string): string {
  const count = category === "cleaning" ? 1 : rng.int(1, 6);
  return JSON.stringify(
    Array.from({ length: count }, (_, i) => ({
      step: i + 1,
      mode: category === "cleaning" ? "cleaning" : rng.pick(COOKING_MODES),
      tempC: rng.int(60, 280),
      humidity: rng.pick([0, 20, 40, 60, 100]),
      minutes: rng.int(2, 60),
      fan: rng.int(1, 5),
      probeTargetC: rng.chance(0.3) ? rng.int(55, 95) : null,
    })),
  );
}

/** Settings document of a device (jsonb), nested as the app writes it. */
export function deviceSettings(rng: Rng, device: DeviceProfile): string {
  const info = countryInfo(device.country);
  return JSON.stringify({
    display: { brightness: rng.int(40, 100), language: info.language, clock24h: info.units === "metric" },
    network: { wifi: device.initial.connection_kind !== "ethernet", ssid: `Kitchen-${rng.hex(4)}` },
    haccp: { enabled: rng.chance(0.8), intervalSec: rng.pick([30, 60, 120]) },
    sound: { volume: rng.int(0, 10), keyClick: rng.chance(0.5) },
    favourites: rng.sample(RECIPE_NAMES.meat.concat(RECIPE_NAMES.bread), rng.int(0, 4)),
  });
}

function categoriesFor(device: DeviceProfile): readonly (typeof RECIPE_CATEGORIES)[number][] {
  if (device.model.name.startsWith("BAKERTOP")) return ["bread", "pastry", "pizza", "cleaning"];
  if (device.model.name === "EVEREO") return ["regeneration", "meat", "fish"];
  return ["meat", "fish", "vegetables", "regeneration", "pastry", "cleaning"];
}

interface RecipeEvent {
  readonly at: number;
  readonly device: number;
  readonly action: "create" | "update" | "delete";
  /** Index of the recipe lifetime the event belongs to, resolved to an id once ids exist. */
  readonly life: number;
}

/** Build every `ddc` row of the snapshot at its load clock. */
export function buildDdcRows(config: SnapshotConfig, fleet: Fleet): DdcRows {
  const { seed, end } = config;
  const rng = Rng.stream(seed, "ddc");
  const marks = marksAt(seed, fleet.devices, end);
  const device = fleet.devices.map((d) => deviceRowAt(d, marks.get(d.id) ?? null));

  // Shared recipe libraries: community (written by chefs) and chefunox (the maker's own).
  const start = end - config.days * DAY_MS;
  const libraryTime = () => start - rng.int(30, 900) * DAY_MS - rng.int(0, 1439) * MINUTE_MS;
  const community_recipe: DdcTables["community_recipe"][] = Array.from(
    { length: 10 + 2 * fleet.companies.length },
    (_, i) => {
      const category = rng.pick(RECIPE_CATEGORIES);
      const created = libraryTime();
      return {
        id: i + 1,
        name: `${rng.pick(RECIPE_NAMES[category])} ${rng.pick(["classic", "quick", "overnight", "crispy", "soft"])}`,
        author: rng.pick(RECIPE_AUTHORS),
        category,
        steps: recipeSteps(rng, category),
        likes: Math.floor(rng.float() ** 3 * 2000),
        created_at: new Date(created),
        updated_at: new Date(created + rng.int(0, 20) * DAY_MS),
      };
    },
  );
  const chefunox_recipe: DdcTables["chefunox_recipe"][] = Array.from(
    { length: 12 + fleet.companies.length },
    (_, i) => {
      const category = rng.pick(RECIPE_CATEGORIES);
      const created = libraryTime();
      return {
        id: i + 1,
        name: rng.pick(RECIPE_NAMES[category]),
        category,
        language: rng.pick(LANGUAGES),
        steps: recipeSteps(rng, category),
        created_at: new Date(created),
        updated_at: new Date(created + rng.int(0, 60) * DAY_MS),
      };
    },
  );
  const library = () =>
    rng.chance(0.5)
      ? { id_recipe: rng.pick(community_recipe).id, recipe_kind: "community" }
      : { id_recipe: rng.pick(chefunox_recipe).id, recipe_kind: "chefunox" };
  const linkTime = (after: Date) =>
    new Date(Math.min(end - HOUR_MS, after.getTime() + rng.int(1, 400) * DAY_MS));

  const recipe_company = fleet.companies
    .flatMap((c) =>
      Array.from({ length: rng.int(2, 6) }, () => ({
        ...library(),
        created_at: linkTime(c.created_at),
        id_company: c.id,
      })),
    )
    .map((row, i) => ({ id: i + 1, ...row }));
  const recipe_device_group = fleet.groups
    .flatMap((g) =>
      Array.from({ length: rng.int(1, 4) }, () => ({
        ...library(),
        created_at: linkTime(g.created_at),
        id_device_group: g.id,
      })),
    )
    .map((row, i) => ({ id: i + 1, ...row }));
  const recipe_device = fleet.devices
    .flatMap((d) =>
      Array.from({ length: rng.int(0, 3) }, () => ({
        ...library(),
        created_at: linkTime(d.initial.created_at),
        id_device: d.id,
      })),
    )
    .map((row, i) => ({ id: i + 1, ...row }));

  // Device recipes as lifetimes: created, maybe edited, sometimes deleted and re-created under a
  // new id (the production table's habit that makes it a replace table).
  interface Life {
    device: number;
    name: string;
    category: string;
    steps: string;
    created: number;
    updated: number;
    deleted: number | null;
  }
  const lives: Life[] = [];
  const events: RecipeEvent[] = [];
  for (const d of fleet.devices) {
    if (d.installAt === null && rng.chance(0.7)) continue;
    const from = d.initial.created_at.getTime();
    const span = Math.max(1, Math.floor((end - from) / MINUTE_MS) - 1);
    for (let k = 0, n = rng.int(3, 12); k < n; k++) {
      const category = rng.pick(categoriesFor(d));
      const name = rng.pick(RECIPE_NAMES[category]);
      let created = from + rng.int(1, span) * MINUTE_MS;
      for (;;) {
        const life = lives.length;
        const edits = rng.int(0, 2);
        let updated = created;
        events.push({ at: created, device: d.id, action: "create", life });
        for (let e = 0; e < edits; e++) {
          updated = Math.min(end - MINUTE_MS, updated + rng.int(1, 20_000) * MINUTE_MS);
          events.push({ at: updated, device: d.id, action: "update", life });
        }
        const recreate = rng.chance(0.15) && end - updated > 2 * HOUR_MS;
        const deleted = recreate
          ? updated + rng.int(1, Math.floor((end - updated) / MINUTE_MS) - 1) * MINUTE_MS
          : null;
        lives.push({
          device: d.id,
          name,
          category,
          steps: recipeSteps(rng, category),
          created,
          updated,
          deleted,
        });
        if (deleted === null) break;
        events.push({ at: deleted, device: d.id, action: "delete", life });
        created = deleted;
      }
    }
  }
  // Ids follow creation order, as a sequence would hand them out; history ids follow time.
  const order = (a: RecipeEvent, b: RecipeEvent) =>
    a.at - b.at ||
    a.life - b.life ||
    ["create", "update", "delete"].indexOf(a.action) - ["create", "update", "delete"].indexOf(b.action);
  events.sort(order);
  const idOfLife = new Map<number, number>();
  for (const e of events) if (e.action === "create") idOfLife.set(e.life, idOfLife.size + 1);
  const device_recipe: DdcTables["device_recipe"][] = lives
    .map((l, i) => ({ l, id: idOfLife.get(i) as number }))
    .filter(({ l }) => l.deleted === null)
    .sort((a, b) => a.id - b.id)
    .map(({ l, id }) => ({
      id,
      id_device: l.device,
      name: l.name,
      category: l.category,
      steps: l.steps,
      created_at: new Date(l.created),
      updated_at: new Date(l.updated),
    }));
  const device_recipe_history: DdcTables["device_recipe_history"][] = events.map((e, i) => ({
    id: i + 1,
    id_device: e.device,
    id_device_recipe: idOfLife.get(e.life) as number,
    action: e.action,
    name: (lives[e.life] as Life).name,
    recorded_at: new Date(e.at),
  }));

  const device_ip_info_history = fleet.devices
    .flatMap((d) => d.ipHistory)
    .sort((a, b) => a.recorded_at.getTime() - b.recorded_at.getTime() || a.id_device - b.id_device)
    .map((row, i) => ({ id: i + 1, ...row }));

  const company_parameter: DdcTables["company_parameter"][] = [];
  for (const c of fleet.companies) {
    const info = countryInfo(c.country);
    const params: [string, string | null][] = [
      ["default_language", info.language],
      ["units", info.units],
      ["timezone_offset", String(info.utcOffset)],
      ["haccp_retention_days", String(rng.pick([90, 180, 365, 730]))],
      ["alarm_mail_to", rng.chance(0.3) ? null : `kitchen-${c.id}@example.com`],
      ["report_weekday", rng.chance(0.5) ? String(rng.int(1, 5)) : null],
    ];
    for (const [key, value] of params.slice(0, rng.int(3, params.length))) {
      company_parameter.push({
        id: company_parameter.length + 1,
        id_company: c.id,
        key,
        value,
        updated_at: new Date(c.created_at.getTime() + rng.int(0, 300) * DAY_MS),
      });
    }
  }

  const device_profile: DdcTables["device_profile"][] = [];
  const device_settings: DdcTables["device_settings"][] = [];
  for (const d of fleet.devices) {
    const info = countryInfo(d.country);
    const touched = () =>
      new Date(Math.min(end - MINUTE_MS, d.initial.created_at.getTime() + rng.int(0, 600) * HOUR_MS));
    if (rng.chance(0.95)) {
      device_profile.push({
        id: device_profile.length + 1,
        id_device: d.id,
        profile: d.kind,
        language: rng.chance(0.85) ? info.language : "en",
        units: info.units,
        updated_at: touched(),
      });
    }
    if (rng.chance(0.9)) {
      device_settings.push({
        id: device_settings.length + 1,
        id_device: d.id,
        settings: deviceSettings(rng, d),
        updated_at: touched(),
      });
    }
  }

  return {
    company: [...fleet.companies],
    device_group: [...fleet.groups],
    device,
    device_recipe,
    community_recipe,
    chefunox_recipe,
    recipe_company,
    recipe_device_group,
    recipe_device,
    device_recipe_history,
    device_ip_info_history,
    company_parameter,
    device_profile,
    device_settings,
  };
}
