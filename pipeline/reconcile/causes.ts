/**
 * What reconcile says of a source document (variable_logs: a reading; alarm resets: an alarm)
 * that curated does not hold as the source does (docs/design.md §7). Two causes account for a
 * document rather than name a difference: it is in quarantine with its reason, or it is on its
 * way (in a raw object the curate job has not counted yet, and that object is still there).
 * (Documents above their device's bookmark are the next run's: reconcile does not read them.)
 * Every other cause is a difference: reconcile exits non-zero and, in AWS, raises its alarm.
 * `repair` says what `--repair` does about it.
 */
export const CAUSES = {
  in_flight: {
    accounted: true,
    repair: null,
    meaning: "in a raw object the curate job has not counted yet: the next curate brings it",
  },
  quarantined: {
    accounted: true,
    repair: null,
    meaning: "in quarantine with its reason (the quarantine table and its copy under _quarantine/)",
  },
  raw_lost: {
    accounted: false,
    repair: "replay",
    meaning:
      "in a raw object the curate job has not read, which is gone (expired or deleted): curate stops on it until the window is extracted again",
  },
  late_arrival: {
    accounted: false,
    repair: "replay",
    meaning: "inserted in the source after its window was extracted, below the bookmark",
  },
  missing: {
    accounted: false,
    repair: "replay",
    meaning: "below the bookmark, in neither curated nor quarantine, and not inserted late",
  },
  late_reset: {
    accounted: false,
    repair: "replay",
    meaning: "an alarm reset in the source, below the bookmark, while curated shows it open",
  },
  reopened: {
    accounted: false,
    repair: "replay",
    meaning: "an alarm open again in the source (its reset removed) while curated shows it reset",
  },
  unusable_timestamp: {
    accounted: false,
    repair: "sweep",
    meaning: "no usable timestamp (missing, null, not a date) and not quarantined yet",
  },
  unknown_device: {
    accounted: false,
    repair: "sweep",
    meaning: "its idDevice names no ddc device (or several) and it is not quarantined yet",
  },
  unplanned_device: {
    accounted: false,
    repair: null,
    meaning: "its device is in ddc without a last_log_date, so no plan ever extracts it",
  },
  duplicated: {
    accounted: false,
    repair: null,
    meaning: "curated holds more rows than natural keys for the day",
  },
  extra: {
    accounted: false,
    repair: null,
    meaning: "curated holds more than the source (deleted in the source after it was curated?)",
  },
} as const satisfies Record<
  string,
  { accounted: boolean; repair: "replay" | "sweep" | null; meaning: string }
>;

export type Cause = keyof typeof CAUSES;

/** One cause found for a collection, device and day, with the day's figures. */
export interface Finding {
  readonly collection: string;
  /** Null for documents of no ddc device. */
  readonly idDevice: number | null;
  /** UTC day `YYYY-MM-DD`; null for documents without a usable timestamp. */
  readonly day: string | null;
  readonly cause: Cause;
  /** Documents (readings; alarms) this cause explains. */
  readonly count: number;
  readonly source: number;
  readonly curated: number;
  readonly quarantined: number;
  readonly inFlight: number;
  readonly detail: string;
}

export const isDifference = (f: Pick<Finding, "cause">): boolean => !CAUSES[f.cause].accounted;
