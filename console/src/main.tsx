// The admin console: HubSpot's "Backup and restore" settings page for a
// self-hosted crmbackup. Preact (a 4 KB React-compatible library) with
// hooks; hash routes, so any static host serves it.

import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import * as api from "./api";
import { bytes, initialLang, type Lang, lang, num, setLang, t, tn, when } from "./i18n";
import { type Action, fieldError, fieldText, scheduleText } from "./messages";
import { AuditLog, Notifications } from "./pages";
import { type Config, completeSignIn, loadConfig, signInURL } from "./oidc";
import { Imports, RESUME, RestorePanel } from "./restore";
import { ErrorLine, Panel, Time, usePoll } from "./ui";

interface Me {
  email: string;
  account: string;
}

// reauth signs the admin in again with two-factor now (a restore needs a
// recent one): locally the dev sign-in with the same choices.
let reauth: () => Promise<void> = async () => {};
// signOut ends the session (on AWS at the managed login too, whose
// cookie would otherwise sign the next person in without a password).
let signOutURL = "";

async function devSignIn(form: Record<string, string>): Promise<string> {
  const resp = await fetch("/_dev/sign-in", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(form) });
  const data = await resp.json();
  if (!resp.ok) {
    const e = data.error ?? {};
    throw new api.ApiError(resp.status, e.code ?? api.statusCode(resp.status), e.message ?? `HTTP ${resp.status}`, e.details ?? {});
  }
  return data.token;
}

// --- sign-in (the local stack's dev page) ---

function SignIn({ onIn }: { onIn: (m: Me) => void }) {
  // The local stack's sign-in code comes in the link make local prints; it
  // is kept for the tab (it is no token: it only opens this page).
  const fromLink = () => new URLSearchParams(location.hash.split("?")[1] ?? "").get("code");
  const [code, setCode] = useState(fromLink() ?? sessionStorage.getItem("crmbackup.signInCode") ?? "");
  useEffect(() => {
    const on = () => {
      const c = fromLink();
      if (c) setCode(c);
    };
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  useEffect(() => {
    if (code) sessionStorage.setItem("crmbackup.signInCode", code);
  }, [code]);
  const [email, setEmail] = useState("admin@acme.example");
  const [account, setAccount] = useState("acme");
  const [role, setRole] = useState("super_admin");
  const [mfa, setMfa] = useState("now");
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const form = { code, email, account, role, twoFactor: mfa };
    try {
      api.setToken(await devSignIn(form));
    } catch (err) {
      setError(err);
      if (fieldError(err) === "code") document.querySelector<HTMLInputElement>("input[name=code]")?.focus();
      return;
    }
    reauth = async () => api.setToken(await devSignIn({ ...form, twoFactor: "now" }));
    history.replaceState(null, "", "#/backups");
    onIn({ email, account });
  };
  const codeWrong = fieldError(error) === "code";
  return (
    <main class="signin" id="main" tabIndex={-1}>
      <h1 id="page-title" tabIndex={-1}>
        {t("signInTitle")}
      </h1>
      <p>{t("signInIntro")}</p>
      <form onSubmit={submit}>
        <label>
          {t("signInCode")}
          <input
            name="code"
            value={code}
            onInput={(e) => (setCode(e.currentTarget.value), setError(null))}
            required
            autocomplete="off"
            aria-invalid={codeWrong || undefined}
            aria-describedby={codeWrong ? "code-error" : undefined}
          />
          {codeWrong && (
            <span class="field-error" id="code-error">
              {fieldText("code")}
            </span>
          )}
        </label>
        <label>
          {t("email")}
          <input name="email" type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} required />
        </label>
        <label>
          {t("account")}
          <input name="account" value={account} onInput={(e) => setAccount(e.currentTarget.value)} required />
        </label>
        <label>
          {t("role")}
          <select name="role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            <option value="super_admin">{t("superAdmin")}</option>
            <option value="viewer">{t("viewer")}</option>
          </select>
        </label>
        <fieldset>
          <legend>{t("twoFactor")}</legend>
          {(["now", "earlier", "sso"] as const).map((v) => (
            <label class="inline" key={v}>
              <input type="radio" name="twoFactor" value={v} checked={mfa === v} onChange={() => setMfa(v)} />
              {t(v === "now" ? "mfaNow" : v === "earlier" ? "mfaEarlier" : "sso")}
            </label>
          ))}
        </fieldset>
        {!codeWrong && <ErrorLine error={error} />}
        <button type="submit" class="primary">
          {t("signIn")}
        </button>
      </form>
    </main>
  );
}

// --- the home page: quota, create, schedule, the backups table ---

function Backups() {
  const [list, setList] = useState<api.Backup[] | null>(null);
  const [quota, setQuota] = useState<api.Quota | null>(null);
  // An error, and what the admin was doing (loading the page, a download):
  // a conflict on a download is "not completed", not on a load.
  const [failure, setFailure] = useState<{ error: unknown; action: Action } | null>(null);
  const setError = (error: unknown, action: Action = "load") => setFailure(error ? { error, action } : null);
  const [creating, setCreating] = useState(false);
  // The backup just created: a status line says what became of it, and
  // takes the focus when the dialog closes (its button is gone, and Create
  // backup is disabled by the quota it used).
  const [created, setCreated] = useState("");
  const statusLine = useRef<HTMLParagraphElement>(null);
  const [scheduling, setScheduling] = useState(false);
  const [restoring, setRestoring] = useState<api.Backup | null>(null);
  const [resumePlan, setResumePlan] = useState<string | undefined>(undefined);
  const [restoreRunning, setRestoreRunning] = useState(false);
  // The first page is reloaded while a backup runs; older pages, once
  // asked for, stay below it.
  const [older, setOlder] = useState<api.Backup[]>([]);
  const [next, setNext] = useState("");
  const [olderNext, setOlderNext] = useState<string | null>(null);
  const more = async () => {
    try {
      const page = await api.listBackups(olderNext ?? next);
      setOlder([...older, ...page.backups]);
      setOlderNext(page.next ?? "");
    } catch (e) {
      setError(e);
    }
  };
  const load = async () => {
    try {
      const [l, q, ims] = await Promise.all([api.listBackups(), api.quota(), api.listImports()]);
      setList(l.backups);
      setNext(l.next ?? "");
      // Back from a fresh sign-in: the plan that was under review.
      const resume = sessionStorage.getItem(RESUME);
      if (resume) {
        sessionStorage.removeItem(RESUME);
        const r = JSON.parse(resume) as { backupId: string; planId: string };
        const b = l.backups.find((x) => x.backupId === r.backupId);
        if (b) {
          setResumePlan(r.planId);
          setRestoring(b);
        }
      }
      setQuota(q);
      setRestoreRunning(ims.imports.some((im) => im.status === "RUNNING"));
      setFailure((f) => (f?.action === "load" ? null : f)); // a download's error stays
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    load();
  }, []);
  // Running backups (and a running restore, which disables Restore)
  // update in place.
  const busy = list?.some((b) => b.status === "QUEUED" || b.status === "RUNNING") || restoreRunning;
  usePoll(!!busy, load, 1500);
  useEffect(() => {
    if (created) statusLine.current?.focus();
  }, [created]);
  const mine = created ? list?.find((b) => b.backupId === created) : undefined;
  const createdText = !created
    ? ""
    : mine?.status === "COMPLETED"
      ? tn("backupDone", api.records(mine))
      : mine?.status === "FAILED"
        ? t("backupFailed")
        : mine?.status === "RUNNING"
          ? t("backupRunning")
          : t("backupQueued");

  return (
    <section aria-labelledby="page-title">
      <div class="title-row">
        <h1 id="page-title" tabIndex={-1}>
          {t("title")}
        </h1>
        <div class="actions">
          <button onClick={() => setScheduling(true)}>{t("scheduleBackup")}</button>
          <button class="primary" onClick={() => setCreating(true)} disabled={quota ? !quota.allowedNow : true}>
            {t("createBackup")}
          </button>
        </div>
      </div>
      <p class="intro">{t("intro")}</p>
      {quota && <QuotaLine q={quota} />}
      {/* A live region from the start, so that what it comes to say is announced. */}
      <p role="status" class={createdText ? "ok" : "sr-only"} id="backup-status" tabIndex={-1} ref={statusLine} data-testid="backup-status">
        {createdText}
      </p>
      <ErrorLine error={failure?.error} action={failure?.action} />
      {list === null ? (
        <p role="status">{t("loading")}</p>
      ) : list.length === 0 ? (
        <p class="empty">{t("noBackups")}</p>
      ) : (
        <>
          {restoreRunning && (
            <p class="muted" id="restore-running">
              {t("restoreRunning")}
            </p>
          )}
          <BackupTable list={[...list, ...older]} onError={(e) => setError(e, "download")} onRestore={setRestoring} restoreRunning={restoreRunning} highlight={created} />
          {(olderNext ?? next) && (
            <button class="more" onClick={more}>
              {t("olderBackups")}
            </button>
          )}
        </>
      )}
      {creating && (
        <CreateDialog
          onClose={() => setCreating(false)}
          onCreated={(b) => {
            setCreating(false);
            setCreated(b.backupId);
            load();
          }}
        />
      )}
      {scheduling && <SchedulePanel tier={quota?.tier ?? ""} onClose={() => setScheduling(false)} />}
      {restoring && (
        <RestorePanel backup={restoring} resumePlan={resumePlan} onClose={() => (setRestoring(null), setResumePlan(undefined))} reauth={() => reauth()} />
      )}
    </section>
  );
}

function QuotaLine({ q }: { q: api.Quota }) {
  const window = q.window.startsWith("24h") ? t("quotaDay") : t("quotaWeek");
  return (
    <p class="quota" data-testid="quota">
      {q.allowedNow ? t("quotaAllowed", { window }) : t("quotaUsed", { when: when(q.nextAllowedAt), window, id: q.usedBy ?? "" })}
    </p>
  );
}

function BackupTable(props: {
  list: api.Backup[];
  onError: (e: unknown) => void;
  onRestore: (b: api.Backup) => void;
  restoreRunning: boolean;
  highlight: string;
}) {
  const { list, onError } = props;
  // A running backup's total is not known until it ends: the last completed
  // backup's count stands in for it, said to be an estimate.
  const last = list.find((b) => b.status === "COMPLETED");
  const estimate = last ? api.records(last) : 0;
  return (
    <table class="backups">
      <thead>
        <tr>
          <th scope="col">{t("colCreated")}</th>
          <th scope="col">{t("colTrigger")}</th>
          <th scope="col">{t("colStatus")}</th>
          <th scope="col" class="num">
            {t("colRecords")}
          </th>
          <th scope="col" class="num">
            {t("colSize")}
          </th>
          <th scope="col">{t("colExpires")}</th>
          <th scope="col">{t("colActions")}</th>
        </tr>
      </thead>
      <tbody>
        {list.map((b) => (
          <tr key={b.backupId} data-backup={b.backupId} data-status={b.expired ? "EXPIRED" : b.status} class={b.backupId === props.highlight ? "current" : ""}>
            <td data-label={t("colCreated")}>
              <Time iso={b.createdAt} />
            </td>
            <td data-label={t("colTrigger")}>{t(b.trigger === "scheduled" ? "scheduled" : "manual")}</td>
            <td data-label={t("colStatus")}>
              <Status b={b} estimate={estimate} />
            </td>
            <td class="num" data-label={t("colRecords")}>
              {num(api.records(b))}
            </td>
            <td class="num" data-label={t("colSize")}>
              {bytes(b.size ?? 0)}
            </td>
            <td data-label={t("colExpires")}>
              <Time iso={b.expiresAt} ahead />
            </td>
            <td>
              {b.status === "COMPLETED" && !b.expired && (
                <span class="row-actions">
                  <button class="link" onClick={() => api.download(b).catch(onError)}>
                    {t("download")}
                  </button>
                  <button
                    class="link"
                    onClick={() => props.onRestore(b)}
                    disabled={props.restoreRunning}
                    aria-describedby={props.restoreRunning ? "restore-running" : undefined}
                  >
                    {t("restore")}
                  </button>
                </span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Status({ b, estimate }: { b: api.Backup; estimate: number }) {
  const s = b.expired ? "EXPIRED" : b.status;
  const perObject: [string, number][] = b.objects?.length
    ? b.objects.map((o) => [o.name, o.rows])
    : Object.entries(b.progress ?? {}).sort(([x], [y]) => x.localeCompare(y));
  return (
    <span class={`status ${s.toLowerCase()}`}>
      {t(s)}
      {s === "RUNNING" && <Progress done={api.records(b)} estimate={estimate} />}
      {/* The export's reason, as the step wrote it (English). */}
      {s === "FAILED" && b.failure && (
        <span class="reason" lang="en">
          {b.failure}
        </span>
      )}
      {perObject.length > 0 && (
        // On demand: the records of each object, exported so far or in the file.
        <details class="per-object">
          <summary>{t("perObject")}</summary>
          <ul>
            {perObject.map(([name, n]) => (
              <li key={name} data-object={name}>
                {name}: {num(n)}
              </li>
            ))}
          </ul>
        </details>
      )}
    </span>
  );
}

// Progress is a running backup's records exported, as a bar of the last
// backup's count when there is one (an estimate, and said to be), else as a
// bar without an end.
function Progress({ done, estimate }: { done: number; estimate: number }) {
  const total = estimate > done ? estimate : 0;
  const words = total ? tn("progressOf", total, { done: num(done), total: num(total) }) : tn("progress", done, { done: num(done) });
  return (
    <span class="progress">
      {total ? <progress value={done} max={total} aria-label={t("progressLabel")} aria-valuetext={words} title={t("progressEstimate")} /> : <progress aria-label={t("progressLabel")} aria-valuetext={words} />}
      <span class="block">{words}</span>
    </span>
  );
}

function CreateDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (b: api.Backup) => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const create = async () => {
    setBusy(true);
    try {
      onCreated(await api.createBackup());
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Panel title={t("createTitle")} onClose={onClose}>
      <p class="warning">{t("createWarning")}</p>
      <ErrorLine error={error} action="create" />
      <div class="buttons">
        <button onClick={onClose}>{t("cancel")}</button>
        <button class="primary" onClick={create} disabled={busy}>
          {t("create")}
        </button>
      </div>
    </Panel>
  );
}

function SchedulePanel({ tier, onClose }: { tier: string; onClose: () => void }) {
  const [s, setS] = useState<api.Schedule | null>(null);
  const [stored, setStored] = useState<api.Schedule | null>(null); // as saved: what the description says
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const got = (v: api.Schedule) => (setS(v), setStored(v));
  useEffect(() => {
    if (tier !== "enterprise") return;
    api.getSchedule().then(got, setError);
  }, [tier]);
  // An error the API ties to a field (details.field) shows next to it, if
  // that field is on screen (the day is not, for a daily schedule); else
  // as the form's error, naming the field.
  const onScreen = (field: string) =>
    field === "frequency" || field === "timeOfDay" || field === "timezone" || (field === "dayOfWeek" && !!s && s.frequency !== "daily");
  const bad = onScreen(fieldError(error)) ? fieldError(error) : "";
  const described = (field: string) => (bad === field ? { "aria-describedby": `${field}-error` } : {});
  const invalid = (field: string) => (bad === field ? { "aria-invalid": true, ...described(field) } : {});
  const fieldErr = (field: string) =>
    bad === field && (
      <span class="field-error" id={`${field}-error`}>
        {fieldText(field)}
      </span>
    );
  const days = t("days").split(",");
  const dayNames = t("dayNames").split(",");
  const save = async (e: Event) => {
    e.preventDefault();
    if (!s) return;
    try {
      const put: Partial<api.Schedule> = { enabled: s.enabled, frequency: s.frequency, timeOfDay: s.timeOfDay, timezone: s.timezone };
      if (s.frequency !== "daily") put.dayOfWeek = s.dayOfWeek ?? days[0]; // as the select shows it; a daily schedule has no day
      got(await api.putSchedule(put));
      setSaved(true);
      setError(null);
    } catch (err) {
      setError(err);
      // The field's control (a group's first), when it is on screen.
      const field = fieldError(err);
      if (field && onScreen(field)) document.querySelector<HTMLElement>(`[role=dialog] [name=${field}]`)?.focus();
    }
  };
  const edit = (p: Partial<api.Schedule>) => {
    setSaved(false);
    const named = fieldError(error);
    if (named && (named in p || (named === "dayOfWeek" && "frequency" in p))) setError(null);
    setS({ ...(s as api.Schedule), ...p });
  };
  return (
    <Panel title={t("scheduleTitle")} onClose={onClose} side>
      {tier !== "enterprise" ? (
        <p>{t("enterpriseOnly")}</p>
      ) : !s ? (
        <>
          <ErrorLine error={error} action="schedule" />
          {!error && <p role="status">{t("loading")}</p>}
        </>
      ) : (
        <form onSubmit={save}>
          <label class="inline switch">
            <input type="checkbox" name="enabled" role="switch" checked={s.enabled} onChange={(e) => edit({ enabled: e.currentTarget.checked })} />
            {t("scheduleOn")}
          </label>
          <fieldset disabled={!s.enabled} {...invalid("frequency")}>
            <legend>{t("frequency")}</legend>
            {(["weekly", "biweekly", "daily"] as const).map((f) => (
              <label class="inline" key={f}>
                {/* The focus lands on a radio: each says what is wrong. */}
                <input type="radio" name="frequency" value={f} checked={s.frequency === f} onChange={() => edit({ frequency: f })} {...described("frequency")} />
                {t(f)}
              </label>
            ))}
            {fieldErr("frequency")}
          </fieldset>
          {s.frequency !== "daily" && (
            <label>
              {t("dayOfWeek")}
              <select
                name="dayOfWeek"
                value={s.dayOfWeek}
                onChange={(e) => edit({ dayOfWeek: e.currentTarget.value })}
                disabled={!s.enabled}
                {...invalid("dayOfWeek")}
              >
                {days.map((d, i) => (
                  <option value={d} key={d}>
                    {dayNames[i]}
                  </option>
                ))}
              </select>
              {fieldErr("dayOfWeek")}
            </label>
          )}
          <label>
            {t("timeOfDay")}
            <input
              type="time"
              name="timeOfDay"
              value={s.timeOfDay}
              onInput={(e) => edit({ timeOfDay: e.currentTarget.value })}
              disabled={!s.enabled}
              {...invalid("timeOfDay")}
            />
            {fieldErr("timeOfDay")}
          </label>
          <label>
            {t("timezone")}
            <input name="timezone" value={s.timezone} onInput={(e) => edit({ timezone: e.currentTarget.value })} disabled={!s.enabled} {...invalid("timezone")} />
            {fieldErr("timezone")}
          </label>
          {s.enabled && s.nextRunAt && <p data-testid="next-run">{t("nextRun", { when: when(s.nextRunAt) })}</p>}
          {/* What is saved, in words (the API's description, in the admin's language). */}
          <p class="description" data-testid="schedule-description">
            {scheduleText(stored ?? s)}
          </p>
          {stored && !stored.enabled && stored.disabledReason && <p class="warning">{t("schedDisabled")}</p>}
          {!bad && <ErrorLine error={error} action="schedule" />}
          {saved && (
            <p role="status" class="ok">
              {t("saved")}
            </p>
          )}
          <div class="buttons">
            <button type="submit" class="primary">
              {t("save")}
            </button>
          </div>
        </form>
      )}
    </Panel>
  );
}

// --- the frame: header, navigation, pages ---

// CognitoSignIn is the deployed console's sign-in: the managed login.
function CognitoSignIn({ config, error }: { config: Config; error: string }) {
  return (
    <main class="signin" id="main" tabIndex={-1}>
      <h1 id="page-title" tabIndex={-1}>
        {t("title")}
      </h1>
      <ErrorLine error={error} />
      <button class="primary" onClick={async () => location.assign(await signInURL(config, false))}>
        {t("signIn")}
      </button>
    </main>
  );
}

function App() {
  const [config, setConfig] = useState<Config | null>(null);
  const [signInError, setSignInError] = useState("");
  const [me, setMe] = useState<Me | null>(null);
  useEffect(() => {
    loadConfig().then(async (c) => {
      api.setBase(c.api);
      if (c.signIn === "cognito") {
        // The page leaves for the login: the promise never settles.
        reauth = async () => {
          location.assign(await signInURL(c, true));
          await new Promise(() => {});
        };
        signOutURL = `${c.authDomain}/logout?${new URLSearchParams({ client_id: c.clientId ?? "", logout_uri: c.redirectUri ?? "" })}`;
        try {
          const got = await completeSignIn(c);
          if (got) {
            api.setToken(got.idToken);
            setMe({ email: got.email, account: got.account });
          }
        } catch (e) {
          setSignInError(t("signInFailed", { why: (e as Error).message }));
        }
      }
      setConfig(c);
    });
  }, []);
  const [l, setL] = useState<Lang>(initialLang());
  const [route, setRoute] = useState(location.hash);
  useEffect(() => setLang(l, true), [l]);
  const [unread, setUnread] = useState(0);
  const [acct, setAcct] = useState<api.Account | null>(null);
  useEffect(() => {
    if (me) api.account().then(setAcct, () => setAcct(null));
  }, [me]);
  setLang(l);
  useEffect(() => {
    const on = () => setRoute(location.hash);
    addEventListener("hashchange", on);
    api.whenSignedOut(() => setMe(null));
    return () => removeEventListener("hashchange", on);
  }, []);
  useEffect(() => {
    if (me) api.unread().then((u) => setUnread(u.unread), () => {});
  }, [me, route]);
  const page = route.replace(/^#\//, "").split(/[/?]/)[0] || "backups";
  // A new page (and the first after signing in) starts at its heading: a
  // screen reader says where it is, and Tab goes on from there.
  useEffect(() => {
    document.getElementById("page-title")?.focus();
  }, [page, !!me]);
  const switcher = (
    <label class="lang">
      <span class="sr-only">{t("language")}</span>
      <select name="lang" value={l} onChange={(e) => setL(e.currentTarget.value as Lang)}>
        <option value="en">English</option>
        <option value="it">Italiano</option>
      </select>
    </label>
  );
  // The first thing Tab reaches: past the header and the navigation.
  const skip = (
    <a
      class="skip-link"
      href="#main"
      onClick={(e) => {
        e.preventDefault(); // the hash is the route
        (document.getElementById("page-title") ?? document.getElementById("main"))?.focus();
      }}
    >
      {t("skipLink")}
    </a>
  );
  if (!config) return <p role="status">{t("loading")}</p>;
  if (!me || !api.signedIn()) {
    return (
      <>
        {skip}
        <header class="top">
          <span class="brand">{t("product")}</span>
          {switcher}
        </header>
        {config.signIn === "cognito" ? (
          <CognitoSignIn config={config} error={signInError} />
        ) : config.signIn === "oidc" ? (
          <main class="signin" id="main" tabIndex={-1}>
            <h1 id="page-title" tabIndex={-1}>
              {t("title")}
            </h1>
            <p>{t("externalIssuer")}</p>
          </main>
        ) : (
          <SignIn onIn={(m) => (setRoute(location.hash), setMe(m))} />
        )}
      </>
    );
  }
  return (
    <>
      {skip}
      <header class="top">
        <span class="brand">{t("product")}</span>
        <span class="account" data-testid="account">
          {acct ? t("accountLine", { name: acct.name || acct.accountId, portal: acct.portalId, tier: t(acct.tier) }) : me.account}
        </span>
        <a href="#/notifications" class="bell" aria-label={tn("unread", unread)}>
          <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="currentColor">
            <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1z" />
          </svg>
          <span class="badge">{num(unread)}</span>
        </a>
        <span class="me">{t("signedInAs", { email: me.email })}</span>
        <button
          class="link"
          onClick={() => {
            api.setToken("");
            if (signOutURL) location.assign(signOutURL);
            else setMe(null);
          }}
        >
          {t("signOut")}
        </button>
        {switcher}
      </header>
      <div class="layout" id="page">
        <nav aria-label={t("title")}>
          <a href="#/backups" aria-current={page === "backups" ? "page" : undefined}>
            {t("navBackups")}
          </a>
          <a href="#/imports" aria-current={page === "imports" ? "page" : undefined}>
            {t("navImports")}
          </a>
          <a href="#/audit" aria-current={page === "audit" ? "page" : undefined}>
            {t("navAudit")}
          </a>
          <a href="#/notifications" aria-current={page === "notifications" ? "page" : undefined}>
            {t("navNotifications")}
          </a>
        </nav>
        <main id="main" key={lang() + page} tabIndex={-1}>
          {page === "imports" ? (
            <Imports id={route.split("/")[2]} />
          ) : page === "audit" ? (
            <AuditLog />
          ) : page === "notifications" ? (
            <Notifications onUnread={setUnread} />
          ) : (
            <Backups />
          )}
        </main>
      </div>
    </>
  );
}

const root = document.getElementById("app")!;
root.textContent = ""; // the static "Loading…"
render(<App />, root);
