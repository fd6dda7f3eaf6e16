package restore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/listing"
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
	// SSOMaxAge bounds how old a single sign-on session may be to execute
	// a restore (default DefaultSSOMaxAge): SSO sessions need no fresh
	// two-factor sign-in here (the identity provider did it), but not
	// forever.
	SSOMaxAge time.Duration
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

func (s *Service) now() time.Time    { return backup.Clock(s.Now) }
func (s *Service) log() *slog.Logger { return backup.Logger(s.Log) }

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// PlanRequest asks for a restore plan.
type PlanRequest struct {
	ObjectType string   `json:"objectType"` // name (deals) or type id (0-3, 2-…)
	Properties []string `json:"properties"`
}

// CreatePlan checks a request against the backup and the portal and starts
// the plan's computation. The plan is returned PLANNING.
func (s *Service) CreatePlan(ctx context.Context, accountID string, who audit.Actor, backupID string, req PlanRequest) (*Plan, error) {
	if req.ObjectType == "" {
		return nil, apperr.New(apperr.Invalid, "objectType: name the object to restore (companies, contacts, deals, tickets, products, calls, tasks or a custom object)")
	}
	b, err := s.restorableBackup(ctx, accountID, backupID)
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
	crm, current, err := s.portalProperties(ctx, accountID, o)
	if err != nil {
		return nil, err
	}
	sel, err := Select(o, req.Properties, current)
	if err != nil {
		return nil, err
	}
	if err := preflight(ctx, crm, o.ObjectTypeID, sel.Properties); err != nil {
		return nil, err
	}
	now := s.now()
	p := &Plan{
		AccountID: accountID, ID: backup.NewID(now), BackupID: b.ID,
		Object: o.Name, ObjectTypeID: o.ObjectTypeID, Label: o.Singular,
		Properties: sel.Properties, Excluded: sel.Excluded,
		Status: Planning, CreatedBy: who.Subject, CreatedAt: now, Rows: o.Rows,
		ExpiresAt: now.Add(orDefault(s.PlanTTL, 24*time.Hour)),
	}
	// A plan is executable only while a restore could still finish.
	if last := b.ExpiresAt.Add(-MaxRun); last.Before(p.ExpiresAt) {
		p.ExpiresAt = last
	}
	entry := audit.New(accountID, backup.NewID(now), now, who, audit.RestorePlanned, audit.Succeeded,
		map[string]any{"planId": p.ID, "backupId": b.ID, "objectType": p.Object, "properties": p.Properties})
	if err := s.Store.CreatePlan(ctx, p, entry); err != nil {
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

// DefaultSSOMaxAge is how old an SSO session may be to execute a restore
// unless configured (SSO_MAX_AGE_SECONDS).
const DefaultSSOMaxAge = 8 * time.Hour

// MaxRun is the longest a restore may run: the restore state machine's
// timeout (a test checks the two agree). A restore starts only while its
// backup's files are kept at least that long, so that no started restore
// meets its backup's expiry half-way.
const MaxRun = 24 * time.Hour

// portalProperties is the account's CRM and the object's properties in
// the portal now.
func (s *Service) portalProperties(ctx context.Context, accountID string, o *backup.ManifestObject) (CRM, []hubspot.Property, error) {
	acct, err := s.Store.Account(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	crm, err := s.CRMs.RestoreCRM(ctx, acct)
	if err != nil {
		return nil, nil, err
	}
	current, err := crm.Properties(ctx, o.ObjectTypeID)
	if err != nil {
		return nil, nil, fmt.Errorf("properties of %s now: %w", o.Name, err)
	}
	return crm, current, nil
}

// restorableBackup returns a completed backup of the account that a
// restore started now can finish from: it expires no sooner than MaxRun
// from now.
func (s *Service) restorableBackup(ctx context.Context, accountID, id string) (*backup.Backup, error) {
	b, err := s.completedBackup(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	switch {
	case b.Expired(now):
		return nil, apperr.New(apperr.Gone, "backup %s expired at %s: its files are deleted", id, b.ExpiresAt.Format(time.RFC3339))
	case b.ExpiresAt.Sub(now) < MaxRun:
		return nil, apperr.New(apperr.Gone, "backup %s expires at %s, sooner than the %s a restore may take: restore from a newer backup",
			id, b.ExpiresAt.Format(time.RFC3339), MaxRun).With("expiresAt", b.ExpiresAt.Format(time.RFC3339))
	}
	return b, nil
}

// completedBackup returns a completed backup of the account, expired or
// not: what the chunks of a started restore read (its start made sure the
// files outlive it).
func (s *Service) completedBackup(ctx context.Context, accountID, id string) (*backup.Backup, error) {
	b, err := s.Store.Backup(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	if b.Status != backup.Completed {
		return nil, apperr.New(apperr.Conflict, "backup %s is %s: only a completed backup can be restored from", id, b.Status)
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
	if ssoAge := orDefault(s.SSOMaxAge, DefaultSSOMaxAge); c.SSO() && !c.FreshSSO(now, ssoAge) {
		s.refused(ctx, c, planID, "single sign-on session too old", nil)
		return nil, apperr.New(apperr.Reauth, "a restore needs a single sign-on session of at most %s: sign in again", ssoAge).
			With("maxAgeSeconds", int(ssoAge.Seconds()))
	}
	if !c.SSO() && !c.FreshMFA(now, window) {
		s.refused(ctx, c, planID, "two-factor sign-in too old", nil)
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
	entry := audit.New(p.AccountID, backup.NewID(now), now, c.Actor(), audit.RestoreStarted, audit.Succeeded, details)
	lock := Lock{ImportID: im.ID, Until: now.Add(orDefault(s.LockTTL, 25*time.Hour))}
	if err := s.Store.StartImport(ctx, im, lock, entry); err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) && ae.Details["importId"] != nil {
			s.refused(ctx, c, planID, "another restore is running", map[string]any{"runningImportId": ae.Details["importId"]})
		}
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

// refused audits an execute refused for why.
func (s *Service) refused(ctx context.Context, c *auth.Caller, planID, why string, more map[string]any) {
	now := s.now()
	details := map[string]any{"planId": planID, "reason": why}
	for k, v := range more {
		details[k] = v
	}
	backup.AuditRefusal(ctx, s.Store, s.log(), audit.New(c.AccountID, backup.NewID(now), now, c.Actor(), audit.RestoreRefused, audit.Refused, details))
}

// fail ends a RUNNING import that did not run, releasing the lock.
func (s *Service) fail(ctx context.Context, im *Import, why string) error {
	f := *im
	f.Status, f.Failure, f.CompletedAt = ImportFailed, why, s.now()
	err := s.Store.FinishImport(ctx, &f, audit.New(im.AccountID, backup.NewID(f.CompletedAt), f.CompletedAt,
		audit.Actor{Subject: im.StartedBy}, audit.RestoreFailed, audit.Failed, map[string]any{"importId": im.ID, "failure": why}))
	if err != nil {
		return err
	}
	return s.Store.ReleaseLock(ctx, im.AccountID, im.ID)
}

// Import returns one import of an account.
func (s *Service) Import(ctx context.Context, accountID, id string) (*Import, error) {
	return s.Store.Import(ctx, accountID, id)
}

// Imports pages through an account's imports.
func (s *Service) Imports(ctx context.Context, accountID string, q listing.Query) (listing.Page[*Import], error) {
	return s.Store.Imports(ctx, accountID, q)
}

// ErrorsURL returns a short-lived URL of an import's error CSV, audited
// before it is handed out.
func (s *Service) ErrorsURL(ctx context.Context, accountID, id string, who audit.Actor) (string, error) {
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
	url, err := s.Blobs.PresignGet(ctx, im.ErrorKey, fmt.Sprintf("restore-errors-%s.csv", im.ID), orDefault(s.DownloadTTL, 5*time.Minute))
	if err != nil {
		return "", err
	}
	now := s.now()
	if err := s.Store.AddAudit(ctx, audit.New(accountID, backup.NewID(now), now, who, audit.ImportErrorsDownloaded, audit.Succeeded,
		map[string]any{"importId": im.ID, "errorRows": im.ErrorRows})); err != nil {
		return "", fmt.Errorf("audit the error file of %s: %w", im.ID, err)
	}
	return url, nil
}
