package console_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/console"
	"github.com/crmbackup/crmbackup/internal/emulator"
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

// text is an element's text.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
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
	st, err := localstack.Start(context.Background(), localstack.Config{Dir: filepath.Join(t.TempDir(), "stack"),
		Emulator: emulator.Options{Seed: 3, Sizes: emulator.DefaultSizes(600)},
		Account:  backup.Account{ID: "acme", Name: "Acme Inc.", Tier: backup.Enterprise, RequestsPer10s: 1000}})
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

	signIn := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(st.ConsoleURL),
		chromedp.WaitVisible(css(`input[name=code]`)),
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
	if err := chromedp.Do(step, chromedp.WaitNotPresent(css(`[role=dialog]`)), chromedp.WaitVisible(css(`tr[data-status=COMPLETED]`))); err != nil {
		shot(t, ctx, pics, "fail-create")
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(css(`main`)))
		t.Fatalf("after Create: %v\n%s", err, html)
	}
	if after := text(t, ctx, `[data-testid=quota]`); !strings.Contains(after, "Next backup allowed after") {
		t.Errorf("the quota line after a backup: %q", after)
	}
	shot(t, ctx, pics, "3-completed")

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

	// Schedule: daily at 03:30, saved, and still there after a reload.
	do(t, ctx, pics, "schedule",
		chromedp.Click(xpath(`//button[text()="Schedule backup"]`)),
		chromedp.WaitVisible(css(`input[name=enabled]`)),
		chromedp.Click(css(`input[name=enabled]`)),
		chromedp.Click(css(`input[name=frequency][value=daily]`)),
		setField(`input[name=timeOfDay]`, "03:30", "input"),
		setField(`input[name=timezone]`, "Europe/Rome", "input"),
		chromedp.Click(xpath(`//button[text()="Save"]`)),
		chromedp.WaitVisible(xpath(`//p[text()="Saved."]`)),
	)
	shot(t, ctx, pics, "4-schedule")
	// After a reload the token (kept in memory only) is gone: sign in again.
	do(t, ctx, pics, "reload",
		chromedp.Reload(),
		chromedp.WaitVisible(css(`input[name=code]`)),
		chromedp.Click(css(`form button[type=submit]`)),
		chromedp.WaitVisible(css(`#page-title`)),
		chromedp.Click(xpath(`//button[text()="Schedule backup"]`)),
		chromedp.WaitVisible(css(`[data-testid=schedule-description]`)))
	if desc := text(t, ctx, `[data-testid=schedule-description]`); !strings.Contains(desc, "03:30") || !strings.Contains(desc, "Europe/Rome") {
		t.Fatalf("the schedule after a reload: %q", desc)
	}
	do(t, ctx, pics, "Esc closes the panel", chromedp.KeyEvent("\x1b"), chromedp.WaitNotPresent(css(`[role=dialog]`)))

	// Italiano.
	do(t, ctx, pics, "italiano", setField(`select[name=lang]`, "it", "change"),
		chromedp.WaitVisible(xpath(`//h1[text()="Backup e ripristino"]`)),
		chromedp.WaitVisible(xpath(`//span[contains(@class,"status")][text()="Completato"]`)))
	shot(t, ctx, pics, "5-italiano")
}
