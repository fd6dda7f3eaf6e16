package restore

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
)

// Service plans and executes restores. Its step methods are safe to retry:
// Step Functions may run any of them again after a crash or a timeout.
type Service struct {
	Store     Store
	Blobs     backup.Blobs
	CRMs      Connector
	Runner    Runner
	Publisher backup.Publisher
	Log       *slog.Logger
	Now       func() time.Time
	// MFAWindow is how recent a two-factor sign-in must be to execute a
	// restore (default 5 minutes). SSO sessions are exempt.
	MFAWindow time.Duration
	// PlanTTL is how long a plan can be executed (default 24 hours, and
	// never after its backup expires): a plan describes the portal at plan
	// time, and an old one says little about what a restore will do.
	PlanTTL time.Duration
	// LockTTL bounds how long a restore that never released its lock (its
	// execution timed out or was stopped) blocks the next one (default 25
	// hours: the restore state machine's timeout plus an hour).
	LockTTL time.Duration
	// DownloadTTL is how long an error CSV's presigned URL works (default 5 min).
	DownloadTTL time.Duration
	// Link is the in-app link to an import, for notifications.
	Link func(accountID, importID string) string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Blob keys: error chunks are work files (a day), the error CSV lives
// beside the account's backups and expires with them (it holds values).
func errorChunkPrefix(accountID, importID string) string {
	return "work/" + accountID + "/imports/" + importID + "/errors/"
}

func errorChunkKey(accountID, importID string, row int64) string {
	return fmt.Sprintf("%s%012d.csv", errorChunkPrefix(accountID, importID), row)
}

func errorFileKey(accountID, importID string) string {
	return "backups/" + accountID + "/imports/" + importID + "/errors.csv"
}

// ErrorHeader is the error CSV's header.
var ErrorHeader = []string{"Record ID", "Property", "Value", "Error"}

// PlanRequest asks for a restore plan.
type PlanRequest struct {
	ObjectType string   `json:"objectType"` // name (deals) or type id (0-3, 2-…)
	Properties []string `json:"properties"`
}

// CreatePlan checks a request against the backup and the portal and starts
// the plan's computation. The plan is returned PLANNING.
func (s *Service) CreatePlan(ctx context.Context, accountID, by, backupID string, req PlanRequest) (*Plan, error) {
	if req.ObjectType == "" {
		return nil, apperr.New(apperr.Invalid, "objectType: name the object to restore (companies, contacts, deals, tickets, products, calls, tasks or a custom object)")
	}
	b, err := s.restorableBackup(ctx, accountID, backupID)
	if err != nil {
		return nil, err
	}
	acct, err := s.Store.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	archive, err := backup.OpenArchive(ctx, s.Blobs, b.Key)
	if err != nil {
		return nil, err
	}
	o, err := archive.Object(req.ObjectType)
	if err != nil {
		return nil, err
	}
	if err := Restorable(o); err != nil {
		return nil, err
	}
	crm, err := s.CRMs.RestoreCRM(ctx, acct)
	if err != nil {
		return nil, err
	}
	current, err := crm.Properties(ctx, o.ObjectTypeID)
	if err != nil {
		return nil, fmt.Errorf("properties of %s now: %w", o.Name, err)
	}
	sel, err := Select(o, req.Properties, current)
	if err != nil {
		return nil, err
	}
	now := s.now()
	p := &Plan{
		AccountID: accountID, ID: backup.NewID(now), BackupID: b.ID,
		Object: o.Name, ObjectTypeID: o.ObjectTypeID, Label: o.Singular,
		Properties: sel.Properties, Excluded: sel.Excluded,
		Status: Planning, CreatedBy: by, CreatedAt: now, Rows: o.Rows,
		ExpiresAt: now.Add(orDefault(s.PlanTTL, 24*time.Hour)),
	}
	if b.ExpiresAt.Before(p.ExpiresAt) {
		p.ExpiresAt = b.ExpiresAt
	}
	if err := s.Store.CreatePlan(ctx, p); err != nil {
		return nil, err
	}
	if err := s.Runner.StartPlan(ctx, accountID, p.ID); err != nil {
		p.Status, p.Failure = PlanFailed, "the plan could not be started"
		if uerr := s.Store.UpdatePlan(ctx, p, Planning); uerr != nil {
			s.log().ErrorContext(ctx, "failing an unstarted plan", "planId", p.ID, "error", uerr)
		}
		return nil, fmt.Errorf("start plan %s: %w", p.ID, err)
	}
	s.log().InfoContext(ctx, "restore plan started", "accountId", accountID, "planId", p.ID,
		"backupId", b.ID, "object", o.Name, "properties", len(p.Properties))
	return p, nil
}

// restorableBackup returns a completed, unexpired backup of the account.
func (s *Service) restorableBackup(ctx context.Context, accountID, id string) (*backup.Backup, error) {
	b, err := s.Store.Backup(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	switch {
	case b.Status != backup.Completed:
		return nil, apperr.New(apperr.Conflict, "backup %s is %s: only a completed backup can be restored from", id, b.Status)
	case b.Expired(s.now()):
		return nil, apperr.New(apperr.Gone, "backup %s expired at %s: its files are deleted", id, b.ExpiresAt.Format(time.RFC3339))
	}
	return b, nil
}

// Plan returns a plan of an account.
func (s *Service) Plan(ctx context.Context, accountID, id string) (*Plan, error) {
	return s.Store.Plan(ctx, accountID, id)
}

// Acknowledgements are what an admin ticks before a restore runs.
type Acknowledgements struct {
	DataChange   bool `json:"acknowledgeDataChange"`
	Irreversible bool `json:"acknowledgeIrreversible"`
}

// Execute starts a READY plan as an import, for a caller who acknowledged
// both warnings and signed in with two-factor within MFAWindow (or SSO),
// while no other restore of the account runs.
func (s *Service) Execute(ctx context.Context, c *auth.Caller, planID string, ack Acknowledgements) (*Import, error) {
	var missing []string
	if !ack.DataChange {
		missing = append(missing, "acknowledgeDataChange")
	}
	if !ack.Irreversible {
		missing = append(missing, "acknowledgeIrreversible")
	}
	if len(missing) > 0 {
		return nil, apperr.New(apperr.Invalid, "a restore needs both acknowledgements: data will change, and it cannot be undone").
			With("missing", missing)
	}
	now := s.now()
	window := orDefault(s.MFAWindow, 5*time.Minute)
	if !c.SSO() && !c.FreshMFA(now, window) {
		return nil, apperr.New(apperr.Reauth, "a restore needs a two-factor sign-in within the last %s: sign in again with two-factor authentication", window).
			With("maxAgeSeconds", int(window.Seconds()))
	}
	p, err := s.Store.Plan(ctx, c.AccountID, planID)
	if err != nil {
		return nil, err
	}
	switch {
	case p.Status == Planning:
		return nil, apperr.New(apperr.Conflict, "plan %s is still being computed (%d of %d records)", p.ID, p.RowsPlanned, p.Rows)
	case p.Status == PlanFailed:
		return nil, apperr.New(apperr.Conflict, "plan %s failed: %s; make a new plan", p.ID, p.Failure)
	case p.Status == Executed:
		return nil, apperr.New(apperr.Conflict, "plan %s was already executed as import %s", p.ID, p.ImportID).With("importId", p.ImportID)
	case !now.Before(p.ExpiresAt):
		return nil, apperr.New(apperr.Gone, "plan %s expired at %s: make a new plan", p.ID, p.ExpiresAt.Format(time.RFC3339))
	}
	b, err := s.restorableBackup(ctx, c.AccountID, p.BackupID)
	if err != nil {
		return nil, err
	}
	im := &Import{
		AccountID: p.AccountID, ID: backup.NewID(now), Name: ImportName(p.Label), PlanID: p.ID, BackupID: b.ID,
		Object: p.Object, ObjectTypeID: p.ObjectTypeID, Properties: p.Properties,
		Status: ImportRunning, StartedBy: c.Subject, StartedAt: now, Rows: p.Rows,
	}
	details := map[string]any{"importId": im.ID, "planId": p.ID, "backupId": b.ID, "objectType": p.Object,
		"properties": p.Properties, "sso": c.SSO()}
	if p.Tally != nil {
		details["planned"] = CountsOf(p.Tally)
	}
	audit := &AuditEntry{AccountID: p.AccountID, ID: backup.NewID(now), At: now, Actor: c.Subject, Action: "restore.started", Details: details}
	lock := Lock{ImportID: im.ID, Until: now.Add(orDefault(s.LockTTL, 25*time.Hour))}
	if err := s.Store.StartImport(ctx, im, lock, audit); err != nil {
		return nil, err
	}
	if err := s.Runner.StartRestore(ctx, im.AccountID, im.ID); err != nil {
		if ferr := s.fail(ctx, im, "the restore could not be started"); ferr != nil {
			s.log().ErrorContext(ctx, "failing an unstarted restore", "importId", im.ID, "error", ferr)
		}
		return nil, fmt.Errorf("start restore %s: %w", im.ID, err)
	}
	s.log().InfoContext(ctx, "restore started", "accountId", im.AccountID, "importId", im.ID, "planId", p.ID,
		"object", im.Object, "properties", len(im.Properties), "by", c.Subject)
	return im, nil
}

// fail ends a RUNNING import that did not run, releasing the lock.
func (s *Service) fail(ctx context.Context, im *Import, why string) error {
	f := *im
	f.Status, f.Failure, f.CompletedAt = ImportFailed, why, s.now()
	err := s.Store.FinishImport(ctx, &f, &AuditEntry{AccountID: im.AccountID, ID: backup.NewID(f.CompletedAt), At: f.CompletedAt,
		Actor: im.StartedBy, Action: "restore.failed", Details: map[string]any{"importId": im.ID, "failure": why}})
	if err != nil {
		return err
	}
	return s.Store.ReleaseLock(ctx, im.AccountID, im.ID)
}

// Import returns one import of an account.
func (s *Service) Import(ctx context.Context, accountID, id string) (*Import, error) {
	return s.Store.Import(ctx, accountID, id)
}

// Imports lists an account's imports, newest first.
func (s *Service) Imports(ctx context.Context, accountID string, limit int) ([]*Import, error) {
	return s.Store.Imports(ctx, accountID, backup.ListLimit(limit))
}

// AuditLog lists an account's audit entries, newest first.
func (s *Service) AuditLog(ctx context.Context, accountID string, limit int) ([]*AuditEntry, error) {
	return s.Store.AuditLog(ctx, accountID, backup.ListLimit(limit))
}

// ErrorsURL returns a short-lived URL of an import's error CSV.
func (s *Service) ErrorsURL(ctx context.Context, accountID, id string) (string, error) {
	im, err := s.Store.Import(ctx, accountID, id)
	if err != nil {
		return "", err
	}
	switch {
	case im.Status == ImportRunning:
		return "", apperr.New(apperr.Conflict, "import %s is still running: its errors are ready when it ends", id)
	case im.ErrorKey == "":
		return "", apperr.New(apperr.NotFound, "import %s has no errors", id)
	case !s.now().Before(im.CompletedAt.Add(backup.Retention)):
		return "", apperr.New(apperr.Gone, "the error file of import %s expired", id)
	}
	return s.Blobs.PresignGet(ctx, im.ErrorKey, fmt.Sprintf("restore-errors-%s.csv", im.ID), orDefault(s.DownloadTTL, 5*time.Minute))
}

// Step actions of the restore state machine.
const (
	ActionPlan       = "plan"
	ActionPlanDone   = "planDone"
	ActionPlanFailed = "planFailed"
	ActionExecute    = "execute"
	ActionFinish     = "finish"
)

// StepInput is what the restore state machine hands the restore function.
type StepInput struct {
	Action    string            `json:"action"`
	AccountID string            `json:"accountId"`
	PlanID    string            `json:"planId,omitempty"`
	ImportID  string            `json:"importId,omitempty"`
	Cursor    Cursor            `json:"cursor"`
	Error     *backup.StepError `json:"error,omitempty"`
}

// open gets what a pass over an object of a backup needs.
func (s *Service) open(ctx context.Context, accountID, backupID, object string, props []string) (*Pass, error) {
	acct, err := s.Store.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	b, err := s.restorableBackup(ctx, accountID, backupID)
	if err != nil {
		return nil, err
	}
	archive, err := backup.OpenArchive(ctx, s.Blobs, b.Key)
	if err != nil {
		return nil, err
	}
	o, err := archive.Object(object)
	if err != nil {
		return nil, err
	}
	crm, err := s.CRMs.RestoreCRM(ctx, acct)
	if err != nil {
		return nil, err
	}
	return &Pass{CRM: crm, Archive: archive, Sel: &Selection{Object: o, Properties: props}}, nil
}

// PlanChunk computes the next part of a PLANNING plan, until deadline.
func (s *Service) PlanChunk(ctx context.Context, in StepInput, deadline time.Time) (*Cursor, error) {
	p, err := s.Store.Plan(ctx, in.AccountID, in.PlanID)
	if err != nil {
		return nil, err
	}
	if p.Status != Planning {
		in.Cursor.Done = true // computed already: a retry after PlanDone
		return &in.Cursor, nil
	}
	pass, err := s.open(ctx, p.AccountID, p.BackupID, p.Object, p.Properties)
	if err != nil {
		return nil, err
	}
	cur, err := pass.Run(ctx, in.Cursor, deadline)
	if err != nil {
		return nil, err
	}
	p.RowsPlanned = cur.Row
	if err := s.Store.UpdatePlan(ctx, p, Planning); err != nil {
		return nil, err
	}
	return &cur, nil
}

// PlanDone makes a computed plan READY.
func (s *Service) PlanDone(ctx context.Context, in StepInput) error {
	return s.endPlan(ctx, in, func(p *Plan) {
		p.Status, p.ComputedAt, p.RowsPlanned = Ready, s.now(), in.Cursor.Row
		tally := in.Cursor.Tally
		p.Tally = &tally
	})
}

// PlanFailedStep marks a plan FAILED.
func (s *Service) PlanFailedStep(ctx context.Context, in StepInput) error {
	return s.endPlan(ctx, in, func(p *Plan) {
		p.Status, p.Failure = PlanFailed, failureText(in.Error)
	})
}

func (s *Service) endPlan(ctx context.Context, in StepInput, end func(*Plan)) error {
	p, err := s.Store.Plan(ctx, in.AccountID, in.PlanID)
	if err != nil {
		return err
	}
	if p.Status != Planning {
		return nil // ended already: a retry
	}
	end(p)
	err = s.Store.UpdatePlan(ctx, p, Planning)
	if err == nil {
		s.log().InfoContext(ctx, "restore plan ended", "accountId", p.AccountID, "planId", p.ID, "status", p.Status)
	}
	return err
}

func failureText(e *backup.StepError) string {
	if e == nil {
		return "unknown error"
	}
	switch e.Error {
	case "Permanent", "Transient":
		return e.Cause
	}
	return e.Error + ": " + e.Cause
}

// ExecuteChunk restores the next part of a RUNNING import, until deadline.
// Values HubSpot refuses go to an error chunk named by the cursor's row, so
// a retried chunk rewrites its own errors rather than adding to them.
func (s *Service) ExecuteChunk(ctx context.Context, in StepInput, deadline time.Time) (*Cursor, error) {
	im, err := s.Store.Import(ctx, in.AccountID, in.ImportID)
	if err != nil {
		return nil, err
	}
	if im.Status != ImportRunning {
		return nil, apperr.New(apperr.Conflict, "import %s is %s", im.ID, im.Status)
	}
	pass, err := s.open(ctx, im.AccountID, im.BackupID, im.Object, im.Properties)
	if err != nil {
		return nil, err
	}
	errs := &errorChunk{ctx: ctx, blobs: s.Blobs, key: errorChunkKey(im.AccountID, im.ID, in.Cursor.Row)}
	pass.Write, pass.Errors = true, errs.add
	cur, err := pass.Run(ctx, in.Cursor, deadline)
	if err != nil {
		errs.abort()
		return nil, err
	}
	if err := errs.close(); err != nil {
		return nil, err
	}
	if err := s.Store.SetImportProgress(ctx, im.AccountID, im.ID, cur.Row); err != nil {
		return nil, err
	}
	return &cur, nil
}

// errorChunk streams one chunk's refused values to a blob, created at the
// first one; a chunk without errors deletes what an earlier try wrote.
type errorChunk struct {
	ctx   context.Context
	blobs backup.Blobs
	key   string
	up    backup.Upload
	w     *csv.Writer
}

func (e *errorChunk) add(r ErrorRow) error {
	if e.up == nil {
		up, err := e.blobs.Create(e.ctx, e.key)
		if err != nil {
			return fmt.Errorf("error file: %w", err)
		}
		e.up, e.w = up, csv.NewWriter(up)
		e.w.UseCRLF = true
	}
	return e.w.Write([]string{r.RecordID, r.Property, r.Value, r.Error})
}

func (e *errorChunk) abort() {
	if e.up != nil {
		e.up.Abort()
	}
}

func (e *errorChunk) close() error {
	if e.up == nil {
		return e.blobs.Delete(e.ctx, e.key)
	}
	e.w.Flush()
	if err := e.w.Error(); err != nil {
		e.up.Abort()
		return fmt.Errorf("error file: %w", err)
	}
	return e.up.Close()
}

// Finish ends an import: its counts, its error CSV (the chunks joined under
// one header), the audit entry, the lock released, and the "import
// completed" notification. in.Error says the execution failed. Retrying it
// after any crash completes what is left.
func (s *Service) Finish(ctx context.Context, in StepInput) error {
	im, err := s.Store.Import(ctx, in.AccountID, in.ImportID)
	if err != nil {
		return err
	}
	if im.Status == ImportRunning {
		tally := in.Cursor.Tally
		im.Tally, im.Counts, im.RowsDone = &tally, CountsOf(&tally), in.Cursor.Row
		im.CompletedAt, im.Status = s.now(), ImportCompleted
		if in.Error != nil {
			im.Status, im.Failure = ImportFailed, failureText(in.Error)
		}
		if err := s.joinErrors(ctx, im); err != nil {
			return err
		}
		action := "restore.completed"
		if im.Status == ImportFailed {
			action = "restore.failed"
		}
		audit := &AuditEntry{AccountID: im.AccountID, ID: backup.NewID(im.CompletedAt), At: im.CompletedAt, Actor: im.StartedBy, Action: action,
			Details: map[string]any{"importId": im.ID, "planId": im.PlanID, "backupId": im.BackupID, "objectType": im.Object,
				"properties": im.Properties, "counts": im.Counts, "failure": im.Failure}}
		switch err := s.Store.FinishImport(ctx, im, audit); {
		case apperr.Is(err, apperr.Conflict): // an earlier try ended it: use what it wrote
			if im, err = s.Store.Import(ctx, in.AccountID, in.ImportID); err != nil {
				return err
			}
		case err != nil:
			return err
		}
	}
	// Ended (now or by an earlier try): make sure of the rest.
	if err := s.Store.ReleaseLock(ctx, im.AccountID, im.ID); err != nil {
		return err
	}
	if keys, err := s.Blobs.List(ctx, errorChunkPrefix(im.AccountID, im.ID)); err == nil && len(keys) > 0 {
		if err := s.Blobs.Delete(ctx, keys...); err != nil {
			s.log().WarnContext(ctx, "deleting error chunks", "importId", im.ID, "error", err)
		}
	}
	s.log().InfoContext(ctx, "restore ended", "accountId", im.AccountID, "importId", im.ID, "status", im.Status,
		"updated", im.Counts.Updated, "cleared", im.Counts.Cleared, "unchanged", im.Counts.Unchanged,
		"missing", im.Counts.Missing, "failed", im.Counts.Failed)
	return backup.Notifier{Store: s.Store, Publisher: s.Publisher}.Notify(ctx, s.notification(im))
}

// joinErrors writes the import's error CSV from its chunks, in row order.
func (s *Service) joinErrors(ctx context.Context, im *Import) error {
	keys, err := s.Blobs.List(ctx, errorChunkPrefix(im.AccountID, im.ID))
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	key := errorFileKey(im.AccountID, im.ID)
	up, err := s.Blobs.Create(ctx, key)
	if err != nil {
		return err
	}
	w := csv.NewWriter(up)
	w.UseCRLF = true
	w.Write(ErrorHeader)
	w.Flush()
	if err := w.Error(); err != nil {
		up.Abort()
		return err
	}
	for _, k := range keys { // List returns keys in order; chunk keys sort by row
		rc, err := s.Blobs.Get(ctx, k)
		if err != nil {
			up.Abort()
			return err
		}
		_, err = io.Copy(up, rc)
		rc.Close()
		if err != nil {
			up.Abort()
			return fmt.Errorf("join %s: %w", k, err)
		}
	}
	if err := up.Close(); err != nil {
		return err
	}
	im.ErrorKey, im.ErrorRows = key, im.Counts.Failed
	return nil
}

func (s *Service) notification(im *Import) *backup.Notification {
	n := &backup.Notification{AccountID: im.AccountID, ID: "import-" + im.ID, ImportID: im.ID, BackupID: im.BackupID, CreatedAt: im.CompletedAt}
	if s.Link != nil {
		n.Link = s.Link(im.AccountID, im.ID)
	}
	c := im.Counts
	counts := fmt.Sprintf("%d values updated, %d cleared, %d unchanged, %d failed; %d records no longer exist.",
		c.Updated, c.Cleared, c.Unchanged, c.Failed, c.Missing)
	if im.Status == ImportCompleted {
		n.Kind, n.Subject = "import.completed", "Your import \""+im.Name+"\" is complete"
		n.Message = fmt.Sprintf("The restore of %s from backup %s completed: %s", im.Object, im.BackupID, counts)
	} else {
		n.Kind, n.Subject = "import.failed", "Your import \""+im.Name+"\" failed"
		n.Message = fmt.Sprintf("The restore of %s from backup %s stopped: %s. Until it stopped: %s", im.Object, im.BackupID, im.Failure, counts)
	}
	if c.Missing > 0 {
		n.Message += " " + MissingAdvice
	}
	if c.Failed > 0 {
		n.Message += " The import's error file lists the values HubSpot refused."
	}
	return n
}
