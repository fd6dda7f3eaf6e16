// Package memstore is an in-memory metadata store: backup.Store and
// restore.Store on one value, as the DynamoDB adapter (package dynamo)
// implements both on one table. It exists so that the domain packages'
// own tests run in seconds with Go alone; it passes the same conformance
// suites (backuptest.TestStore, restoretest.TestStore) as the DynamoDB
// adapter, which stays the store of every deployment and of the local stack.
//
// Every operation holds one mutex, so the DynamoDB adapter's transactions
// are all-or-nothing here too; values are copied in and out, so a caller
// that changes what it stored or got back changes nothing in the store.
package memstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/restore"
)

// Store holds the items of every account.
type Store struct {
	mu       sync.Mutex
	accounts map[string]*account
}

type account struct {
	meta          *backup.Account
	quota         quota
	backups       map[string]*backup.Backup
	notifications map[string]*backup.Notification
	plans         map[string]*restore.Plan
	imports       map[string]*restore.Import
	lock          *restore.Lock
	audit         map[string]*restore.AuditEntry // by the dynamo adapter's sort key: time, then id
}

// quota is the account's quota item: the backup that consumed it last and
// the one before (for a refund).
type quota struct {
	lastAt, prevAt         time.Time
	backupID, prevBackupID string
	used                   bool
}

var (
	_ backup.Store  = (*Store)(nil)
	_ restore.Store = (*Store)(nil)
)

// New returns an empty store.
func New() *Store { return &Store{accounts: map[string]*account{}} }

// acct returns an account's items, creating the (empty) partition: DynamoDB
// has no partition to create either.
func (s *Store) acct(id string) *account {
	a := s.accounts[id]
	if a == nil {
		a = &account{backups: map[string]*backup.Backup{}, notifications: map[string]*backup.Notification{},
			plans: map[string]*restore.Plan{}, imports: map[string]*restore.Import{}, audit: map[string]*restore.AuditEntry{}}
		s.accounts[id] = a
	}
	return a
}

// clone copies v deeply, through JSON as the DynamoDB adapter's items go
// through their attribute values.
func clone[T any](v *T) *T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("memstore: encode %T: %v", v, err))
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("memstore: decode %T: %v", v, err))
	}
	return out
}

func cloneBackup(b *backup.Backup) *backup.Backup {
	c := clone(b)
	c.Key = b.Key // not in its JSON
	return c
}

func cloneImport(im *restore.Import) *restore.Import {
	c := clone(im)
	c.ErrorKey = im.ErrorKey // not in its JSON
	return c
}

// newest returns the values of m sorted by key, newest (largest) first, at
// most limit of them, copied.
func newest[T any](m map[string]*T, limit int, copyOf func(*T) *T) []*T {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int { return cmp.Compare(b, a) })
	var out []*T
	for _, k := range keys {
		if len(out) == limit {
			break
		}
		out = append(out, copyOf(m[k]))
	}
	return out
}

// stamp is the dynamo adapter's sort-key form of a time.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// --- accounts ---

// Account returns an account (apperr.NotFound if unknown).
func (s *Store) Account(_ context.Context, id string) (*backup.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[id]
	if a == nil || a.meta == nil {
		return nil, apperr.New(apperr.NotFound, "no account %q", id)
	}
	return clone(a.meta), nil
}

// PutAccount creates or replaces an account.
func (s *Store) PutAccount(_ context.Context, a *backup.Account) error {
	if a.ID == "" || !a.Tier.Valid() {
		return apperr.New(apperr.Invalid, "an account needs an id and a tier (starter, professional, enterprise)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acct(a.ID).meta = clone(a)
	return nil
}

// --- backups ---

// CreateBackup writes b and consumes the quota, all or nothing.
func (s *Store) CreateBackup(_ context.Context, b *backup.Backup, window time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(b.AccountID)
	if _, ok := a.backups[b.ID]; ok {
		return apperr.New(apperr.Conflict, "backup %s exists", b.ID)
	}
	q := &a.quota
	if q.used && q.lastAt.After(b.CreatedAt.Add(-window)) {
		next := q.lastAt.Add(window)
		return apperr.New(apperr.QuotaUsed, "the account's backup quota is used until %s (backup %s)", next.Format(time.RFC3339), q.backupID).
			With("nextAllowedAt", next.Format(time.RFC3339))
	}
	// As the dynamo adapter: the previous consumption is kept for a refund.
	q.prevAt, q.prevBackupID = q.lastAt, q.backupID
	q.lastAt, q.backupID, q.used = b.CreatedAt, b.ID, true
	a.backups[b.ID] = cloneBackup(b)
	return nil
}

// Backup returns one backup (apperr.NotFound if unknown).
func (s *Store) Backup(_ context.Context, accountID, id string) (*backup.Backup, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.acct(accountID).backups[id]
	if !ok {
		return nil, apperr.New(apperr.NotFound, "no backup %q", id)
	}
	return cloneBackup(b), nil
}

// Backups lists an account's backups, newest first.
func (s *Store) Backups(_ context.Context, accountID string, limit int) ([]*backup.Backup, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return newest(s.acct(accountID).backups, limit, cloneBackup), nil
}

// UpdateBackup writes b if its stored status is one of from.
func (s *Store) UpdateBackup(_ context.Context, b *backup.Backup, from ...backup.Status) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updateBackup(b, from)
}

func (s *Store) updateBackup(b *backup.Backup, from []backup.Status) error {
	a := s.acct(b.AccountID)
	cur, ok := a.backups[b.ID]
	if !ok || (len(from) > 0 && !slices.Contains(from, cur.Status)) {
		return apperr.New(apperr.Conflict, "backup %s is no longer %v", b.ID, from)
	}
	a.backups[b.ID] = cloneBackup(b)
	return nil
}

// SetProgress records the rows exported of one object of a running backup.
func (s *Store) SetProgress(_ context.Context, accountID, backupID, object string, rows int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.acct(accountID).backups[backupID]
	if !ok || b.Status != backup.Running {
		return apperr.New(apperr.Conflict, "backup %s is not running", backupID)
	}
	if b.Progress == nil {
		b.Progress = map[string]int64{}
	}
	b.Progress[object] = rows
	return nil
}

// FailBackup marks b FAILED (from QUEUED or RUNNING) and refunds the quota
// it consumed, if it still holds it.
func (s *Store) FailBackup(_ context.Context, b *backup.Backup) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := cloneBackup(b)
	f.Status = backup.Failed
	if err := s.updateBackup(f, []backup.Status{backup.Queued, backup.Running}); err != nil {
		cur, ok := s.acct(b.AccountID).backups[b.ID]
		if !ok {
			return apperr.New(apperr.NotFound, "no backup %q", b.ID)
		}
		if cur.Status != backup.Failed {
			return apperr.New(apperr.Conflict, "backup %s is %s: it cannot fail", b.ID, cur.Status)
		}
	}
	if q := &s.acct(b.AccountID).quota; q.used && q.backupID == b.ID {
		q.lastAt, q.backupID = q.prevAt, q.prevBackupID
		q.used = q.backupID != ""
	}
	return nil
}

// --- notifications ---

// AddNotification stores n once: adding the same id again changes nothing.
func (s *Store) AddNotification(_ context.Context, n *backup.Notification) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(n.AccountID)
	if _, ok := a.notifications[n.ID]; !ok {
		a.notifications[n.ID] = clone(n)
	}
	return nil
}

// Notifications lists an account's notifications, newest first.
func (s *Store) Notifications(_ context.Context, accountID string, limit int) ([]*backup.Notification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return newest(s.acct(accountID).notifications, limit, clone[backup.Notification]), nil
}

// --- plans ---

// CreatePlan writes a new plan.
func (s *Store) CreatePlan(_ context.Context, p *restore.Plan) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(p.AccountID)
	if _, ok := a.plans[p.ID]; ok {
		return apperr.New(apperr.Conflict, "plan %s exists", p.ID)
	}
	a.plans[p.ID] = clone(p)
	return nil
}

// Plan returns a plan.
func (s *Store) Plan(_ context.Context, accountID, id string) (*restore.Plan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.acct(accountID).plans[id]
	if !ok {
		return nil, apperr.New(apperr.NotFound, "no restore plan %q", id)
	}
	return clone(p), nil
}

// UpdatePlan writes p if its stored status is one of from.
func (s *Store) UpdatePlan(_ context.Context, p *restore.Plan, from ...restore.PlanStatus) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(p.AccountID)
	cur, ok := a.plans[p.ID]
	if !ok || (len(from) > 0 && !slices.Contains(from, cur.Status)) {
		return apperr.New(apperr.Conflict, "plan %s is no longer %v", p.ID, from)
	}
	a.plans[p.ID] = clone(p)
	return nil
}

// --- imports, the lock, the audit log ---

func auditKey(e *restore.AuditEntry) string { return stamp(e.At) + "#" + e.ID }

// StartImport takes the lock, writes the import, marks the plan EXECUTED
// and writes the audit entry, all or nothing.
func (s *Store) StartImport(_ context.Context, im *restore.Import, lock restore.Lock, audit *restore.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(im.AccountID)
	p, planOK := a.plans[im.PlanID]
	_, imported := a.imports[im.ID]
	_, audited := s.acct(audit.AccountID).audit[auditKey(audit)]
	switch {
	case a.lock != nil && a.lock.Until.After(im.StartedAt):
		return apperr.New(apperr.Conflict, "another restore of this account is running: one restore at a time").
			With("importId", a.lock.ImportID)
	case !planOK || p.Status != restore.Ready:
		return apperr.New(apperr.Conflict, "plan %s is no longer ready: it was executed or changed", im.PlanID)
	case imported || audited:
		return apperr.New(apperr.Conflict, "import %s exists", im.ID)
	}
	l := lock
	a.lock = &l
	a.imports[im.ID] = cloneImport(im)
	p.Status, p.ImportID = restore.Executed, im.ID
	s.acct(audit.AccountID).audit[auditKey(audit)] = clone(audit)
	return nil
}

// Import returns one import.
func (s *Store) Import(_ context.Context, accountID, id string) (*restore.Import, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	im, ok := s.acct(accountID).imports[id]
	if !ok {
		return nil, apperr.New(apperr.NotFound, "no import %q", id)
	}
	return cloneImport(im), nil
}

// Imports lists an account's imports, newest first.
func (s *Store) Imports(_ context.Context, accountID string, limit int) ([]*restore.Import, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return newest(s.acct(accountID).imports, limit, cloneImport), nil
}

// SetImportProgress records the rows a RUNNING import has handled.
func (s *Store) SetImportProgress(_ context.Context, accountID, id string, rows int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	im, ok := s.acct(accountID).imports[id]
	if !ok || im.Status != restore.ImportRunning {
		return apperr.New(apperr.Conflict, "import %s is not running", id)
	}
	im.RowsDone = rows
	return nil
}

// FinishImport writes a RUNNING import's end and its audit entry.
func (s *Store) FinishImport(_ context.Context, im *restore.Import, audit *restore.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(im.AccountID)
	cur, ok := a.imports[im.ID]
	if !ok || cur.Status != restore.ImportRunning {
		return apperr.New(apperr.Conflict, "import %s already ended", im.ID)
	}
	a.imports[im.ID] = cloneImport(im)
	s.acct(audit.AccountID).audit[auditKey(audit)] = clone(audit)
	return nil
}

// ReleaseLock releases the lock if importID holds it.
func (s *Store) ReleaseLock(_ context.Context, accountID, importID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.acct(accountID); a.lock != nil && a.lock.ImportID == importID {
		a.lock = nil
	}
	return nil
}

// RestoreLock returns the account's restore lock, nil if free.
func (s *Store) RestoreLock(_ context.Context, accountID string) (*restore.Lock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.acct(accountID).lock
	if l == nil {
		return nil, nil
	}
	c := *l
	c.Until = c.Until.UTC()
	return &c, nil
}

// AuditLog lists an account's audit entries, newest first.
func (s *Store) AuditLog(_ context.Context, accountID string, limit int) ([]*restore.AuditEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return newest(s.acct(accountID).audit, limit, clone[restore.AuditEntry]), nil
}
