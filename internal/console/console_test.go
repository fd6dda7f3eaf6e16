package console_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/crmbackup/crmbackup/internal/api"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/console"
	"github.com/crmbackup/crmbackup/internal/restore"
)

func TestHandlerHeaders(t *testing.T) {
	h := console.Handler()
	for _, path := range []string{"/", "/index.html", "/console.js", "/console.css"} {
		if !console.Handles(path) {
			t.Errorf("Handles(%s) = false", path)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		csp := rec.Header().Get("Content-Security-Policy")
		if strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
		want := http.StatusOK
		if !console.Built() {
			want = http.StatusServiceUnavailable
		}
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", path, rec.Code, want)
		}
	}
	for _, path := range []string{"/v1/backups", "/README", "/../go.mod", "/_dev/sign-in"} {
		if console.Handles(path) {
			t.Errorf("Handles(%s) = true", path)
		}
	}
	if console.Built() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if body := rec.Body.String(); !strings.Contains(body, `src="/console.js"`) || strings.Contains(body, "<script>") || strings.Contains(body, "style=") {
			t.Errorf("index.html has inline script or style, or no bundle: %s", body)
		}
	}
}

// The audit log page's filter offers exactly the audit log's actions.
func TestAuditActionsAgree(t *testing.T) {
	src := source(t, "../../console/src/pages.tsx")
	got := quoted(t, src, "export const auditActions = [", "];")
	if !slices.Equal(got, audit.Actions) {
		t.Fatalf("the console's actions %v, the audit log's %v", got, audit.Actions)
	}
}

// The console has words for every code of the API's errors, in English and
// in Italian (it shows the server's English message only for a code it
// does not know), for the codes it gives an error itself (api.ts's
// consoleCodes: an unreachable API, a gateway's answer without a code),
// and for every field of the schedule a 400 names; and its catalogue words
// no code that neither gives (err_unknown is the text for a code it does
// not know).
func TestErrorCodesInTheCatalogue(t *testing.T) {
	en, it := catalogues(t)
	src := source(t, "../../console/src/api.ts")
	own := quoted(t, src, "export const consoleCodes = [", "];")
	if len(own) < 4 {
		t.Fatalf("consoleCodes %v: the pattern no longer finds them", own)
	}
	for _, code := range own {
		if slices.Contains(api.ErrorCodes, code) {
			t.Errorf("the console's own code %s is also the API's", code)
		}
	}
	codes := append(slices.Clone(api.ErrorCodes), own...)
	// What an error without a code becomes, by its status: a code of the
	// API's or of the console's own ("error" is none: the message is shown).
	for _, code := range quoted(t, src, "export function statusCode(", "\n}") {
		if code != "error" && !slices.Contains(codes, code) {
			t.Errorf("statusCode gives %s, which is neither the API's code nor the console's", code)
		}
	}
	keys := []string{}
	for _, code := range codes {
		keys = append(keys, "err_"+code)
	}
	// The fields the schedule's checks name (details.field).
	sched := source(t, "../schedule/schedule.go")
	fields := regexp.MustCompile(`invalid\("(\w+)"`).FindAllStringSubmatch(sched, -1)
	if len(fields) < 4 {
		t.Fatalf("the schedule names %d fields: the pattern no longer finds them", len(fields))
	}
	for _, m := range fields {
		if !slices.Contains(keys, "field_"+m[1]) {
			keys = append(keys, "field_"+m[1])
		}
	}
	for _, key := range keys {
		entry := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(key) + `: "[^"]+",$`)
		if !entry.MatchString(en) {
			t.Errorf("the English catalogue has no %s", key)
		}
		if !entry.MatchString(it) {
			t.Errorf("the Italian catalogue has no %s", key)
		}
	}
	entries := regexp.MustCompile(`(?m)^  err_(\w+): "[^"]+",$`)
	for lang, cat := range map[string]string{"English": en, "Italian": it} {
		for _, m := range entries.FindAllStringSubmatch(cat, -1) {
			if m[1] != "unknown" && !slices.Contains(codes, m[1]) {
				t.Errorf("the %s catalogue words err_%s, a code neither the API nor the console gives", lang, m[1])
			}
		}
	}
}

// quoted is the double-quoted strings of src between the first start and
// the end after it.
func quoted(t *testing.T, src, start, end string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(src, start)
	part, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("no %s…%s", start, end)
	}
	var out []string
	for _, m := range regexp.MustCompile(`"([a-z_.]+)"`).FindAllStringSubmatch(part, -1) {
		out = append(out, m[1])
	}
	return out
}

// The console words every reason an object or a property cannot be
// restored from its code (restore.ReasonCodes), in English and in Italian,
// and has no entry for a code the API no longer gives (the API's English
// reason is shown only for a code it does not know).
func TestReasonCodesInTheCatalogue(t *testing.T) {
	en, it := catalogues(t)
	entries := regexp.MustCompile(`(?m)^  reason_(\w+): "[^"]+",$`)
	for lang, cat := range map[string]string{"English": en, "Italian": it} {
		var got []string
		for _, m := range entries.FindAllStringSubmatch(cat, -1) {
			got = append(got, m[1])
		}
		slices.Sort(got)
		if want := slices.Sorted(slices.Values(restore.ReasonCodes)); !slices.Equal(got, want) {
			t.Errorf("the %s catalogue words the reasons %v, internal/restore gives %v", lang, got, want)
		}
	}
}

// source is a file of the project's, as text.
func source(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// catalogues is the English and the Italian catalogue's source.
func catalogues(t *testing.T) (en, it string) {
	t.Helper()
	src := source(t, "../../console/src/i18n.ts")
	en, it, ok := strings.Cut(src, "const it: Catalogue = {")
	if !ok {
		t.Fatal("no Italian catalogue in i18n.ts")
	}
	return en, it
}

// The console words every kind of notification the services write (their
// sources name the kinds), so that it shows the stored English subject and
// message only for a kind it does not know.
func TestNotificationKindsInTheConsole(t *testing.T) {
	src := source(t, "../../console/src/messages.ts")
	_, words, ok := strings.Cut(src, "export function notificationText(")
	if !ok {
		t.Fatal("no notificationText in messages.ts")
	}
	kind := regexp.MustCompile(`Kind(?:, n\.Subject =|:) "([a-z]+\.[a-z_]+)"`)
	var kinds []string
	for _, file := range []string{"../backup/notify.go", "../restore/finish.go", "../schedule/service.go"} {
		b := source(t, file)
		for _, m := range kind.FindAllStringSubmatch(b, -1) {
			kinds = append(kinds, m[1])
		}
	}
	if len(kinds) < 6 {
		t.Fatalf("the services write the kinds %v: the pattern no longer finds them", kinds)
	}
	for _, k := range kinds {
		if !strings.Contains(words, `case "`+k+`":`) {
			t.Errorf("the console has no words for the notification kind %s", k)
		}
	}
}
