package localstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/localstack"
)

type client struct {
	t     *testing.T
	base  string
	token string
}

func (c client) do(method, path, body string) (int, http.Header, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			c.t.Fatalf("%s %s: not JSON: %s", method, path, raw)
		}
	}
	return resp.StatusCode, resp.Header, m
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// TestBackupThroughTheLocalStack runs the product locally as a user does:
// an HTTP request as a super admin, the state machine executed by
// aws-local-stepfunctions calling the Go handlers, a download through a
// presigned URL, and a ZIP that verifies against its manifest and the
// emulator's own counts.
func TestBackupThroughTheLocalStack(t *testing.T) {
	sizes := emulator.DefaultSizes(1500)
	sizes["products"] = 0 // an object without records gets no file
	st, err := localstack.Start(context.Background(), localstack.Config{
		Emulator: emulator.Options{Seed: 11, Sizes: sizes, ErrorRate: 0.15, DropRate: 0.03},
		Account:  backup.Account{ID: "acme", Name: "Acme", Tier: backup.Professional},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	admin, _ := st.Token("admin@acme.example", auth.SuperAdminRole, false)
	viewer, _ := st.Token("viewer@acme.example", "viewer", false)
	c := client{t, st.APIURL, admin}

	// Guards first: nothing is written by a refused request.
	if code, _, m := (client{t, st.APIURL, ""}).do("POST", "/v1/backups", ""); code != 401 || errCode(m) != "unauthorized" {
		t.Fatalf("no token: %d %v", code, m)
	}
	if code, _, m := (client{t, st.APIURL, viewer}).do("POST", "/v1/backups", ""); code != 403 || errCode(m) != "forbidden" {
		t.Fatalf("not a super admin: %d %v", code, m)
	}
	if code, _, m := c.do("POST", "/v1/backups", `{"objects":["contacts"]}`); code != 400 || errCode(m) != "invalid" {
		t.Fatalf("unknown field: %d %v", code, m)
	}
	if code, _, m := c.do("POST", "/v1/backups", `{`); code != 400 {
		t.Fatalf("malformed body: %d %v", code, m)
	}
	if _, _, m := c.do("GET", "/v1/backups", ""); len(m["backups"].([]any)) != 0 {
		t.Fatalf("a refused request wrote a backup: %v", m)
	}

	code, hdr, created := c.do("POST", "/v1/backups", "")
	if code != 202 || created["status"] != "QUEUED" || hdr.Get("Location") == "" {
		t.Fatalf("create: %d %v", code, created)
	}
	id := created["backupId"].(string)
	if code, hdr, m := c.do("POST", "/v1/backups", "{}"); code != 429 || errCode(m) != "quota_exceeded" ||
		m["error"].(map[string]any)["details"].(map[string]any)["nextAllowedAt"] == nil || hdr.Get("Retry-After") == "" {
		t.Fatalf("second backup in the week: %d %v", code, m)
	}
	if code, _, m := c.do("GET", "/v1/backups/"+id+"/download", ""); code != 409 {
		t.Fatalf("download before completion: %d %v", code, m)
	}

	var b map[string]any
	deadline := time.Now().Add(3 * time.Minute)
	for {
		_, _, b = c.do("GET", "/v1/backups/"+id, "")
		if b["status"] == "COMPLETED" || b["status"] == "FAILED" || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if b["status"] != "COMPLETED" {
		t.Fatalf("backup ended %v: %v", b["status"], b)
	}
	code, hdr, _ = c.do("GET", "/v1/backups/"+id+"/download", "")
	if code != 302 {
		t.Fatalf("download: %d", code)
	}
	resp, err := http.Get(hdr.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	rep, err := backup.Verify(bytes.NewReader(data), int64(len(data)))
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	counts := st.Emulator.Counts()
	for _, o := range rep.Manifest.Objects {
		if int(o.Rows) != counts[o.Name] {
			t.Errorf("%s: %d rows, the emulator has %d", o.Name, o.Rows, counts[o.Name])
		}
		if o.Name == "products" && o.File != "" {
			t.Error("an empty object got a file")
		}
	}
	if st.Emulator.Stats().InjectedErrors == 0 {
		t.Error("no fault was injected: the retries were not exercised")
	}
	if _, _, m := c.do("GET", "/v1/notifications", ""); len(m["notifications"].([]any)) != 1 {
		t.Fatalf("notifications: %v", m)
	}
	// Another account's super admin sees nothing of it.
	other, _ := st.Tokens.Sign(auth.DevClaims{Subject: "x", AccountID: "globex", Role: auth.SuperAdminRole})
	if code, _, _ := (client{t, st.APIURL, other}).do("GET", "/v1/backups/"+id, ""); code != 404 {
		t.Fatalf("another account's backup: %d", code)
	}
}
