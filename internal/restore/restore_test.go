package restore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/backup/backuptest"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/s3store"
	"github.com/crmbackup/crmbackup/internal/s3store/s3local"
	"github.com/crmbackup/crmbackup/internal/testenv"
)

// These tests restore from real backups (made by the backup pipeline on the
// S3 stand-in, the metadata store in memory) into the CRM emulator.

type noRunner struct{}

func (noRunner) StartBackup(context.Context, string, string) error { return nil }

type env struct {
	emu     *emulator.Server
	s3URL   string
	s3Keys  s3local.Keys
	crm     *hubspot.Client
	blobs   *s3store.Store
	store   testenv.Store
	backup  *backup.Backup
	archive *backup.Archive
}

// newEnv backs up an emulated portal of sizes and opens the backup.
func newEnv(t testing.TB, sizes map[string]int) *env {
	t.Helper()
	return newEnvWith(t, emulator.Options{Seed: 11, Sizes: sizes})
}

// newEnvWith is newEnv on an emulator of the caller's.
func newEnvWith(t testing.TB, opts emulator.Options) *env {
	t.Helper()
	ctx := context.Background()
	st := testenv.NewStack(t, opts, backup.Enterprise)
	e := &env{emu: st.Emulator, s3URL: st.S3URL, s3Keys: st.S3Keys, crm: st.CRM, blobs: st.Blobs, store: st.Store}
	svc := &backup.Service{Store: st.Store, Blobs: e.blobs, CRMs: testenv.StaticCRM{C: st.CRM}, Runner: noRunner{}}
	b, err := svc.Create(ctx, "acme", audit.Actor{Subject: "admin@acme.example"})
	if err != nil {
		t.Fatal(err)
	}
	b = backuptest.Run(t, svc, "acme", b.ID)
	e.backup = b
	if e.archive, err = backup.OpenArchive(ctx, e.blobs, b.Key); err != nil {
		t.Fatal(err)
	}
	return e
}

// backedUp returns the backup's rows of an object as id → property → value.
func (e *env) backedUp(t testing.TB, object string) (ids []string, values map[string]map[string]string) {
	t.Helper()
	o, err := e.archive.Object(object)
	if err != nil {
		t.Fatal(err)
	}
	rows, closer, err := e.archive.Rows(o)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	header, err := rows.Read()
	if err != nil {
		t.Fatal(err)
	}
	header = slices.Clone(header)
	values = map[string]map[string]string{}
	for {
		fields, err := rows.Read()
		if err != nil {
			break
		}
		m := map[string]string{}
		for i, f := range fields {
			m[header[i]] = f
		}
		ids = append(ids, fields[0])
		values[fields[0]] = m
	}
	return ids, values
}

func (e *env) selection(t testing.TB, object string, props ...string) *restore.Selection {
	t.Helper()
	o, err := e.archive.Object(object)
	if err != nil {
		t.Fatal(err)
	}
	current, err := e.crm.Properties(context.Background(), o.ObjectTypeID)
	if err != nil {
		t.Fatal(err)
	}
	sel, err := restore.Select(o, props, current)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

// update sets values in the portal as a user would.
func (e *env) update(t *testing.T, object, id string, props map[string]string) {
	t.Helper()
	res, err := e.crm.BatchUpdate(context.Background(), object, []hubspot.UpdateInput{{ID: id, Properties: props}})
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("update %s %s: %v %+v", object, id, err, res)
	}
}

func (e *env) current(t *testing.T, object string, ids, props []string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for chunk := range slices.Chunk(ids, restore.BatchSize) {
		res, err := e.crm.BatchRead(context.Background(), object, chunk, props, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range res.Objects {
			out[o.ID] = o.Properties
		}
	}
	return out
}

func run(t testing.TB, p *restore.Pass, cur restore.Cursor) restore.Cursor {
	t.Helper()
	for !cur.Done {
		var err error
		if cur, err = p.Run(context.Background(), cur, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	return cur
}

// TestSemantics: set, clear, unchanged, missing, created after the backup,
// a value changed between plan and execute, and a unique-value conflict.
func TestSemantics(t *testing.T) {
	e := newEnv(t, map[string]int{"companies": 250, "contacts": 30})
	ids, before := e.backedUp(t, "companies")
	setID, clearID, missingID, laterID := ids[3], ids[120], ids[200], ids[240]
	if before[clearID]["address2"] != "" || before[setID]["name"] == "" {
		t.Fatalf("fixture assumptions: %q %q", before[clearID]["address2"], before[setID]["name"])
	}
	// After the backup: a changed name, a filled-in empty value, a deleted
	// record and a new one.
	e.update(t, "companies", setID, map[string]string{"name": "Renamed Ltd", "account_notes": "new \"notes\", 🚀"})
	e.update(t, "companies", clearID, map[string]string{"address2": "Suite 500"})
	archive(t, e.crm.BaseURL(), "companies", missingID)
	created := createCompany(t, e.crm.BaseURL(), "Created After Inc")

	sel := e.selection(t, "companies", "name", "address2", "account_notes", "total_revenue", "notes_last_updated")
	if !slices.Equal(sel.Properties, []string{"name", "address2", "account_notes"}) || len(sel.Excluded) != 2 {
		t.Fatalf("selection %+v", sel)
	}

	plan := run(t, &restore.Pass{CRM: e.crm, Archive: e.archive, Sel: sel}, restore.Cursor{})
	wantRecords := restore.Counts{Set: 2, Unchanged: 247, Missing: 1}
	if plan.Tally.Records != wantRecords {
		t.Errorf("plan records %+v, want %+v", plan.Tally.Records, wantRecords)
	}
	for prop, want := range map[string]restore.Counts{
		"name":          {Set: 1, Unchanged: 248, Missing: 1},
		"address2":      {Cleared: 1, Unchanged: 248, Missing: 1},
		"account_notes": {Set: 1, Unchanged: 248, Missing: 1},
	} {
		if got := plan.Tally.Properties[prop]; got != want {
			t.Errorf("plan %s: %+v, want %+v", prop, got, want)
		}
	}
	if !slices.ContainsFunc(plan.Tally.Samples, func(s restore.Sample) bool {
		return s.RecordID == setID && s.Property == "name" && s.Now == "Renamed Ltd" && s.After == before[setID]["name"]
	}) {
		t.Errorf("samples %+v lack the rename", plan.Tally.Samples)
	}

	// Between plan and execute someone changes another record: execution
	// re-reads and restores it too.
	e.update(t, "companies", laterID, map[string]string{"name": "Changed After The Plan"})

	var errs []restore.ErrorRow
	done := run(t, &restore.Pass{CRM: e.crm, Archive: e.archive, Sel: sel, Write: true,
		Errors: func(r restore.ErrorRow) error { errs = append(errs, r); return nil }}, restore.Cursor{})
	if want := (restore.Counts{Set: 3, Unchanged: 246, Missing: 1}); done.Tally.Records != want || len(errs) > 0 {
		t.Errorf("executed records %+v (want %+v), errors %+v", done.Tally.Records, want, errs)
	}
	now := e.current(t, "companies", ids, sel.Properties)
	for _, id := range ids {
		if id == missingID {
			if _, ok := now[id]; ok {
				t.Errorf("deleted record %s came back", id)
			}
			continue
		}
		for _, p := range sel.Properties {
			if now[id][p] != before[id][p] {
				t.Errorf("record %s %s = %q, backup had %q", id, p, now[id][p], before[id][p])
			}
		}
	}
	if got := e.current(t, "companies", []string{created}, []string{"name"}); got[created]["name"] != "Created After Inc" {
		t.Errorf("a record created after the backup was touched: %+v", got[created])
	}

	t.Run("unique value conflict is recorded, not fatal", func(t *testing.T) {
		cids, cbefore := e.backedUp(t, "contacts")
		var withEmail []string
		for _, id := range cids {
			if cbefore[id]["email"] != "" {
				withEmail = append(withEmail, id)
			}
		}
		if len(withEmail) < 2 {
			t.Fatal("fixture: fewer than two contacts with an email")
		}
		x, y := withEmail[0], withEmail[1]
		taken := cbefore[x]["email"]
		e.update(t, "contacts", x, map[string]string{"email": "moved@example.com"})
		e.update(t, "contacts", y, map[string]string{"email": taken})
		var errs []restore.ErrorRow
		csel := e.selection(t, "contacts", "email", "jobtitle")
		done := run(t, &restore.Pass{CRM: e.crm, Archive: e.archive, Sel: csel, Write: true,
			Errors: func(r restore.ErrorRow) error { errs = append(errs, r); return nil }}, restore.Cursor{})
		// y gets its own email back; x's is refused while y still held it.
		if done.Tally.Records.Failed+done.Tally.Records.Set != 2 || done.Tally.Records.Failed < 1 {
			t.Fatalf("records %+v", done.Tally.Records)
		}
		if !slices.ContainsFunc(errs, func(r restore.ErrorRow) bool {
			return r.RecordID == x && r.Property == "email" && r.Value == taken && r.Error != ""
		}) {
			t.Fatalf("error rows %+v", errs)
		}
	})
}

// TestResumeAfterCrash: a pass that stops after every batch, and one that
// redoes a batch (a crash before its checkpoint was saved), end exactly as
// one uninterrupted pass.
func TestResumeAfterCrash(t *testing.T) {
	e := newEnv(t, map[string]int{"deals": 330})
	ids, before := e.backedUp(t, "deals")
	for i := 0; i < len(ids); i += 7 {
		e.update(t, "deals", ids[i], map[string]string{"dealname": fmt.Sprintf("edited %d", i)})
	}
	sel := e.selection(t, "deals", "dealname")
	past := time.Now().Add(-time.Second) // every Run stops after one batch

	whole := run(t, &restore.Pass{CRM: e.crm, Archive: e.archive, Sel: sel}, restore.Cursor{})
	var stepped restore.Cursor
	for runs := 0; !stepped.Done; runs++ {
		var err error
		if stepped, err = (&restore.Pass{CRM: e.crm, Archive: e.archive, Sel: sel}).Run(context.Background(), stepped, past); err != nil {
			t.Fatal(err)
		}
		if runs > 10 {
			t.Fatal("plan pass does not end")
		}
	}
	if fmt.Sprint(stepped) != fmt.Sprint(whole) || whole.Row != 330 || whole.Tally.Records.Set != 48 {
		t.Fatalf("stepped plan %+v, whole %+v", stepped.Tally.Records, whole.Tally.Records)
	}

	exec := &restore.Pass{CRM: e.crm, Archive: e.archive, Sel: sel, Write: true}
	first, err := exec.Run(context.Background(), restore.Cursor{}, past)
	if err != nil || first.Row != restore.BatchSize {
		t.Fatalf("first batch: %+v %v", first, err)
	}
	// Crash: the checkpoint after the first batch was lost; redo it.
	again, err := exec.Run(context.Background(), restore.Cursor{}, past)
	if err != nil || again.Row != restore.BatchSize || again.Tally.Records.Set != 0 {
		t.Fatalf("redone batch: %+v %v", again.Tally.Records, err)
	}
	done := run(t, exec, again)
	if done.Row != 330 {
		t.Fatalf("ended at row %d", done.Row)
	}
	now := e.current(t, "deals", ids, []string{"dealname"})
	for _, id := range ids {
		if now[id]["dealname"] != before[id]["dealname"] {
			t.Errorf("deal %s: %q, backup had %q", id, now[id]["dealname"], before[id]["dealname"])
		}
	}
}

func TestSelect(t *testing.T) {
	o := &backup.ManifestObject{Name: "deals", ObjectTypeID: "0-3", Properties: []backup.Property{
		{Name: "dealname"}, {Name: "amount"}, {Name: "hs_lastmodifieddate"}, {Name: "days_to_close"}, {Name: "retired"},
	}}
	current := []hubspot.Property{
		{Name: "dealname"}, {Name: "amount"}, {Name: "days_to_close", Calculated: true},
		{Name: "hs_lastmodifieddate", ModificationMetadata: hubspot.ModificationMetadata{ReadOnlyValue: true}},
		{Name: "brand_new"},
	}
	for _, tc := range []struct {
		name      string
		object    *backup.ManifestObject
		props     []string
		wantProps []string
		excluded  []string // name:reason code
		wantErr   bool
	}{
		{"writable ones", o, []string{"amount", "dealname", "amount"}, []string{"amount", "dealname"}, nil, false},
		{"read-only and calculated are excluded", o, []string{"dealname", "hs_lastmodifieddate", "days_to_close", "retired"},
			[]string{"dealname"}, []string{"hs_lastmodifieddate:read_only", "days_to_close:calculated", "retired:property_gone"}, false},
		{"not in the backup", o, []string{"dealname", "brand_new"}, nil, nil, true},
		{"nothing writable", o, []string{"days_to_close"}, nil, nil, true},
		{"no properties", o, nil, nil, nil, true},
		{"conversations", &backup.ManifestObject{Name: backup.Conversations}, []string{"status"}, nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := restore.Select(tc.object, tc.props, current)
			if tc.wantErr {
				if !apperr.Is(err, apperr.Invalid) {
					t.Fatalf("want a 400 error, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var excluded []string
			for _, x := range sel.Excluded {
				if x.Reason == "" {
					t.Errorf("%s excluded without a reason", x.Name)
				}
				excluded = append(excluded, x.Name+":"+x.ReasonCode)
			}
			if !slices.Equal(sel.Properties, tc.wantProps) || !slices.Equal(excluded, tc.excluded) {
				t.Fatalf("properties %v excluded %v", sel.Properties, excluded)
			}
		})
	}
}

func archive(t *testing.T, base, object, id string) {
	t.Helper()
	resp := call(t, http.MethodDelete, base+"/crm/v3/objects/"+object+"/"+id, "")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("archive %s %s: %s", object, id, resp.Status)
	}
}

func createCompany(t *testing.T, base, name string) string {
	t.Helper()
	resp := call(t, http.MethodPost, base+"/crm/v3/objects/companies", `{"properties":{"name":"`+name+`"}}`)
	var out struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated || out.ID == "" {
		t.Fatalf("create company: %s %v", resp.Status, err)
	}
	return out.ID
}

func call(t *testing.T, method, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+emulator.DefaultToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestValidationRules: the portal's admins added validation rules after the
// backup. A value breaking a rule HubSpot reports per input (207) is an
// error row; a batch HubSpot refuses whole (400) is narrowed down to the
// inputs it refuses, the rest written. Counts stay true: every value is
// either written (and then in the CRM) or in the error rows.
func TestValidationRules(t *testing.T) {
	e := newEnv(t, map[string]int{"deals": 230})
	ids, before := e.backedUp(t, "deals")
	// The median amount: half the backed-up amounts break the maximum.
	var amounts []float64
	for _, id := range ids {
		if v, err := strconv.ParseFloat(before[id]["amount"], 64); err == nil {
			amounts = append(amounts, v)
		}
	}
	slices.Sort(amounts)
	limit := amounts[len(amounts)/2]
	for _, id := range ids {
		e.update(t, "deals", id, map[string]string{"dealname": "Renamed", "amount": "1"})
	}
	if err := e.emu.SetValidationRules([]emulator.ValidationRule{
		{Object: "deals", Property: "dealname", Pattern: `[^"]*`},
		{Object: "deals", Property: "amount", Max: &limit, RefuseBatch: true},
	}); err != nil {
		t.Fatal(err)
	}
	var errs []restore.ErrorRow
	done := run(t, &restore.Pass{CRM: e.crm, Archive: e.archive, Sel: e.selection(t, "deals", "dealname", "amount"), Write: true,
		Errors: func(r restore.ErrorRow) error { errs = append(errs, r); return nil }}, restore.Cursor{})

	now := e.current(t, "deals", ids, []string{"dealname", "amount"})
	refused := map[string]bool{}
	for _, r := range errs {
		refused[r.RecordID] = true
		if r.Error == "" || r.Value != before[r.RecordID][r.Property] {
			t.Errorf("error row %+v", r)
		}
	}
	var wantRefused, breaksAmount int64
	for _, id := range ids {
		name, amount := before[id]["dealname"], before[id]["amount"]
		v, _ := strconv.ParseFloat(amount, 64)
		breaks := (name != "" && !regexp.MustCompile(`^[^"]*$`).MatchString(name)) || (amount != "" && v > limit)
		if amount != "" && v > limit {
			breaksAmount++
		}
		switch {
		case breaks && !refused[id]:
			t.Errorf("deal %s breaks a rule but is not in the error rows", id)
		case !breaks && refused[id]:
			t.Errorf("deal %s breaks no rule but was refused", id)
		case !breaks && (now[id]["dealname"] != name || now[id]["amount"] != amount):
			t.Errorf("deal %s = %v, backup had %q %q", id, now[id], name, amount)
		case breaks && (now[id]["dealname"] != "Renamed" || now[id]["amount"] != "1"):
			t.Errorf("refused deal %s was written: %v", id, now[id]) // each input applies whole or not at all
		}
		if breaks {
			wantRefused++
		}
	}
	if breaksAmount == 0 || wantRefused == int64(len(ids)) {
		t.Fatalf("the rules break %d amounts, %d of %d deals: the test proves nothing", breaksAmount, wantRefused, len(ids))
	}
	if done.Tally.Records.Failed != wantRefused || done.Tally.Records.Set != int64(len(ids))-wantRefused {
		t.Fatalf("records %+v, want %d refused", done.Tally.Records, wantRefused)
	}
}

// dropsOne is a portal whose batch update answers lose one record: neither
// in results nor in errors.
type dropsOne struct{ restore.CRM }

func (d dropsOne) BatchUpdate(ctx context.Context, objectType string, inputs []hubspot.UpdateInput) (*hubspot.BatchResult, error) {
	res, err := d.CRM.BatchUpdate(ctx, objectType, inputs)
	if err == nil && len(res.Objects) > 0 {
		res.Objects = res.Objects[1:]
	}
	return res, err
}

// TestUnconfirmedWritesAreNotCounted: an input HubSpot's answer does not
// account for is a failure, never counted as written.
func TestUnconfirmedWritesAreNotCounted(t *testing.T) {
	e := newEnv(t, map[string]int{"deals": 150})
	ids, _ := e.backedUp(t, "deals")
	for _, id := range ids {
		e.update(t, "deals", id, map[string]string{"dealname": "Renamed"})
	}
	var errs []restore.ErrorRow
	done := run(t, &restore.Pass{CRM: dropsOne{e.crm}, Archive: e.archive, Sel: e.selection(t, "deals", "dealname"), Write: true,
		Errors: func(r restore.ErrorRow) error { errs = append(errs, r); return nil }}, restore.Cursor{})
	batches := int64((len(ids) + restore.BatchSize - 1) / restore.BatchSize)
	if done.Tally.Records.Failed != batches || done.Tally.Records.Set != int64(len(ids))-batches || int64(len(errs)) != batches {
		t.Fatalf("records %+v, %d error rows; want %d unconfirmed", done.Tally.Records, len(errs), batches)
	}
	if !strings.HasPrefix(errs[0].Error, "UNCONFIRMED") {
		t.Fatalf("error row %+v", errs[0])
	}
}
