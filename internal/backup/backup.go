// Package backup is the domain of CRM backups: accounts and their quota, the
// backup lifecycle (QUEUED → RUNNING → COMPLETED | FAILED), object discovery,
// the export of one object to CSV chunks with a small checkpoint, and the
// ZIP with its manifest. It imports no AWS package: the ports it needs
// (Store, Blobs, CRM, Runner, Notifier) are interfaces defined here and
// implemented by adapters in sibling packages.
package backup

import (
	"context"
	"io"
	"iter"
	"time"

	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/listing"
)

// Tier is an account's HubSpot subscription tier; it sets the backup quota.
type Tier string

// Tiers.
const (
	Starter      Tier = "starter"
	Professional Tier = "professional"
	Enterprise   Tier = "enterprise"
)

// QuotaWindow is the rolling window in which an account may create one
// backup: a week for Starter and Professional, a day for Enterprise.
func (t Tier) QuotaWindow() time.Duration {
	if t == Enterprise {
		return 24 * time.Hour
	}
	return 7 * 24 * time.Hour
}

// Valid reports whether t is a known tier.
func (t Tier) Valid() bool { return t == Starter || t == Professional || t == Enterprise }

// Account is one HubSpot portal registered with crmbackup.
type Account struct {
	ID       string `json:"accountId"`
	PortalID int64  `json:"portalId"`
	Name     string `json:"name"`
	Tier     Tier   `json:"tier"`
	// TokenRef says where the portal's credential (a service key, or a
	// legacy private-app token) lives: a Secrets
	// Manager ARN on AWS, "env:NAME" or "file:PATH" locally. Never the token.
	TokenRef string `json:"tokenRef"`
	// RequestsPer10s is the portal's HubSpot rate limit (100 or 190).
	RequestsPer10s int `json:"requestsPer10s,omitempty"`
	// APIVersion is the HubSpot API version to speak: a dated one (YYYY-MM)
	// or "v3"; empty is the client's default, the latest dated version.
	APIVersion string `json:"apiVersion,omitempty"`
	// LeaveOutSensitive leaves Sensitive and Highly Sensitive properties out
	// of backups (the credential then needs no sensitive scope); the
	// manifest and the notification say so.
	LeaveOutSensitive bool `json:"leaveOutSensitive,omitempty"`
}

// Status of a backup.
type Status string

// Statuses.
const (
	Queued    Status = "QUEUED"
	Running   Status = "RUNNING"
	Completed Status = "COMPLETED"
	Failed    Status = "FAILED"
)

// Trigger says who asked for a backup.
type Trigger string

// Triggers.
const (
	Manual    Trigger = "manual"
	Scheduled Trigger = "scheduled"
)

// Retention is how long a completed backup can be downloaded.
const Retention = 14 * 24 * time.Hour

// Backup is one backup run of one account.
type Backup struct {
	AccountID   string    `json:"accountId"`
	ID          string    `json:"backupId"`
	Status      Status    `json:"status"`
	Trigger     Trigger   `json:"trigger"`
	RequestedBy string    `json:"requestedBy,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	StartedAt   time.Time `json:"startedAt,omitzero"`
	CompletedAt time.Time `json:"completedAt,omitzero"`
	ExpiresAt   time.Time `json:"expiresAt,omitzero"`
	// Failure is a reason safe to show an admin.
	Failure string `json:"failure,omitempty"`
	// Progress is the number of records exported so far, by object.
	Progress map[string]int64 `json:"progress,omitempty"`
	// Set on completion.
	FileName string          `json:"fileName,omitempty"`
	Key      string          `json:"-"` // S3 key of the ZIP
	Size     int64           `json:"size,omitempty"`
	SHA256   string          `json:"sha256,omitempty"`
	Objects  []ObjectSummary `json:"objects,omitempty"`
	// Omitted says what the backup does not hold, and why.
	Omitted []Omission `json:"omitted,omitempty"`
}

// ObjectSummary is what a completed backup holds of one object.
type ObjectSummary struct {
	Name string `json:"name"`
	File string `json:"file,omitempty"` // "" when the object had no records
	Rows int64  `json:"rows"`
}

// Expired reports whether a completed backup's download window has passed.
func (b *Backup) Expired(now time.Time) bool {
	return b.Status == Completed && !b.ExpiresAt.IsZero() && !now.Before(b.ExpiresAt)
}

// Notification is an in-app notification (and the body of the SNS message).
type Notification struct {
	AccountID string    `json:"accountId"`
	ID        string    `json:"id"` // a ULID: notifications sort by time
	CreatedAt time.Time `json:"createdAt"`
	Kind      string    `json:"kind"` // backup.completed, backup.failed, backup.skipped, schedule.disabled, import.completed, import.failed
	Subject   string    `json:"subject"`
	Message   string    `json:"message"`
	BackupID  string    `json:"backupId,omitempty"`
	ImportID  string    `json:"importId,omitempty"`
	Link      string    `json:"link,omitempty"`
	// ReadAt is when an admin marked it read (zero: unread).
	ReadAt time.Time `json:"readAt,omitzero"`
	// PublishedAt is when it went out by e-mail (SNS); zero: not yet.
	PublishedAt time.Time `json:"-"`
}

// Store keeps accounts, backups, quotas, notifications and the audit log.
// Every state change is conditional: no lost update, no double quota.
type Store interface {
	Account(ctx context.Context, id string) (*Account, error)
	PutAccount(ctx context.Context, a *Account) error
	// CreateBackup writes b (QUEUED), consumes the account's quota for
	// window and writes the audit entry, in one transaction. It fails with
	// apperr.Conflict when b exists (whatever the quota), else
	// apperr.QuotaUsed (detail nextAllowedAt) when the quota is used.
	CreateBackup(ctx context.Context, b *Backup, window time.Duration, entry *audit.Entry) error
	Backup(ctx context.Context, accountID, id string) (*Backup, error)
	// Backups pages through an account's backups.
	Backups(ctx context.Context, accountID string, q listing.Query) (listing.Page[*Backup], error)
	// UpdateBackup writes b if the stored status is one of from
	// (apperr.Conflict otherwise).
	UpdateBackup(ctx context.Context, b *Backup, from ...Status) error
	// SetProgress records how many records of object a running backup has
	// exported (for the progress an admin sees).
	SetProgress(ctx context.Context, accountID, backupID, object string, rows int64) error
	// FailBackup marks b FAILED and refunds the quota it consumed, in one
	// transaction, if it is not already finished.
	FailBackup(ctx context.Context, b *Backup) error
	// AddNotification stores n once: adding an id again changes nothing.
	// published says whether the stored one was published already.
	AddNotification(ctx context.Context, n *Notification) (published bool, err error)
	// MarkPublished records that a notification went out.
	MarkPublished(ctx context.Context, accountID, id string, at time.Time) error
	// AddAudit stores an audit entry once: adding an id again changes nothing.
	AddAudit(ctx context.Context, e *audit.Entry) error
}

// Blobs stores files: chunks, ZIPs, per-backup metadata. Reads and writes
// stream; nothing needs a whole file in memory.
type Blobs interface {
	// Put stores a small file whole.
	Put(ctx context.Context, key string, body []byte) error
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// GetRange reads n bytes from offset off.
	GetRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error)
	Size(ctx context.Context, key string) (int64, error)
	// Create starts a streaming (multipart) upload; nothing is visible at
	// key until Close succeeds, and Abort discards it.
	Create(ctx context.Context, key string) (Upload, error)
	List(ctx context.Context, prefix string) ([]string, error)
	Delete(ctx context.Context, keys ...string) error
	// PresignGet returns a URL that downloads key for ttl, saved as fileName.
	PresignGet(ctx context.Context, key, fileName string, ttl time.Duration) (string, error)
}

// Upload is a file being written.
type Upload interface {
	io.Writer
	Close() error // completes the upload
	Abort() error
}

// CRM reads one portal's CRM: implemented by *hubspot.Client.
type CRM interface {
	AccountDetails(ctx context.Context) (*hubspot.AccountDetails, error)
	Schemas(ctx context.Context) ([]hubspot.Schema, error)
	Properties(ctx context.Context, objectType string) ([]hubspot.Property, error)
	Pages(ctx context.Context, objectType string, opts hubspot.ListOptions) iter.Seq2[*hubspot.Page, error]
	ThreadPages(ctx context.Context, opts hubspot.ListOptions) iter.Seq2[*hubspot.Page, error]
}

// Connector gives the CRM of an account (resolving its token).
type Connector interface {
	CRM(ctx context.Context, a *Account) (CRM, error)
}

// Runner starts the backup workflow of a backup. Starting the same backup
// twice starts it once.
type Runner interface {
	StartBackup(ctx context.Context, accountID, backupID string) error
}

// Publisher sends a notification out (SNS, e-mail; a log locally).
type Publisher interface {
	Publish(ctx context.Context, n *Notification) error
}
