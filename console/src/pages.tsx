// The notifications and the audit log.

import { useEffect, useRef, useState } from "preact/hooks";
import * as api from "./api";
import { t } from "./i18n";
import { notificationText, type Skip } from "./messages";
import { ErrorLine, Time } from "./ui";

// auditActions are the audit log's actions (internal/audit's Actions: a Go
// test checks the two lists agree).
export const auditActions = [
  "backup.created",
  "backup.refused",
  "backup.skipped",
  "backup.downloaded",
  "schedule.updated",
  "schedule.disabled",
  "restore.planned",
  "restore.started",
  "restore.refused",
  "restore.completed",
  "restore.failed",
  "import.errors_downloaded",
  "account.added",
  "account.tier_changed",
  "account.credential_rotated",
  "account.removed",
  "admin.added",
  "admin.removed",
];

export function Notifications({ onUnread }: { onUnread: (n: number) => void }) {
  const [list, setList] = useState<api.Notification[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  // The recent backups and imports, for the notifications' records and
  // counts (one that is not among them gets the shorter text).
  const [backups, setBackups] = useState(new Map<string, api.Backup>());
  const [imports, setImports] = useState(new Map<string, api.Import>());
  // A skipped scheduled run's audit entry (by its time) says when the next
  // backup is allowed and when the schedule runs next: read once, when
  // there is such a notification.
  const [skips, setSkips] = useState<Map<number, Skip> | null>(null);
  const load = () =>
    api.notifications().then(
      (l) => (setList(l.notifications), onUnread(l.unread), setError(null)),
      setError,
    );
  useEffect(() => {
    load();
    api.listBackups().then((l) => setBackups(new Map(l.backups.map((b) => [b.backupId, b]))), () => {});
    api.listImports().then((l) => setImports(new Map(l.imports.map((im) => [im.importId, im]))), () => {});
  }, []);
  useEffect(() => {
    if (skips || !list?.some((n) => n.kind === "backup.skipped")) return;
    setSkips(new Map());
    api.auditLog("backup.skipped", "").then(
      (page) => setSkips(new Map(page.entries.map((e) => [second(e.at), skipOf(e)]))),
      () => {},
    );
  }, [list]);
  // The button pressed goes away with the unread mark: the focus moves to
  // the page's title, not to nowhere.
  const act = (p: Promise<{ unread: number }>) =>
    p.then(
      (r) => (onUnread(r.unread), load(), document.getElementById("page-title")?.focus()),
      setError,
    );
  return (
    <section aria-labelledby="page-title">
      <div class="title-row">
        <h1 id="page-title" tabIndex={-1}>
          {t("notificationsTitle")}
        </h1>
        <button onClick={() => act(api.markAllRead())} disabled={!list?.some((n) => !n.readAt)}>
          {t("markAllRead")}
        </button>
      </div>
      <ErrorLine error={error} />
      {list === null ? (
        <p role="status">{t("loading")}</p>
      ) : list.length === 0 ? (
        <p class="empty">{t("noNotifications")}</p>
      ) : (
        <ul class="notifications">
          {list.map((n) => {
            const words = notificationText(n, backups.get(n.backupId ?? ""), imports.get(n.importId ?? ""), skips?.get(second(n.createdAt)));
            return (
              <li key={n.id} data-notification={n.id} data-kind={n.kind} class={n.readAt ? "read" : "unread"}>
                <p class="subject">
                  {!n.readAt && <span class="badge">{t("unreadLabel")}</span>} <strong lang={words.lang}>{words.subject}</strong>{" "}
                  <span class="muted">
                    <Time iso={n.createdAt} />
                  </span>
                </p>
                <p class="message" lang={words.lang}>
                  {words.message}
                </p>
                <p class="links">
                  {n.importId && <a href={`#/imports/${n.importId}`}>{t("open")}</a>}
                  {n.backupId && !n.importId && <a href={`#/backups`}>{t("open")}</a>}
                  {!n.readAt && (
                    <button class="link" onClick={() => act(api.markRead(n.id))}>
                      {t("markRead")}
                    </button>
                  )}
                </p>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

// second is a time's second (the entry and the notification are written
// with the run's time; a store may keep one more precisely).
const second = (iso: string) => Math.floor(Date.parse(iso) / 1000);

// skipOf is the times a backup.skipped audit entry's details hold.
function skipOf(e: api.AuditEntry): Skip {
  const str = (k: string) => (typeof e.details?.[k] === "string" && e.details[k] ? (e.details[k] as string) : undefined);
  return { nextAllowedAt: str("nextAllowedAt"), nextRunAt: str("nextRunAt") };
}

export function AuditLog() {
  const [action, setAction] = useState("");
  const [entries, setEntries] = useState<api.AuditEntry[] | null>(null);
  const [next, setNext] = useState("");
  const [error, setError] = useState<unknown>(null);
  // Answers of an earlier filter are dropped: only the latest request's
  // page lands.
  const seq = useRef(0);
  const load = async (cursor: string) => {
    const mine = ++seq.current;
    try {
      const page = await api.auditLog(action, cursor);
      if (mine !== seq.current) return;
      setEntries((prev) => (cursor ? [...(prev ?? []), ...page.entries] : page.entries));
      setNext(page.next ?? "");
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    setEntries(null);
    load("");
  }, [action]);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        {t("auditTitle")}
      </h1>
      <label class="filter">
        {t("actionFilter")}
        <select name="action" value={action} onChange={(e) => setAction(e.currentTarget.value)}>
          <option value="">{t("allActions")}</option>
          {auditActions.map((a) => (
            <option value={a} key={a}>
              {a}
            </option>
          ))}
        </select>
      </label>
      <ErrorLine error={error} />
      {entries === null ? (
        <p role="status">{t("loading")}</p>
      ) : entries.length === 0 ? (
        <p class="empty">{t("noEntries")}</p>
      ) : (
        <table class="audit">
          <thead>
            <tr>
              <th scope="col">{t("colAt")}</th>
              <th scope="col">{t("colActor")}</th>
              <th scope="col">{t("colAction")}</th>
              <th scope="col">{t("colOutcome")}</th>
              <th scope="col">{t("colDetails")}</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id} data-action={e.action}>
                <td>
                  <Time iso={e.at} />
                </td>
                <td>{e.actor}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>{e.outcome}</td>
                <td class="details">
                  {Object.entries(e.details ?? {})
                    .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
                    .join(" · ")}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button onClick={() => load(next)} class="more">
          {t("older")}
        </button>
      )}
    </section>
  );
}
