/**
 * Lake schemas of the PostgreSQL `ddc` tables that go to the lake (docs/design.md §3). Keys are the
 * source column names (already snake_case); `jsonb` columns are carried as JSON text.
 */
import { z } from "zod";
import { boolean, int32, int64, json, text, timestamp } from "./fields.js";

const audit = { created_at: timestamp(), updated_at: timestamp() };

export const CompanySchema = z.object({
  id: int64(),
  name: text(),
  country: text(),
  vat_number: text().nullish(),
  plan: text(),
  ...audit,
});

export const DeviceGroupSchema = z.object({
  id: int64(),
  id_company: int64(),
  name: text(),
  ...audit,
});

export const DeviceSchema = z.object({
  id: int64(),
  id_company: int64(),
  id_device_group: int64().nullish(),
  serial: text(),
  model: text(),
  id_board_model: int32().nullish(),
  board_serial: text().nullish(),
  id_firmware: int32().nullish(),
  last_ip: text().nullish(),
  city: text().nullish(),
  connection_kind: text().nullish(),
  bridge_firm: text().nullish(),
  cloud_pin: text().nullish(),
  mirror: boolean(),
  /** Completeness mark: every MongoDB document of this device older than this is in MongoDB. */
  last_log_date: timestamp().nullish(),
  ...audit,
});

export const DeviceRecipeSchema = z.object({
  id: int64(),
  id_device: int64(),
  name: text(),
  category: text(),
  steps: json(),
  ...audit,
});

export const CommunityRecipeSchema = z.object({
  id: int64(),
  name: text(),
  author: text(),
  category: text(),
  steps: json(),
  likes: int32(),
  ...audit,
});

export const ChefunoxRecipeSchema = z.object({
  id: int64(),
  name: text(),
  category: text(),
  language: text(),
  steps: json(),
  ...audit,
});

/** Recipe links: `recipe_kind` says whether `id_recipe` is a community or a chefunox recipe. */
const recipeLink = {
  id: int64(),
  id_recipe: int64(),
  recipe_kind: text(),
  created_at: timestamp(),
};

export const RecipeCompanySchema = z.object({ ...recipeLink, id_company: int64() });
export const RecipeDeviceGroupSchema = z.object({ ...recipeLink, id_device_group: int64() });
export const RecipeDeviceSchema = z.object({ ...recipeLink, id_device: int64() });

export const DeviceRecipeHistorySchema = z.object({
  id: int64(),
  id_device: int64(),
  /** No foreign key: `device_recipe` rows are deleted and re-inserted under new ids. */
  id_device_recipe: int64(),
  action: text(),
  name: text(),
  recorded_at: timestamp(),
});

export const DeviceIpInfoHistorySchema = z.object({
  id: int64(),
  id_device: int64(),
  ip: text(),
  city: text().nullish(),
  country: text().nullish(),
  isp: text().nullish(),
  recorded_at: timestamp(),
});

export const CompanyParameterSchema = z.object({
  id: int64(),
  id_company: int64(),
  key: text(),
  value: text().nullish(),
  updated_at: timestamp(),
});

export const DeviceProfileSchema = z.object({
  id: int64(),
  id_device: int64(),
  profile: text(),
  language: text(),
  units: text(),
  updated_at: timestamp(),
});

export const DeviceSettingsSchema = z.object({
  id: int64(),
  id_device: int64(),
  settings: json(),
  updated_at: timestamp(),
});
