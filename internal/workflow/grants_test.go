package workflow_test

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/blobkey"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/lambdas"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/testenv"
	"github.com/crmbackup/crmbackup/internal/workflow"
)

// op is one file operation a function made.
type op struct{ fn, verb, key string }

// recorder is a function's view of the bucket: it notes every operation.
type recorder struct {
	backup.Blobs
	fn  string
	mu  *sync.Mutex
	ops *[]op
}

func (r recorder) note(verb, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.ops = append(*r.ops, op{r.fn, verb, key})
}

func (r recorder) Put(ctx context.Context, key string, body []byte) error {
	r.note("write", key)
	return r.Blobs.Put(ctx, key, body)
}
func (r recorder) Create(ctx context.Context, key string) (backup.Upload, error) {
	r.note("write", key)
	return r.Blobs.Create(ctx, key)
}
func (r recorder) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	r.note("read", key)
	return r.Blobs.Get(ctx, key)
}
func (r recorder) GetRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	r.note("read", key)
	return r.Blobs.GetRange(ctx, key, off, n)
}
func (r recorder) Size(ctx context.Context, key string) (int64, error) {
	r.note("read", key)
	return r.Blobs.Size(ctx, key)
}
func (r recorder) List(ctx context.Context, prefix string) ([]string, error) {
	r.note("list", prefix)
	return r.Blobs.List(ctx, prefix)
}
func (r recorder) Delete(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		r.note("delete", k)
	}
	return r.Blobs.Delete(ctx, keys...)
}
func (r recorder) PresignGet(ctx context.Context, key, fileName string, ttl time.Duration) (string, error) {
	r.note("read", key)
	return r.Blobs.PresignGet(ctx, key, fileName, ttl)
}

type starts struct{}

func (starts) StartBackup(context.Context, string, string) error  { return nil }
func (starts) StartPlan(context.Context, string, string) error    { return nil }
func (starts) StartRestore(context.Context, string, string) error { return nil }

// TestFunctionsTouchOnlyWhatTheyAreGranted runs a backup and a restore with
// errors through the functions' own handlers (each function with its own
// view of the bucket, as each has its own role on AWS) and checks every
// file operation against the function table: each key is of a kind the file
// layout knows (so a lifecycle rule expires it: blobkey's and the infra
// tests), and the function is granted that operation on that kind.
func TestFunctionsTouchOnlyWhatTheyAreGranted(t *testing.T) {
	ctx := context.Background()
	st := testenv.NewStack(t, emulator.Options{Seed: 5, Sizes: map[string]int{"contacts": 150, "deals": 20}}, backup.Enterprise)
	var (
		mu  sync.Mutex
		ops []op
	)
	services := func(fn string) (*backup.Service, *restore.Service) {
		blobs := recorder{Blobs: st.Blobs, fn: fn, mu: &mu, ops: &ops}
		return &backup.Service{Store: st.Store, Blobs: blobs, CRMs: testenv.StaticCRM{C: st.CRM}, Runner: starts{}},
			&restore.Service{Store: st.Store, Blobs: blobs, CRMs: testenv.StaticCRM{C: st.CRM}, Runner: starts{}}
	}
	// invoke calls function fn's handler with in, as the Lambda runtime does.
	invoke := func(fn string, in, out any) {
		t.Helper()
		b, r := services(fn)
		h := workflow.Handlers(&workflow.Steps{Svc: b}, &workflow.RestoreSteps{Svc: r})[fn]
		payload, _ := json.Marshal(in)
		res, err := lambda.NewHandler(h).Invoke(ctx, payload)
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		if out != nil {
			if err := json.Unmarshal(res, out); err != nil {
				t.Fatal(err)
			}
		}
	}
	apiBackups, apiRestores := services(lambdas.API)

	// A backup, as the state machine runs it.
	bk, err := apiBackups.Create(ctx, "acme", audit.Actor{Subject: "admin@acme.example"})
	if err != nil {
		t.Fatal(err)
	}
	in := backup.StepInput{AccountID: "acme", BackupID: bk.ID}
	var disc backup.DiscoverOutput
	invoke(lambdas.Discover, in, &disc)
	zin := backup.ZipInput{StepInput: in}
	for _, obj := range disc.Objects {
		ex := backup.ExportInput{StepInput: in, Object: obj}
		for !ex.Checkpoint.Done {
			invoke(lambdas.Export, ex, &ex)
		}
		zin.Exports = append(zin.Exports, backup.ExportResult{Object: obj, Checkpoint: ex.Checkpoint})
	}
	var z backup.ZipOutput
	invoke(lambdas.Zip, zin, &z)
	invoke(lambdas.Finalize, backup.FinalizeInput{StepInput: in, Zip: &z}, nil)
	invoke(lambdas.Notify, backup.NotifyInput{StepInput: in}, nil)
	if _, err := apiBackups.DownloadURL(ctx, "acme", bk.ID, audit.Actor{Subject: "u"}); err != nil {
		t.Fatal(err)
	}

	// A restore of contacts' emails where HubSpot refuses one value (another
	// contact holds it now), so the error files are written too.
	x, y, ex := twoContactsWithEmail(t, st.CRM)
	if _, err := st.CRM.BatchUpdate(ctx, "contacts", []hubspot.UpdateInput{
		{ID: x, Properties: map[string]string{"email": "moved@example.com"}},
		{ID: y, Properties: map[string]string{"email": ex}},
	}); err != nil {
		t.Fatal(err)
	}
	p, err := apiRestores.CreatePlan(ctx, "acme", audit.Actor{Subject: "admin@acme.example"}, bk.ID, restore.PlanRequest{ObjectType: "contacts", Properties: []string{"email"}})
	if err != nil {
		t.Fatal(err)
	}
	rin := restore.StepInput{Action: restore.ActionPlan, AccountID: "acme", PlanID: p.ID}
	for !rin.Cursor.Done {
		invoke(lambdas.Restore, rin, &rin.Cursor)
	}
	rin.Action = restore.ActionPlanDone
	invoke(lambdas.Restore, rin, nil)
	caller := &auth.Caller{Subject: "admin@acme.example", AccountID: "acme", Role: auth.SuperAdminRole, AMR: []string{"mfa"}, AuthTime: time.Now()}
	im, err := apiRestores.Execute(ctx, caller, p.ID, restore.Acknowledgements{DataChange: true, Irreversible: true})
	if err != nil {
		t.Fatal(err)
	}
	rin = restore.StepInput{Action: restore.ActionExecute, AccountID: "acme", ImportID: im.ID}
	for !rin.Cursor.Done {
		invoke(lambdas.Restore, rin, &rin.Cursor)
	}
	rin.Action = restore.ActionFinish
	invoke(lambdas.Restore, rin, nil)
	if im, err = apiRestores.Import(ctx, "acme", im.ID); err != nil || im.Counts.Failed == 0 {
		t.Fatalf("import %+v %v: want a refused value, so that the error files are written", im, err)
	}
	if _, err := apiRestores.ErrorsURL(ctx, "acme", im.ID, audit.Actor{Subject: "u"}); err != nil {
		t.Fatal(err)
	}

	kinds := map[string]bool{}
	for _, o := range ops {
		spec, _ := lambdas.Get(o.fn)
		a := spec.Access
		if o.verb == "list" {
			if !slices.ContainsFunc(a.List, func(p string) bool { return blobkey.Match(p, o.key) }) {
				t.Errorf("%s lists %s: not granted (%v)", o.fn, o.key, a.List)
			}
			continue
		}
		k, ok := blobkey.KindOf(o.key)
		if !ok {
			t.Errorf("%s %ss %s, a key of no kind in the file layout (no grant, no lifecycle rule)", o.fn, o.verb, o.key)
			continue
		}
		kinds[k.Name] = true
		granted := map[string][]blobkey.Kind{"read": a.Read, "write": a.Write, "delete": a.Delete}[o.verb]
		if !slices.Contains(granted, k) {
			t.Errorf("%s %ss %s (%s): not granted", o.fn, o.verb, o.key, k.Name)
		}
	}
	for _, k := range blobkey.Kinds() {
		if !kinds[k.Name] {
			t.Errorf("no function touched a %s: the test does not cover it", k.Name)
		}
	}
	if len(ops) < 20 {
		t.Fatalf("only %d operations recorded", len(ops))
	}
}

// twoContactsWithEmail returns two contacts that have an email, and the
// first one's email.
func twoContactsWithEmail(t *testing.T, crm *hubspot.Client) (x, y, email string) {
	t.Helper()
	var ids []string
	for page, err := range crm.Pages(context.Background(), "contacts", hubspot.ListOptions{Properties: []string{"email"}}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			if len(o.Values) > 0 && o.Values[0] != "" {
				if len(ids) == 0 {
					email = o.Values[0]
				}
				ids = append(ids, o.ID)
			}
		}
	}
	if len(ids) < 2 {
		t.Fatal("fixture: fewer than two contacts with an email")
	}
	return ids[0], ids[1], email
}
