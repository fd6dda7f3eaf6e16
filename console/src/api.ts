// The console's calls of crmbackup's API. The token lives in memory only.

let token = "";
let base = ""; // the API's origin ("": the console's own)
let onSignedOut: () => void = () => {};

export function setBase(url: string) {
  base = url.replace(/\/$/, "");
}

export function setToken(tok: string) {
  token = tok;
}

export function signedIn(): boolean {
  return token !== "";
}

export function whenSignedOut(fn: () => void) {
  onSignedOut = fn;
}

// ApiError is the API's JSON error: its code and details (messages.ts puts
// them in the admin's language), and the server's English message.
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let resp: Response;
  try {
    resp = await fetch(base + path, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        Accept: "application/json",
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError(0, "unreachable", "the crmbackup API cannot be reached");
  }
  const text = await resp.text();
  let data: any = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    // A gateway's HTML or XML error page: the status says it.
    if (resp.ok) throw new ApiError(resp.status, "not_json", `the API answered something that is not JSON (HTTP ${resp.status})`);
  }
  if (!resp.ok) {
    const e = data.error ?? {};
    if (resp.status === 401) {
      token = "";
      onSignedOut();
    }
    // API Gateway's own answers ({"message": "Unauthorized"}, "Too Many
    // Requests", "Service Unavailable") and CloudFront's error pages carry
    // no code: the status says what happened.
    const code = typeof e.code === "string" && e.code ? e.code : statusCode(resp.status);
    throw new ApiError(resp.status, code, e.message ?? data.message ?? `HTTP ${resp.status}`, e.details ?? {});
  }
  return data as T;
}

// consoleCodes are the codes the console gives an error itself (the API's
// are internal/apperr's): a Go test checks that each has its words in the
// catalogue (err_<code>), and that the catalogue words no other code.
export const consoleCodes = ["unreachable", "not_json", "throttled", "unavailable"];

// statusCode is the code of an error that came without one, from its HTTP
// status: an authorizer's 401, a 403, throttling's 429, a gateway's or
// CloudFront's 5xx ("error" otherwise: the message is shown).
export function statusCode(status: number): string {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 429) return "throttled";
  if (status >= 500) return "unavailable";
  return "error";
}

export interface Backup {
  backupId: string;
  accountId: string;
  status: "QUEUED" | "RUNNING" | "COMPLETED" | "FAILED";
  trigger: "manual" | "scheduled";
  requestedBy?: string;
  createdAt: string;
  completedAt?: string;
  expiresAt?: string;
  failure?: string;
  progress?: Record<string, number>;
  size?: number;
  fileName?: string;
  objects?: { name: string; rows: number; file?: string }[];
  expired: boolean;
  downloadUrl?: string;
}

export interface Quota {
  tier: string;
  window: string;
  allowedNow: boolean;
  nextAllowedAt?: string;
  usedBy?: string;
}

export interface Schedule {
  enabled: boolean;
  frequency: "weekly" | "biweekly" | "daily";
  timeOfDay: string;
  timezone: string;
  dayOfWeek?: string;
  nextRunAt?: string;
  description: string;
  disabledReason?: string;
}

export const listBackups = (cursor = "") =>
  call<{ backups: Backup[]; next?: string }>("GET", `/v1/backups?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
export const createBackup = () => call<Backup>("POST", "/v1/backups", {});
export const quota = () => call<Quota>("GET", "/v1/backup-quota");
export const getSchedule = () => call<Schedule>("GET", "/v1/backup-schedule");
export const putSchedule = (s: Partial<Schedule>) => call<Schedule>("PUT", "/v1/backup-schedule", s);
export const unread = () => call<{ unread: number }>("GET", "/v1/notifications?limit=1");

// download asks for the backup's short-lived link and lets the browser
// fetch the file from it (the link needs no token).
export async function download(b: Backup) {
  const { url } = await call<{ url: string }>("GET", `/v1/backups/${b.backupId}/download`);
  const a = document.createElement("a");
  a.href = url;
  a.download = b.fileName ?? `${b.backupId}.zip`;
  document.body.append(a);
  a.click();
  a.remove();
}

export function records(b: Backup): number {
  if (b.objects?.length) return b.objects.reduce((n, o) => n + o.rows, 0);
  return Object.values(b.progress ?? {}).reduce((n, v) => n + v, 0);
}

export interface ObjectChoice {
  name: string;
  objectTypeId: string;
  singular: string;
  plural: string;
  rows: number;
  restorable: boolean;
  reason?: string; // English
  reasonCode?: string; // internal/restore's ReasonCodes
}

export interface PropertyChoice {
  name: string;
  label?: string;
  type?: string;
  sensitivity?: string;
  restorable: boolean;
  reason?: string; // English
  reasonCode?: string; // internal/restore's ReasonCodes
}

export interface Counts {
  set: number;
  cleared: number;
  unchanged: number;
  missing: number;
  failed: number;
}

export interface Plan {
  planId: string;
  backupId: string;
  objectType: string;
  objectLabel: string;
  properties: string[];
  excluded?: { name: string; reason: string; reasonCode?: string }[];
  status: "PLANNING" | "READY" | "FAILED" | "EXECUTED";
  rows: number;
  rowsPlanned: number;
  tally?: { records: Counts; values: Counts; properties: Record<string, Counts>; samples?: { recordId: string; property: string; now: string; after: string }[] };
  failure?: string;
  workflowWarning: string;
  missingAdvice: string;
  importId?: string;
}

export interface Import {
  importId: string;
  name: string;
  backupId: string;
  objectType: string;
  properties: string[];
  status: "RUNNING" | "COMPLETED" | "FAILED";
  startedBy: string;
  startedAt: string;
  completedAt?: string;
  rowsDone: number;
  rows: number;
  counts: { updated: number; cleared: number; unchanged: number; missing: number; failed: number };
  errorRows: number;
  failure?: string;
  errorsUrl?: string;
}

export const objects = (backupId: string) => call<{ objects: ObjectChoice[] }>("GET", `/v1/backups/${backupId}/objects`);
export const properties = (backupId: string, type: string) =>
  call<{ properties: PropertyChoice[] }>("GET", `/v1/backups/${backupId}/objects/${encodeURIComponent(type)}/properties`);
export const createPlan = (backupId: string, objectType: string, props: string[]) =>
  call<Plan>("POST", `/v1/backups/${backupId}/restore-plans`, { objectType, properties: props });
export const getPlan = (id: string) => call<Plan>("GET", `/v1/restore-plans/${id}`);
export const execute = (id: string) =>
  call<Import>("POST", `/v1/restore-plans/${id}/execute`, { acknowledgeDataChange: true, acknowledgeIrreversible: true });
export const listImports = () => call<{ imports: Import[] }>("GET", "/v1/imports?limit=50");
export const getImport = (id: string) => call<Import>("GET", `/v1/imports/${id}`);

export async function downloadErrors(im: Import) {
  const { url } = await call<{ url: string }>("GET", `/v1/imports/${im.importId}/errors`);
  location.assign(url);
}

export interface Notification {
  id: string;
  createdAt: string;
  kind: string;
  subject: string;
  message: string;
  backupId?: string;
  importId?: string;
  readAt?: string;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  outcome: string;
  ip?: string;
  details?: Record<string, unknown>;
}

export const notifications = () => call<{ notifications: Notification[]; unread: number; next?: string }>("GET", "/v1/notifications?limit=50");
export const markRead = (id: string) => call<{ unread: number }>("POST", `/v1/notifications/${id}/read`, {});
export const markAllRead = () => call<{ unread: number }>("POST", "/v1/notifications/read-all", {});
export function auditLog(action: string, cursor: string) {
  const q = new URLSearchParams({ limit: "25" });
  if (cursor) q.set("cursor", cursor);
  else if (action) q.set("action", action);
  return call<{ entries: AuditEntry[]; next?: string }>("GET", `/v1/audit-log?${q}`);
}

export interface Account {
  accountId: string;
  name: string;
  portalId: number;
  tier: "starter" | "professional" | "enterprise";
}

export const account = () => call<Account>("GET", "/v1/account");
