// What the API says in English (its errors, the schedule's description,
// why an object or a property cannot be restored), in the admin's language
// from the catalogue: the console reads the structured fields (an error's
// code and details, the schedule's settings, a reason's code) and shows the
// server's own message only for a code it does not know.

import { ApiError, records, type Backup, type Import, type Notification, type Schedule } from "./api";
import { importName, isKey, num, t, tn, when } from "./i18n";

// Action is what the admin was doing when the API refused: it makes a
// generic code precise ("conflict" on a download: the backup is not
// completed).
export type Action = "create" | "download" | "schedule" | "restore" | "execute" | "load";

// errorText is an error in plain words for the admin.
export function errorText(e: unknown, action: Action = "load"): string {
  if (!(e instanceof ApiError)) return t("err_unknown", { msg: e instanceof Error ? e.message : String(e) });
  const d = e.details;
  const str = (k: string) => (typeof d[k] === "string" ? (d[k] as string) : "");
  if (str("field")) return fieldLine(str("field"));
  switch (e.code) {
    case "quota_exceeded":
      return str("nextAllowedAt") ? t("err_quota_exceeded", { when: when(str("nextAllowedAt")) }) : t("errQuotaUsed");
    case "enterprise_required":
      return isTier(str("tier")) ? t("err_enterprise_required", { tier: t(str("tier") as Tier) }) : t("enterpriseOnly");
    case "invalid":
      if (str("reasonCode")) return t("notRestorable", { why: reasonText(str("reasonCode"), e.message).text });
      if (Array.isArray(d.missing)) return t("errAcks");
      if (Array.isArray(d.excluded)) return t("errNoneWritable");
      break;
    case "conflict":
      if (Array.isArray(d.missingScopes)) return t("errScopes", { scopes: d.missingScopes.join(", ") });
      if (str("importId")) return t("errRestoreBusy", { id: str("importId") });
      if (action === "download") return t("errDownloadNotReady");
      if (action === "execute") return t("errPlanNotReady");
      if (action === "restore") return t("errNotRestorable");
      if (action === "schedule") return t("errScheduleChanged");
      break;
    case "gone":
      if (str("expiresAt")) return t("errExpiresSoon", { when: when(str("expiresAt")) });
      if (action === "execute") return t("errPlanExpired");
      if (action === "download" || action === "restore") return t("errBackupExpired");
      break;
    case "not_json":
      return t("err_not_json", { status: e.status });
  }
  const key = `err_${e.code}`;
  return isKey(key) ? t(key) : t("err_unknown", { msg: e.message });
}

// fieldError is the field an error names (details.field: the API's 400s,
// the local sign-in's wrong code), if any.
export function fieldError(e: unknown): string {
  return e instanceof ApiError && typeof e.details.field === "string" ? e.details.field : "";
}

// fieldText says what a field the API refused wants, next to the field.
export function fieldText(field: string): string {
  const key = `field_${field}`;
  return isKey(key) ? t(key) : t("fieldInvalid");
}

// fieldLine is the same away from the field (a form's error line, when no
// control of that name is on screen): the field named by its label.
export function fieldLine(field: string): string {
  const label = fieldLabels[field];
  return label ? t("fieldLine", { label: t(label), text: fieldText(field) }) : t("fieldUnknown", { field });
}

const fieldLabels: Record<string, "frequency" | "dayOfWeek" | "timeOfDay" | "timezone" | "signInCode"> = {
  frequency: "frequency",
  dayOfWeek: "dayOfWeek",
  timeOfDay: "timeOfDay",
  timezone: "timezone",
  code: "signInCode",
};

type Tier = "starter" | "professional" | "enterprise";
const isTier = (s: string): s is Tier => s === "starter" || s === "professional" || s === "enterprise";

// scheduleText is the schedule in words, from its settings (the API's
// description is the same sentence in English).
export function scheduleText(s: Schedule): string {
  if (!s.enabled) return t("schedOff");
  const vars = { time: s.timeOfDay, zone: s.timezone, day: dayName(s.dayOfWeek ?? "") };
  return t(s.frequency === "daily" ? "schedDaily" : s.frequency === "weekly" ? "schedWeekly" : "schedBiweekly", vars);
}

function dayName(day: string): string {
  const i = t("days").split(",").indexOf(day);
  return i < 0 ? day : t("dayNamesInline").split(",")[i];
}

// reasonText is why an object or a property cannot be restored, from the
// API's reasonCode (internal/restore's ReasonCodes; a Go test checks that
// the catalogue has each); the API's English reason, marked as English, for
// a code the console does not know or none (a plan made before codes).
export function reasonText(code: string | undefined, reason: string | undefined): { text: string; lang?: "en" } {
  const key = `reason_${code}`;
  if (code && isKey(key)) return { text: t(key) };
  return { text: reason ?? "", lang: "en" };
}

// Skip is what the audit log's entry of a skipped scheduled run says
// (internal/schedule writes the same times into the English message).
export interface Skip {
  nextAllowedAt?: string;
  nextRunAt?: string;
}

// notificationText is a notification's subject and message in the admin's
// language, from its kind and fields (backupId, importId, createdAt: the
// time of a skipped or stopped run) and, when the page has them, its
// backup's or import's (records, expiry, counts, the import's name) and a
// skipped run's audit entry (when the next backup is allowed, when the
// schedule runs next); the stored English text, marked as English, for a
// kind the console does not know. The English e-mails say the same with the
// reasons in full.
export function notificationText(n: Notification, b?: Backup, im?: Import, skip?: Skip): { subject: string; message: string; lang?: "en" } {
  const id = n.backupId ?? "";
  const c = im?.counts;
  // An import's counts, then what to do about missing records and refused
  // values (as the English message).
  const outcome = c
    ? [
        t("noteCounts", { updated: num(c.updated), cleared: num(c.cleared), unchanged: num(c.unchanged), failed: num(c.failed), missing: num(c.missing) }),
        c.missing > 0 ? t("noteMissingAdvice") : "",
        c.failed > 0 ? t("noteErrorFile") : "",
      ]
    : [];
  const sentences = (...parts: string[]) => parts.filter(Boolean).join(" ");
  const name = im ? importName(im.name) : "";
  switch (n.kind) {
    case "backup.completed":
      return {
        subject: t("noteBackupCompleted"),
        message: b?.expiresAt ? t("noteBackupCompletedText", { id, records: tn("records", records(b)), when: when(b.expiresAt) }) : t("noteBackupCompletedShort", { id }),
      };
    case "backup.failed":
      return { subject: t("noteBackupFailed"), message: t("noteBackupFailedText", { id }) };
    case "backup.skipped":
      return {
        subject: t("noteBackupSkipped"),
        message: sentences(
          t("noteBackupSkippedText", { when: when(n.createdAt) }),
          skip?.nextAllowedAt ? t("noteSkippedAllowed", { when: when(skip.nextAllowedAt) }) : "",
          skip?.nextRunAt ? t("noteSkippedNextRun", { when: when(skip.nextRunAt) }) : t("noteSkippedAsPlanned"),
        ),
      };
    case "schedule.disabled":
      return { subject: t("noteScheduleDisabled"), message: t("noteScheduleDisabledText", { when: when(n.createdAt) }) };
    case "import.completed":
      return {
        subject: name ? t("noteImportCompleted", { name }) : t("noteImportCompletedShort"),
        message: sentences(t("noteImportCompletedText", { id }), ...outcome),
      };
    case "import.failed":
      return {
        subject: name ? t("noteImportFailed", { name }) : t("noteImportFailedShort"),
        message: sentences(t("noteImportFailedText", { id }), ...outcome),
      };
  }
  return { subject: n.subject, message: n.message, lang: "en" };
}
