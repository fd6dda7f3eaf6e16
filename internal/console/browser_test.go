package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/console"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/localstack"
)

// screenshots is where the browser tests leave a screenshot of each page
// (CONSOLE_SCREENSHOTS, default a folder of the test's own).
func screenshots(t *testing.T) string {
	dir := os.Getenv("CONSOLE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browserFor starts Debian's chromium (the Makefile installs it), headless,
// downloading into dl.
func browserFor(t *testing.T, dl string) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no chromium (make tools installs Debian's)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 800), chromedp.Flag("lang", "en-US"))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(cancelCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	allow := chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		yes := true
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dl, EventsEnabled: &yes})
		return err
	})
	if err := chromedp.Do(ctx, allow); err != nil {
		t.Fatal(err)
	}
	// The page's uncaught errors fail the test.
	go func() {
		for ev, err := range chromedp.Events(ctx, runtime.ExceptionThrown) {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			t.Errorf("the page threw: %s", msg)
		}
	}()
	return ctx
}

// do runs a step's actions within 60 s; on failure the test fails with
// the page's HTML and a screenshot.
func do(t *testing.T, ctx context.Context, pics, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(step, actions...); err != nil {
		shot(t, ctx, pics, "fail-"+name)
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.outerHTML`))
		t.Fatalf("%s: %v\n%s", name, err, html)
	}
}

// setField sets a form field as typing would, firing event (input or
// change) so that the page sees it.
func setField(sel, value, event string) chromedp.Action[chromedp.Void] {
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q; e.dispatchEvent(new Event(%q, {bubbles: true})); return true; })()`, sel, value, event)
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](js)(ctx, t)
		return err
	})
}

// script runs js in the page.
func script(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(() => { `+js+`; return true; })()`)(ctx, t)
		return err
	})
}

// text is an element's text.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// focused waits until the focus is on an element that matches sel.
func focused(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for {
			got, err := chromedp.Evaluate[bool](fmt.Sprintf(`document.activeElement.matches(%q)`, sel))(ctx, tg)
			if err != nil || got {
				return err
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("the focus is not on %s", sel)
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// clickUntil clicks sel until the expression js is true, again every 2 s:
// a click that lands just as a panel closed with Esc hands the page back
// is now and then lost in headless chromium (as an admin, the test clicks
// again).
func clickUntil(sel chromedp.Search, js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for {
			if _, err := chromedp.Click(sel)(ctx, tg); err != nil {
				return err
			}
			for range 20 {
				if ok, err := chromedp.Evaluate[bool](js)(ctx, tg); err != nil || ok {
					return err
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
	})
}

// attr is an attribute of the element sel matches ("" when it has none).
func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q)?.getAttribute(%q) ?? ""`, sel, name)))
	if err != nil {
		t.Fatalf("%s's %s: %v", sel, name, err)
	}
	return v
}

// css and xpath are selectors.
func css(s string) chromedp.CSS      { return chromedp.CSS(s) }
func xpath(s string) chromedp.Search { return chromedp.Search(s) }

func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

// TestConsoleInABrowser: a super admin signs in on the local stack, creates
// a backup (confirming), watches it complete in place, downloads it (the
// file verified against its manifest), sets a schedule and sees it after a
// reload, and switches to Italian.
func TestConsoleInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local stack and a browser")
	}
	if !console.Built() {
		t.Skip("the console is not built: make console")
	}
	// The stack's clock is the system's, moved ahead once for a scheduled
	// run (and back).
	var ahead atomic.Int64
	st, err := localstack.Start(context.Background(), localstack.Config{Dir: filepath.Join(t.TempDir(), "stack"),
		Emulator: emulator.Options{Seed: 3, Sizes: emulator.DefaultSizes(600)},
		Account:  backup.Account{ID: "acme", Name: "Acme Inc.", Tier: backup.Enterprise, RequestsPer10s: 1000},
		Now:      func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Without the stack's sign-in code, the dev sign-in mints nothing.
	resp, err := http.Post(st.APIURL+"/_dev/sign-in", "application/json",
		strings.NewReader(`{"code":"guess","email":"x@y.z","account":"acme","role":"super_admin","twoFactor":"now"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a sign-in with a wrong code: %d, want 403", resp.StatusCode)
	}
	dl := t.TempDir()
	pics := screenshots(t)
	ctx := browserFor(t, dl)

	// A wrong sign-in code: the error is next to the field, which says so.
	do(t, ctx, pics, "wrong code",
		chromedp.Navigate(st.ConsoleURL),
		chromedp.WaitVisible(css(`input[name=code]`)),
		setField(`input[name=code]`, "guess", "input"),
		chromedp.Click(css(`form button[type=submit]`)),
		chromedp.WaitVisible(css(`#code-error`)),
		focused(`input[name=code]`),
	)
	if got := attr(t, ctx, `input[name=code]`, "aria-describedby"); got != "code-error" || attr(t, ctx, `input[name=code]`, "aria-invalid") != "true" {
		t.Errorf("the code field: aria-describedby %q, aria-invalid %q", got, attr(t, ctx, `input[name=code]`, "aria-invalid"))
	}
	if msg := text(t, ctx, `#code-error`); !strings.Contains(msg, "sign-in code is wrong") {
		t.Errorf("the code's error: %q", msg)
	}

	signIn := []chromedp.Action[chromedp.Void]{
		// The right code again: the one in the link.
		script(`const e = document.querySelector('input[name=code]'); e.value = new URLSearchParams(location.hash.split('?')[1]).get('code'); e.dispatchEvent(new Event('input', {bubbles: true}))`),
		chromedp.WaitNotPresent(css(`#code-error`)),
		chromedp.Click(css(`form button[type=submit]`)),
		chromedp.WaitVisible(css(`#page-title`)),
	}
	if err := chromedp.Do(ctx, append(signIn, chromedp.WaitVisible(css(`[data-testid=quota]`)))...); err != nil {
		t.Fatal(err)
	}
	if title, quota := text(t, ctx, `#page-title`), text(t, ctx, `[data-testid=quota]`); title != "Backup and restore" || !strings.Contains(quota, "You can create a backup now") {
		t.Fatalf("home: %q, quota %q", title, quota)
	}
	shot(t, ctx, pics, "1-home")
	// The page starts at its heading; the first thing Tab reaches is the
	// skip link, shown when focused, which goes to the heading.
	do(t, ctx, pics, "skip link", focused(`#page-title`))
	first, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')].find(e => e.tabIndex >= 0 && !e.disabled)?.matches('a.skip-link') ?? false`))
	if err != nil || !first {
		t.Errorf("the skip link is not the first focusable element (%v)", err)
	}
	do(t, ctx, pics, "skip link focused", chromedp.Focus(css(`a.skip-link`)), focused(`a.skip-link`))
	if link := text(t, ctx, `a.skip-link`); link != "Skip to content" {
		t.Errorf("the skip link says %q", link)
	}
	if y, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector('a.skip-link').getBoundingClientRect().top`)); err != nil || y < 0 {
		t.Errorf("the focused skip link is off screen (top %v, %v)", y, err)
	}
	do(t, ctx, pics, "skip", chromedp.KeyEvent(kb.Enter), focused(`#page-title`))
	do(t, ctx, pics, "the header's account", chromedp.WaitVisible(xpath(`//span[@data-testid="account"][text()="Acme Inc. · portal 12345678 · Enterprise"]`)))

	// Create, confirming in the dialog (which says changes may be missed).
	if err := chromedp.Do(ctx,
		chromedp.Click(xpath(`//button[text()="Create backup"]`)),
		chromedp.WaitVisible(css(`[role=dialog]`)),
	); err != nil {
		t.Fatal(err)
	}
	shot(t, ctx, pics, "2-create-dialog")
	if warning := text(t, ctx, `[role=dialog] .warning`); !strings.Contains(warning, "may not be reflected") {
		t.Fatalf("the dialog's warning %q", warning)
	}
	if err := chromedp.Do(ctx, chromedp.Click(xpath(`//div[@role="dialog"]//button[text()="Create"]`))); err != nil {
		t.Fatal(err)
	}
	step, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	// The dialog's button is gone: the focus goes to the status line,
	// which says what became of the new backup.
	if err := chromedp.Do(step, chromedp.WaitNotPresent(css(`[role=dialog]`)), focused(`#backup-status`), chromedp.WaitVisible(css(`tr[data-status=COMPLETED]`))); err != nil {
		shot(t, ctx, pics, "fail-create")
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(css(`main`)))
		t.Fatalf("after Create: %v\n%s", err, html)
	}
	if after := text(t, ctx, `[data-testid=quota]`); !strings.Contains(after, "Next backup allowed after") {
		t.Errorf("the quota line after a backup: %q", after)
	}
	if status := text(t, ctx, `#backup-status`); !regexp.MustCompile(`^The new backup completed with [0-9,]+ records\.$`).MatchString(status) {
		t.Errorf("the status line after the backup: %q", status)
	}
	if attr(t, ctx, `#backup-status`, "role") != "status" {
		t.Error("the status line is not a live region")
	}
	// Created: the time itself in the admin's zone, the zone shown; how
	// long ago on hover. Expires: in how long, the time on hover.
	created := `tr[data-status=COMPLETED] td[data-label=Created] time`
	absolute := regexp.MustCompile(`^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2}[ \x{202f}][AP]M (UTC|GMT[+-]\d{1,2}(:\d{2})?|[A-Z]{3,5})$`)
	if dt, cell, title := attr(t, ctx, created, "datetime"), text(t, ctx, created), attr(t, ctx, created, "title"); dt == "" || !absolute.MatchString(cell) ||
		!regexp.MustCompile(`^(just now|\d+ minutes? ago)$`).MatchString(title) {
		t.Errorf("the created time: datetime %q, shown %q, on hover %q", dt, cell, title)
	}
	expires := `tr[data-status=COMPLETED] td[data-label=Expires] time`
	if cell, title := text(t, ctx, expires), attr(t, ctx, expires, "title"); cell != "in 14 days" || !absolute.MatchString(title) {
		t.Errorf("the expiry: shown %q, on hover %q", cell, title)
	}
	shot(t, ctx, pics, "3-completed")
	// Records per object, on demand.
	do(t, ctx, pics, "per object",
		chromedp.Click(css(`tr[data-status=COMPLETED] details.per-object summary`)),
		chromedp.WaitVisible(css(`tr[data-status=COMPLETED] details.per-object li[data-object=deals]`)),
	)

	// Download: the browser saves the ZIP, which verifies.
	if err := chromedp.Do(ctx, chromedp.Click(xpath(`//tr[@data-status="COMPLETED"]//button[text()="Download"]`))); err != nil {
		t.Fatal(err)
	}
	var zip string
	for deadline := time.Now().Add(30 * time.Second); zip == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(dl, "*.zip"))
		if len(files) == 1 {
			zip = files[0]
		}
	}
	if zip == "" {
		entries, _ := os.ReadDir(dl)
		t.Fatalf("no ZIP downloaded: %v", entries)
	}
	f, err := os.Open(zip)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := f.Stat()
	rep, err := backup.Verify(f, info.Size())
	f.Close()
	if err != nil || !rep.OK() {
		t.Fatalf("the downloaded ZIP does not verify: %v", err)
	}

	// Schedule: daily, two hours from now in Rome (so that its first run
	// comes within 24 hours of the manual backup, whatever the time of
	// day: at a fixed 03:30 the test failed when run just after it), saved,
	// and still there after a reload.
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().In(rome).Add(2 * time.Hour).Format("15:04")
	do(t, ctx, pics, "schedule",
		chromedp.Click(xpath(`//button[text()="Schedule backup"]`)),
		chromedp.WaitVisible(css(`input[name=enabled]`)),
		chromedp.Click(css(`input[name=enabled]`)),
		chromedp.Click(css(`input[name=frequency][value=daily]`)),
		setField(`input[name=timeOfDay]`, at, "input"),
		// A zone the API refuses: its error next to the field, which takes the focus.
		setField(`input[name=timezone]`, "Mars/Olympus", "input"),
		chromedp.Click(xpath(`//button[text()="Save"]`)),
		chromedp.WaitVisible(css(`#timezone-error`)),
		focused(`input[name=timezone]`),
	)
	shot(t, ctx, pics, "4-schedule-field-error")
	if d, inv := attr(t, ctx, `input[name=timezone]`, "aria-describedby"), attr(t, ctx, `input[name=timezone]`, "aria-invalid"); d != "timezone-error" || inv != "true" {
		t.Errorf("the refused zone's field: aria-describedby %q, aria-invalid %q", d, inv)
	}
	if msg := text(t, ctx, `#timezone-error`); !strings.Contains(msg, "IANA") {
		t.Errorf("the zone's error: %q", msg)
	}
	do(t, ctx, pics, "schedule saved",
		setField(`input[name=timezone]`, "Europe/Rome", "input"),
		chromedp.WaitNotPresent(css(`#timezone-error`)),
		chromedp.Click(xpath(`//button[text()="Save"]`)),
		chromedp.WaitVisible(xpath(`//p[text()="Saved."]`)),
	)
	shot(t, ctx, pics, "4-schedule")
	// The schedule's first run comes within 24 hours of the manual backup:
	// skipped (the quota), and notified.
	tok, _ := st.Token("admin@acme.example", "super_admin", true)
	req, _ := http.NewRequest("GET", st.APIURL+"/v1/backup-schedule", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	sresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sched struct{ NextRunAt time.Time }
	json.NewDecoder(sresp.Body).Decode(&sched)
	sresp.Body.Close()
	if sched.NextRunAt.IsZero() || time.Until(sched.NextRunAt) > 24*time.Hour {
		t.Fatalf("the schedule's next run %v", sched.NextRunAt)
	}
	ahead.Store(int64(time.Until(sched.NextRunAt) + 5*time.Second))
	err = st.RunSchedules(context.Background())
	ahead.Store(0)
	if err != nil {
		t.Fatal(err)
	}
	// After a reload the token (kept in memory only) is gone: sign in again.
	do(t, ctx, pics, "reload",
		chromedp.Reload(),
		chromedp.WaitVisible(css(`input[name=code]`)),
		chromedp.Click(css(`form button[type=submit]`)),
		chromedp.WaitVisible(css(`#page-title`)),
		chromedp.Click(xpath(`//button[text()="Schedule backup"]`)),
		chromedp.WaitVisible(css(`[data-testid=schedule-description]`)))
	if desc := text(t, ctx, `[data-testid=schedule-description]`); desc != "Every day at "+at+" (Europe/Rome)." {
		t.Fatalf("the schedule after a reload: %q", desc)
	}
	do(t, ctx, pics, "Esc closes the panel", chromedp.KeyEvent("\x1b"), chromedp.WaitNotPresent(css(`[role=dialog]`)))

	// The CRM changes after the backup: 8 deals renamed and their amounts
	// changed, 2 deleted (through the HubSpot API, as a user would).
	crm, err := hubspot.New(hubspot.Config{BaseURL: st.EmulatorURL, Token: emulator.DefaultToken, RequestsPer10s: 1000})
	if err != nil {
		t.Fatal(err)
	}
	bg := context.Background()
	var inputs []hubspot.UpdateInput
	var gone []string
	for o, err := range crm.List(bg, "deals", hubspot.ListOptions{Limit: 10, Properties: []string{"dealname"}}) {
		if err != nil {
			t.Fatal(err)
		}
		if len(inputs) < 8 {
			inputs = append(inputs, hubspot.UpdateInput{ID: o.ID, Properties: map[string]string{"dealname": o.Properties["dealname"] + " (edited)", "amount": "1"}})
		} else if len(gone) < 2 {
			gone = append(gone, o.ID)
		} else {
			break
		}
	}
	if res, err := crm.BatchUpdate(bg, "deals", inputs); err != nil || len(res.Errors) > 0 {
		t.Fatalf("changing deals: %v %+v", err, res)
	}
	for _, id := range gone {
		if err := crm.Archive(bg, "deals", id); err != nil {
			t.Fatal(err)
		}
	}

	// Restore, signed in with a two-factor sign-in of an hour ago: pick
	// deals and three properties, review, tick both boxes, restore; the
	// console asks for a new sign-in, then follows the import.
	do(t, ctx, pics, "stale sign-in",
		chromedp.Reload(),
		chromedp.WaitVisible(css(`input[name=code]`)),
		chromedp.Click(css(`input[name=twoFactor][value=earlier]`)),
		chromedp.Click(css(`form button[type=submit]`)),
		chromedp.WaitVisible(css(`tr[data-status=COMPLETED]`)),
		chromedp.Click(xpath(`//tr[@data-status="COMPLETED"]//button[text()="Restore"]`)),
		chromedp.WaitVisible(css(`input[name=object][value=deals]`)),
		chromedp.Click(css(`input[name=object][value=deals]`)),
		chromedp.Click(xpath(`//button[text()="Next"]`)),
		chromedp.WaitVisible(css(`input[name=search]`)),
	)
	// Calculated properties are listed, not selectable.
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('input[name=property]:disabled').length`)); err != nil || n == 0 {
		t.Errorf("no property shown as not restorable (%v)", err)
	}
	do(t, ctx, pics, "properties",
		setField(`input[name=search]`, "deal", "input"),
		chromedp.Click(css(`input[name=property][value=dealname]`)),
		chromedp.WaitVisible(xpath(`//p[@data-testid="selected"][text()="1 selected"]`)),
		chromedp.Click(css(`input[name=property][value=dealstage]`)),
		chromedp.WaitVisible(xpath(`//p[@data-testid="selected"][text()="2 selected"]`)),
		setField(`input[name=search]`, "", "input"),
		chromedp.Click(css(`input[name=property][value=amount]`)),
		chromedp.Click(xpath(`//button[text()="Review"]`)),
		chromedp.WaitVisible(css(`[data-testid=review]`)),
	)
	shot(t, ctx, pics, "6-review")
	// Labels and internal names; what the counts mean.
	if row := text(t, ctx, `[data-testid=review] tr[data-property=dealname] th`); row != "Deal Name dealname" {
		t.Errorf("the review's row of dealname: %q", row)
	}
	if note := text(t, ctx, `[data-testid=counts-note]`); !strings.Contains(note, "Counts as of this review") {
		t.Errorf("the counts' note: %q", note)
	}
	planID, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=review]').dataset.plan`))
	if err != nil {
		t.Fatal(err)
	}
	// The review's counts are the API's plan's.
	req, _ = http.NewRequest("GET", st.APIURL+"/v1/restore-plans/"+planID, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	presp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var plan struct {
		Tally struct {
			Values     map[string]int64            `json:"values"`
			Properties map[string]map[string]int64 `json:"properties"`
			Records    map[string]int64            `json:"records"`
		} `json:"tally"`
	}
	json.NewDecoder(presp.Body).Decode(&plan)
	presp.Body.Close()
	for _, prop := range []string{"dealname", "amount", "dealstage", ""} {
		want := plan.Tally.Values
		if prop != "" {
			want = plan.Tally.Properties[prop]
		}
		for _, k := range []string{"set", "cleared", "unchanged"} {
			got, err := chromedp.Run(ctx, chromedp.Text(css(fmt.Sprintf(`[data-testid=review] tr[data-property="%s"] td[data-count=%s]`, prop, k))))
			if err != nil || got != fmt.Sprint(want[k]) {
				t.Errorf("review %q %s: %q (%v), the API's plan says %d", prop, k, got, err, want[k])
			}
		}
	}
	if plan.Tally.Values["set"]+plan.Tally.Values["cleared"] != 16 || plan.Tally.Records["missing"] != 2 {
		t.Errorf("the plan %+v: want the 16 changed values set or cleared and 2 deals missing", plan.Tally)
	}
	// Restore data stays disabled until both boxes are ticked.
	disabled := func() bool {
		d, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll('[role=dialog] button')].find(b => b.textContent === 'Restore data').disabled`))
		return d
	}
	if !disabled() {
		t.Error("Restore data is enabled before the acknowledgements")
	}
	do(t, ctx, pics, "acknowledge", chromedp.Click(css(`input[name=ackChange]`)))
	if !disabled() {
		t.Error("Restore data is enabled with one acknowledgement")
	}
	do(t, ctx, pics, "restore",
		chromedp.Click(css(`input[name=ackUndo]`)),
		chromedp.Click(xpath(`//button[text()="Restore data"]`)),
		chromedp.WaitVisible(xpath(`//button[text()="Sign in again with two-factor"]`)),
	)
	shot(t, ctx, pics, "7-reauth")
	do(t, ctx, pics, "import",
		chromedp.Click(xpath(`//button[text()="Sign in again with two-factor"]`)),
		chromedp.WaitVisible(css(`tr[data-import][data-status=COMPLETED]`)),
	)
	shot(t, ctx, pics, "8-import")
	if name := text(t, ctx, `tr[data-import] td`); name != "Data restore - Deal" {
		t.Errorf("the import is named %q", name)
	}
	if updated := text(t, ctx, `tr[data-import] td[data-count=updated]`); updated == "0" {
		t.Errorf("the import updated %s values", updated)
	}
	// The audit log has the restore.
	req, _ = http.NewRequest("GET", st.APIURL+"/v1/audit-log?action=restore.completed", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	aresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var log struct{ Entries []map[string]any }
	json.NewDecoder(aresp.Body).Decode(&log)
	aresp.Body.Close()
	if len(log.Entries) != 1 {
		t.Errorf("audit log restore.completed: %v", log.Entries)
	}
	// Notifications: the restore's is unread; mark all read, the badge says 0.
	do(t, ctx, pics, "notifications",
		chromedp.Click(xpath(`//nav/a[text()="Notifications"]`)),
		chromedp.WaitVisible(css(`li.unread[data-notification]`)),
		// A new page: the focus is on its heading.
		focused(`h1#page-title`),
	)
	if h := text(t, ctx, `#page-title`); h != "Notifications" {
		t.Errorf("the focused heading: %q", h)
	}
	shot(t, ctx, pics, "9-notifications")
	do(t, ctx, pics, "mark all read",
		chromedp.Click(xpath(`//button[text()="Mark all as read"]`)),
		chromedp.WaitNotPresent(css(`li.unread`)),
		chromedp.WaitVisible(xpath(`//a[contains(@class,"bell")]/span[@class="badge"][text()="0"]`)),
	)
	// The audit log, filtered.
	do(t, ctx, pics, "audit",
		chromedp.Click(xpath(`//nav/a[text()="Audit log"]`)),
		chromedp.WaitVisible(css(`tr[data-action="backup.created"]`)),
		setField(`select[name=action]`, "restore.completed", "change"),
		chromedp.WaitNotPresent(css(`tr[data-action="backup.created"]`)),
		chromedp.WaitVisible(css(`tr[data-action="restore.completed"]`)),
	)
	shot(t, ctx, pics, "10-audit")

	// Keyboard only: a restore of every contact property, from the row's
	// Restore button to the import, with Tab, Space and Enter.
	keys := func(k ...string) []chromedp.Action[chromedp.Void] {
		var out []chromedp.Action[chromedp.Void]
		for _, s := range k {
			if s == "shift-tab" {
				out = append(out, chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)))
				continue
			}
			out = append(out, chromedp.KeyEvent(s))
		}
		return out
	}
	do(t, ctx, pics, "keyboard", append(append(append([]chromedp.Action[chromedp.Void]{
		chromedp.Click(xpath(`//nav/a[text()="Backup and restore"]`)),
		chromedp.WaitVisible(css(`tr[data-status=COMPLETED]`)),
		chromedp.Focus(xpath(`//tr[@data-status="COMPLETED"]//button[text()="Restore"]`)),
	}, keys(kb.Enter)...), append([]chromedp.Action[chromedp.Void]{focused(`input[name=object]`)}, keys(" ", kb.Tab)...)...),
		append([]chromedp.Action[chromedp.Void]{focused(`button.primary`)}, append(keys(kb.Enter),
			focused(`input[name=search]`), chromedp.KeyEvent(kb.Tab), focused(`input[name=selectAll]`), chromedp.KeyEvent(" "),
			chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)), focused(`input[name=search]`), chromedp.KeyEvent(kb.Enter),
			chromedp.WaitVisible(css(`[data-testid=review]`)), focused(`#review-title`), chromedp.KeyEvent(kb.Tab),
			focused(`input[name=ackChange]`), chromedp.KeyEvent(" "), chromedp.KeyEvent(kb.Tab),
			focused(`input[name=ackUndo]`), chromedp.KeyEvent(" "), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab),
			focused(`button.primary`), chromedp.KeyEvent(kb.Enter),
			chromedp.WaitVisible(xpath(`//tr[@data-import][2]`)),
			chromedp.WaitNotPresent(css(`tr[data-import][data-status=RUNNING]`)),
		)...)...)...,
	)
	shot(t, ctx, pics, "11-keyboard-import")
	do(t, ctx, pics, "home again", chromedp.Click(xpath(`//a[text()="Backup and restore"]`)), chromedp.WaitVisible(css(`tr[data-status=COMPLETED]`)))

	// Italiano.
	do(t, ctx, pics, "italiano", setField(`select[name=lang]`, "it", "change"),
		chromedp.WaitVisible(xpath(`//h1[text()="Backup e ripristino"]`)),
		chromedp.WaitVisible(xpath(`//span[contains(@class,"status")][text()="Completato"]`)))
	shot(t, ctx, pics, "5-italiano")
	// The schedule in Italian words; an Italian error next to its field.
	do(t, ctx, pics, "italian schedule",
		chromedp.Click(xpath(`//button[text()="Pianifica backup"]`)),
		chromedp.WaitVisible(css(`[data-testid=schedule-description]`)),
	)
	if desc := text(t, ctx, `[data-testid=schedule-description]`); desc != "Ogni giorno alle "+at+" (Europe/Rome)." {
		t.Errorf("the schedule in Italian: %q", desc)
	}
	do(t, ctx, pics, "italian field error",
		setField(`input[name=timeOfDay]`, "", "input"),
		chromedp.Click(xpath(`//button[text()="Salva"]`)),
		chromedp.WaitVisible(css(`#timeOfDay-error`)),
	)
	shot(t, ctx, pics, "5-italiano-schedule")
	if msg := text(t, ctx, `#timeOfDay-error`); !strings.Contains(msg, "Inserisci un'ora nel formato HH:MM") {
		t.Errorf("the Italian error of the time: %q", msg)
	}
	do(t, ctx, pics, "italian schedule closes", chromedp.KeyEvent("\x1b"), chromedp.WaitNotPresent(css(`[role=dialog]`)))
	// Italian plurals: one property chosen is "1 selezionata", two "2 selezionate".
	do(t, ctx, pics, "italian plurals",
		clickUntil(xpath(`//tr[@data-status="COMPLETED"]//button[text()="Ripristina"]`), `!!document.querySelector('[role=dialog]')`),
		chromedp.WaitVisible(css(`input[name=object][value=deals]`)),
		chromedp.Click(css(`input[name=object][value=deals]`)),
		chromedp.Click(xpath(`//button[text()="Avanti"]`)),
		chromedp.WaitVisible(css(`input[name=search]`)),
		chromedp.Click(css(`input[name=property][value=dealname]`)),
		chromedp.WaitVisible(xpath(`//p[@data-testid="selected"][text()="1 selezionata"]`)),
		chromedp.Click(css(`input[name=property][value=amount]`)),
		chromedp.WaitVisible(xpath(`//p[@data-testid="selected"][text()="2 selezionate"]`)),
	)
	// Why a property cannot be restored, in Italian from its code.
	if why := text(t, ctx, `label:has(input[name=property][value=hs_lastmodifieddate]) [data-reason]`); why != "Non ripristinabile: di sola lettura: HubSpot non accetta scritture" {
		t.Errorf("why hs_lastmodifieddate cannot be restored, in Italian: %q", why)
	}
	if code := attr(t, ctx, `label:has(input[name=property][value=hs_lastmodifieddate]) [data-reason]`, "data-reason"); code != "read_only" {
		t.Errorf("the reason's code: %q", code)
	}
	shot(t, ctx, pics, "7-italiano-properties")
	// And why an object cannot.
	do(t, ctx, pics, "italian objects", chromedp.Click(xpath(`//button[text()="Indietro"]`)),
		chromedp.WaitVisible(css(`input[name=object][value=conversations]`)))
	if why := text(t, ctx, `label:has(input[name=object][value=conversations]) [data-reason=conversations]`); !strings.HasPrefix(why, "Non ripristinabile: le conversazioni sono thread") {
		t.Errorf("why conversations cannot be restored, in Italian: %q", why)
	}
	do(t, ctx, pics, "italian restore closes", chromedp.KeyEvent("\x1b"), chromedp.WaitNotPresent(css(`[role=dialog]`)))
	do(t, ctx, pics, "italian import name", clickUntil(xpath(`//nav/a[text()="Importazioni"]`), `location.hash.startsWith('#/imports')`),
		chromedp.WaitVisible(xpath(`//td[text()="Ripristino dati - Trattativa"]`)))
	// The notifications in Italian, from their kind and the import's counts.
	do(t, ctx, pics, "italian notifications", chromedp.Click(xpath(`//nav/a[text()="Notifiche"]`)),
		chromedp.WaitVisible(xpath(`//li[@data-kind="import.completed"]//strong[text()="L'importazione «Ripristino dati - Trattativa» è stata completata"]`)),
		chromedp.WaitVisible(xpath(`//li[@data-kind="import.completed"]/p[@class="message"][contains(text(), "Valori aggiornati: ")]`)),
	)
	shot(t, ctx, pics, "9-notifiche")
	if msg := text(t, ctx, `li[data-kind="backup.completed"] p.message`); !strings.HasPrefix(msg, "Il backup ") || !strings.Contains(msg, " è stato completato con ") {
		t.Errorf("a completed backup's notification in Italian: %q", msg)
	}
	if lang := attr(t, ctx, `li[data-kind="import.completed"] p.message`, "lang"); lang != "" {
		t.Errorf("the Italian notification is marked lang=%q", lang)
	}
	// The first restore's (two deals missing): what to do about them, as
	// the English says.
	do(t, ctx, pics, "italian missing advice", chromedp.WaitVisible(xpath(
		`//li[@data-kind="import.completed"]/p[@class="message"][contains(text(), "I record eliminati dopo il backup non vengono ripristinati")]`)))
	// The skipped run: when the next backup is allowed and when the
	// schedule runs next, from its audit entry.
	do(t, ctx, pics, "italian skipped run", chromedp.WaitVisible(xpath(
		`//li[@data-kind="backup.skipped"]/p[@class="message"][contains(text(), "Il prossimo backup è consentito dal ")][contains(text(), "Il prossimo backup pianificato si esegue il ")]`)))

	// A narrow window: the navigation goes on top, the table's rows stack.
	do(t, ctx, pics, "narrow", chromedp.EmulateViewport(420, 800), chromedp.Click(xpath(`//nav/a[text()="Backup e ripristino"]`)),
		chromedp.WaitVisible(css(`tr[data-status=COMPLETED]`)))
	// (Measured once the new layout settled: a frame may still have the old.)
	w := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if w, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w <= 420 {
			break
		}
	}
	if err != nil || w > 420 {
		t.Errorf("at 420 px wide the page is %d px wide (%v): it scrolls sideways", w, err)
	}
	shot(t, ctx, pics, "12-narrow")
}
