package console_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/console"
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
	src, err := os.ReadFile("../../console/src/pages.tsx")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(src), "export const auditActions = [")
	list, _, ok2 := strings.Cut(rest, "];")
	if !ok || !ok2 {
		t.Fatal("no auditActions list in pages.tsx")
	}
	var got []string
	for _, m := range regexp.MustCompile(`"([a-z_.]+)"`).FindAllStringSubmatch(list, -1) {
		got = append(got, m[1])
	}
	if !slices.Equal(got, audit.Actions) {
		t.Fatalf("the console's actions %v, the audit log's %v", got, audit.Actions)
	}
}
