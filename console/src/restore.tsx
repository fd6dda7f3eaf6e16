// The restore panel (object → properties → review → restore data) and the
// imports page that follows what it started.

import { useEffect, useRef, useState } from "preact/hooks";
import * as api from "./api";
import { importName, num, t, tn } from "./i18n";
import { type Action, reasonText } from "./messages";
import { ErrorLine, Panel, Time, focusFirst, usePoll } from "./ui";

type Step = "object" | "properties" | "review" | "reauth";

// RESUME keeps the plan under review across a round trip to the login
// page (a restore's fresh sign-in on AWS): ids only, never values.
export const RESUME = "crmbackup.resume";

export function RestorePanel(props: { backup: api.Backup; onClose: () => void; reauth: () => Promise<void>; resumePlan?: string }) {
  const b = props.backup;
  const [step, setStep] = useState<Step>("object");
  const [objects, setObjects] = useState<api.ObjectChoice[] | null>(null);
  const [object, setObject] = useState("");
  const [props_, setProps] = useState<api.PropertyChoice[] | null>(null);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [filter, setFilter] = useState("");
  const [plan, setPlan] = useState<api.Plan | null>(null);
  const [ack1, setAck1] = useState(false);
  const [ack2, setAck2] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [action, setAction] = useState<Action>("restore");
  const fail = (e: unknown, a: Action = "restore") => (setError(e), setAction(a), setBusy(false));
  // Labels of the chosen object's properties, for the review.
  const labels = new Map((props_ ?? []).map((p) => [p.name, p.label || p.name]));

  useEffect(() => {
    api.objects(b.backupId).then((o) => setObjects(o.objects), fail);
    if (props.resumePlan) {
      api.getPlan(props.resumePlan).then((p) => {
        setObject(p.objectType);
        setChosen(new Set(p.properties));
        setPlan(p);
        setStep("review");
        api.properties(b.backupId, p.objectType).then((l) => setProps(l.properties), () => {}); // the labels
      }, fail);
    }
  }, []);
  const closed = useRef(false);
  useEffect(
    () => () => {
      closed.current = true;
    },
    [],
  );
  // Each step starts on its first field, for keyboard users.
  const ready = step === "object" ? objects !== null : step === "review" ? plan?.status !== "PLANNING" : true;
  useEffect(() => {
    if (!ready) return;
    if (step === "review") document.getElementById("review-title")?.focus();
    else focusFirst(document.querySelector("[role=dialog] form, [role=dialog] > div:last-child"));
  }, [step, ready]);

  const toProperties = async () => {
    setError(null);
    try {
      setProps((await api.properties(b.backupId, object)).properties);
      setChosen(new Set());
      setStep("properties");
    } catch (e) {
      fail(e);
    }
  };

  const toReview = async () => {
    setError(null);
    setBusy(true);
    try {
      let p = await api.createPlan(b.backupId, object, [...chosen]);
      setPlan(p);
      setStep("review");
      while (p.status === "PLANNING" && !closed.current) {
        await new Promise((r) => setTimeout(r, 700));
        p = await api.getPlan(p.planId);
        setPlan(p);
      }
      setBusy(false);
    } catch (e) {
      fail(e);
    }
  };

  const run = async () => {
    if (!plan) return;
    setError(null);
    setBusy(true);
    try {
      const im = await api.execute(plan.planId);
      props.onClose();
      location.hash = `#/imports/${im.importId}`;
    } catch (e) {
      if (e instanceof api.ApiError && e.code === "reauthentication_required") {
        setStep("reauth");
        setBusy(false);
        return;
      }
      fail(e, "execute");
    }
  };

  const visible = (props_ ?? []).filter(
    (p) => !filter || p.name.toLowerCase().includes(filter.toLowerCase()) || (p.label ?? "").toLowerCase().includes(filter.toLowerCase()),
  );
  const restorable = visible.filter((p) => p.restorable);
  const toggle = (name: string) => {
    const next = new Set(chosen);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    setChosen(next);
  };

  return (
    <Panel title={t("restoreTitle")} onClose={props.onClose} side>
      {step === "object" && (
        <form onSubmit={(e) => (e.preventDefault(), toProperties())}>
          <fieldset>
            <legend>{t("step1")}</legend>
            {objects === null && !error && <p role="status">{t("loading")}</p>}
            {objects?.map((o) => (
              <label class="inline" key={o.name}>
                <input type="radio" name="object" value={o.name} disabled={!o.restorable} checked={object === o.name} onChange={() => setObject(o.name)} />
                <span>
                  {o.plural} <span class="muted">({tn("records", o.rows)})</span>
                  {!o.restorable && <Why class="muted block" sentence="notRestorable" code={o.reasonCode} reason={o.reason} />}
                </span>
              </label>
            ))}
          </fieldset>
          <ErrorLine error={error} action={action} />
          <div class="buttons">
            <button type="submit" class="primary" disabled={!object}>
              {t("next")}
            </button>
          </div>
        </form>
      )}

      {step === "properties" && props_ && (
        <form onSubmit={(e) => (e.preventDefault(), toReview())}>
          <p>{t("step2")}</p>
          <label>
            {t("search")}
            <input type="search" name="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
          </label>
          <label class="inline">
            <input
              type="checkbox"
              name="selectAll"
              checked={restorable.length > 0 && restorable.every((p) => chosen.has(p.name))}
              onChange={(e) => {
                const next = new Set(chosen);
                for (const p of restorable) {
                  if (e.currentTarget.checked) next.add(p.name);
                  else next.delete(p.name);
                }
                setChosen(next);
              }}
            />
            {t("selectAll")}
          </label>
          <div class="choices" role="group" aria-label={t("step2")}>
            {visible.map((p) => (
              <label class="inline" key={p.name}>
                <input type="checkbox" name="property" value={p.name} disabled={!p.restorable} checked={chosen.has(p.name)} onChange={() => toggle(p.name)} />
                <span>
                  {p.label || p.name} <code>{p.name}</code>
                  {!p.restorable && <Why class="muted block" sentence="notRestorable" code={p.reasonCode} reason={p.reason} />}
                </span>
              </label>
            ))}
          </div>
          <p role="status" data-testid="selected">
            {tn("selected", chosen.size)}
          </p>
          <ErrorLine error={error} action={action} />
          <div class="buttons">
            <button type="button" onClick={() => setStep("object")}>
              {t("back")}
            </button>
            <button type="submit" class="primary" disabled={chosen.size === 0 || busy}>
              {t("review")}
            </button>
          </div>
        </form>
      )}

      {step === "review" && plan && (
        <div>
          <h3 tabIndex={-1} id="review-title">
            {t("review")}
          </h3>
          {plan.status === "PLANNING" && (
            // The bar outside the live region: a poll that moves it is not
            // announced again; the words are, when they change.
            <div class="progress">
              <progress value={plan.rowsPlanned} max={plan.rows || 1} aria-label={t("planningLabel")} />
              <p role="status" class="block" data-testid="planning">
                {tn("planning", plan.rows, { done: num(plan.rowsPlanned), total: num(plan.rows) })}
              </p>
            </div>
          )}
          {/* The plan's reason, as the step wrote it (English). */}
          {plan.status === "FAILED" && (
            <p class="error" role="alert" lang="en">
              {plan.failure}
            </p>
          )}
          {plan.tally && plan.status === "READY" && <Review plan={plan} labels={labels} />}
          {plan.status === "READY" && (
            <>
              <label class="inline">
                <input type="checkbox" name="ackChange" checked={ack1} onChange={(e) => setAck1(e.currentTarget.checked)} />
                {t("ackChange")}
              </label>
              <label class="inline">
                <input type="checkbox" name="ackUndo" checked={ack2} onChange={(e) => setAck2(e.currentTarget.checked)} />
                {t("ackUndo")}
              </label>
            </>
          )}
          <ErrorLine error={error} action={action} />
          <div class="buttons">
            <button type="button" onClick={() => setStep("properties")}>
              {t("back")}
            </button>
            <button class="primary" onClick={run} disabled={plan.status !== "READY" || !ack1 || !ack2 || busy}>
              {t("restoreData")}
            </button>
          </div>
        </div>
      )}

      {step === "reauth" && (
        <div>
          <p role="alert">{t("reauth")}</p>
          <ErrorLine error={error} action={action} />
          <div class="buttons">
            <button
              class="primary"
              onClick={async () => {
                try {
                  if (plan) sessionStorage.setItem(RESUME, JSON.stringify({ backupId: b.backupId, planId: plan.planId }));
                  await props.reauth(); // on AWS the page goes to the login and comes back
                  sessionStorage.removeItem(RESUME);
                  setStep("review");
                  await run();
                } catch (e) {
                  fail(e);
                }
              }}
            >
              {t("signInAgain")}
            </button>
          </div>
        </div>
      )}
    </Panel>
  );
}

// Why is a sentence of the catalogue around why an object or a property
// cannot be restored ({why}): the reason from its code, or the API's English
// one, marked as English, for a code the console does not know.
function Why(props: { sentence: "notRestorable" | "excluded"; vars?: Record<string, string>; code?: string; reason?: string; class?: string }) {
  const why = reasonText(props.code, props.reason);
  const [before, after = ""] = t(props.sentence, { ...props.vars, why: "\u0000" }).split("\u0000");
  return (
    <span class={props.class} data-reason={props.code ?? ""}>
      {before}
      <span lang={why.lang}>{why.text}</span>
      {after}
    </span>
  );
}

function Review({ plan, labels }: { plan: api.Plan; labels: Map<string, string> }) {
  const tally = plan.tally!;
  const v = tally.values;
  const label = (name: string) => labels.get(name) ?? name;
  return (
    <div data-testid="review" data-plan={plan.planId}>
      <table class="review">
        <thead>
          <tr>
            <th scope="col">{t("colProperty")}</th>
            <th scope="col" class="num">
              {t("toSet")}
            </th>
            <th scope="col" class="num">
              {t("toClear")}
            </th>
            <th scope="col" class="num">
              {t("unchanged")}
            </th>
          </tr>
        </thead>
        <tbody>
          {plan.properties.map((name) => {
            const c = tally.properties[name];
            return (
              <tr key={name} data-property={name}>
                <th scope="row">
                  {label(name)} {label(name) !== name && <code>{name}</code>}
                </th>
                <td class="num" data-count="set">
                  {num(c?.set ?? 0)}
                </td>
                <td class="num" data-count="cleared">
                  {num(c?.cleared ?? 0)}
                </td>
                <td class="num" data-count="unchanged">
                  {num(c?.unchanged ?? 0)}
                </td>
              </tr>
            );
          })}
          <tr class="total" data-property="">
            <th scope="row">{t("total")}</th>
            <td class="num" data-count="set">
              {num(v.set)}
            </td>
            <td class="num" data-count="cleared">
              {num(v.cleared)}
            </td>
            <td class="num" data-count="unchanged">
              {num(v.unchanged)}
            </td>
          </tr>
        </tbody>
      </table>
      <p class="muted note" data-testid="counts-note">
        {t("countsNote")}
      </p>
      {v.set + v.cleared === 0 && <p class="ok">{t("nothingToRestore")}</p>}
      {tally.records.missing > 0 && <p class="warning">{tn("missingNote", tally.records.missing)}</p>}
      {plan.excluded?.map((x) => (
        <p class="muted" key={x.name}>
          <Why sentence="excluded" vars={{ name: label(x.name) }} code={x.reasonCode} reason={x.reason} />
        </p>
      ))}
      {!!tally.samples?.length && (
        <>
          <h4>{t("samples")}</h4>
          <ul class="samples">
            {tally.samples.slice(0, 5).map((s, i) => (
              <li key={i}>
                {label(s.property)} ({t("samplesNote", { id: s.recordId })}): {s.now || t("empty")} → {s.after || t("empty")}
              </li>
            ))}
          </ul>
        </>
      )}
      <p class="warning">{t("workflowWarning")}</p>
    </div>
  );
}

export function Imports({ id }: { id?: string }) {
  const [list, setList] = useState<api.Import[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () =>
    api.listImports().then(
      (l) => (setList(l.imports), setError(null)),
      setError,
    );
  useEffect(() => {
    load();
  }, []);
  const running = list?.some((im) => im.status === "RUNNING");
  usePoll(!!running, load, 1200);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        {t("importsTitle")}
      </h1>
      <ErrorLine error={error} />
      {list === null ? (
        <p role="status">{t("loading")}</p>
      ) : list.length === 0 ? (
        <p class="empty">{t("noImports")}</p>
      ) : (
        <table class="imports">
          <thead>
            <tr>
              <th scope="col">{t("colName")}</th>
              <th scope="col">{t("colStarted")}</th>
              <th scope="col">{t("colStatus")}</th>
              <th scope="col" class="num">
                {t("updated")}
              </th>
              <th scope="col" class="num">
                {t("cleared")}
              </th>
              <th scope="col" class="num">
                {t("unchanged")}
              </th>
              <th scope="col" class="num">
                {t("missing")}
              </th>
              <th scope="col" class="num">
                {t("failed")}
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((im) => (
              <tr key={im.importId} data-import={im.importId} data-status={im.status} class={im.importId === id ? "current" : ""}>
                <td>{importName(im.name)}</td>
                <td>
                  <Time iso={im.startedAt} />
                </td>
                <td>
                  {t(im.status === "RUNNING" ? "RUNNING" : im.status === "COMPLETED" ? "COMPLETED" : "FAILED")}
                  {im.status === "RUNNING" && (
                    <span class="progress">
                      <progress value={im.rowsDone} max={im.rows || 1} aria-label={t("importProgressLabel")} />
                      <span class="block">{tn("importProgress", im.rows, { done: num(im.rowsDone), total: num(im.rows) })}</span>
                    </span>
                  )}
                  {/* The import's reason, as the step wrote it (English). */}
                  {im.failure && (
                    <span class="reason" lang="en">
                      {im.failure}
                    </span>
                  )}
                  {im.errorsUrl && (
                    <button class="link block" onClick={() => api.downloadErrors(im).catch(setError)}>
                      {t("errorFile", { n: num(im.errorRows) })}
                    </button>
                  )}
                </td>
                <td class="num" data-count="updated">
                  {num(im.counts.updated)}
                </td>
                <td class="num" data-count="cleared">
                  {num(im.counts.cleared)}
                </td>
                <td class="num" data-count="unchanged">
                  {num(im.counts.unchanged)}
                </td>
                <td class="num" data-count="missing">
                  {num(im.counts.missing)}
                </td>
                <td class="num" data-count="failed">
                  {num(im.counts.failed)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
