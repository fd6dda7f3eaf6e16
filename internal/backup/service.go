package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/bufpool"
	"github.com/crmbackup/crmbackup/internal/listing"
)

// Service runs backups. Each workflow step is one method, safe to retry:
// Step Functions may run any of them again after a crash or a timeout.
type Service struct {
	Store     Store
	Blobs     Blobs
	CRMs      Connector
	Runner    Runner
	Publisher Publisher
	Log       *slog.Logger
	Now       func() time.Time
	// ChunkBytes ends an export chunk once its compressed size reaches it
	// (default 2 MiB, some 10,000 contacts): an export's memory is one
	// chunk, whatever the account's size, and a small account fills it as
	// a large one does.
	ChunkBytes int
	// RangedMin is how many records must be left after an object's first
	// page for the rest to be read as ranges side by side (default
	// RangedMin); SearchCatchUp how long the top range waits for search's
	// index (default SearchCatchUp).
	RangedMin     int
	SearchCatchUp time.Duration
	// ListReaders is how many readers read ranges with list chains of
	// their own beside the search readers, where the list's cursor
	// proves to work as a position (default listReaders; negative: none).
	ListReaders int
	// DownloadTTL is how long a presigned download URL works (default 5 min).
	DownloadTTL time.Duration
	// Link is the in-app link to a backup, for notifications.
	Link func(accountID, backupID string) string

	// chunkBufs keeps chunk buffers for the process's next exports.
	chunkBufs bufpool.Pool
}

func (s *Service) now() time.Time    { return Clock(s.Now) }
func (s *Service) log() *slog.Logger { return Logger(s.Log) }

// Clock is the time now gives, in UTC; the system's time when now is nil.
// The services' Now fields (tests set them) default to it.
func Clock(now func() time.Time) time.Time {
	if now != nil {
		return now().UTC()
	}
	return time.Now().UTC()
}

// Logger is l, or a logger that discards when l is nil (the services'
// Log fields).
func Logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// ValidID reports whether id is one NewID could have made (a ULID).
func ValidID(id string) bool {
	_, err := ulid.ParseStrict(id)
	return err == nil
}

// ids makes the process's ULIDs: within one millisecond they increase, so
// what one process writes in a row (a plan, then a refusal of its
// execution) lists in that order.
var ids = struct {
	sync.Mutex
	entropy *ulid.MonotonicEntropy
}{entropy: ulid.Monotonic(rand.Reader, 0)}

// NewID returns a ULID: unique, and sorting by time (and, within a
// millisecond, by the order this process made them).
func NewID(t time.Time) string {
	ids.Lock()
	defer ids.Unlock()
	return ulid.MustNew(ulid.Timestamp(t), ids.entropy).String()
}

// DerivedID is the ULID of time t whose random part derives from parts:
// the same parts give the same id, so what is keyed by it is written once
// however often it is retried (a scheduled run, a notification of an
// outcome).
func DerivedID(t time.Time, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return ulid.MustNew(ulid.Timestamp(t), bytes.NewReader(h.Sum(nil))).String()
}

// IDTime is the time a ULID holds (to the millisecond); zero if id is not one.
func IDTime(id string) time.Time {
	u, err := ulid.ParseStrict(id)
	if err != nil {
		return time.Time{}
	}
	return ulid.Time(u.Time()).UTC()
}

// FileName is a backup ZIP's name: crm-backup-<portal>-<UTC time>.zip.
func FileName(portalID int64, t time.Time) string {
	return "crm-backup-" + strconv.FormatInt(portalID, 10) + "-" + t.UTC().Format("20060102T150405Z") + ".zip"
}

// ScheduleSlack is how much earlier than its quota window allows a
// scheduled run may start: a daily schedule's runs are 23 hours apart on
// the day clocks go forward, and deliveries jitter by seconds, which must
// not skip a run that fits the quota by design.
const ScheduleSlack = time.Hour

// Create queues a manual backup of account for who, consuming the
// account's quota, and starts its workflow. A refusal for the quota is
// audited.
func (s *Service) Create(ctx context.Context, accountID string, who audit.Actor) (*Backup, error) {
	acct, err := s.Store.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	b := &Backup{AccountID: acct.ID, ID: NewID(now), Status: Queued, Trigger: Manual, RequestedBy: who.Subject, CreatedAt: now}
	if err := s.write(ctx, b, acct.Tier.QuotaWindow(), who); err != nil {
		if apperr.Is(err, apperr.QuotaUsed) {
			var ae *apperr.Error
			errors.As(err, &ae)
			AuditRefusal(ctx, s.Store, s.log(), audit.New(acct.ID, NewID(now), now, who, audit.BackupRefused, audit.Refused,
				map[string]any{"reason": "quota", "nextAllowedAt": ae.Details["nextAllowedAt"]}))
		}
		return nil, err
	}
	if err := s.start(ctx, b); err != nil {
		// The backup will never run: give the quota back.
		b.Failure = "the backup could not be started"
		if ferr := s.Store.FailBackup(ctx, b); ferr != nil {
			s.log().ErrorContext(ctx, "failing an unstarted backup", "backupId", b.ID, "error", ferr)
		}
		return nil, err
	}
	return b, nil
}

// CreateScheduled queues the run of acct's schedule due at at. The
// backup's id derives from the account and at, so the same run delivered
// twice (or retried) is one backup: created reports whether this call
// queued it. apperr.QuotaUsed when the quota is used (a manual backup ran
// within the window). A backup queued but not yet started (a crash between
// the two) is started again.
func (s *Service) CreateScheduled(ctx context.Context, acct *Account, at time.Time) (b *Backup, created bool, err error) {
	now := s.now()
	b = &Backup{AccountID: acct.ID, ID: DerivedID(at, acct.ID, "scheduled"), Status: Queued, Trigger: Scheduled,
		RequestedBy: audit.Schedule.Subject, CreatedAt: now}
	err = s.write(ctx, b, acct.Tier.QuotaWindow()-ScheduleSlack, audit.Schedule)
	if err == nil {
		// Not started (a crash, StartBackup failing): the backup stays
		// QUEUED, and the run's retry starts it.
		return b, true, s.start(ctx, b)
	}
	if !apperr.Is(err, apperr.Conflict) {
		return nil, false, err
	}
	cur, gerr := s.Store.Backup(ctx, acct.ID, b.ID)
	if gerr != nil {
		return nil, false, gerr
	}
	if cur.Status == Queued {
		if err := s.start(ctx, cur); err != nil {
			return nil, false, err
		}
	}
	return cur, false, nil
}

// write stores b with its audit entry, consuming the quota for window.
func (s *Service) write(ctx context.Context, b *Backup, window time.Duration, who audit.Actor) error {
	entry := audit.New(b.AccountID, NewID(b.CreatedAt), b.CreatedAt, who, audit.BackupCreated, audit.Succeeded,
		map[string]any{"backupId": b.ID, "trigger": string(b.Trigger)})
	return s.Store.CreateBackup(ctx, b, window, entry)
}

// start starts b's workflow (once, however often it is called).
func (s *Service) start(ctx context.Context, b *Backup) error {
	if err := s.Runner.StartBackup(ctx, b.AccountID, b.ID); err != nil {
		return fmt.Errorf("start backup %s: %w", b.ID, err)
	}
	s.log().InfoContext(ctx, "backup queued", "accountId", b.AccountID, "backupId", b.ID, "trigger", b.Trigger)
	return nil
}

// AuditRefusal records the audit entry of a refusal, logging a failure to:
// a refusal changes nothing, and losing its entry must not turn it into a
// server error.
func AuditRefusal(ctx context.Context, store interface {
	AddAudit(context.Context, *audit.Entry) error
}, log *slog.Logger, e *audit.Entry) {
	if err := store.AddAudit(ctx, e); err != nil {
		log.ErrorContext(ctx, "audit entry lost", "action", e.Action, "accountId", e.AccountID, "error", err)
	}
}

// Get returns one backup of an account.
func (s *Service) Get(ctx context.Context, accountID, id string) (*Backup, error) {
	return s.Store.Backup(ctx, accountID, id)
}

// List pages through an account's backups.
func (s *Service) List(ctx context.Context, accountID string, q listing.Query) (listing.Page[*Backup], error) {
	return s.Store.Backups(ctx, accountID, q)
}

// DownloadURL returns a short-lived URL of a completed backup's ZIP:
// apperr.Conflict before completion, apperr.Gone after expiry.
// The download is audited before the URL is handed out.
func (s *Service) DownloadURL(ctx context.Context, accountID, id string, who audit.Actor) (string, error) {
	b, err := s.Store.Backup(ctx, accountID, id)
	if err != nil {
		return "", err
	}
	switch {
	case b.Status == Failed:
		return "", apperr.New(apperr.Conflict, "backup %s failed: nothing to download", id)
	case b.Status != Completed:
		return "", apperr.New(apperr.Conflict, "backup %s is %s: it can be downloaded once completed", id, b.Status)
	case b.Expired(s.now()):
		return "", apperr.New(apperr.Gone, "backup %s expired at %s", id, b.ExpiresAt.Format(time.RFC3339))
	}
	ttl := s.DownloadTTL
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	url, err := s.Blobs.PresignGet(ctx, b.Key, b.FileName, ttl)
	if err != nil {
		return "", err
	}
	now := s.now()
	if err := s.Store.AddAudit(ctx, audit.New(accountID, NewID(now), now, who, audit.BackupDownloaded, audit.Succeeded,
		map[string]any{"backupId": b.ID, "fileName": b.FileName})); err != nil {
		return "", fmt.Errorf("audit download of %s: %w", b.ID, err)
	}
	return url, nil
}

// TimeZone is the portal's own time zone, as HubSpot's account
// information gives it.
func (s *Service) TimeZone(ctx context.Context, acct *Account) (string, error) {
	crm, err := s.CRMs.CRM(ctx, acct)
	if err != nil {
		return "", err
	}
	d, err := crm.AccountDetails(ctx)
	if err != nil {
		return "", fmt.Errorf("account details: %w", err)
	}
	return d.TimeZone, nil
}

func (s *Service) crm(ctx context.Context, accountID string) (CRM, *Account, error) {
	acct, err := s.Store.Account(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	crm, err := s.CRMs.CRM(ctx, acct)
	if err != nil {
		return nil, nil, fmt.Errorf("HubSpot connection of account %s: %w", accountID, err)
	}
	return crm, acct, nil
}
