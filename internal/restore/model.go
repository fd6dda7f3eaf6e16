package restore

import (
	"context"
	"time"

	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/listing"
)

// PlanStatus is where a restore plan stands.
type PlanStatus string

// Plan statuses: PLANNING while the state machine compares the backup with
// the portal, READY for review, FAILED if that failed, EXECUTED once an
// import was started from it (a plan runs at most once).
const (
	Planning   PlanStatus = "PLANNING"
	Ready      PlanStatus = "READY"
	PlanFailed PlanStatus = "FAILED"
	Executed   PlanStatus = "EXECUTED"
)

// Plan is what restoring some properties of one object of a backup would
// change, computed against the portal at plan time.
type Plan struct {
	AccountID    string     `json:"accountId"`
	ID           string     `json:"planId"`
	BackupID     string     `json:"backupId"`
	Object       string     `json:"objectType"`
	ObjectTypeID string     `json:"objectTypeId"`
	Label        string     `json:"objectLabel"` // singular, e.g. "Deal"
	Properties   []string   `json:"properties"`
	Excluded     []Excluded `json:"excluded,omitempty"`
	Status       PlanStatus `json:"status"`
	CreatedBy    string     `json:"createdBy"`
	CreatedAt    time.Time  `json:"createdAt"`
	ComputedAt   time.Time  `json:"computedAt,omitzero"`
	// ExpiresAt: a plan is stale after a while (and when its backup
	// expires); it cannot be executed then.
	ExpiresAt time.Time `json:"expiresAt"`
	// RowsPlanned is the progress of a PLANNING plan.
	RowsPlanned int64  `json:"rowsPlanned"`
	Rows        int64  `json:"rows"` // records in the backup's CSV
	Tally       *Tally `json:"tally,omitempty"`
	Failure     string `json:"failure,omitempty"`
	ImportID    string `json:"importId,omitempty"`
}

// ImportStatus is where an import (an executed restore) stands.
type ImportStatus string

// Import statuses.
const (
	ImportRunning   ImportStatus = "RUNNING"
	ImportCompleted ImportStatus = "COMPLETED"
	ImportFailed    ImportStatus = "FAILED"
)

// ImportCounts are an import's results. Updated, Cleared, Unchanged and
// Failed count property values; Missing counts records of the backup that
// no longer exist.
type ImportCounts struct {
	Updated   int64 `json:"updated"`
	Cleared   int64 `json:"cleared"`
	Unchanged int64 `json:"unchanged"`
	Missing   int64 `json:"missing"`
	Failed    int64 `json:"failed"`
}

// CountsOf sums a tally up as an import's counts.
func CountsOf(t *Tally) ImportCounts {
	return ImportCounts{Updated: t.Values.Set, Cleared: t.Values.Cleared, Unchanged: t.Values.Unchanged,
		Missing: t.Records.Missing, Failed: t.Values.Failed}
}

// Import is an executed restore, shown like a HubSpot import named
// "Data restore - <singular label>".
type Import struct {
	AccountID    string       `json:"accountId"`
	ID           string       `json:"importId"`
	Name         string       `json:"name"`
	PlanID       string       `json:"planId"`
	BackupID     string       `json:"backupId"`
	Object       string       `json:"objectType"`
	ObjectTypeID string       `json:"objectTypeId"`
	Properties   []string     `json:"properties"`
	Status       ImportStatus `json:"status"`
	StartedBy    string       `json:"startedBy"`
	StartedAt    time.Time    `json:"startedAt"`
	CompletedAt  time.Time    `json:"completedAt,omitzero"`
	RowsDone     int64        `json:"rowsDone"`
	Rows         int64        `json:"rows"`
	Counts       ImportCounts `json:"counts"`
	Tally        *Tally       `json:"tally,omitempty"`
	// ErrorRows is how many values HubSpot refused; ErrorKey is where their
	// CSV is stored.
	ErrorRows int64  `json:"errorRows"`
	ErrorKey  string `json:"-"`
	Failure   string `json:"failure,omitempty"`
}

// ImportName is the name an import of an object gets.
func ImportName(singular string) string { return "Data restore - " + singular }

// Lock is the account's restore lock: one restore at a time.
type Lock struct {
	ImportID string
	// Until is when a lock whose holder never released it (an execution
	// that timed out or was stopped) may be taken over.
	Until time.Time
}

// Store keeps plans, imports, the restore lock and the audit log. Every
// state change is a conditional write.
type Store interface {
	Account(ctx context.Context, id string) (*backup.Account, error)
	Backup(ctx context.Context, accountID, id string) (*backup.Backup, error)

	// CreatePlan writes a new plan and its audit entry (apperr.Conflict if
	// its id exists).
	CreatePlan(ctx context.Context, p *Plan, entry *audit.Entry) error
	// Plan returns a plan (apperr.NotFound if unknown or expired).
	Plan(ctx context.Context, accountID, id string) (*Plan, error)
	// UpdatePlan writes p if the stored status is one of from.
	UpdatePlan(ctx context.Context, p *Plan, from ...PlanStatus) error

	// StartImport takes the account's restore lock, writes the import
	// (RUNNING), marks its plan EXECUTED and writes the audit entry, in
	// one transaction. apperr.Conflict if another restore holds an
	// unexpired lock (detail importId) or the plan is no longer READY.
	StartImport(ctx context.Context, im *Import, lock Lock, entry *audit.Entry) error
	Import(ctx context.Context, accountID, id string) (*Import, error)
	// Imports pages through an account's imports.
	Imports(ctx context.Context, accountID string, q listing.Query) (listing.Page[*Import], error)
	// SetImportProgress records the rows a RUNNING import has handled and
	// its counts so far (a checkpoint's: what an execution that ended
	// without its state still knows).
	SetImportProgress(ctx context.Context, accountID, id string, rows int64, tally *Tally) error
	// FinishImport writes a RUNNING import's end (COMPLETED or FAILED) and
	// its audit entry in one transaction. apperr.Conflict if it already
	// ended.
	FinishImport(ctx context.Context, im *Import, entry *audit.Entry) error
	// ReleaseLock releases the lock if importID holds it (and does nothing
	// otherwise: released already, or taken over after it expired).
	ReleaseLock(ctx context.Context, accountID, importID string) error
	// RestoreLock returns the account's lock (nil if free).
	RestoreLock(ctx context.Context, accountID string) (*Lock, error)

	// AddAudit stores an audit entry once (a refusal's).
	AddAudit(ctx context.Context, e *audit.Entry) error
	AddNotification(ctx context.Context, n *backup.Notification) (bool, error)
	MarkPublished(ctx context.Context, accountID, id string, at time.Time) error
}

// Runner starts the restore state machine: a plan's computation, or an
// import's execution. Starting the same one twice starts it once.
type Runner interface {
	StartPlan(ctx context.Context, accountID, planID string) error
	StartRestore(ctx context.Context, accountID, importID string) error
}

// Connector gives the CRM of an account, for reading and writing.
type Connector interface {
	RestoreCRM(ctx context.Context, a *backup.Account) (CRM, error)
}
