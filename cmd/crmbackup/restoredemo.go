package main

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/localstack"
	"github.com/crmbackup/crmbackup/internal/restore"
)

// demoProperties are the deal properties the demo restores; days_to_close
// is calculated by HubSpot and shows up as excluded.
var demoProperties = []string{"dealname", "amount", "dealstage", "closedate", "description", "days_to_close"}

// restoreDemo is the demo's second half, against the emulator only (it
// writes into the CRM): it changes, clears and fills in deal values and
// deletes a few deals, plans a restore of deal properties from the backup,
// executes it with a fresh two-factor token and checks that the portal
// holds the backup's values again, the deleted deals reported missing.
func restoreDemo(ctx context.Context, st *localstack.Stack, c *apiClient, b *backupView, zipPath string, rep *backup.VerifyReport, w io.Writer) error {
	crm, err := hubspot.New(hubspot.Config{BaseURL: st.EmulatorURL, Token: emulator.DefaultToken})
	if err != nil {
		return err
	}
	header, rows, err := csvOf(zipPath, rep, "deals")
	if err != nil {
		return err
	}
	if len(rows) < 60 {
		return fmt.Errorf("the backup has %d deals: the restore demo needs 60", len(rows))
	}
	col := func(name string) int { return slices.Index(header, name) }

	step(w, "Changing the CRM after the backup, through the HubSpot API: deals renamed, amounts and stages changed, descriptions emptied, empty close dates filled in, deals deleted")
	var inputs []hubspot.UpdateInput
	var deleted []string
	emptied, filled := 0, 0
	for i, r := range rows {
		props := map[string]string{}
		switch {
		case i < 20:
			props["dealname"] = r[col("dealname")] + " (edited)"
		case i < 30:
			props["amount"] = "1"
		case i < 40:
			props["dealstage"] = "closedlost"
		case i < 50:
			if r[col("description")] != "" {
				props["description"] = ""
				emptied++
			}
		case i < 53:
			deleted = append(deleted, r[0])
		case filled < 10 && r[col("closedate")] == "":
			props["closedate"] = "2030-01-01T00:00:00Z"
			filled++
		}
		if len(props) > 0 {
			inputs = append(inputs, hubspot.UpdateInput{ID: r[0], Properties: props})
		}
	}
	for chunk := range slices.Chunk(inputs, hubspot.MaxBatchInputs) {
		if res, err := crm.BatchUpdate(ctx, "deals", chunk); err != nil || len(res.Errors) > 0 {
			return fmt.Errorf("changing deals: %v %+v", err, res)
		}
	}
	for _, id := range deleted {
		if err := crm.Archive(ctx, "deals", id); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "   20 deals renamed, 10 amounts and 10 stages changed, %d descriptions emptied, %d empty close dates filled in; deals %v deleted\n",
		emptied, filled, deleted)

	step(w, "POST /v1/backups/"+b.ID+"/restore-plans {objectType: deals, properties: "+fmt.Sprint(demoProperties)+"}")
	var p planView
	if _, err := c.do(ctx, "POST", "/v1/backups/"+b.ID+"/restore-plans", restore.PlanRequest{ObjectType: "deals", Properties: demoProperties}, &p); err != nil {
		return err
	}
	fmt.Fprintf(w, "   202 Accepted: plan %s is %s\n", p.ID, p.Status)
	for p.Status == restore.Planning {
		if err := pause(ctx, 300*time.Millisecond); err != nil {
			return err
		}
		if _, err := c.do(ctx, "GET", "/v1/restore-plans/"+p.ID, nil, &p); err != nil {
			return err
		}
	}
	if p.Status != restore.Ready {
		return fmt.Errorf("plan %s %s: %s", p.ID, p.Status, p.Failure)
	}
	printPlan(w, &p)

	step(w, "POST /v1/restore-plans/"+p.ID+"/execute with both acknowledgements, signed in without two-factor")
	stale, err := st.Token("admin@acme.example", auth.SuperAdminRole, false)
	if err != nil {
		return err
	}
	_, err = newAPIClient(c.base, stale).do(ctx, "POST", "/v1/restore-plans/"+p.ID+"/execute", restore.Acknowledgements{DataChange: true, Irreversible: true}, nil)
	var ae *apiError
	if !errors.As(err, &ae) || ae.Status != 403 {
		return fmt.Errorf("executing without two-factor: %v, want a 403", err)
	}
	fmt.Fprintf(w, "   %d %s: %s\n", ae.Status, ae.Body.Error.Code, ae.Body.Error.Message)

	step(w, "The same, right after a two-factor sign-in")
	fresh, err := st.Token("admin@acme.example", auth.SuperAdminRole, true)
	if err != nil {
		return err
	}
	mfa := newAPIClient(c.base, fresh)
	var im importView
	if _, err := mfa.do(ctx, "POST", "/v1/restore-plans/"+p.ID+"/execute", restore.Acknowledgements{DataChange: true, Irreversible: true}, &im); err != nil {
		return err
	}
	fmt.Fprintf(w, "   202 Accepted: import %q (%s) is %s\n", im.Name, im.ID, im.Status)
	for im.Status == restore.ImportRunning {
		if err := pause(ctx, 300*time.Millisecond); err != nil {
			return err
		}
		if _, err := c.do(ctx, "GET", "/v1/imports/"+im.ID, nil, &im); err != nil {
			return err
		}
	}
	if im.Status != restore.ImportCompleted {
		return fmt.Errorf("import %s %s: %s", im.ID, im.Status, im.Failure)
	}
	k := im.Counts
	fmt.Fprintf(w, "   %s in %s: %d values updated, %d cleared, %d unchanged, %d failed; %d deals missing (deleted since the backup)\n",
		im.Status, im.CompletedAt.Sub(im.StartedAt).Round(100*time.Millisecond), k.Updated, k.Cleared, k.Unchanged, k.Failed, k.Missing)

	step(w, "Checking the CRM against the backup")
	restored := p.Properties
	var ids []string
	for _, r := range rows {
		ids = append(ids, r[0])
	}
	now := map[string]map[string]string{}
	for chunk := range slices.Chunk(ids, hubspot.MaxBatchInputs) {
		res, err := crm.BatchRead(ctx, "deals", chunk, restored, false)
		if err != nil {
			return err
		}
		for _, o := range res.Objects {
			now[o.ID] = o.Properties
		}
	}
	var diffs, missing int
	for _, r := range rows {
		cur, ok := now[r[0]]
		if !ok {
			missing++
			continue
		}
		for _, prop := range restored {
			if cur[prop] != r[col(prop)] {
				diffs++
				if diffs <= 5 {
					fmt.Fprintf(w, "   deal %s %s = %q, the backup has %q\n", r[0], prop, cur[prop], r[col(prop)])
				}
			}
		}
	}
	if diffs > 0 || missing != len(deleted) || k.Missing != int64(len(deleted)) {
		return fmt.Errorf("after the restore %d values differ from the backup and %d deals are missing (want 0 and %d)", diffs, missing, len(deleted))
	}
	fmt.Fprintf(w, "   all %d deals × %d properties equal the backup again; the %d deleted deals were reported missing, not re-created\n",
		len(rows)-missing, len(restored), missing)

	var log struct {
		Entries []audit.Entry `json:"entries"`
	}
	if _, err := c.do(ctx, "GET", "/v1/audit-log?order=oldest", nil, &log); err != nil {
		return err
	}
	var notes struct {
		Notifications []backup.Notification `json:"notifications"`
	}
	if _, err := c.do(ctx, "GET", "/v1/notifications", nil, &notes); err != nil {
		return err
	}
	for _, e := range log.Entries {
		fmt.Fprintf(w, "   audit: %s %s by %s\n", e.At.Local().Format("15:04:05"), e.Action, e.Actor)
	}
	if len(notes.Notifications) > 0 {
		fmt.Fprintf(w, "   notification: %s\n", notes.Notifications[0].Subject)
	}
	return nil
}

// planView and importView are the API's plan and import.
type planView struct {
	restore.Plan
	Counts          *restore.ImportCounts `json:"counts"`
	WorkflowWarning string                `json:"workflowWarning"`
	MissingAdvice   string                `json:"missingAdvice"`
	CountsNote      string                `json:"countsNote"`
}

type importView struct {
	restore.Import
	ErrorsURL string `json:"errorsUrl"`
}

func printPlan(w io.Writer, p *planView) {
	fmt.Fprintf(w, "   READY: %d deals in the backup, compared with the CRM at %s\n\n", p.Rows, p.ComputedAt.Local().Format("15:04:05"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "   property\tset\tcleared\tunchanged\tmissing\t")
	for _, name := range p.Properties {
		c := p.Tally.Properties[name]
		fmt.Fprintf(tw, "   %s\t%d\t%d\t%d\t%d\t\n", name, c.Set, c.Cleared, c.Unchanged, c.Missing)
	}
	tw.Flush()
	for _, x := range p.Excluded {
		fmt.Fprintf(w, "   excluded: %s (%s)\n", x.Name, x.Reason)
	}
	for _, s := range p.Tally.Samples[:min(3, len(p.Tally.Samples))] {
		fmt.Fprintf(w, "   e.g. deal %s %s: %q → %q\n", s.RecordID, s.Property, s.Now, s.After)
	}
	fmt.Fprintf(w, "   ⚠ %s\n   ⚠ %s\n", p.WorkflowWarning, p.MissingAdvice)
}

// csvOf reads an object's CSV from a backup ZIP on disk, verified as rep
// says (the demo's check only; the product streams it).
func csvOf(path string, rep *backup.VerifyReport, object string) (header []string, rows [][]string, err error) {
	var file string
	for _, o := range rep.Manifest.Objects {
		if o.Name == object {
			file = o.File
		}
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, nil, err
	}
	defer zr.Close()
	f, err := zr.Open(file)
	if err != nil {
		return nil, nil, fmt.Errorf("%s in %s: %w", object, path, err)
	}
	defer f.Close()
	r := backup.NewCSVReader(f)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return header, rows, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if header == nil {
			header = slices.Clone(rec)
			continue
		}
		rows = append(rows, slices.Clone(rec))
	}
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
