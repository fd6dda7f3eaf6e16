package localstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
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
	// While the workflow runs, every part of the stack is up.
	assertLoopbackOnly(t)
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

// wait polls path until its status is not one of busy.
func (c client) wait(path string, busy ...string) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, _, m := c.do("GET", path, "")
		if s, _ := m["status"].(string); !slices.Contains(busy, s) || time.Now().After(deadline) {
			return m
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRestoreThroughTheLocalStack: the restore API's guards over HTTP, each
// refusal writing nothing, then a plan and an import run by the local
// restore state machine.
func TestRestoreThroughTheLocalStack(t *testing.T) {
	st, err := localstack.Start(context.Background(), localstack.Config{
		Emulator: emulator.Options{Seed: 5, Sizes: map[string]int{"deals": 250, "conversations": 5}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	token := func(c auth.DevClaims) client {
		if c.AccountID == "" {
			c.AccountID = "acme"
		}
		if c.Role == "" {
			c.Role = auth.SuperAdminRole
		}
		tok, err := st.Tokens.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return client{t, st.APIURL, tok}
	}
	admin := token(auth.DevClaims{Subject: "admin"})
	mfa := token(auth.DevClaims{Subject: "admin", MFA: true})
	staleMFA := token(auth.DevClaims{Subject: "admin", MFA: true, AuthTime: time.Now().Add(-10 * time.Minute)})
	sso := token(auth.DevClaims{Subject: "sso-admin", SSO: true, AuthTime: time.Now().Add(-2 * time.Hour)})
	viewer := token(auth.DevClaims{Subject: "viewer", Role: "viewer", MFA: true})
	other := token(auth.DevClaims{Subject: "x", AccountID: "globex", MFA: true})

	_, _, b := admin.do("POST", "/v1/backups", "")
	id := b["backupId"].(string)
	if b = admin.wait("/v1/backups/"+id, "QUEUED", "RUNNING"); b["status"] != "COMPLETED" {
		t.Fatalf("backup: %v", b)
	}
	// What a restore picker shows.
	if code, _, m := admin.do("GET", "/v1/backups/"+id+"/objects", ""); code != 200 || len(m["objects"].([]any)) == 0 {
		t.Fatalf("objects: %d %v", code, m)
	}
	code, _, pm := admin.do("GET", "/v1/backups/"+id+"/objects/deals/properties", "")
	if code != 200 || pm["object"] != "deals" || len(pm["properties"].([]any)) == 0 {
		t.Fatalf("properties: %d %v", code, pm)
	}
	if code, _, m := admin.do("GET", "/v1/backups/"+id+"/objects/de%2Fals/properties", ""); code != 404 {
		t.Fatalf("an object name no object has: %d %v", code, m)
	}
	plans := "/v1/backups/" + id + "/restore-plans"
	for _, tc := range []struct {
		name   string
		c      client
		body   string
		status int
		code   string
	}{
		{"not a super admin", viewer, `{"objectType":"deals","properties":["dealname"]}`, 403, "forbidden"},
		{"another account's backup", other, `{"objectType":"deals","properties":["dealname"]}`, 404, "not_found"},
		{"properties not a list", admin, `{"objectType":"deals","properties":"dealname"}`, 400, "invalid"},
		{"unknown field", admin, `{"objectType":"deals","properties":["dealname"],"dryRun":true}`, 400, "invalid"},
		{"conversations", admin, `{"objectType":"conversations","properties":["status"]}`, 400, "invalid"},
		{"property not in the backup", admin, `{"objectType":"deals","properties":["no_such_property"]}`, 400, "invalid"},
	} {
		if code, _, m := tc.c.do("POST", plans, tc.body); code != tc.status || errCode(m) != tc.code {
			t.Errorf("%s: %d %v, want %d %s", tc.name, code, m, tc.status, tc.code)
		}
	}

	plan := func() string {
		code, hdr, p := admin.do("POST", plans, `{"objectType":"deals","properties":["dealname","amount","days_to_close"]}`)
		if code != 202 || hdr.Get("Location") == "" || p["workflowWarning"] == "" {
			t.Fatalf("plan: %d %v", code, p)
		}
		if p = admin.wait("/v1/restore-plans/"+p["planId"].(string), "PLANNING"); p["status"] != "READY" {
			t.Fatalf("plan ended %v", p)
		}
		if x := p["excluded"].([]any); len(x) != 1 || x[0].(map[string]any)["name"] != "days_to_close" {
			t.Fatalf("excluded %v", x)
		}
		return p["planId"].(string)
	}
	first, second := plan(), plan()
	execute := func(c client, planID, body string) (int, map[string]any) {
		code, _, m := c.do("POST", "/v1/restore-plans/"+planID+"/execute", body)
		return code, m
	}
	acks := `{"acknowledgeDataChange":true,"acknowledgeIrreversible":true}`
	for _, tc := range []struct {
		name   string
		c      client
		body   string
		status int
		code   string
	}{
		{"no acknowledgements", mfa, `{}`, 400, "invalid"},
		{"one acknowledgement", mfa, `{"acknowledgeDataChange":true}`, 400, "invalid"},
		{"acknowledgement of the wrong type", mfa, `{"acknowledgeDataChange":"yes","acknowledgeIrreversible":true}`, 400, "invalid"},
		{"no two-factor", admin, acks, 403, "reauthentication_required"},
		{"stale two-factor", staleMFA, acks, 403, "reauthentication_required"},
		{"not a super admin", viewer, acks, 403, "forbidden"},
		{"another account's plan", other, acks, 404, "not_found"},
	} {
		if code, m := execute(tc.c, first, tc.body); code != tc.status || errCode(m) != tc.code {
			t.Errorf("%s: %d %v, want %d %s", tc.name, code, m, tc.status, tc.code)
		}
	}
	if _, _, m := admin.do("GET", "/v1/imports", ""); len(m["imports"].([]any)) != 0 {
		t.Fatalf("a refused execute wrote an import: %v", m)
	}
	if _, _, m := admin.do("GET", "/v1/audit-log?action=restore.started", ""); len(m["entries"].([]any)) != 0 {
		t.Fatalf("a refused execute was audited as started: %v", m)
	}
	// The refusals that matter are audited: the two for two-factor.
	if _, _, m := admin.do("GET", "/v1/audit-log?action=restore.refused", ""); len(m["entries"].([]any)) != 2 {
		t.Fatalf("refusals for two-factor: %v", m)
	}

	st.Emulator.SetLatency(300 * time.Millisecond) // keep the restore running a while
	code, im := execute(sso, first, acks)
	if code != 202 || im["name"] != "Data restore - Deal" || im["status"] != "RUNNING" {
		t.Fatalf("execute with SSO: %d %v", code, im)
	}
	importID := im["importId"].(string)
	if code, m := execute(mfa, second, acks); code != 409 || errCode(m) != "conflict" ||
		m["error"].(map[string]any)["details"].(map[string]any)["importId"] != importID {
		t.Fatalf("a second restore while one runs: %d %v", code, m)
	}
	st.Emulator.SetLatency(0)
	if im = admin.wait("/v1/imports/"+importID, "RUNNING"); im["status"] != "COMPLETED" {
		t.Fatalf("import ended %v", im)
	}
	if code, m := execute(mfa, first, acks); code != 409 {
		t.Fatalf("executing a plan twice: %d %v", code, m)
	}
	if code, _, m := admin.do("GET", "/v1/imports/"+importID+"/errors", ""); code != 404 {
		t.Fatalf("errors of an import without any: %d %v", code, m)
	}
	// Newest first: the end, the refusal of the second while it ran, the start.
	var actions []string
	_, _, m := admin.do("GET", "/v1/audit-log?limit=3", "")
	for _, e := range m["entries"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	if !slices.Equal(actions, []string{"restore.completed", "restore.refused", "restore.started"}) || m["next"] == nil {
		t.Fatalf("audit log: %v", m)
	}
	// The lock is free again: the second plan runs now.
	if code, m := execute(mfa, second, acks); code != 202 {
		t.Fatalf("after the first restore ended: %d %v", code, m)
	}
}

// clock is a movable clock for the stack.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// TestScheduledBackupsThroughTheLocalStack sets a schedule through the API
// and moves the stack's clock: the run fires, a scheduled backup runs and
// is notified; the same run again starts nothing; a run that finds the
// quota used by a manual backup is skipped and notified.
func TestScheduledBackupsThroughTheLocalStack(t *testing.T) {
	clk := &clock{t: time.Now().UTC()}
	st, err := localstack.Start(context.Background(), localstack.Config{
		Emulator: emulator.Options{Seed: 5, Sizes: emulator.DefaultSizes(200)},
		Now:      clk.now, ScheduleTick: -1, // the test runs due schedules itself
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	admin, _ := st.Token("admin@acme.example", auth.SuperAdminRole, true)
	c := client{t, st.APIURL, admin}
	ctx := context.Background()

	for _, bad := range []struct{ body, field string }{
		{`{"enabled":true,"frequency":"monthly"}`, "frequency"},
		{`{"enabled":true,"frequency":"daily","timeOfDay":"2am"}`, "timeOfDay"},
		{`{"enabled":true,"frequency":"daily","timezone":"Moon/Base"}`, "timezone"},
		{`{"enabled":true,"Frequency":"daily"}`, ""},
	} {
		code, _, m := c.do("PUT", "/v1/backup-schedule", bad.body)
		details, _ := m["error"].(map[string]any)["details"].(map[string]any)
		if code != 400 || (bad.field != "" && details["field"] != bad.field) {
			t.Fatalf("%s: %d %v", bad.body, code, m)
		}
	}
	code, _, sch := c.do("PUT", "/v1/backup-schedule", `{"enabled":true,"frequency":"daily","timeOfDay":"03:00","timezone":"Europe/Rome"}`)
	if code != 200 || sch["description"] != "every day at 03:00 (Europe/Rome)" {
		t.Fatalf("PUT: %d %v", code, sch)
	}
	next, _ := time.Parse(time.RFC3339, sch["nextRunAt"].(string))
	if !strings.Contains(st.Schedule(ctx), "every day at 03:00") {
		t.Fatalf("the stack shows %q", st.Schedule(ctx))
	}

	// Not yet due: nothing.
	clk.set(next.Add(-time.Second))
	if err := st.RunSchedules(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, m := c.do("GET", "/v1/backups", ""); len(m["backups"].([]any)) != 0 {
		t.Fatalf("a backup before its time: %v", m)
	}
	// Due: one scheduled backup, however often the clock ticks.
	clk.set(next.Add(5 * time.Second))
	for range 3 {
		if err := st.RunSchedules(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_, _, m := c.do("GET", "/v1/backups", "")
	list := m["backups"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["trigger"] != "scheduled" {
		t.Fatalf("backups %v", m)
	}
	id := list[0].(map[string]any)["backupId"].(string)
	if b := c.wait("/v1/backups/"+id, "QUEUED", "RUNNING"); b["status"] != "COMPLETED" {
		t.Fatalf("the scheduled backup ended %v", b)
	}
	waitFor(t, func() bool {
		_, _, m := c.do("GET", "/v1/notifications", "")
		ns := m["notifications"].([]any)
		return len(ns) == 1 && ns[0].(map[string]any)["kind"] == "backup.completed" && m["unread"] == float64(1)
	})

	// A manual backup between two runs uses the quota: the next run is
	// skipped. (The stack is "down" for the second day's run.)
	clk.set(next.Add(26 * time.Hour))
	if code, _, m := c.do("POST", "/v1/backups", ""); code != 202 {
		t.Fatalf("manual backup: %d %v", code, m)
	}
	clk.set(next.Add(48*time.Hour + time.Second))
	if err := st.RunSchedules(ctx); err != nil {
		t.Fatal(err)
	}
	_, _, m = c.do("GET", "/v1/backups", "")
	if n := len(m["backups"].([]any)); n != 2 {
		t.Fatalf("%d backups after a skipped run, want 2", n)
	}
	_, _, m = c.do("GET", "/v1/notifications", "")
	first := m["notifications"].([]any)[0].(map[string]any)
	if first["kind"] != "backup.skipped" || !strings.Contains(first["message"].(string), "next scheduled backup runs") {
		t.Fatalf("notifications %v", m)
	}
	if code, _, m := c.do("POST", "/v1/notifications/read-all", ""); code != 200 || m["unread"] != float64(0) || m["marked"] == float64(0) {
		t.Fatalf("read-all: %d %v", code, m)
	}
	_, _, m = c.do("GET", "/v1/audit-log?action=backup.skipped", "")
	if len(m["entries"].([]any)) != 1 {
		t.Fatalf("audit %v", m)
	}
}

// waitFor polls cond for up to a minute.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out")
}
