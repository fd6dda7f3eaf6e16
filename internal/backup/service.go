package backup

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/bufpool"
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

// NewID returns a ULID: unique, and sorting by time.
func NewID(t time.Time) string {
	return ulid.MustNew(ulid.Timestamp(t), rand.Reader).String()
}

// FileName is a backup ZIP's name: crm-backup-<portal>-<UTC time>.zip.
func FileName(portalID int64, t time.Time) string {
	return "crm-backup-" + strconv.FormatInt(portalID, 10) + "-" + t.UTC().Format("20060102T150405Z") + ".zip"
}

// Create queues a backup of account for requestedBy, consuming the
// account's quota, and starts its workflow. A scheduled backup that finds
// the quota used is skipped, and the admins are told.
func (s *Service) Create(ctx context.Context, accountID, requestedBy string, trigger Trigger) (*Backup, error) {
	acct, err := s.Store.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	b := &Backup{AccountID: acct.ID, ID: NewID(now), Status: Queued, Trigger: trigger, RequestedBy: requestedBy, CreatedAt: now}
	if err := s.Store.CreateBackup(ctx, b, acct.Tier.QuotaWindow()); err != nil {
		if trigger == Scheduled && apperr.Is(err, apperr.QuotaUsed) {
			s.notify(ctx, &Notification{AccountID: acct.ID, Kind: "backup.skipped",
				Subject: "Scheduled CRM backup skipped",
				Message: "The scheduled backup was skipped because the account's backup quota is used: " + err.Error()})
		}
		return nil, err
	}
	if err := s.Runner.StartBackup(ctx, b.AccountID, b.ID); err != nil {
		// The backup will never run: give the quota back.
		b.Failure = "the backup could not be started"
		if ferr := s.Store.FailBackup(ctx, b); ferr != nil {
			s.log().ErrorContext(ctx, "failing an unstarted backup", "backupId", b.ID, "error", ferr)
		}
		return nil, fmt.Errorf("start backup %s: %w", b.ID, err)
	}
	s.log().InfoContext(ctx, "backup queued", "accountId", b.AccountID, "backupId", b.ID, "trigger", trigger)
	return b, nil
}

// Get returns one backup of an account.
func (s *Service) Get(ctx context.Context, accountID, id string) (*Backup, error) {
	return s.Store.Backup(ctx, accountID, id)
}

// List returns an account's backups, newest first.
func (s *Service) List(ctx context.Context, accountID string, limit int) ([]*Backup, error) {
	return s.Store.Backups(ctx, accountID, ListLimit(limit))
}

// List limits: a list returns DefaultListLimit items unless asked for 1 to
// MaxListLimit.
const (
	DefaultListLimit = 50
	MaxListLimit     = 100
)

// ListLimit is how many items a list returns when asked for n: 1 to
// MaxListLimit, DefaultListLimit unless said.
func ListLimit(n int) int {
	if n <= 0 || n > MaxListLimit {
		return DefaultListLimit
	}
	return n
}

// DownloadURL returns a short-lived URL of a completed backup's ZIP:
// apperr.Conflict before completion, apperr.Gone after expiry.
func (s *Service) DownloadURL(ctx context.Context, accountID, id string) (string, error) {
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
	return s.Blobs.PresignGet(ctx, b.Key, b.FileName, ttl)
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
