package memstore

import (
	"context"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/schedule"
	"github.com/crmbackup/crmbackup/internal/stamp"
)

var _ schedule.Store = (*Store)(nil)

// scheduleItem is the SCHEDULE item: the settings PutSchedule writes, and
// the last run ClaimRun and FinishRun keep (a stamp).
type scheduleItem struct {
	settings    *schedule.Schedule
	lastRunAt   string
	lastRunDone bool
}

func (it *scheduleItem) value() *schedule.Schedule {
	c := *it.settings
	c.UpdatedAt = utc(c.UpdatedAt)
	c.LastRunAt, c.LastRunDone = stamp.Time(it.lastRunAt), it.lastRunDone
	return &c
}

// Schedule returns the account's schedule (apperr.NotFound if none).
func (s *Store) Schedule(ctx context.Context, accountID string) (*schedule.Schedule, error) {
	it, err := one(ctx, s, accountID, func(a *account) *scheduleItem { return a.sched },
		func(it *scheduleItem) *scheduleItem { return &scheduleItem{settings: it.value()} }, "no schedule for %q", accountID)
	if err != nil {
		return nil, err
	}
	return it.settings, nil
}

// PutSchedule writes the settings over version s.Version-1, and the audit
// entry, all or nothing.
func (s *Store) PutSchedule(ctx context.Context, sch *schedule.Schedule, entry *audit.Entry) error {
	return s.audited(ctx, entry, func() error {
		a := s.partition(sch.AccountID)
		var stored int64
		if a.sched != nil {
			stored = a.sched.settings.Version
		}
		if stored != sch.Version-1 {
			return apperr.New(apperr.Conflict, "the schedule of %s is at version %d, not %d", sch.AccountID, stored, sch.Version-1)
		}
		c := *sch
		c.LastRunAt, c.LastRunDone = time.Time{}, false
		if a.sched == nil {
			a.sched = &scheduleItem{}
		}
		a.sched.settings = &c
		return nil
	})
}

// ClaimRun records at as the last run if it is later than the last one.
func (s *Store) ClaimRun(ctx context.Context, accountID string, at time.Time) (schedule.Claim, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var it *scheduleItem
	if a := s.get(accountID); a != nil {
		it = a.sched
	}
	if it == nil {
		return 0, notFound("no schedule for %q", accountID)
	}
	switch t := stamp.Of(at); {
	case it.lastRunAt == "" || it.lastRunAt < t:
		it.lastRunAt, it.lastRunDone = t, false
		return schedule.Claimed, nil
	case it.lastRunAt == t && !it.lastRunDone:
		return schedule.Unfinished, nil
	}
	return schedule.Handled, nil
}

// FinishRun marks the run of at finished if it is still the last.
func (s *Store) FinishRun(ctx context.Context, accountID string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.get(accountID); a != nil && a.sched != nil && a.sched.lastRunAt == stamp.Of(at) {
		a.sched.lastRunDone = true
	}
	return nil
}
