package memstore

import (
	"context"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/listing"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/stamp"
)

// --- plans ---

// CreatePlan writes a new plan and its audit entry (apperr.Conflict if
// the plan's id exists).
func (s *Store) CreatePlan(ctx context.Context, p *restore.Plan, entry *audit.Entry) error {
	return s.audited(ctx, entry, func() error {
		a := s.partition(p.AccountID)
		if a.plans[p.ID] != nil {
			return apperr.New(apperr.Conflict, "plan %s exists", p.ID)
		}
		a.plans[p.ID] = copyPlan(p)
		return nil
	})
}

// Plan returns a plan (apperr.NotFound if unknown). As in the DynamoDB
// adapter, an expired plan is still returned: the caller checks ExpiresAt.
func (s *Store) Plan(ctx context.Context, accountID, id string) (*restore.Plan, error) {
	return one(ctx, s, accountID, func(a *account) *restore.Plan { return a.plans[id] }, copyPlan, "no restore plan %q", id)
}

// UpdatePlan writes p if its stored status is one of from (if from is
// empty: if it exists).
func (s *Store) UpdatePlan(ctx context.Context, p *restore.Plan, from ...restore.PlanStatus) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var cur *restore.Plan
	if a := s.get(p.AccountID); a != nil {
		cur = a.plans[p.ID]
	}
	var status restore.PlanStatus
	if cur != nil {
		status = cur.Status
	}
	if !oneOf(cur != nil, status, from) {
		return apperr.New(apperr.Conflict, "plan %s is no longer %v", p.ID, from)
	}
	s.partition(p.AccountID).plans[p.ID] = copyPlan(p)
	return nil
}

// --- imports, the lock, the audit log ---

// StartImport takes the lock, writes the import, marks the plan EXECUTED
// and writes the audit entry, all or nothing. The conditions and the error
// each refusal gives are the DynamoDB adapter's transaction's: the lock is
// free or expired at im.StartedAt, the import and the audit entry are new,
// the plan is READY; a held lock wins over a plan no longer ready, which
// wins over an existing import or audit entry.
func (s *Store) StartImport(ctx context.Context, im *restore.Import, lock restore.Lock, e *audit.Entry) error {
	return s.audited(ctx, e, func() error {
		a := s.partition(im.AccountID)
		plan := a.plans[im.PlanID]
		switch {
		case a.lock != nil && !(a.lock.until <= stamp.Of(im.StartedAt)):
			return apperr.New(apperr.Conflict, "another restore of this account is running: one restore at a time").
				With("importId", a.lock.importID)
		case plan == nil || plan.Status != restore.Ready:
			return apperr.New(apperr.Conflict, "plan %s is no longer ready: it was executed or changed", im.PlanID)
		case a.imports[im.ID] != nil, s.partition(e.AccountID).audit[e.ID] != nil:
			return apperr.New(apperr.Conflict, "import %s exists", im.ID)
		}
		a.lock = &restoreLock{importID: lock.ImportID, until: stamp.Of(lock.Until)}
		a.imports[im.ID] = copyImport(im)
		plan.Status, plan.ImportID = restore.Executed, im.ID
		return nil
	})
}

// Import returns one import (apperr.NotFound if unknown).
func (s *Store) Import(ctx context.Context, accountID, id string) (*restore.Import, error) {
	return one(ctx, s, accountID, func(a *account) *restore.Import { return a.imports[id] }, copyImport, "no import %q", id)
}

// Imports pages through an account's imports (ULIDs sort by time).
func (s *Store) Imports(ctx context.Context, accountID string, q listing.Query) (listing.Page[*restore.Import], error) {
	return many(ctx, s, accountID, func(a *account) map[string]*restore.Import { return a.imports }, q, nil, copyImport)
}

// SetImportProgress records the rows a RUNNING import has handled.
func (s *Store) SetImportProgress(ctx context.Context, accountID, id string, rows int64, tally *restore.Tally) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var cur *restore.Import
	if a := s.get(accountID); a != nil {
		cur = a.imports[id]
	}
	if cur == nil || cur.Status != restore.ImportRunning {
		return apperr.New(apperr.Conflict, "import %s is not running", id)
	}
	cur.RowsDone = rows
	if tally != nil {
		cur.Tally = copyTally(tally)
	}
	return nil
}

// FinishImport writes a RUNNING import's end and its audit entry, all or
// nothing. The audit entry is written unconditionally (replacing one with
// the same time and id), as the DynamoDB adapter's Put does.
func (s *Store) FinishImport(ctx context.Context, im *restore.Import, e *audit.Entry) error {
	return s.audited(ctx, e, func() error {
		var cur *restore.Import
		if a := s.get(im.AccountID); a != nil {
			cur = a.imports[im.ID]
		}
		if cur == nil || cur.Status != restore.ImportRunning {
			return apperr.New(apperr.Conflict, "import %s already ended", im.ID)
		}
		s.partition(im.AccountID).imports[im.ID] = copyImport(im)
		return nil
	})
}

// ReleaseLock releases the lock if importID holds it, and does nothing
// otherwise.
func (s *Store) ReleaseLock(ctx context.Context, accountID, importID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.get(accountID); a != nil && a.lock != nil && a.lock.importID == importID {
		a.lock = nil
	}
	return nil
}

// RestoreLock returns the account's restore lock, nil if free. An expired
// lock is returned until it is taken over or released.
func (s *Store) RestoreLock(ctx context.Context, accountID string) (*restore.Lock, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.get(accountID)
	if a == nil || a.lock == nil {
		return nil, nil
	}
	return &restore.Lock{ImportID: a.lock.importID, Until: stamp.Time(a.lock.until)}, nil
}
