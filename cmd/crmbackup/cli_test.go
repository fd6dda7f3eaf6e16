package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/localstack"
)

// cli runs crmbackup commands against one local stack, as an operator and
// an admin would type them.
type cli struct {
	t   *testing.T
	dir string
}

// run runs args with stdin and returns stdout and stderr (with the error)
// and the exit code.
func (c cli) run(stdin string, args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	err := runWith(context.Background(), append(args, "--local", c.dir), stdio{in: strings.NewReader(stdin), out: &out, err: &errb})
	if err != nil {
		errb.WriteString(err.Error())
	}
	code = exitCode(err)
	if testing.Verbose() {
		c.t.Logf("crmbackup %s → %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String(), errb.String(), code
}

// ok runs args, wants exit 0, and decodes its --json output (stdout: only
// JSON) into v.
func (c cli) ok(v any, stdin string, args ...string) string {
	c.t.Helper()
	if v != nil {
		args = append(args, "--json")
	}
	out, errs, code := c.run(stdin, args...)
	if code != 0 {
		c.t.Fatalf("crmbackup %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			c.t.Fatalf("crmbackup %s: stdout is not JSON (%v):\n%s", strings.Join(args, " "), err, out)
		}
	}
	return out + errs
}

// fails runs args and wants the exit code code, with want in the output.
func (c cli) fails(code int, want, stdin string, args ...string) {
	c.t.Helper()
	stdout, stderr, got := c.run(stdin, args...)
	out := stdout + stderr
	if got != code || !strings.Contains(out, want) {
		c.t.Fatalf("crmbackup %s: exit %d, want %d saying %q:\n%s", strings.Join(args, " "), got, code, want, out)
	}
}

// TestCLIAgainstTheLocalStack walks the README's operator and admin path
// with the CLI only: accounts, admins, sign-in, a backup, its download, the
// schedule, a restore, imports, the audit log and notifications.
func TestCLIAgainstTheLocalStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local stack")
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := filepath.Join(t.TempDir(), "stack")
	st, err := localstack.Start(context.Background(), localstack.Config{Dir: dir,
		Emulator: emulator.Options{Seed: 5, Sizes: emulator.DefaultSizes(400)},
		Account:  backup.Account{ID: "acme", Name: "Acme Inc.", Tier: backup.Enterprise, RequestsPer10s: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := cli{t, dir}

	// Operators: accounts.
	var accounts []backup.Account
	c.ok(&accounts, "", "accounts", "list")
	if len(accounts) != 1 || accounts[0].ID != "acme" {
		t.Fatalf("accounts %+v", accounts)
	}
	var added struct {
		Account backup.Account `json:"account"`
		Check   struct {
			PortalID int64    `json:"portalId"`
			Objects  []string `json:"objects"`
		} `json:"check"`
	}
	c.ok(&added, emulator.DefaultToken+"\n", "accounts", "add", "--id", "beta", "--name", "Beta", "--tier", "professional", "--requests-per-10s", "1000", "--allow-shared-portal")
	if added.Account.ID != "beta" || added.Check.PortalID != emulator.DefaultPortalID || len(added.Check.Objects) == 0 {
		t.Fatalf("added %+v", added)
	}
	if raw, err := os.ReadFile(strings.TrimPrefix(added.Account.TokenRef, "file:")); err != nil || string(raw) != emulator.DefaultToken {
		t.Fatalf("the credential file: %q %v", raw, err)
	}
	c.fails(exitRefused, "exists already", emulator.DefaultToken, "accounts", "add", "--id", "beta", "--tier", "starter")
	c.fails(exitUsage, "required flag", "", "accounts", "add", "--tier", "starter")
	c.fails(exitRefused, "HubSpot rejected the credential (HTTP 401)", "not-the-token", "accounts", "add", "--id", "gamma", "--tier", "starter", "--allow-shared-portal")
	c.ok(new(map[string]any), "", "accounts", "check", "beta")
	c.fails(exitNotFound, "no account", "", "accounts", "check", "nobody")

	// Operators: admins, checked against the portal's users.
	c.ok(nil, "", "admins", "add", "--account", "beta", "--email", "user050@acme.example")
	c.fails(exitRefused, "not a Super Admin", "", "admins", "add", "--account", "beta", "--email", emulator.ViewerEmail)
	var admins []map[string]any
	c.ok(&admins, "", "admins", "list", "--account", "beta")
	if len(admins) != 1 || admins[0]["email"] != "user050@acme.example" {
		t.Fatalf("admins %v", admins)
	}
	c.ok(new([]map[string]any), "", "admins", "check")

	// Admins: nothing without a sign-in; then a backup of beta.
	c.fails(exitAuth, "crmbackup login", "", "backups", "list")
	c.fails(exitNotFound, "not an admin", "", "login", "--email", "stranger@acme.example")
	c.ok(nil, "", "login", "--email", "user050@acme.example")
	var created backupView
	c.ok(&created, "", "backups", "create")
	out := c.ok(nil, "", "backups", "watch", created.ID)
	if !strings.Contains(out, "COMPLETED") {
		t.Fatalf("watch:\n%s", out)
	}
	c.fails(exitRefused, "quota", "", "backups", "create")
	var list struct {
		Backups []backupView `json:"backups"`
	}
	c.ok(&list, "", "backups", "list")
	if len(list.Backups) != 1 || list.Backups[0].ID != created.ID || list.Backups[0].Status != backup.Completed || list.Backups[0].AccountID != "beta" {
		t.Fatalf("backups %+v", list.Backups)
	}
	dl := filepath.Join(t.TempDir(), "dl")
	out = c.ok(nil, "", "backups", "download", created.ID, "--out", dl)
	if !strings.Contains(out, "every file matches the manifest") {
		t.Fatalf("download:\n%s", out)
	}
	c.fails(exitNotFound, "", "", "backups", "show", "01JZZZZZZZZZZZZZZZZZZZZZZZ")
	c.fails(exitRefused, "Enterprise", "", "schedule", "show")

	// The Enterprise account's admin: the schedule and a restore.
	c.ok(nil, "", "login")
	var sch map[string]any
	c.ok(&sch, "", "schedule", "set", "--frequency", "daily", "--time", "03:30", "--timezone", "Europe/Rome")
	if sch["enabled"] != true || sch["frequency"] != "daily" || sch["timeOfDay"] != "03:30" {
		t.Fatalf("schedule %v", sch)
	}
	c.fails(exitUsage, "nothing to change", "", "schedule", "set")
	c.ok(&created, "", "backups", "create")
	c.ok(nil, "", "backups", "watch", created.ID)
	var objs struct {
		Objects []map[string]any `json:"objects"`
	}
	c.ok(&objs, "", "restore", "objects", created.ID)
	if len(objs.Objects) == 0 {
		t.Fatalf("objects %v", objs)
	}
	out = c.ok(nil, "", "restore", "plan", created.ID, "--object", "deals")
	if !strings.Contains(out, "dealname") {
		t.Fatalf("properties:\n%s", out)
	}
	var plan planView
	c.ok(&plan, "", "restore", "plan", created.ID, "--object", "deals", "--properties", "dealname,amount")
	if plan.Status != "READY" || len(plan.Properties) != 2 {
		t.Fatalf("plan %+v", plan)
	}
	c.fails(exitUsage, "acknowledge", "", "restore", "execute", plan.ID)
	// A two-factor sign-in older than 5 minutes: the restore asks for a
	// new one (without a terminal to sign in on, exit 3 and how).
	ageSession(t, dir, 10*time.Minute)
	c.fails(exitAuth, "crmbackup login", "", "restore", "execute", plan.ID, "--acknowledge-data-change", "--acknowledge-irreversible")
	// At a terminal it signs in again and goes on (locally a sign-in asks
	// nothing); here both acknowledgements are typed, not given as flags.
	ageSession(t, dir, 10*time.Minute)
	var out2, err2 bytes.Buffer
	err = runWith(context.Background(), []string{"restore", "execute", plan.ID, "--local", dir},
		stdio{in: strings.NewReader("y\nyes\n"), out: &out2, err: &err2, terminal: true})
	if err != nil || !strings.Contains(err2.String(), "A restore needs a fresh two-factor sign-in") || !strings.Contains(out2.String(), `Import "Data restore - Deal"`) {
		t.Fatalf("execute at a terminal with a stale sign-in: %v\n%s%s", err, out2.String(), err2.String())
	}
	if !strings.Contains(out2.String(), "COMPLETED") {
		t.Fatalf("execute:\n%s", out2.String())
	}
	c.fails(exitRefused, "", "", "restore", "execute", plan.ID, "--acknowledge-data-change", "--acknowledge-irreversible") // a plan runs once
	var imports struct {
		Imports []map[string]any `json:"imports"`
	}
	c.ok(&imports, "", "imports", "list")
	if len(imports.Imports) != 1 || imports.Imports[0]["name"] != "Data restore - Deal" {
		t.Fatalf("imports %v", imports)
	}
	importID := imports.Imports[0]["importId"].(string)
	var im map[string]any
	c.ok(&im, "", "imports", "show", importID)
	if im["status"] != "COMPLETED" || im["planId"] != plan.ID {
		t.Fatalf("import %v", im)
	}
	c.fails(exitNotFound, "", "", "imports", "errors", importID) // HubSpot refused no value
	var shown planView
	c.ok(&shown, "", "restore", "show", plan.ID)
	if shown.Status != "EXECUTED" || shown.ImportID != importID {
		t.Fatalf("plan after execute %+v", shown)
	}
	var b backupView
	c.ok(&b, "", "backups", "show", created.ID)
	if b.ID != created.ID || b.Status != backup.Completed || len(b.Objects) == 0 {
		t.Fatalf("backup %+v", b)
	}
	var entries struct {
		Entries []map[string]any `json:"entries"`
	}
	c.ok(&entries, "", "audit", "--action", "restore.completed")
	if len(entries.Entries) != 1 {
		t.Fatalf("audit %v", entries)
	}
	var notes struct {
		Notifications []map[string]any `json:"notifications"`
		Unread        int              `json:"unread"`
	}
	c.ok(&notes, "", "notifications")
	if len(notes.Notifications) == 0 || notes.Unread == 0 {
		t.Fatalf("notifications %+v", notes)
	}
	c.ok(nil, "", "notifications", "read", notes.Notifications[0]["id"].(string))
	c.fails(exitNotFound, "", "", "notifications", "read", "01JZZZZZZZZZZZZZZZZZZZZZZZ")
	c.ok(nil, "", "notifications", "read-all")
	c.ok(&notes, "", "notifications", "--unread")
	if len(notes.Notifications) != 0 || notes.Unread != 0 {
		t.Fatalf("after read-all %+v", notes)
	}

	// Operators again: tier, rotation, removal.
	c.ok(nil, "", "admins", "remove", "user050@acme.example")
	c.fails(exitNotFound, "no admin", "", "admins", "remove", "user050@acme.example")
	var tiered backup.Account
	c.ok(&tiered, "", "accounts", "set-tier", "beta", "starter")
	if tiered.Tier != backup.Starter {
		t.Fatalf("set-tier %+v", tiered)
	}
	c.fails(exitRefused, "tier", "", "accounts", "set-tier", "beta", "gold")
	c.ok(nil, emulator.DefaultToken, "accounts", "rotate-credential", "beta")
	c.fails(exitUsage, "--yes", "", "accounts", "remove", "beta")
	var removed map[string]any
	out = c.ok(&removed, "", "accounts", "remove", "beta", "--yes")
	if !strings.Contains(out, "Its 1 backups") || removed["removed"] != "beta" || removed["backupsLeft"] != float64(1) {
		t.Fatalf("remove: %v\n%s", removed, out)
	}
	// The operator's actions are in the account's audit log, by action.
	c.ok(nil, "", "login") // acme's admin
	c.ok(&entries, "", "audit", "--action", "admin.added")
	if len(entries.Entries) != 0 {
		t.Fatalf("acme's log holds beta's admin: %v", entries)
	}
	// A removed id may come back for its own portal (its history is that portal's).
	c.ok(nil, emulator.DefaultToken, "accounts", "add", "--id", "beta", "--tier", "starter", "--allow-shared-portal", "--requests-per-10s", "1000")
	c.fails(exitRefused, "switch them off first", "", "accounts", "remove", "acme", "--yes")
	c.ok(nil, "", "logout")
}

// ageSession makes the local session's two-factor sign-in age old, and
// its token due for renewal (which keeps the sign-in's time).
func ageSession(t *testing.T, dir string, age time.Duration) {
	t.Helper()
	abs, _ := filepath.Abs(dir)
	cfg, _ := os.UserConfigDir()
	path := filepath.Join(cfg, "crmbackup", "sessions", "local-"+shortHash(abs)+".json")
	var s session
	raw, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(raw, &s) != nil {
		t.Fatalf("session %s: %v", path, err)
	}
	s.SignedInAt, s.ExpiresAt = time.Now().Add(-age), time.Now().Add(-time.Second)
	raw, _ = json.Marshal(s)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}
