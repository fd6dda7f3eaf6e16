// Package memstore is an in-memory metadata store: one type that implements
// both backup.Store and restore.Store, as *dynamo.Store does on one DynamoDB
// table. It exists so that the domain packages' tests run in seconds with Go
// alone (no Java for DynamoDB Local). DynamoDB (package dynamo) remains the
// production adapter; memstore passes the same conformance suites
// (backuptest.TestStore, restoretest.TestStore) and mirrors its behaviour:
// the same apperr codes, messages and details, the same conditions, the same
// orders.
//
// One mutex guards the whole store, so every transaction is trivially
// atomic. Values are deep-copied on the way in and out: nothing a caller
// holds aliases what the store keeps. Times come back in UTC with their
// nanoseconds and without a monotonic reading, as they do from DynamoDB.
//
// Items DynamoDB deletes by TTL (notifications after 90 days, plans a week
// after they expire, locks a day after) are kept: TTL deletion is best
// effort, and a read before it returns the item in DynamoDB too.
package memstore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/listing"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/stamp"
)

// Store is the in-memory store. The zero value is not usable: call New.
type Store struct {
	mu       sync.Mutex
	accounts map[string]*account // by account id: the table's partitions
}

// account is one partition (PK = ACCOUNT#<id>) of the DynamoDB table.
type account struct {
	meta    *backup.Account                 // META
	quota   *quota                          // QUOTA
	backups map[string]*backup.Backup       // BACKUP#<id>
	notifs  map[string]*backup.Notification // NOTIF#<id>
	plans   map[string]*restore.Plan        // PLAN#<id>
	imports map[string]*restore.Import      // IMPORT#<id>
	lock    *restoreLock                    // LOCK#RESTORE
	audit   map[string]*audit.Entry         // AUDIT#<id>
	sched   *scheduleItem                   // SCHEDULE
	removed *int64                          // ACCOUNTS/ACCOUNT#<id> of a removed account: its portal
}

// quota is the QUOTA item: the last consumption and the one before it, so a
// failure can refund. Times are stamps, compared as strings as DynamoDB does.
type quota struct {
	lastAt, backupID     string
	prevAt, prevBackupID string
}

// restoreLock is the LOCK#RESTORE item; until is a stamp.
type restoreLock struct {
	importID string
	until    string
}

// New returns an empty store.
func New() *Store { return &Store{accounts: map[string]*account{}} }

var (
	_ backup.Store  = (*Store)(nil)
	_ restore.Store = (*Store)(nil)
)

// get returns an account's partition, nil if it has no item.
func (s *Store) get(id string) *account { return s.accounts[id] }

// partition returns an account's partition, creating it.
func (s *Store) partition(id string) *account {
	a := s.accounts[id]
	if a == nil {
		a = &account{
			backups: map[string]*backup.Backup{},
			notifs:  map[string]*backup.Notification{},
			plans:   map[string]*restore.Plan{},
			imports: map[string]*restore.Import{},
			audit:   map[string]*audit.Entry{},
		}
		s.accounts[id] = a
	}
	return a
}

// utc is a time as it comes back from DynamoDB: UTC, no monotonic reading,
// the zero time as time.Time{}.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// pageOf is one page of m (keyed by ULIDs) as the DynamoDB adapter's
// Query gives it: the keys q selects, in its order, those keep accepts
// (a FilterExpression: nil keeps all), each copied by clone.
func pageOf[T any](m map[string]*T, q listing.Query, keep func(*T) bool, clone func(*T) *T) listing.Page[*T] {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if keep == nil || keep(v) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	sel, next := listing.Select(keys, q)
	out := listing.Page[*T]{Next: next}
	for _, k := range sel {
		out.Items = append(out.Items, clone(m[k]))
	}
	return out
}

// notFound is the NotFound error of the DynamoDB adapter.
func notFound(format string, args ...any) error { return apperr.New(apperr.NotFound, format, args...) }

// one is the read of a single item: a copy of what pick finds in
// accountID's partition, or apperr.NotFound with the message given.
func one[T any](ctx context.Context, s *Store, accountID string, pick func(*account) *T, clone func(*T) *T, format string, args ...any) (*T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.get(accountID); a != nil {
		if v := pick(a); v != nil {
			return clone(v), nil
		}
	}
	return nil, notFound(format, args...)
}

// many is the read of a list: a page of the items of accountID's
// partition that items gives (see pageOf).
func many[T any](ctx context.Context, s *Store, accountID string, items func(*account) map[string]*T, q listing.Query, keep func(*T) bool, clone func(*T) *T) (listing.Page[*T], error) {
	if err := ctx.Err(); err != nil {
		return listing.Page[*T]{}, err
	}
	if err := q.Check(); err != nil {
		return listing.Page[*T]{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.get(accountID)
	if a == nil {
		return listing.Page[*T]{}, nil
	}
	return pageOf(items(a), q, keep, clone), nil
}

// oneOf is the DynamoDB adapter's statusOneOf: the item exists and, if from
// is not empty, its status is one of from.
func oneOf[S ~string](exists bool, status S, from []S) bool {
	return exists && (len(from) == 0 || slices.Contains(from, status))
}

// --- copies ---

func copyBackup(b *backup.Backup) *backup.Backup {
	c := *b
	// Times as stored (UTC); the progress map is always there (SetProgress
	// writes into it), even if empty.
	c.CreatedAt, c.StartedAt = utc(b.CreatedAt), utc(b.StartedAt)
	c.CompletedAt, c.ExpiresAt = utc(b.CompletedAt), utc(b.ExpiresAt)
	c.Progress = make(map[string]int64, len(b.Progress))
	for k, v := range b.Progress {
		c.Progress[k] = v
	}
	c.Objects = slices.Clone(b.Objects)
	return &c
}

func copyNotification(n *backup.Notification) *backup.Notification {
	c := *n
	c.CreatedAt, c.ReadAt, c.PublishedAt = utc(n.CreatedAt), utc(n.ReadAt), utc(n.PublishedAt)
	return &c
}

func copyTally(t *restore.Tally) *restore.Tally {
	if t == nil {
		return nil
	}
	c := *t
	c.Properties = maps.Clone(t.Properties)
	c.Samples = slices.Clone(t.Samples)
	return &c
}

func copyPlan(p *restore.Plan) *restore.Plan {
	c := *p
	c.Properties = slices.Clone(p.Properties)
	c.Excluded = slices.Clone(p.Excluded)
	c.CreatedAt, c.ComputedAt, c.ExpiresAt = utc(p.CreatedAt), utc(p.ComputedAt), utc(p.ExpiresAt)
	c.Tally = copyTally(p.Tally)
	return &c
}

func copyImport(im *restore.Import) *restore.Import {
	c := *im
	c.Properties = slices.Clone(im.Properties)
	c.StartedAt, c.CompletedAt = utc(im.StartedAt), utc(im.CompletedAt)
	c.Tally = copyTally(im.Tally)
	return &c
}

// audited runs change under the store's lock and, if it succeeds, writes
// entry with it: the DynamoDB adapter's transaction of a change and the
// Put of its audit entry, all or nothing.
func (s *Store) audited(ctx context.Context, entry *audit.Entry, change func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e, err := normalizeAudit(entry)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := change(); err != nil {
		return err
	}
	s.partition(e.AccountID).audit[e.ID] = e
	return nil
}

// normalizeAudit copies an entry on its way in. Its details become what
// DynamoDB gives back for a map[string]any: JSON-like values (numbers as
// float64, lists as []any, structs as maps keyed by their json tags).
func normalizeAudit(a *audit.Entry) (*audit.Entry, error) {
	c := *a
	c.At = utc(a.At)
	if a.Details != nil {
		b, err := json.Marshal(a.Details)
		if err != nil {
			return nil, fmt.Errorf("marshal audit entry %s: %w", a.ID, err)
		}
		c.Details = nil
		if err := json.Unmarshal(b, &c.Details); err != nil {
			return nil, fmt.Errorf("marshal audit entry %s: %w", a.ID, err)
		}
	}
	return &c, nil
}

// copyAudit copies a stored (normalized) entry on its way out.
func copyAudit(a *audit.Entry) *audit.Entry {
	c := *a
	if a.Details != nil {
		c.Details = copyJSON(a.Details).(map[string]any)
	}
	return &c
}

// copyJSON deep-copies a value made of what encoding/json decodes.
func copyJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, e := range v {
			c[k] = copyJSON(e)
		}
		return c
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = copyJSON(e)
		}
		return c
	default: // string, float64, bool, nil
		return v
	}
}

// --- accounts ---

// Account returns an account (apperr.NotFound if unknown).
func (s *Store) Account(ctx context.Context, id string) (*backup.Account, error) {
	return one(ctx, s, id, func(a *account) *backup.Account { return a.meta },
		func(m *backup.Account) *backup.Account { c := *m; return &c }, "no account %q", id)
}

// PutAccount creates or replaces an account.
func (s *Store) PutAccount(ctx context.Context, a *backup.Account) error {
	if a.ID == "" || !a.Tier.Valid() {
		return apperr.New(apperr.Invalid, "an account needs an id and a tier (starter, professional, enterprise)")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *a
	s.partition(a.ID).meta = &c
	return nil
}

// --- backups ---

// CreateBackup writes b and consumes the quota in one transaction.
func (s *Store) CreateBackup(ctx context.Context, b *backup.Backup, window time.Duration, entry *audit.Entry) error {
	return s.audited(ctx, entry, func() error { return s.createBackup(b, window) })
}

func (s *Store) createBackup(b *backup.Backup, window time.Duration) error {
	a := s.partition(b.AccountID)
	if a.backups[b.ID] != nil {
		return apperr.New(apperr.Conflict, "backup %s exists", b.ID)
	}
	q := a.quota
	if q != nil && q.lastAt > stamp.Of(b.CreatedAt.Add(-window)) {
		next := stamp.Time(q.lastAt).Add(window)
		return apperr.New(apperr.QuotaUsed, "the account's backup quota is used until %s (backup %s)", next.Format(time.RFC3339), q.backupID).
			With("nextAllowedAt", next.Format(time.RFC3339))
	}
	// The quota keeps the previous consumption so a failure can refund it.
	if q == nil {
		q = &quota{}
		a.quota = q
	}
	q.prevAt, q.prevBackupID = q.lastAt, q.backupID
	q.lastAt, q.backupID = stamp.Of(b.CreatedAt), b.ID
	a.backups[b.ID] = copyBackup(b)
	return nil
}

// Backup returns one backup (apperr.NotFound if unknown).
func (s *Store) Backup(ctx context.Context, accountID, id string) (*backup.Backup, error) {
	return one(ctx, s, accountID, func(a *account) *backup.Backup { return a.backups[id] }, copyBackup, "no backup %q", id)
}

// Backups pages through an account's backups (ULIDs sort by time).
func (s *Store) Backups(ctx context.Context, accountID string, q listing.Query) (listing.Page[*backup.Backup], error) {
	return many(ctx, s, accountID, func(a *account) map[string]*backup.Backup { return a.backups }, q, nil, copyBackup)
}

// UpdateBackup writes b if its stored status is one of from (if from is
// empty: if it exists).
func (s *Store) UpdateBackup(ctx context.Context, b *backup.Backup, from ...backup.Status) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updateBackup(b, from)
}

func (s *Store) updateBackup(b *backup.Backup, from []backup.Status) error {
	var cur *backup.Backup
	if a := s.get(b.AccountID); a != nil {
		cur = a.backups[b.ID]
	}
	if !oneOf(cur != nil, statusOf(cur), from) {
		return apperr.New(apperr.Conflict, "backup %s is no longer %v", b.ID, from)
	}
	s.partition(b.AccountID).backups[b.ID] = copyBackup(b)
	return nil
}

func statusOf(b *backup.Backup) backup.Status {
	if b == nil {
		return ""
	}
	return b.Status
}

// SetProgress records the rows exported of one object of a RUNNING backup.
func (s *Store) SetProgress(ctx context.Context, accountID, backupID, object string, rows int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var cur *backup.Backup
	if a := s.get(accountID); a != nil {
		cur = a.backups[backupID]
	}
	if cur == nil || cur.Status != backup.Running {
		return apperr.New(apperr.Conflict, "backup %s is not running", backupID)
	}
	cur.Progress[object] = rows
	return nil
}

// FailBackup marks b FAILED (from QUEUED or RUNNING) and refunds the quota
// it consumed, if this backup still holds it. Failing a FAILED backup again
// only retries the refund (a no-op once done).
func (s *Store) FailBackup(ctx context.Context, b *backup.Backup) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := *b
	f.Status = backup.Failed
	if err := s.updateBackup(&f, []backup.Status{backup.Queued, backup.Running}); err != nil {
		var cur *backup.Backup
		if a := s.get(b.AccountID); a != nil {
			cur = a.backups[b.ID]
		}
		if cur == nil {
			return notFound("no backup %q", b.ID)
		}
		if cur.Status != backup.Failed {
			return apperr.New(apperr.Conflict, "backup %s is %s: it cannot fail", b.ID, cur.Status)
		}
	}
	// Give the quota back only if this backup is still the one that holds it.
	if a := s.get(b.AccountID); a != nil && a.quota != nil && a.quota.backupID == b.ID {
		a.quota.lastAt, a.quota.backupID = a.quota.prevAt, a.quota.prevBackupID
	}
	return nil
}

// --- notifications ---

// AddNotification stores n once: adding the same id again changes nothing.
func (s *Store) AddNotification(ctx context.Context, n *backup.Notification) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.partition(n.AccountID)
	if cur := a.notifs[n.ID]; cur != nil {
		return !cur.PublishedAt.IsZero(), nil
	}
	a.notifs[n.ID] = copyNotification(n)
	return !n.PublishedAt.IsZero(), nil
}

// MarkPublished records that a notification went out.
func (s *Store) MarkPublished(ctx context.Context, accountID, id string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.get(accountID); a != nil && a.notifs[id] != nil {
		a.notifs[id].PublishedAt = utc(at)
	}
	return nil
}

// Notifications pages through an account's notifications (by id: ULIDs).
func (s *Store) Notifications(ctx context.Context, accountID string, q listing.Query) (listing.Page[*backup.Notification], error) {
	return many(ctx, s, accountID, func(a *account) map[string]*backup.Notification { return a.notifs }, q, nil, copyNotification)
}

// UnreadCount counts the account's notifications without ReadAt.
func (s *Store) UnreadCount(ctx context.Context, accountID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if a := s.get(accountID); a != nil {
		for _, v := range a.notifs {
			if v.ReadAt.IsZero() {
				n++
			}
		}
	}
	return n, nil
}

// MarkRead sets a notification's ReadAt unless it is set.
func (s *Store) MarkRead(ctx context.Context, accountID, id string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var n *backup.Notification
	if a := s.get(accountID); a != nil {
		n = a.notifs[id]
	}
	if n == nil {
		return notFound("no notification %q", id)
	}
	if n.ReadAt.IsZero() {
		n.ReadAt = utc(at)
	}
	return nil
}

// MarkAllRead marks every unread notification read.
func (s *Store) MarkAllRead(ctx context.Context, accountID string, at time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if a := s.get(accountID); a != nil {
		for _, v := range a.notifs {
			if v.ReadAt.IsZero() {
				v.ReadAt = utc(at)
				n++
			}
		}
	}
	return n, nil
}

// --- the audit log ---

// AddAudit stores e once: adding the same id again changes nothing.
func (s *Store) AddAudit(ctx context.Context, e *audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := normalizeAudit(e)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.partition(e.AccountID)
	if a.audit[e.ID] == nil {
		a.audit[e.ID] = c
	}
	return nil
}

// AuditLog pages through an account's audit entries (by id: ULIDs of
// their time), of one action if q says so.
func (s *Store) AuditLog(ctx context.Context, accountID string, q audit.Query) (listing.Page[*audit.Entry], error) {
	var keep func(*audit.Entry) bool
	if q.Action != "" {
		keep = func(e *audit.Entry) bool { return e.Action == q.Action }
	}
	return many(ctx, s, accountID, func(a *account) map[string]*audit.Entry { return a.audit }, q.Query, keep, copyAudit)
}
