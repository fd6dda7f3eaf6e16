package operator_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/memstore"
	"github.com/crmbackup/crmbackup/internal/operator"
	"github.com/crmbackup/crmbackup/internal/schedule"
	"github.com/crmbackup/crmbackup/internal/secrets"
)

type env struct {
	store    *memstore.Store
	accounts *operator.Accounts
	admins   *operator.Admins
	dir      string
	portal   string // the emulator's URL
}

// newEnv is the operator's services on the in-memory store, credential
// files and a CRM emulator whose credential has scopes (nil: every one).
func newEnv(t *testing.T, opts emulator.Options) *env {
	t.Helper()
	if opts.Sizes == nil {
		opts.Sizes = emulator.DefaultSizes(60)
	}
	em, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	e := &env{store: memstore.New(), dir: t.TempDir(), portal: srv.URL}
	files := secrets.Files{Dir: e.dir}
	who := audit.Actor{Subject: "operator:ops"}
	portals := operator.HubSpot{BaseURL: srv.URL}
	e.accounts = &operator.Accounts{Store: e.store, Secrets: files, Portals: portals, Operator: who}
	dir := &directory{}
	e.admins = &operator.Admins{Store: e.store, Directory: dir, Portals: portals, Operator: who,
		Credential: func(_ context.Context, ref string) (string, error) { return readRef(ref) }}
	return e
}

func readRef(ref string) (string, error) {
	b, err := os.ReadFile(strings.TrimPrefix(ref, "file:"))
	return string(b), err
}

func (e *env) actions(t *testing.T, account string) []string {
	t.Helper()
	page, err := e.store.AuditLog(context.Background(), account, audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range page.Items {
		out = append(out, en.Action)
	}
	return out
}

func TestAddAccount(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, emulator.Options{})
	a, check, err := e.accounts.Add(ctx, operator.AddInput{ID: "acme", Name: "Acme Inc.", Tier: backup.Enterprise, Credential: " " + emulator.DefaultToken + "\n", RequestsPer10s: fast})
	if err != nil {
		t.Fatal(err)
	}
	if a.PortalID != emulator.DefaultPortalID || check.PortalID != emulator.DefaultPortalID || !check.OK() || a.RequestsPer10s != fast {
		t.Fatalf("added %+v, check %+v", a, check)
	}
	if !slices.Contains(check.Objects, "vehicles") || !slices.Contains(check.Objects, "conversations") {
		t.Fatalf("objects %v: the custom object or conversations are missing", check.Objects)
	}
	// The credential is in its file (0600), trimmed, and the account points at it.
	path := strings.TrimPrefix(a.TokenRef, "file:")
	if raw, err := os.ReadFile(path); err != nil || string(raw) != emulator.DefaultToken {
		t.Fatalf("credential file %s: %q %v", path, raw, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("credential file mode %v", st.Mode().Perm())
	}
	stored, err := e.store.Account(ctx, "acme")
	if err != nil || stored.TokenRef != a.TokenRef || stored.Tier != backup.Enterprise {
		t.Fatalf("stored %+v %v", stored, err)
	}
	if got := e.actions(t, "acme"); !slices.Equal(got, []string{audit.AccountAdded}) {
		t.Fatalf("audit %v", got)
	}

	// Refusals change nothing.
	for _, tt := range []struct {
		name string
		in   operator.AddInput
		code string
	}{
		{"existing id", operator.AddInput{ID: "acme", Tier: backup.Starter, Credential: emulator.DefaultToken}, apperr.Conflict},
		{"bad id", operator.AddInput{ID: "Acme Inc", Tier: backup.Starter, Credential: emulator.DefaultToken}, apperr.Invalid},
		{"path in id", operator.AddInput{ID: "../x", Tier: backup.Starter, Credential: emulator.DefaultToken}, apperr.Invalid},
		{"bad tier", operator.AddInput{ID: "beta", Tier: "gold", Credential: emulator.DefaultToken}, apperr.Invalid},
		{"no credential", operator.AddInput{ID: "beta", Tier: backup.Starter, Credential: "  \n"}, apperr.Invalid},
		{"bad limit", operator.AddInput{ID: "beta", Tier: backup.Starter, Credential: emulator.DefaultToken, RequestsPer10s: -1}, apperr.Invalid},
	} {
		if _, _, err := e.accounts.Add(ctx, tt.in); apperr.Code(err) != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
	// A credential HubSpot rejects: an error that says so, nothing stored.
	if _, _, err := e.accounts.Add(ctx, operator.AddInput{ID: "beta", Tier: backup.Starter, Credential: "wrong", RequestsPer10s: fast}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a rejected credential: %v", err)
	}
	if list, _ := e.store.Accounts(ctx); len(list) != 1 {
		t.Fatalf("accounts after refusals: %v", list)
	}
	if files, _ := filepath.Glob(filepath.Join(e.dir, "*")); len(files) != 1 {
		t.Fatalf("credential files after refusals: %v", files)
	}
}

func TestAddAccountMissingScopes(t *testing.T) {
	ctx := context.Background()
	// Everything but the sensitive scopes of contacts, deal writes and users.
	e := newEnv(t, emulator.Options{Scopes: []string{
		"crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.companies.read", "crm.objects.companies.write",
		"crm.objects.deals.read", "tickets", "e-commerce", "crm.objects.calls.read", "crm.objects.calls.write",
		"crm.objects.tasks.read", "crm.objects.tasks.write", "crm.schemas.custom.read", "crm.objects.custom.read", "crm.objects.custom.write",
		"conversations.read",
		"crm.objects.companies.sensitive.read", "crm.objects.companies.sensitive.write", "crm.objects.companies.highly_sensitive.read", "crm.objects.companies.highly_sensitive.write",
		"crm.objects.deals.sensitive.read", "crm.objects.deals.highly_sensitive.read",
		"tickets.sensitive", "tickets.highly_sensitive",
		"crm.objects.custom.sensitive.read", "crm.objects.custom.sensitive.write", "crm.objects.custom.highly_sensitive.read", "crm.objects.custom.highly_sensitive.write",
		"crm.objects.calls.sensitive.read", "crm.objects.calls.sensitive.write", "crm.objects.calls.highly_sensitive.read", "crm.objects.calls.highly_sensitive.write",
		"crm.objects.tasks.sensitive.read", "crm.objects.tasks.sensitive.write", "crm.objects.tasks.highly_sensitive.read", "crm.objects.tasks.highly_sensitive.write",
	}})
	in := operator.AddInput{ID: "acme", Tier: backup.Enterprise, Credential: emulator.DefaultToken, RequestsPer10s: fast}
	_, check, err := e.accounts.Add(ctx, in)
	if apperr.Code(err) != apperr.Invalid || check == nil {
		t.Fatalf("missing scopes: %v", err)
	}
	for _, want := range []string{"crm.objects.contacts.sensitive.read", "crm.objects.deals.write", "settings.users.read"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not name %s: %v", want, err)
		}
	}
	if !slices.Contains(check.MissingBackup, "crm.objects.contacts.sensitive.read") || !slices.Contains(check.MissingRestore, "crm.objects.deals.write") ||
		len(check.MissingUsers) == 0 || slices.Contains(check.MissingBackup, "crm.objects.companies.read") {
		t.Fatalf("check %+v", check)
	}
	if list, _ := e.store.Accounts(ctx); len(list) != 0 {
		t.Fatalf("a refused add stored %v", list)
	}
	in.AllowMissingScopes = true
	if _, _, err := e.accounts.Add(ctx, in); err != nil {
		t.Fatalf("with --allow-missing-scopes: %v", err)
	}
}

func TestAccountLifecycle(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, emulator.Options{})
	a, _, err := e.accounts.Add(ctx, operator.AddInput{ID: "acme", Tier: backup.Enterprise, Credential: emulator.DefaultToken, RequestsPer10s: fast})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.accounts.SetTier(ctx, "acme", backup.Professional); err != nil || got.Tier != backup.Professional {
		t.Fatalf("set-tier: %+v %v", got, err)
	}
	if _, err := e.accounts.SetTier(ctx, "nobody", backup.Professional); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("set-tier of nobody: %v", err)
	}
	if _, c, err := e.accounts.Check(ctx, "acme", readRef); err != nil || !c.OK() {
		t.Fatalf("check: %+v %v", c, err)
	}

	// A credential of another portal is refused; the right one is stored.
	other := newEnv(t, emulator.Options{PortalID: 999, Token: "other-token"})
	rotating := &operator.Accounts{Store: e.store, Secrets: secrets.Files{Dir: e.dir}, Portals: operator.HubSpot{BaseURL: other.portal}}
	if _, err := rotating.RotateCredential(ctx, "acme", "other-token", false); !apperr.Is(err, apperr.Conflict) || !strings.Contains(err.Error(), "portal 999") {
		t.Fatalf("rotate to another portal: %v", err)
	}
	if tok, _ := readRef(a.TokenRef); tok != emulator.DefaultToken {
		t.Fatalf("a refused rotation changed the credential to %q", tok)
	}
	if _, err := e.accounts.RotateCredential(ctx, "acme", emulator.DefaultToken+" ", false); err != nil {
		t.Fatal(err)
	}

	// Removal: refused while a schedule is on; then the credential is gone,
	// the audit log stays, the backups still there are counted.
	now := time.Now().UTC()
	b := &backup.Backup{AccountID: "acme", ID: backup.NewID(now), Status: backup.Queued, Trigger: backup.Manual, CreatedAt: now}
	if err := e.store.CreateBackup(ctx, b, time.Hour, audit.New("acme", backup.NewID(now), now, audit.Actor{Subject: "u"}, audit.BackupCreated, audit.Succeeded, nil)); err != nil {
		t.Fatal(err)
	}
	b.Status, b.StartedAt = backup.Running, now
	if err := e.store.UpdateBackup(ctx, b, backup.Queued); err != nil {
		t.Fatal(err)
	}
	b.Status, b.CompletedAt, b.ExpiresAt = backup.Completed, now, now.Add(backup.Retention)
	if err := e.store.UpdateBackup(ctx, b, backup.Running); err != nil {
		t.Fatal(err)
	}
	sch := &schedule.Schedule{AccountID: "acme", Settings: schedule.Settings{Enabled: true, Frequency: schedule.Weekly, TimeOfDay: "02:00", Timezone: "UTC", DayOfWeek: "sunday"},
		UpdatedAt: now, UpdatedBy: "u", Version: 1}
	if err := e.store.PutSchedule(ctx, sch, audit.New("acme", backup.NewID(now.Add(time.Millisecond)), now, audit.Actor{Subject: "u"}, audit.ScheduleUpdated, audit.Succeeded, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.accounts.Remove(ctx, "acme"); !apperr.Is(err, apperr.Conflict) || !strings.Contains(err.Error(), "schedule set --enabled=false") {
		t.Fatalf("remove with a schedule on: %v", err)
	}
	sch.Enabled, sch.Version = false, 2
	if err := e.store.PutSchedule(ctx, sch, audit.New("acme", backup.NewID(now.Add(2*time.Millisecond)), now, audit.Actor{Subject: "u"}, audit.ScheduleUpdated, audit.Succeeded, nil)); err != nil {
		t.Fatal(err)
	}
	r, err := e.accounts.Remove(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if r.Backups != 1 || !r.LastUntil.Equal(b.ExpiresAt) {
		t.Fatalf("removal %+v", r)
	}
	if _, err := os.Stat(strings.TrimPrefix(a.TokenRef, "file:")); !os.IsNotExist(err) {
		t.Fatalf("the credential file is still there: %v", err)
	}
	if _, err := e.store.Account(ctx, "acme"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("after removal: %v", err)
	}
	got := e.actions(t, "acme")
	for _, want := range []string{audit.AccountAdded, audit.AccountTierChanged, audit.AccountCredentialRotated, audit.AccountRemoved} {
		if !slices.Contains(got, want) {
			t.Errorf("audit %v lacks %s", got, want)
		}
	}
}

// directory is an in-memory operator.Directory.
type directory struct{ admins []operator.Admin }

func (d *directory) CreateAdmin(_ context.Context, a operator.Admin) (*operator.Admin, error) {
	for _, x := range d.admins {
		if strings.EqualFold(x.Email, a.Email) {
			return nil, apperr.New(apperr.Conflict, "exists")
		}
	}
	a.Enabled = true
	d.admins = append(d.admins, a)
	return &a, nil
}

func (d *directory) Admins(context.Context) ([]operator.Admin, error) {
	return slices.Clone(d.admins), nil
}

func (d *directory) DeleteAdmin(_ context.Context, email string) error {
	n := len(d.admins)
	d.admins = slices.DeleteFunc(d.admins, func(a operator.Admin) bool { return strings.EqualFold(a.Email, email) })
	if len(d.admins) == n {
		return apperr.New(apperr.NotFound, "none")
	}
	return nil
}

func TestAdmins(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, emulator.Options{Users: []emulator.User{{Email: "late@acme.example", SuperAdmin: true}}})
	if _, _, err := e.accounts.Add(ctx, operator.AddInput{ID: "acme", Tier: backup.Enterprise, Credential: emulator.DefaultToken, RequestsPer10s: fast}); err != nil {
		t.Fatal(err)
	}
	// A Super Admin (in any case), found past the first page of users.
	ad, v, err := e.admins.Add(ctx, operator.AddAdminInput{AccountID: "acme", Email: "Admin@Acme.example"})
	if err != nil || !v.SuperAdmin || ad.Email != "admin@acme.example" || ad.AccountID != "acme" || ad.Role != "super_admin" {
		t.Fatalf("add a super admin: %+v %+v %v", ad, v, err)
	}
	if _, v, err := e.admins.Add(ctx, operator.AddAdminInput{AccountID: "acme", Email: "late@acme.example"}); err != nil || !v.SuperAdmin {
		t.Fatalf("a super admin on the last page: %+v %v", v, err)
	}
	for _, tt := range []struct {
		name string
		in   operator.AddAdminInput
		code string
		says string
	}{
		{"not a super admin", operator.AddAdminInput{AccountID: "acme", Email: emulator.ViewerEmail}, apperr.Forbidden, "not a Super Admin"},
		{"not a user", operator.AddAdminInput{AccountID: "acme", Email: "stranger@example.com"}, apperr.Forbidden, "not a user of portal"},
		{"override without reason", operator.AddAdminInput{AccountID: "acme", Email: emulator.ViewerEmail, Override: true}, apperr.Invalid, "reason"},
		{"bad e-mail", operator.AddAdminInput{AccountID: "acme", Email: "ana"}, apperr.Invalid, "e-mail"},
		{"no account", operator.AddAdminInput{AccountID: "nobody", Email: "admin@acme.example"}, apperr.NotFound, ""},
		{"twice", operator.AddAdminInput{AccountID: "acme", Email: "admin@acme.example"}, apperr.Conflict, ""},
	} {
		_, _, err := e.admins.Add(ctx, tt.in)
		if apperr.Code(err) != tt.code || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%s: %v, want %s saying %q", tt.name, err, tt.code, tt.says)
		}
	}
	// An override is added and recorded with its reason.
	if _, v, err := e.admins.Add(ctx, operator.AddAdminInput{AccountID: "acme", Email: emulator.ViewerEmail, Override: true, Reason: "interim owner"}); err != nil || v.SuperAdmin {
		t.Fatalf("override: %+v %v", v, err)
	}
	page, _ := e.store.AuditLog(ctx, "acme", audit.Query{Action: audit.AdminAdded})
	if len(page.Items) != 3 || page.Items[0].Details["override"] != true || page.Items[0].Details["reason"] != "interim owner" {
		t.Fatalf("admin.added entries %+v", page.Items)
	}
	list, err := e.admins.List(ctx, "acme")
	if err != nil || len(list) != 3 {
		t.Fatalf("list %v %v", list, err)
	}
	verdicts, err := e.admins.Check(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	not := 0
	for _, v := range verdicts {
		if !v.SuperAdmin {
			not++
			if v.Email != emulator.ViewerEmail {
				t.Errorf("check says %s is not a super admin", v.Email)
			}
		}
	}
	if len(verdicts) != 3 || not != 1 {
		t.Fatalf("verdicts %+v", verdicts)
	}
	if _, err := e.admins.Remove(ctx, emulator.ViewerEmail); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admins.Remove(ctx, emulator.ViewerEmail); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("remove twice: %v", err)
	}
	if got := e.actions(t, "acme"); got[0] != audit.AdminRemoved {
		t.Fatalf("audit %v", got)
	}
}

// fast is a portal limit that keeps the client's pacing out of the tests'
// time (the emulator has no limit).
const fast = 1000

// failingCreate is a store whose account write fails after the
// credential was stored (a lost race, an outage).
type failingCreate struct{ *memstore.Store }

func (failingCreate) CreateAccount(context.Context, *backup.Account, *audit.Entry) error {
	return apperr.New(apperr.Conflict, "lost a race")
}

func TestAddRefusals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, emulator.Options{})
	if _, _, err := e.accounts.Add(ctx, operator.AddInput{ID: "acme", Tier: backup.Enterprise, Credential: emulator.DefaultToken, RequestsPer10s: fast}); err != nil {
		t.Fatal(err)
	}
	// A second account of the same portal: refused unless meant.
	in := operator.AddInput{ID: "beta", Tier: backup.Professional, Credential: emulator.DefaultToken, RequestsPer10s: fast}
	if _, _, err := e.accounts.Add(ctx, in); !apperr.Is(err, apperr.Conflict) || !strings.Contains(err.Error(), "account acme's already") {
		t.Fatalf("the same portal twice: %v", err)
	}
	in.AllowSharedPortal = true
	if _, _, err := e.accounts.Add(ctx, in); err != nil {
		t.Fatalf("--allow-shared-portal: %v", err)
	}
	// A credential HubSpot rejects, in words.
	_, _, err := e.accounts.Add(ctx, operator.AddInput{ID: "gamma", Tier: backup.Starter, Credential: "wrong", RequestsPer10s: fast})
	if !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), "HubSpot rejected the credential (HTTP 401)") {
		t.Fatalf("a rejected credential: %v", err)
	}
	// The account write fails after the credential was stored: the
	// credential goes too, so the add can be tried again.
	failing := *e.accounts
	failing.Store = failingCreate{e.store}
	if _, _, err := failing.Add(ctx, operator.AddInput{ID: "delta", Tier: backup.Starter, Credential: emulator.DefaultToken, RequestsPer10s: fast, AllowSharedPortal: true}); err == nil {
		t.Fatal("the failing store's add succeeded")
	}
	if _, err := os.Stat(filepath.Join(e.dir, "delta")); !os.IsNotExist(err) {
		t.Fatalf("the credential of the failed add is still there: %v", err)
	}
	// A tier change moves the usual limit with it, and keeps a set one.
	a, err := e.accounts.SetTier(ctx, "beta", backup.Starter)
	if err != nil || a.RequestsPer10s != fast {
		t.Fatalf("set-tier kept the limit the operator set? %+v %v", a, err)
	}
	b := &backup.Account{ID: "eps", Tier: backup.Professional, RequestsPer10s: 190, TokenRef: "file:x", PortalID: 7}
	if err := e.store.PutAccount(ctx, b); err != nil {
		t.Fatal(err)
	}
	if a, err := e.accounts.SetTier(ctx, "eps", backup.Starter); err != nil || a.RequestsPer10s != 100 {
		t.Fatalf("pro → starter: %+v %v, want 100 requests/10 s", a, err)
	}
}

func TestRemoveRefusedWhileRunning(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, emulator.Options{})
	if _, _, err := e.accounts.Add(ctx, operator.AddInput{ID: "acme", Tier: backup.Enterprise, Credential: emulator.DefaultToken, RequestsPer10s: fast}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	b := &backup.Backup{AccountID: "acme", ID: backup.NewID(now), Status: backup.Queued, Trigger: backup.Manual, CreatedAt: now}
	if err := e.store.CreateBackup(ctx, b, time.Hour, audit.New("acme", backup.NewID(now), now, audit.Actor{Subject: "u"}, audit.BackupCreated, audit.Succeeded, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.accounts.Remove(ctx, "acme"); !apperr.Is(err, apperr.Conflict) || !strings.Contains(err.Error(), "backup running") {
		t.Fatalf("remove with a backup queued: %v", err)
	}
	if _, err := e.store.Account(ctx, "acme"); err != nil {
		t.Fatalf("a refused removal removed: %v", err)
	}
}
