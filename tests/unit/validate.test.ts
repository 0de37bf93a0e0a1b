import { Decimal128, Double, Int32, Long, ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { DocumentValidationError } from "../../pipeline/errors.js";
import { collection, MAX_PAYLOAD_BYTES, table, toLakeRow } from "../../pipeline/schema/index.js";

const alarm = collection("alarm");
const oid = new ObjectId("65a1b2c3d4e5f60718293a4b");

function alarmDoc(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    _id: oid,
    idDevice: 42,
    code: 17,
    class: "error",
    activeTS: new Date("2024-03-01T10:00:00Z"),
    activationMail: true,
    ...extra,
  };
}

function refusal(fn: () => unknown): DocumentValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DocumentValidationError) return e;
    throw e;
  }
  throw new Error("expected a DocumentValidationError");
}

describe("toLakeRow", () => {
  it("maps a valid document to lake column names, absent nullable fields as null", () => {
    const { row, extraKeys } = toLakeRow(alarm, alarmDoc());
    expect(row).toEqual({
      id: "65a1b2c3d4e5f60718293a4b",
      id_device: 42,
      code: 17,
      class: "error",
      active_ts: new Date("2024-03-01T10:00:00Z"),
      reset_ts: null,
      activation_mail: true,
      reset_mail: null,
      payload: null,
    });
    expect(extraKeys).toEqual([]);
  });

  it("folds fields outside the schema into payload as extended JSON", () => {
    const { row, extraKeys } = toLakeRow(
      alarm,
      alarmDoc({ fwBuild: "4.2.1-β", extra: { nested: [1, 2] }, seenAt: new Date("2024-03-01T11:00:00Z") }),
    );
    expect(extraKeys).toEqual(["fwBuild", "extra", "seenAt"]);
    expect(JSON.parse(row.payload as string)).toEqual({
      fwBuild: "4.2.1-β",
      extra: { nested: [1, 2] },
      seenAt: { $date: "2024-03-01T11:00:00Z" },
    });
  });

  it.each([
    ["a BSON Long device id", { idDevice: Long.fromNumber(7) }, "id_device", 7],
    ["a BSON Int32 code", { code: new Int32(9) }, "code", 9],
    ["a BSON Double code that is whole", { code: new Double(9) }, "code", 9],
    ["a numeric string", { code: " 12 " }, "code", 12],
    [
      "an ISO date string",
      { activeTS: "2024-03-01T10:00:00.000Z" },
      "active_ts",
      new Date("2024-03-01T10:00:00Z"),
    ],
    [
      "an ISO date-time without zone (UTC)",
      { activeTS: "2024-03-01T10:00:00" },
      "active_ts",
      new Date("2024-03-01T10:00:00Z"),
    ],
    ["0/1 as booleans", { activationMail: 0 }, "activation_mail", false],
    ["a string _id", { _id: "plain-id" }, "id", "plain-id"],
  ])("coerces %s", (_label, patch, column, expected) => {
    expect(toLakeRow(alarm, alarmDoc(patch)).row[column]).toEqual(expected);
  });

  it("coerces Decimal128 into a double column", () => {
    const row = toLakeRow(collection("sd_variables"), {
      _id: oid,
      idDevice: 1,
      time: new Date(0),
      name: "x",
      value: Decimal128.fromString("21.5"),
    }).row;
    expect(row.value).toBe(21.5);
  });

  it.each([
    ["idDevice", { idDevice: undefined }, "idDevice", "required field is missing"],
    ["the timestamp", { activeTS: undefined }, "activeTS", "required field is missing"],
    ["a non-date string timestamp", { activeTS: "yesterday" }, "activeTS", /expected date/],
    ["a locale date string", { activeTS: "03/01/2024" }, "activeTS", /expected date/],
    [
      "an impossible ISO date",
      { activeTS: "2024-02-31T99:00:00Z" },
      "activeTS",
      /Invalid Date|expected date/,
    ],
    ["a fractional code", { code: 1.5 }, "code", /expected int/],
    ["an empty string as a number", { code: "" }, "code", /expected number/],
    ["an int32 overflow", { code: 2 ** 31 }, "code", /int32|Too big|expected int/i],
    ["a device id past 2^53", { idDevice: Long.fromString("9007199254740993") }, "idDevice", /int|safe/i],
    ["an object as text", { class: { a: 1 } }, "class", /expected string/],
    ["NaN", { code: Number.NaN }, "code", /expected (int|number)/],
  ])("refuses %s with a reason naming the field", (_label, patch, field, reason) => {
    const err = refusal(() => toLakeRow(alarm, alarmDoc(patch)));
    expect(err.name).toBe("DocumentValidationError");
    expect(err.retryable).toBe(false);
    expect(err.context).toMatchObject({ collection: "alarm" });
    const issue = err.issues.find((i) => i.field === field);
    expect(issue, JSON.stringify(err.issues)).toBeDefined();
    expect(issue?.reason).toMatch(reason);
  });

  it("names the document id and the device in the error", () => {
    const err = refusal(() => toLakeRow(alarm, alarmDoc({ code: "abc" })));
    expect(err.context).toMatchObject({ documentId: "65a1b2c3d4e5f60718293a4b", idDevice: 42 });
    expect(err.message).toMatch(/^alarm document 65a1b2c3d4e5f60718293a4b is invalid: code:/);
  });

  it("reports every bad field at once", () => {
    const err = refusal(() => toLakeRow(alarm, alarmDoc({ code: "x", class: 3, idDevice: undefined })));
    expect(err.issues.map((i) => i.field).sort()).toEqual(["class", "code", "idDevice"]);
  });

  it.each([null, 5, "doc", [1, 2]])("refuses a non-object document %j", (doc) => {
    expect(refusal(() => toLakeRow(alarm, doc)).issues[0]?.field).toBe("<document>");
  });

  it("keeps unicode text intact", () => {
    const { row } = toLakeRow(alarm, alarmDoc({ class: "résumé 🔥 温度" }));
    expect(row.class).toBe("résumé 🔥 温度");
  });

  it("refuses a payload above the size limit instead of writing a giant row", () => {
    const huge = "x".repeat(MAX_PAYLOAD_BYTES + 1);
    const err = refusal(() => toLakeRow(alarm, alarmDoc({ dump: huge })));
    expect(err.issues).toEqual([
      { field: "payload", reason: expect.stringMatching(/above the 4194304 limit/) },
    ]);
  });

  it("validates table rows by the same rules", () => {
    const device = table("device");
    const now = new Date("2024-01-01T00:00:00Z");
    const base = {
      id: 1,
      id_company: 2,
      serial: "S",
      model: "M",
      mirror: false,
      created_at: now,
      updated_at: now,
    };
    expect(toLakeRow(device, base).row).toMatchObject({ id: 1, city: null, last_log_date: null });
    expect(refusal(() => toLakeRow(device, { ...base, mirror: "maybe" })).issues[0]?.field).toBe("mirror");
  });
});
