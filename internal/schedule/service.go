package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
)

// Claim is what ClaimRun found.
type Claim int

// Claims.
const (
	// Claimed: the run is new, and now this caller's.
	Claimed Claim = iota
	// Unfinished: the run was claimed before but never finished (a crash,
	// a retry): redo it; every step of a run is idempotent.
	Unfinished
	// Handled: the run finished, or a later one was claimed: nothing to do.
	Handled
)

// Store keeps the schedules.
type Store interface {
	Account(ctx context.Context, id string) (*backup.Account, error)
	// Schedule returns the account's schedule (apperr.NotFound if none).
	Schedule(ctx context.Context, accountID string) (*Schedule, error)
	// PutSchedule writes s's settings and its audit entry in one
	// transaction if the stored version is s.Version-1 (no schedule when
	// s.Version is 1): apperr.Conflict otherwise. It leaves the last run
	// alone.
	PutSchedule(ctx context.Context, s *Schedule, entry *audit.Entry) error
	// ClaimRun records at as the account's last run if it is later than
	// the last one (or the first).
	ClaimRun(ctx context.Context, accountID string, at time.Time) (Claim, error)
	// FinishRun marks the run of at finished (if it is still the last).
	FinishRun(ctx context.Context, accountID string, at time.Time) error
	AddNotification(ctx context.Context, n *backup.Notification) (bool, error)
	MarkPublished(ctx context.Context, accountID, id string, at time.Time) error
	AddAudit(ctx context.Context, e *audit.Entry) error
}

// Backups queues scheduled backups: *backup.Service.
type Backups interface {
	CreateScheduled(ctx context.Context, acct *backup.Account, at time.Time) (*backup.Backup, bool, error)
}

// Zones gives a portal's own time zone (HubSpot's account information).
type Zones interface {
	TimeZone(ctx context.Context, acct *backup.Account) (string, error)
}

// Service reads and writes schedules and runs them.
type Service struct {
	Store   Store
	Backups Backups
	// Triggers keeps the derived triggers; nil when nothing derives them
	// (the local stack fires schedules itself).
	Triggers  Triggers
	Zones     Zones
	Publisher backup.Publisher
	// Link is the console's link to a backup ("": the account's backups),
	// for notifications.
	Link func(accountID, backupID string) string
	Now  func() time.Time
	Log  *slog.Logger
}

func (s *Service) now() time.Time    { return backup.Clock(s.Now) }
func (s *Service) log() *slog.Logger { return backup.Logger(s.Log) }

// enterprise is the account, if it may have a schedule (Enterprise);
// apperr.NeedsTier otherwise.
func (s *Service) enterprise(ctx context.Context, accountID string) (*backup.Account, error) {
	acct, err := s.Store.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if acct.Tier != backup.Enterprise {
		return nil, apperr.New(apperr.NeedsTier, "recurring backups are a HubSpot Enterprise feature: this account is on %s; "+
			"create backups by hand (one a week)", acct.Tier).With("tier", string(acct.Tier))
	}
	return acct, nil
}

// View is a schedule as the API shows it.
type View struct {
	Settings
	// NextRunAt is the next run (absent when off).
	NextRunAt      time.Time `json:"nextRunAt,omitzero"`
	LastRunAt      time.Time `json:"lastRunAt,omitzero"`
	Description    string    `json:"description"`
	DisabledReason string    `json:"disabledReason,omitempty"`
	UpdatedAt      time.Time `json:"updatedAt,omitzero"`
	UpdatedBy      string    `json:"updatedBy,omitempty"`
	// QuotaNote says what a run does when a manual backup used the quota.
	QuotaNote string `json:"quotaNote"`
}

// QuotaNote is what a scheduled run does when the quota is used.
const QuotaNote = "A scheduled run that finds the account's backup quota used (a manual backup within the last 24 hours) " +
	"is skipped, not queued: the admins are notified, and the next run goes ahead as planned."

func (s *Service) view(sch *Schedule) *View {
	return &View{Settings: sch.Settings, NextRunAt: sch.Next(s.now()), LastRunAt: sch.LastRunAt, Description: sch.Describe(),
		DisabledReason: sch.DisabledReason, UpdatedAt: sch.UpdatedAt, UpdatedBy: sch.UpdatedBy, QuotaNote: QuotaNote}
}

// Get returns the account's schedule; an account that never set one sees
// the defaults, off.
func (s *Service) Get(ctx context.Context, accountID string) (*View, error) {
	acct, err := s.enterprise(ctx, accountID)
	if err != nil {
		return nil, err
	}
	sch, err := s.Store.Schedule(ctx, accountID)
	if apperr.Is(err, apperr.NotFound) {
		sch, err = s.defaults(ctx, acct), nil
	}
	if err != nil {
		return nil, err
	}
	return s.view(sch), nil
}

// defaults is the schedule of an account that never set one: off, weekly
// at 02:00 in the portal's time zone (UTC if HubSpot does not say).
func (s *Service) defaults(ctx context.Context, acct *backup.Account) *Schedule {
	sch := &Schedule{AccountID: acct.ID, Settings: Settings{Frequency: DefaultFrequency, TimeOfDay: DefaultTime, Timezone: s.portalZone(ctx, acct)}}
	sch.DayOfWeek = firstDay(sch.Settings, s.now())
	return sch
}

// portalZone is the portal's own time zone, UTC when HubSpot does not say
// (or cannot be asked): the schedule's description shows which it is.
func (s *Service) portalZone(ctx context.Context, acct *backup.Account) string {
	if s.Zones == nil {
		return "UTC"
	}
	tz, err := s.Zones.TimeZone(ctx, acct)
	if err != nil {
		s.log().WarnContext(ctx, "the portal's time zone: using UTC", "accountId", acct.ID, "error", err)
		return "UTC"
	}
	if _, err := Location(tz); err != nil {
		return "UTC"
	}
	return tz
}

// firstDay is the weekday (monday …) of the first time of day of st after now.
func firstDay(st Settings, now time.Time) string {
	probe := Schedule{Settings: st}
	probe.Frequency, probe.Enabled = Daily, true
	return weekdays[probe.Next(now).In(probe.location()).Weekday()]
}

// Request is a PUT of the schedule: fields left out keep their values (or
// take the defaults).
type Request struct {
	Enabled   *bool   `json:"enabled"`
	Frequency *string `json:"frequency"`
	TimeOfDay *string `json:"timeOfDay"`
	Timezone  *string `json:"timezone"`
	DayOfWeek *string `json:"dayOfWeek"`
}

// Put changes the account's schedule and derives its trigger. The same
// settings again change nothing but still repair a trigger that went
// missing. Turning it off keeps the settings and stops the runs.
func (s *Service) Put(ctx context.Context, accountID string, who audit.Actor, req Request) (*View, error) {
	if req.Enabled == nil {
		return nil, invalid("enabled", "say true (run backups on this schedule) or false (stop them)")
	}
	acct, err := s.enterprise(ctx, accountID)
	if err != nil {
		return nil, err
	}
	cur, err := s.Store.Schedule(ctx, accountID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return nil, err
	}
	base := cur
	if base == nil {
		base = &Schedule{AccountID: accountID, Settings: Settings{Frequency: DefaultFrequency, TimeOfDay: DefaultTime}}
	}
	next := *base
	next.Enabled = *req.Enabled
	if req.Frequency != nil {
		next.Frequency = Frequency(*req.Frequency)
		if next.Frequency == Daily && req.DayOfWeek == nil {
			next.DayOfWeek = ""
		}
	}
	if req.TimeOfDay != nil {
		next.TimeOfDay = *req.TimeOfDay
	}
	if req.Timezone != nil {
		if *req.Timezone == "" {
			return nil, invalid("timezone", "want an IANA time zone name (Europe/Rome), or leave timezone out for the portal's own")
		}
		next.Timezone = *req.Timezone
	}
	if req.DayOfWeek != nil {
		next.DayOfWeek = *req.DayOfWeek
	}
	if next.Timezone == "" {
		next.Timezone = s.portalZone(ctx, acct)
	}
	now := s.now()
	if next.Frequency != Daily && next.DayOfWeek == "" {
		next.DayOfWeek = firstDay(next.Settings, now)
	}
	if err := next.Check(); err != nil {
		return nil, err
	}
	changed := cur == nil || cur.Settings != next.Settings
	if changed {
		timing := cur == nil || cur.Frequency != next.Frequency || cur.TimeOfDay != next.TimeOfDay ||
			cur.Timezone != next.Timezone || cur.DayOfWeek != next.DayOfWeek || cur.Anchor == ""
		if timing || (!cur.Enabled && next.Enabled) {
			next.anchorFrom(now)
		}
		next.DisabledReason = ""
		next.Version = base.Version + 1
		next.UpdatedAt, next.UpdatedBy = now, who.Subject
		details := map[string]any{"new": next.Settings}
		if cur != nil {
			details["old"] = cur.Settings
		}
		entry := audit.New(accountID, backup.NewID(now), now, who, audit.ScheduleUpdated, audit.Succeeded, details)
		if err := s.Store.PutSchedule(ctx, &next, entry); err != nil {
			if apperr.Is(err, apperr.Conflict) {
				return nil, apperr.New(apperr.Conflict, "the schedule was changed by someone else meanwhile: read it again and retry")
			}
			return nil, err
		}
		s.log().InfoContext(ctx, "schedule updated", "accountId", accountID, "schedule", next.Describe(), "by", who.Subject)
	}
	if err := s.derive(ctx, &next); err != nil {
		return nil, fmt.Errorf("the schedule is saved, but its trigger could not be updated (save it again to repair it): %w", err)
	}
	return s.view(&next), nil
}

// derive makes the trigger match the stored schedule: it derives from sch,
// then reads the schedule again, and derives once more if another write
// came in between — two PUTs racing each derive in turn, and the last
// trigger written is the newest schedule's whichever order their calls
// land in.
func (s *Service) derive(ctx context.Context, sch *Schedule) error {
	for range 3 {
		if err := s.deriveOne(ctx, sch); err != nil {
			return err
		}
		cur, err := s.Store.Schedule(ctx, sch.AccountID)
		if err != nil {
			return err
		}
		if cur.Version == sch.Version {
			return nil
		}
		sch = cur
	}
	return nil
}

// deriveOne makes the trigger match sch.
func (s *Service) deriveOne(ctx context.Context, sch *Schedule) error {
	if s.Triggers == nil {
		return nil
	}
	if !sch.Enabled {
		return s.Triggers.Delete(ctx, sch.AccountID)
	}
	return s.Triggers.Put(ctx, Trigger{AccountID: sch.AccountID, Expression: sch.Expression(), Timezone: sch.Timezone})
}

// Outcome is what a run did.
type Outcome string

// Outcomes.
const (
	Started   Outcome = "started"   // a scheduled backup was queued
	Duplicate Outcome = "duplicate" // the run was handled already
	Skipped   Outcome = "skipped"   // the quota is used: skipped, notified
	Disabled  Outcome = "disabled"  // the account is no longer Enterprise: schedule off, notified
	Ignored   Outcome = "ignored"   // no schedule, off, or not a run day (every two weeks)
)

// Run handles the fire of the account's schedule due at at (its
// scheduled time). The same fire delivered twice, or retried after a
// crash, starts one backup and sends one notice.
func (s *Service) Run(ctx context.Context, accountID string, at time.Time) (Outcome, *backup.Backup, error) {
	if at.IsZero() {
		return "", nil, apperr.New(apperr.Invalid, "a scheduled run needs its scheduled time")
	}
	at = at.UTC()
	sch, err := s.Store.Schedule(ctx, accountID)
	if apperr.Is(err, apperr.NotFound) || (err == nil && !sch.Enabled) {
		// A trigger left behind: remove it.
		s.log().InfoContext(ctx, "scheduled run ignored: no schedule on", "accountId", accountID)
		if s.Triggers != nil {
			if err := s.Triggers.Delete(ctx, accountID); err != nil {
				s.log().WarnContext(ctx, "removing a stale trigger", "accountId", accountID, "error", err)
			}
		}
		return Ignored, nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	if !sch.Occurs(at) {
		return Ignored, nil, nil // the off week of every two weeks
	}
	claim, err := s.Store.ClaimRun(ctx, accountID, at)
	if err != nil {
		return "", nil, err
	}
	if claim == Handled {
		return Duplicate, nil, nil
	}
	outcome, b, err := s.run(ctx, sch, at)
	if err != nil {
		return "", nil, err // unfinished: a retry redoes it
	}
	if err := s.Store.FinishRun(ctx, accountID, at); err != nil {
		return "", nil, err
	}
	if claim == Unfinished && outcome == Started {
		s.log().InfoContext(ctx, "scheduled run redone", "accountId", accountID, "backupId", b.ID)
	}
	return outcome, b, nil
}

func (s *Service) run(ctx context.Context, sch *Schedule, at time.Time) (Outcome, *backup.Backup, error) {
	acct, err := s.Store.Account(ctx, sch.AccountID)
	if err != nil {
		return "", nil, err
	}
	if acct.Tier != backup.Enterprise {
		return Disabled, nil, s.disable(ctx, sch, acct, at)
	}
	b, _, err := s.Backups.CreateScheduled(ctx, acct, at)
	if apperr.Is(err, apperr.QuotaUsed) {
		return Skipped, nil, s.skip(ctx, sch, at, err)
	}
	if err != nil {
		return "", nil, err
	}
	return Started, b, nil
}

// skip tells the admins a run was skipped for the quota, and when the next is.
func (s *Service) skip(ctx context.Context, sch *Schedule, at time.Time, quota error) error {
	var ae *apperr.Error
	errors.As(quota, &ae)
	until, _ := ae.Details["nextAllowedAt"].(string)
	next := sch.Next(at)
	loc := sch.location()
	details := map[string]any{"scheduledAt": at.Format(time.RFC3339), "reason": "quota", "nextAllowedAt": until,
		"nextRunAt": next.Format(time.RFC3339)}
	if err := s.Store.AddAudit(ctx, audit.New(sch.AccountID, backup.DerivedID(at, sch.AccountID, "skipped", "audit"), at,
		audit.Schedule, audit.BackupSkipped, audit.Refused, details)); err != nil {
		return err
	}
	msg := fmt.Sprintf("The scheduled backup of %s was skipped: a backup already ran within the last 24 hours, "+
		"and the account's quota allows one per 24 hours", local(at, loc))
	if t, err := time.Parse(time.RFC3339, until); err == nil {
		msg += fmt.Sprintf(" (the next backup is allowed from %s)", local(t, loc))
	}
	msg += fmt.Sprintf(". Nothing was queued. The next scheduled backup runs %s.", local(next, loc))
	return s.notify(ctx, &backup.Notification{AccountID: sch.AccountID, ID: backup.DerivedID(at, sch.AccountID, "skipped"),
		CreatedAt: at, Kind: "backup.skipped", Subject: "Scheduled CRM backup skipped", Message: msg, Link: s.link(sch.AccountID)})
}

// disable switches off the schedule of an account no longer Enterprise:
// the notice first, then the trigger, then the item, so that a retry
// after a failure at any step (the item still on) does all of it again
// (the notice is written once, by its derived id).
func (s *Service) disable(ctx context.Context, sch *Schedule, acct *backup.Account, at time.Time) error {
	reason := fmt.Sprintf("the account is now on HubSpot %s: recurring backups are an Enterprise feature", acct.Tier)
	if err := s.notify(ctx, &backup.Notification{AccountID: sch.AccountID, ID: backup.DerivedID(at, sch.AccountID, "disabled"),
		CreatedAt: at, Kind: "schedule.disabled", Subject: "Recurring CRM backups switched off", Link: s.link(sch.AccountID),
		Message: "The backup schedule (" + sch.Describe() + ") was switched off and the scheduled backup of " +
			local(at, sch.location()) + " did not run: " + reason + ". Manual backups still work, once a week."}); err != nil {
		return err
	}
	if s.Triggers != nil {
		if err := s.Triggers.Delete(ctx, sch.AccountID); err != nil {
			return err
		}
	}
	off := *sch
	off.Enabled, off.DisabledReason, off.Version = false, reason, sch.Version+1
	off.UpdatedAt, off.UpdatedBy = at, audit.System.Subject
	entry := audit.New(sch.AccountID, backup.DerivedID(at, sch.AccountID, "disabled", "audit"), at, audit.System,
		audit.ScheduleDisabled, audit.Succeeded, map[string]any{"reason": reason, "tier": string(acct.Tier), "old": sch.Settings})
	return s.Store.PutSchedule(ctx, &off, entry)
}

// link is the console's page of the account's backups.
func (s *Service) link(accountID string) string {
	if s.Link == nil {
		return ""
	}
	return s.Link(accountID, "")
}

func (s *Service) notify(ctx context.Context, n *backup.Notification) error {
	return backup.Notifier{Store: s.Store, Publisher: s.Publisher}.Notify(ctx, n)
}

// local is t in loc for people: "Mon 2 Jan 2006 15:04 CET".
func local(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(loc).Format("Mon 2 Jan 2006 15:04 MST")
}

// Grace is how late a run may still start: runs missed for longer (the
// local stack was down) are not made up, as EventBridge Scheduler drops
// an event older than its retry policy's maximum age (an hour).
const Grace = time.Hour

// RunDue runs, for each account, its latest run due by now that is not yet
// handled and not older than Grace: the local stack's stand-in for
// EventBridge Scheduler, called on a clock (tests move it).
func (s *Service) RunDue(ctx context.Context, accountIDs []string) error {
	now := s.now()
	var errs []error
	for _, id := range accountIDs {
		sch, err := s.Store.Schedule(ctx, id)
		if apperr.Is(err, apperr.NotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		due := sch.Last(now)
		if due.IsZero() || now.Sub(due) > Grace || due.Before(sch.UpdatedAt) ||
			(!sch.LastRunAt.IsZero() && (due.Before(sch.LastRunAt) || (due.Equal(sch.LastRunAt) && sch.LastRunDone))) {
			continue
		}
		outcome, b, err := s.Run(ctx, id, due)
		if err != nil {
			errs = append(errs, fmt.Errorf("scheduled run of %s at %s: %w", id, due.Format(time.RFC3339), err))
			continue
		}
		attrs := []any{"accountId", id, "scheduledAt", due, "outcome", outcome}
		if b != nil {
			attrs = append(attrs, "backupId", b.ID)
		}
		s.log().InfoContext(ctx, "scheduled run", attrs...)
	}
	return errors.Join(errs...)
}
