package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/schedule"
)

// api is a command's call of the API as the signed-in admin.
type api struct {
	c    *cobra.Command
	io   stdio
	t    *target
	cl   *apiClient
	json bool
}

func newAPI(c *cobra.Command, io stdio) (*api, error) {
	t, err := resolve(c)
	if err != nil {
		return nil, err
	}
	tok, _, err := t.token(c.Context())
	if err != nil {
		return nil, err
	}
	j, _ := c.Flags().GetBool(flagJSON)
	return &api{c: c, io: io, t: t, cl: newAPIClient(t.api, tok), json: j}, nil
}

// call sends a request and decodes the answer into out; with --json it
// prints the answer as the API sent it.
func (a *api) call(method, path string, body, out any) error {
	var raw json.RawMessage
	if _, err := a.cl.do(a.c.Context(), method, path, body, &raw); err != nil {
		return err
	}
	if a.json {
		var buf bytes.Buffer
		json.Indent(&buf, raw, "", "  ")
		fmt.Fprintln(a.io.out, buf.String())
	}
	if out != nil && len(raw) > 0 {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func (a *api) table() *tabwriter.Writer { return newTable(a.io.out) }

// bar is a progress bar on stderr when it is a terminal, else one that
// draws nothing (a log or a pipe gets the outcome only).
func (a *api) bar(max int64, opts ...progressbar.Option) *progressbar.ProgressBar {
	w := io.Discard
	if a.io.bars {
		w = a.io.err
	}
	return progressbar.NewOptions64(max, append([]progressbar.Option{progressbar.OptionSetWriter(w),
		progressbar.OptionThrottle(200 * time.Millisecond), progressbar.OptionClearOnFinish()}, opts...)...)
}

// apiCommand is a command that calls the API.
func apiCommand(io stdio, use, short string, args cobra.PositionalArgs, run func(a *api, args []string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: usageArgs(args), RunE: func(c *cobra.Command, args []string) error {
		a, err := newAPI(c, io)
		if err != nil {
			return err
		}
		return run(a, args)
	}}
}

func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{Use: use, Short: short, Args: usageArgs(cobra.NoArgs), RunE: func(c *cobra.Command, _ []string) error {
		c.Help()
		return errUsage
	}}
	g.AddCommand(subs...)
	return g
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

// --- backups ---

type backupList struct {
	Backups []backupView `json:"backups"`
	Next    string       `json:"next"`
}

func records(b *backupView) int64 {
	var n int64
	for _, o := range b.Objects {
		n += o.Rows
	}
	if n == 0 {
		for _, v := range b.Progress {
			n += v
		}
	}
	return n
}

func backupsCommand(io stdio) *cobra.Command {
	var watch bool
	create := apiCommand(io, "create", "Create a backup now (the quota allows one a week, one a day on Enterprise)", cobra.NoArgs, func(a *api, _ []string) error {
		var b backupView
		if watch { // one JSON document: the backup as it ended
			if err := a.cl.doJSON(a.c.Context(), "POST", "/v1/backups", struct{}{}, &b); err != nil {
				return err
			}
		} else if err := a.call("POST", "/v1/backups", struct{}{}, &b); err != nil {
			return err
		}
		if !a.json {
			fmt.Fprintf(a.io.out, "Backup %s is %s. Changes made in HubSpot while it runs may not be in it.\n", b.ID, b.Status)
		}
		if watch {
			return a.watchBackup(b.ID)
		}
		if !a.json {
			fmt.Fprintf(a.io.out, "Follow it: "+self()+" backups watch %s\n", b.ID)
		}
		return nil
	})
	create.Flags().BoolVar(&watch, "watch", false, "follow it until it ends")
	var limit int
	list := apiCommand(io, "list", "List the account's backups, newest first", cobra.NoArgs, func(a *api, _ []string) error {
		var l backupList
		if err := a.call("GET", "/v1/backups?limit="+strconv.Itoa(limit), nil, &l); err != nil || a.json {
			return err
		}
		w := a.table()
		fmt.Fprintln(w, "ID\tCREATED\tTRIGGER\tSTATUS\tRECORDS\tSIZE\tDOWNLOAD UNTIL")
		for _, b := range l.Backups {
			status := string(b.Status)
			if b.Expired {
				status = "EXPIRED"
			}
			sz := "-"
			if b.Size > 0 {
				sz = size(b.Size)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", b.ID, when(b.CreatedAt), b.Trigger, status, records(&b), sz, when(b.ExpiresAt))
		}
		w.Flush()
		if len(l.Backups) == 0 {
			fmt.Fprintln(a.io.out, "No backups yet: "+self()+" backups create")
		}
		return nil
	})
	list.Flags().IntVar(&limit, "limit", 20, "how many (1 to 100)")
	show := apiCommand(io, "show BACKUP", "Show a backup: its status, objects and records", cobra.ExactArgs(1), func(a *api, args []string) error {
		var b backupView
		if err := a.call("GET", "/v1/backups/"+url.PathEscape(args[0]), nil, &b); err != nil || a.json {
			return err
		}
		printBackup(a.io.out, &b)
		return nil
	})
	watchCmd := apiCommand(io, "watch BACKUP", "Follow a backup until it ends (exit 1 if it FAILED)", cobra.ExactArgs(1), func(a *api, args []string) error {
		return a.watchBackup(args[0])
	})
	var out string
	download := apiCommand(io, "download BACKUP", "Download a backup's ZIP (it holds sensitive data: saved 0600)", cobra.ExactArgs(1), func(a *api, args []string) error {
		var b backupView
		a.json = false // the answer is a file
		if err := a.call("GET", "/v1/backups/"+url.PathEscape(args[0]), nil, &b); err != nil {
			return err
		}
		path, err := a.download("/v1/backups/"+url.PathEscape(b.ID)+"/download", out, b.FileName, b.Size)
		if err != nil {
			return err
		}
		rep, err := verifyFile(path)
		if err != nil {
			return err
		}
		say := io.out
		if isJSON(a.c) {
			say = io.err
		}
		if !printReport(say, rep, nil) {
			return errors.New("the downloaded file does not match its manifest")
		}
		if isJSON(a.c) {
			return printJSON(io.out, map[string]any{"path": path, "backupId": b.ID, "size": b.Size, "sha256": b.SHA256, "verified": true})
		}
		fmt.Fprintf(io.out, "Saved %s; every file matches the manifest.\n", path)
		return nil
	})
	download.Flags().StringVar(&out, "out", "backups", "folder to save it in")
	return group("backups", "Create, list, follow and download backups", create, list, show, watchCmd, download)
}

func printBackup(w io.Writer, b *backupView) {
	fmt.Fprintf(w, "Backup %s (%s)\n  status   %s\n  created  %s by %s\n", b.ID, b.Trigger, b.Status, when(b.CreatedAt), b.RequestedBy)
	if b.Status == backup.Completed {
		fmt.Fprintf(w, "  file     %s, %s, SHA-256 %s\n  download until %s\n", b.FileName, size(b.Size), b.SHA256, when(b.ExpiresAt))
	}
	if b.Failure != "" {
		fmt.Fprintf(w, "  failed   %s\n", b.Failure)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(b.Objects) > 0 {
		fmt.Fprintln(tw, "  OBJECT\tRECORDS\tFILE")
		for _, o := range b.Objects {
			fmt.Fprintf(tw, "  %s\t%d\t%s\n", o.Name, o.Rows, o.File)
		}
	} else if len(b.Progress) > 0 {
		fmt.Fprintln(tw, "  OBJECT\tEXPORTED")
		names := make([]string, 0, len(b.Progress))
		for n := range b.Progress {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			fmt.Fprintf(tw, "  %s\t%d\n", n, b.Progress[n])
		}
	}
	tw.Flush()
	for _, o := range b.Omitted {
		fmt.Fprintf(w, "  left out: %s (%s)\n", o.What, o.Why)
	}
}

// watchBackup polls a backup until it ends, with a bar of records
// exported (a spinner: the total is known only at the end).
func (a *api) watchBackup(id string) error {
	var b *backupView
	err := a.follow("exporting", func() (int64, int64, bool, error) {
		var err error
		if b, err = a.cl.backup(a.c.Context(), id); err != nil {
			return 0, 0, false, err
		}
		return records(b), 0, b.Status == backup.Completed || b.Status == backup.Failed, nil
	})
	if errors.Is(err, errStalled) {
		return fmt.Errorf("backup %s made no progress for %s (%s)", id, stallLimit, b.Status)
	}
	if err != nil {
		return err
	}
	if a.json {
		printJSON(a.io.out, b)
	} else {
		printBackup(a.io.out, b)
	}
	if b.Status == backup.Failed {
		return fmt.Errorf("backup %s FAILED: %s", b.ID, b.Failure)
	}
	if !a.json {
		fmt.Fprintf(a.io.out, "Download it: "+self()+" backups download %s\n", b.ID)
	}
	return nil
}

// errStalled: what follow watched made no progress for stallLimit.
var errStalled = errors.New("no progress")

// follow polls step every second until it says the work ended, drawing
// the records it counted (of total, when known), and gives up with
// errStalled when the count has not moved for stallLimit.
func (a *api) follow(what string, step func() (count, total int64, ended bool, err error)) error {
	ctx := a.c.Context()
	bar := a.bar(-1, progressbar.OptionSetDescription(what+": records"), progressbar.OptionShowCount())
	defer bar.Finish()
	moved, last := time.Now(), int64(-1)
	for {
		n, total, ended, err := step()
		if err != nil {
			return err
		}
		if total > 0 {
			bar.ChangeMax64(total)
		}
		if n != last {
			bar.Set64(n)
			last, moved = n, time.Now()
		}
		if ended {
			return nil
		}
		if time.Since(moved) > stallLimit {
			return errStalled
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// download saves the file behind path into dir (0600) with a progress bar.
func (a *api) download(path, dir, name string, want int64) (string, error) {
	var bar *progressbar.ProgressBar
	dst, err := a.cl.fetch(a.c.Context(), path, dir, name, func(total int64) io.Writer {
		if total <= 0 {
			total = want
		}
		bar = a.bar(total, progressbar.OptionShowBytes(true), progressbar.OptionSetDescription("downloading "+name))
		return bar
	})
	if bar != nil {
		bar.Finish()
	}
	return dst, err
}

// --- schedule ---

type scheduleView = schedule.View

func printSchedule(w io.Writer, s *scheduleView) {
	state := "off"
	if s.Enabled {
		state = "on"
	}
	fmt.Fprintf(w, "Recurring backups: %s\n  %s\n", state, s.Description)
	if s.Enabled {
		fmt.Fprintf(w, "  next run  %s\n", when(s.NextRunAt))
	}
	if !s.LastRunAt.IsZero() {
		fmt.Fprintf(w, "  last run  %s\n", when(s.LastRunAt))
	}
	if s.DisabledReason != "" {
		fmt.Fprintf(w, "  switched off: %s\n", s.DisabledReason)
	}
	if s.QuotaNote != "" {
		fmt.Fprintf(w, "  %s\n", s.QuotaNote)
	}
}

func scheduleCommand(io stdio) *cobra.Command {
	show := apiCommand(io, "show", "Show the schedule of recurring backups (Enterprise)", cobra.NoArgs, func(a *api, _ []string) error {
		var s scheduleView
		if err := a.call("GET", "/v1/backup-schedule", nil, &s); err != nil || a.json {
			return err
		}
		printSchedule(a.io.out, &s)
		return nil
	})
	set := apiCommand(io, "set", "Change the schedule: only the flags given change", cobra.NoArgs, func(a *api, _ []string) error {
		body := map[string]any{}
		f := a.c.Flags()
		for flag, field := range map[string]string{"enabled": "enabled", "frequency": "frequency", "time": "timeOfDay", "timezone": "timezone", "day": "dayOfWeek"} {
			if !f.Changed(flag) {
				continue
			}
			if flag == "enabled" {
				v, _ := f.GetBool(flag)
				body[field] = v
			} else {
				v, _ := f.GetString(flag)
				body[field] = v
			}
		}
		if len(body) == 0 {
			fmt.Fprintln(a.io.err, "crmbackup schedule set: nothing to change (give --enabled, --frequency, --time, --timezone or --day)")
			return errUsage
		}
		if _, ok := body["enabled"]; !ok {
			// The first settings switch recurring backups on.
			var cur scheduleView
			if err := a.cl.doJSON(a.c.Context(), "GET", "/v1/backup-schedule", nil, &cur); err != nil {
				return err
			}
			if cur.UpdatedAt.IsZero() {
				body["enabled"] = true
			}
		}
		var s scheduleView
		if err := a.call("PUT", "/v1/backup-schedule", body, &s); err != nil || a.json {
			return err
		}
		printSchedule(a.io.out, &s)
		return nil
	})
	set.Flags().Bool("enabled", true, "recurring backups on (--enabled=false stops them and keeps the settings)")
	set.Flags().String("frequency", "", "weekly, biweekly (every two weeks) or daily")
	set.Flags().String("time", "", "time of day, HH:MM (default 02:00)")
	set.Flags().String("timezone", "", "IANA time zone, e.g. Europe/Rome (default the portal's)")
	set.Flags().String("day", "", "day of the week of weekly and biweekly runs, e.g. sunday")
	g := group("schedule", "Show (the default) or set recurring backups (Enterprise)", show, set)
	g.RunE = show.RunE
	return g
}

// --- restore ---

type objectsView struct {
	Objects []restore.ObjectChoice `json:"objects"`
}

type propertiesView struct {
	Properties []restore.PropertyChoice `json:"properties"`
}

func restoreCommand(io stdio) *cobra.Command {
	objects := apiCommand(io, "objects BACKUP", "List the objects of a backup, restorable or not and why", cobra.ExactArgs(1), func(a *api, args []string) error {
		var v objectsView
		if err := a.call("GET", "/v1/backups/"+url.PathEscape(args[0])+"/objects", nil, &v); err != nil || a.json {
			return err
		}
		w := a.table()
		fmt.Fprintln(w, "OBJECT\tTYPE\tLABEL\tRECORDS\tRESTORABLE")
		for _, o := range v.Objects {
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", o.Name, o.ObjectTypeID, o.Plural, o.Rows, restorable(o.Restorable, o.Reason))
		}
		return w.Flush()
	})
	var object string
	var props []string
	plan := apiCommand(io, "plan BACKUP --object deals [--properties a,b,c]", "Plan a restore (without --properties: list the object's properties)", cobra.ExactArgs(1), func(a *api, args []string) error {
		if object == "" {
			fmt.Fprintln(a.io.err, "crmbackup restore plan: --object is required (`"+self()+" restore objects BACKUP` lists them)")
			return errUsage
		}
		if len(props) == 0 {
			return a.listProperties(args[0], object)
		}
		var p planView
		if err := a.cl.doJSON(a.c.Context(), "POST", "/v1/backups/"+url.PathEscape(args[0])+"/restore-plans", restore.PlanRequest{ObjectType: object, Properties: props}, &p); err != nil {
			return err
		}
		return a.followPlan(&p)
	})
	plan.Flags().StringVar(&object, "object", "", "the object to restore (deals, contacts, a custom object's name…)")
	plan.Flags().StringSliceVar(&props, "properties", nil, "internal names of the properties to restore, comma-separated")
	show := apiCommand(io, "show PLAN", "Show a restore plan: per property set / cleared / unchanged, missing records, samples", cobra.ExactArgs(1), func(a *api, args []string) error {
		var p planView
		if err := a.call("GET", "/v1/restore-plans/"+url.PathEscape(args[0]), nil, &p); err != nil || a.json {
			return err
		}
		printPlanView(a.io.out, &p)
		return nil
	})
	var ackChange, ackIrreversible, watch bool
	execute := apiCommand(io, "execute PLAN", "Run a restore plan after both acknowledgements (asks for them unless given)", cobra.ExactArgs(1), func(a *api, args []string) error {
		var p planView
		if err := a.cl.doJSON(a.c.Context(), "GET", "/v1/restore-plans/"+url.PathEscape(args[0]), nil, &p); err != nil {
			return err
		}
		say := a.io.out // under --json the story goes to stderr, the import to stdout
		if a.json {
			say = a.io.err
		}
		printPlanView(say, &p)
		ask := &prompter{io: io}
		for _, ack := range []struct {
			given *bool
			text  string
		}{
			{&ackChange, "I understand that this restore will change data in HubSpot"},
			{&ackIrreversible, "I understand that this restore cannot be undone"},
		} {
			if *ack.given {
				continue
			}
			if !io.terminal {
				fmt.Fprintln(io.err, "crmbackup restore execute: give --acknowledge-data-change and --acknowledge-irreversible (no terminal to ask)")
				return errUsage
			}
			ans, err := ask.line(ack.text + "? [y/N] ")
			if err != nil {
				return err
			}
			if !strings.EqualFold(ans, "y") && !strings.EqualFold(ans, "yes") {
				return apperr.New(apperr.Invalid, "not acknowledged: nothing was changed")
			}
			*ack.given = true
		}
		var im importView
		err := a.cl.doJSON(a.c.Context(), "POST", "/v1/restore-plans/"+url.PathEscape(p.ID)+"/execute", restore.Acknowledgements{DataChange: true, Irreversible: true}, &im)
		var ae *apiError
		if errors.As(err, &ae) && ae.Body.Error.Code == apperr.Reauth {
			if !io.terminal {
				return fmt.Errorf("%w (run `"+self()+" login` and execute again)", err)
			}
			fmt.Fprintln(io.err, "A restore needs a fresh two-factor sign-in.")
			email := ""
			if s, err := loadSession(a.t); err == nil {
				email = s.Email
			}
			if lerr := a.t.login(a.c.Context(), io, email); lerr != nil {
				return lerr
			}
			tok, _, terr := a.t.token(a.c.Context())
			if terr != nil {
				return terr
			}
			a.cl = newAPIClient(a.t.api, tok)
			err = a.cl.doJSON(a.c.Context(), "POST", "/v1/restore-plans/"+url.PathEscape(p.ID)+"/execute", restore.Acknowledgements{DataChange: true, Irreversible: true}, &im)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(say, "Import %q (%s) started: %s\n", im.Name, im.ID, im.Status)
		if watch {
			return a.watchImport(im.ID)
		}
		if a.json {
			return printJSON(a.io.out, im)
		}
		fmt.Fprintf(a.io.out, "Follow it: "+self()+" imports show %s\n", im.ID)
		return nil
	})
	execute.Flags().BoolVar(&ackChange, "acknowledge-data-change", false, "acknowledge that the restore changes data in HubSpot")
	execute.Flags().BoolVar(&ackIrreversible, "acknowledge-irreversible", false, "acknowledge that the restore cannot be undone")
	execute.Flags().BoolVar(&watch, "watch", true, "follow the import until it ends")
	return group("restore", "Restore properties of one object from a backup: objects, plan, show, execute", objects, plan, show, execute)
}

// restorable is a picker's RESTORABLE column: yes, or no and why.
func restorable(ok bool, why string) string {
	if ok {
		return "yes"
	}
	return "no: " + why
}

func (a *api) listProperties(backupID, object string) error {
	var v propertiesView
	if err := a.call("GET", "/v1/backups/"+url.PathEscape(backupID)+"/objects/"+url.PathEscape(object)+"/properties", nil, &v); err != nil || a.json {
		return err
	}
	w := a.table()
	fmt.Fprintln(w, "PROPERTY\tLABEL\tTYPE\tSENSITIVITY\tRESTORABLE")
	for _, p := range v.Properties {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.Name, p.Label, p.Type, p.Sensitivity, restorable(p.Restorable, p.Reason))
	}
	w.Flush()
	fmt.Fprintf(a.io.out, "\nPlan a restore of some: "+self()+" restore plan %s --object %s --properties a,b,c\n", backupID, object)
	return nil
}

// followPlan waits for a plan to be computed and prints it.
func (a *api) followPlan(p *planView) error {
	ctx := a.c.Context()
	for p.Status == restore.Planning {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		if _, err := a.cl.do(ctx, "GET", "/v1/restore-plans/"+url.PathEscape(p.ID), nil, p); err != nil {
			return err
		}
	}
	if a.json {
		printJSON(a.io.out, p)
	} else {
		printPlanView(a.io.out, p)
	}
	if p.Status == restore.PlanFailed {
		return fmt.Errorf("plan %s FAILED: %s", p.ID, p.Failure)
	}
	if !a.json {
		if c := p.Counts; c != nil && c.Updated+c.Cleared == 0 {
			fmt.Fprintln(a.io.out, "Nothing to restore: every value already equals the backup's.")
		} else {
			fmt.Fprintf(a.io.out, "Run it: "+self()+" restore execute %s\n", p.ID)
		}
	}
	return nil
}

func printPlanView(w io.Writer, p *planView) {
	fmt.Fprintf(w, "Restore plan %s: %s of backup %s, %s\n", p.ID, p.Object, p.BackupID, p.Status)
	if p.Tally != nil {
		printPlan(w, p)
	}
	if p.Failure != "" {
		fmt.Fprintf(w, "   failed: %s\n", p.Failure)
	}
	if !p.ExpiresAt.IsZero() {
		fmt.Fprintf(w, "   it can be executed until %s\n", when(p.ExpiresAt))
	}
}

// --- imports ---

type importList struct {
	Imports []importView `json:"imports"`
}

func importsCommand(io stdio) *cobra.Command {
	list := apiCommand(io, "list", "List the imports (restores), newest first", cobra.NoArgs, func(a *api, _ []string) error {
		var l importList
		if err := a.call("GET", "/v1/imports", nil, &l); err != nil || a.json {
			return err
		}
		w := a.table()
		fmt.Fprintln(w, "ID\tNAME\tSTARTED\tSTATUS\tUPDATED\tCLEARED\tUNCHANGED\tMISSING\tFAILED")
		for _, im := range l.Imports {
			c := im.Counts
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", im.ID, im.Name, when(im.StartedAt), im.Status, c.Updated, c.Cleared, c.Unchanged, c.Missing, c.Failed)
		}
		return w.Flush()
	})
	show := apiCommand(io, "show IMPORT", "Show an import: its counts and timing", cobra.ExactArgs(1), func(a *api, args []string) error {
		var im importView
		if err := a.call("GET", "/v1/imports/"+url.PathEscape(args[0]), nil, &im); err != nil || a.json {
			return err
		}
		printImport(a.io.out, &im)
		return nil
	})
	var out string
	errorsCmd := apiCommand(io, "errors IMPORT", "Download the CSV of the values HubSpot refused", cobra.ExactArgs(1), func(a *api, args []string) error {
		path, err := a.download("/v1/imports/"+url.PathEscape(args[0])+"/errors", out, args[0]+"-errors.csv", 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.io.out, "Saved %s\n", path)
		return nil
	})
	errorsCmd.Flags().StringVar(&out, "out", ".", "folder to save it in")
	return group("imports", "The imports restores made: list, show, errors", list, show, errorsCmd)
}

func printImport(w io.Writer, im *importView) {
	c := im.Counts
	fmt.Fprintf(w, "Import %q (%s): %s\n  started %s by %s", im.Name, im.ID, im.Status, when(im.StartedAt), im.StartedBy)
	if !im.CompletedAt.IsZero() {
		fmt.Fprintf(w, ", ended %s (%s)", when(im.CompletedAt), im.CompletedAt.Sub(im.StartedAt).Round(time.Second))
	}
	fmt.Fprintf(w, "\n  %d of %d records\n  values: %d updated, %d cleared, %d unchanged, %d failed; %d records missing (deleted since the backup: not restored)\n",
		im.RowsDone, im.Rows, c.Updated, c.Cleared, c.Unchanged, c.Failed, c.Missing)
	if im.Failure != "" {
		fmt.Fprintf(w, "  failed: %s\n", im.Failure)
	}
	if im.ErrorsURL != "" {
		fmt.Fprintf(w, "  %d values refused by HubSpot: "+self()+" imports errors %s\n", im.ErrorRows, im.ID)
	}
}

func (a *api) watchImport(id string) error {
	var im importView
	err := a.follow("restoring", func() (int64, int64, bool, error) {
		if err := a.cl.doJSON(a.c.Context(), "GET", "/v1/imports/"+url.PathEscape(id), nil, &im); err != nil {
			return 0, 0, false, err
		}
		return im.RowsDone, im.Rows, im.Status != restore.ImportRunning, nil
	})
	if errors.Is(err, errStalled) {
		return fmt.Errorf("import %s made no progress for %s", id, stallLimit)
	}
	if err != nil {
		return err
	}
	if a.json {
		printJSON(a.io.out, im)
	} else {
		printImport(a.io.out, &im)
	}
	if im.Status == restore.ImportFailed {
		return fmt.Errorf("import %s FAILED: %s", im.ID, im.Failure)
	}
	return nil
}

// --- audit and notifications ---

type auditList struct {
	Entries []audit.Entry `json:"entries"`
	Next    string        `json:"next"`
}

func auditCommand(io stdio) *cobra.Command {
	var action string
	var limit int
	c := apiCommand(io, "audit", "Read the account's audit log, newest first", cobra.NoArgs, func(a *api, _ []string) error {
		q := url.Values{"limit": {strconv.Itoa(limit)}}
		if action != "" {
			q.Set("action", action)
		}
		var l auditList
		if err := a.call("GET", "/v1/audit-log?"+q.Encode(), nil, &l); err != nil || a.json {
			return err
		}
		w := a.table()
		fmt.Fprintln(w, "AT\tACTOR\tACTION\tOUTCOME\tDETAILS")
		for _, e := range l.Entries {
			d, _ := json.Marshal(e.Details)
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.At.Local().Format("2006-01-02 15:04:05"), e.Actor, e.Action, e.Outcome, d)
		}
		return w.Flush()
	})
	c.Flags().StringVar(&action, "action", "", "only this action ("+strings.Join(audit.Actions, ", ")+")")
	c.Flags().IntVar(&limit, "limit", 50, "how many (1 to 100)")
	return c
}

type notificationList struct {
	Notifications []backup.Notification `json:"notifications"`
	Unread        int                   `json:"unread"`
	Next          string                `json:"next,omitempty"`
}

func notificationsCommand(io stdio) *cobra.Command {
	var unread bool
	c := apiCommand(io, "notifications", "Read your notifications (backups done or failed, restores, skipped runs)", cobra.NoArgs, func(a *api, _ []string) error {
		var l notificationList
		if err := a.cl.doJSON(a.c.Context(), "GET", "/v1/notifications?limit=100", nil, &l); err != nil {
			return err
		}
		if unread { // the newest 100, those not read
			l.Notifications = slices.DeleteFunc(l.Notifications, func(n backup.Notification) bool { return !n.ReadAt.IsZero() })
		}
		if a.json {
			return printJSON(a.io.out, l)
		}
		w := a.table()
		fmt.Fprintln(w, "ID\tAT\tREAD\tSUBJECT")
		for _, n := range l.Notifications {
			read := "yes"
			if n.ReadAt.IsZero() {
				read = "no"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", n.ID, when(n.CreatedAt), read, n.Subject)
		}
		w.Flush()
		fmt.Fprintf(a.io.out, "%d unread\n", l.Unread)
		return nil
	})
	c.Flags().BoolVar(&unread, "unread", false, "only the unread ones (of the newest 100)")
	c.AddCommand(
		apiCommand(io, "read ID", "Mark a notification read", cobra.ExactArgs(1), func(a *api, args []string) error {
			return a.call("POST", "/v1/notifications/"+url.PathEscape(args[0])+"/read", struct{}{}, nil)
		}),
		apiCommand(io, "read-all", "Mark every notification read", cobra.NoArgs, func(a *api, _ []string) error {
			return a.call("POST", "/v1/notifications/read-all", struct{}{}, nil)
		}),
	)
	return c
}

// doJSON is do for callers that need no response header.
func (c *apiClient) doJSON(ctx context.Context, method, path string, body, out any) error {
	_, err := c.do(ctx, method, path, body, out)
	return err
}
