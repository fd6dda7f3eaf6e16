// Shared pieces: the dialog panel and the error line.

import { createPortal } from "preact/compat";
import { useEffect, useRef } from "preact/hooks";
import type { ComponentChildren } from "preact";
import { relative, t, when } from "./i18n";
import { type Action, errorText } from "./messages";

// --- a dialog panel: focus kept inside, Esc closes, the page behind inert ---

export function Panel(props: { title: string; onClose: () => void; children: ComponentChildren; side?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // Everything but the panel is inert: the page and its header.
    const behind = [...document.body.children].filter((el) => !el.classList.contains("backdrop") && !el.contains(ref.current));
    behind.forEach((el) => el.setAttribute("inert", ""));
    const before = document.activeElement as HTMLElement | null;
    focusFirst(ref.current);
    const key = (e: KeyboardEvent) => {
      if (e.key === "Escape") props.onClose();
      if (e.key === "Tab" && ref.current) {
        const items = [...ref.current.querySelectorAll<HTMLElement>("input, select, button, a[href]")].filter((x) => !x.hasAttribute("disabled"));
        if (!items.length) return;
        const [a, z] = [items[0], items[items.length - 1]];
        if (e.shiftKey && document.activeElement === a) {
          z.focus();
          e.preventDefault();
        } else if (!e.shiftKey && document.activeElement === z) {
          a.focus();
          e.preventDefault();
        }
      }
    };
    document.addEventListener("keydown", key);
    return () => {
      document.removeEventListener("keydown", key);
      behind.forEach((el) => el.removeAttribute("inert"));
      before?.focus();
    };
  }, []);
  // Outside the page, which is inert while the panel is open.
  return createPortal(
    <div class="backdrop">
      <div class={props.side ? "panel side" : "panel"} role="dialog" aria-modal="true" aria-labelledby="panel-title" ref={ref}>
        <header>
          <h2 id="panel-title">{props.title}</h2>
          <button class="icon" onClick={props.onClose} aria-label={t("close")}>
            ×
          </button>
        </header>
        {props.children}
      </div>
    </div>,
    document.body,
  );
}

// ErrorLine is an error in plain words (messages.ts), announced.
export function ErrorLine({ error, action }: { error: unknown; action?: Action }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {typeof error === "string" ? error : errorText(error, action)}
    </p>
  );
}

// Time is a time in the admin's zone with the zone shown ("Mar 5, 2025,
// 03:30 PM GMT+1"), how long ago or in how long on hover ("3 hours ago");
// with ahead, the other way round, for a deadline ("in 13 days", the
// backups' expiry).
export function Time({ iso, ahead }: { iso: string | undefined; ahead?: boolean }) {
  if (!iso) return <>–</>;
  const [shown, hover] = ahead ? [relative(iso), when(iso)] : [when(iso), relative(iso)];
  return (
    <time dateTime={iso} title={hover}>
      {shown}
    </time>
  );
}

// focusFirst moves the focus to a container's first field (or its main
// button): where a keyboard user goes on when a panel opens or its step
// changes.
export function focusFirst(el: Element | null | undefined) {
  const first =
    el?.querySelector<HTMLElement>("input:not([disabled]), select:not([disabled])") ??
    el?.querySelector<HTMLElement>("button.primary:not([disabled]), button:not(.icon)");
  first?.focus();
}

// usePoll calls load every ms while active, one call at a time: the next
// is scheduled when the last has landed.
export function usePoll(active: boolean, load: () => Promise<unknown>, ms: number) {
  useEffect(() => {
    if (!active) return;
    let stop = false;
    let timer = 0;
    const tick = async () => {
      await load();
      if (!stop) timer = setTimeout(tick, ms);
    };
    timer = setTimeout(tick, ms);
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [active]);
}
