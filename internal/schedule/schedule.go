// Package schedule is the domain of recurring backups (Enterprise only):
// an account's schedule — weekly or every two weeks as HubSpot has them,
// and daily, which fits the Enterprise quota of one backup per 24 hours —
// its validation, its run times in its time zone, and what a run does. The
// SCHEDULE item in the store is the truth; the trigger that fires it
// (EventBridge Scheduler on AWS) is derived from it, and the local stack
// fires due schedules itself. It imports no AWS package.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones on Lambda, which has no zoneinfo

	"github.com/crmbackup/crmbackup/internal/apperr"
)

// Frequency is how often a schedule runs.
type Frequency string

// Frequencies.
const (
	Weekly   Frequency = "weekly"
	Biweekly Frequency = "biweekly" // every two weeks
	Daily    Frequency = "daily"
)

// Defaults of a schedule's settings.
const (
	DefaultTime      = "02:00"
	DefaultFrequency = Weekly
)

// Settings are what an admin chooses.
type Settings struct {
	Enabled   bool      `json:"enabled"`
	Frequency Frequency `json:"frequency"`
	// TimeOfDay is HH:MM (24-hour) in Timezone.
	TimeOfDay string `json:"timeOfDay"`
	// Timezone is an IANA zone name (Europe/Rome).
	Timezone string `json:"timezone"`
	// DayOfWeek (monday … sunday) is the day weekly and every-two-weeks
	// runs fall on; "" for daily.
	DayOfWeek string `json:"dayOfWeek,omitempty"`
}

// Schedule is an account's stored schedule.
type Schedule struct {
	AccountID string `json:"accountId"`
	Settings
	// Anchor is the local date (2006-01-02) of the first run since the
	// settings last changed: every-two-weeks runs fall on the dates a
	// multiple of 14 days from it.
	Anchor string `json:"anchor,omitempty"`
	// DisabledReason says why the system switched the schedule off.
	DisabledReason string    `json:"disabledReason,omitempty"`
	UpdatedAt      time.Time `json:"updatedAt"`
	UpdatedBy      string    `json:"updatedBy"`
	// Version counts the writes of the settings (1 for the first):
	// PutSchedule writes version n only over version n-1.
	Version int64 `json:"version"`
	// LastRunAt is the scheduled time of the last run claimed, and
	// LastRunDone whether it finished; PutSchedule leaves both alone.
	LastRunAt   time.Time `json:"lastRunAt,omitzero"`
	LastRunDone bool      `json:"-"`
}

var weekdays = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

func invalid(field, format string, args ...any) error {
	return apperr.New(apperr.Invalid, field+": "+format, args...).With("field", field)
}

// clock reads HH:MM (digits only).
func clock(s string) (h, m int, ok bool) {
	hs, ms, found := strings.Cut(s, ":")
	if !found || len(hs) != 2 || len(ms) != 2 || strings.Trim(hs+ms, "0123456789") != "" {
		return 0, 0, false
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	return h, m, err1 == nil && err2 == nil && h >= 0 && h < 24 && m >= 0 && m < 60
}

// Location loads an IANA zone by name, refusing "", "Local" and "Factory".
func Location(name string) (*time.Location, error) {
	if name == "" || name == "Local" || name == "Factory" || len(name) > 64 {
		return nil, fmt.Errorf("not a zone name")
	}
	return time.LoadLocation(name)
}

// Check validates the settings, naming the field that is wrong.
func (s Settings) Check() error {
	switch s.Frequency {
	case Weekly, Biweekly, Daily:
	default:
		return invalid("frequency", "want weekly, biweekly (every two weeks) or daily, not %q", clip(string(s.Frequency)))
	}
	if _, _, ok := clock(s.TimeOfDay); !ok {
		return invalid("timeOfDay", "want HH:MM on a 24-hour clock (02:00), not %q", clip(s.TimeOfDay))
	}
	if _, err := Location(s.Timezone); err != nil {
		return invalid("timezone", "want an IANA time zone name (Europe/Rome, America/New_York, UTC), not %q", clip(s.Timezone))
	}
	switch {
	case s.Frequency == Daily && s.DayOfWeek != "":
		return invalid("dayOfWeek", "a daily schedule runs every day: leave dayOfWeek out")
	case s.Frequency != Daily && weekday(s.DayOfWeek) < 0:
		return invalid("dayOfWeek", "want monday, tuesday, wednesday, thursday, friday, saturday or sunday, not %q", clip(s.DayOfWeek))
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		r := []rune(s[:40])
		return string(r[:len(r)-1]) + "…"
	}
	return s
}

func weekday(name string) time.Weekday {
	for i, d := range weekdays {
		if d == name {
			return time.Weekday(i)
		}
	}
	return -1
}

// date is a civil date.
type date struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) date { y, m, d := t.Date(); return date{y, m, d} }

func (d date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.y, d.m, d.d) }

// days is the number of days since 1970-01-01 (the dates' order).
func (d date) days() int {
	return int(time.Date(d.y, d.m, d.d, 12, 0, 0, 0, time.UTC).Unix() / 86400)
}

func (d date) weekday() time.Weekday {
	return time.Date(d.y, d.m, d.d, 12, 0, 0, 0, time.UTC).Weekday()
}

func (d date) add(n int) date {
	t := time.Date(d.y, d.m, d.d+n, 12, 0, 0, 0, time.UTC)
	return dateOf(t)
}

func parseDate(s string) (date, bool) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return date{}, false
	}
	return dateOf(t), true
}

// runsOn reports whether the schedule runs on local date d.
func (s *Schedule) runsOn(d date) bool {
	switch s.Frequency {
	case Daily:
		return true
	case Weekly:
		return d.weekday() == weekday(s.DayOfWeek)
	case Biweekly:
		a, ok := parseDate(s.Anchor)
		if !ok || d.weekday() != weekday(s.DayOfWeek) {
			return false
		}
		n := d.days() - a.days()
		return ((n%14)+14)%14 == 0
	}
	return false
}

// at is the run time on local date d; ok is false when that time does not
// exist that day (clocks go forward across it): EventBridge Scheduler skips
// such a run, and so does the schedule. When clocks go back across it, the
// time exists twice and runs once (Go's time.Date picks one of the two;
// AWS does not document which it picks).
func (s *Schedule) at(d date, loc *time.Location) (t time.Time, ok bool) {
	h, m, _ := clock(s.TimeOfDay)
	t = time.Date(d.y, d.m, d.d, h, m, 0, 0, loc)
	return t.UTC(), t.Hour() == h && t.Minute() == m
}

func (s *Schedule) location() *time.Location {
	loc, err := Location(s.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Next is the first run strictly after t; zero when the schedule is off.
func (s *Schedule) Next(t time.Time) time.Time {
	if s == nil || !s.Enabled {
		return time.Time{}
	}
	loc := s.location()
	d := dateOf(t.In(loc)).add(-1)
	for i := 0; i < 31; i++ {
		if day := d.add(i); s.runsOn(day) {
			if r, ok := s.at(day, loc); ok && r.After(t) {
				return r
			}
		}
	}
	return time.Time{}
}

// Last is the latest run at or before t; zero when the schedule is off.
func (s *Schedule) Last(t time.Time) time.Time {
	if s == nil || !s.Enabled {
		return time.Time{}
	}
	loc := s.location()
	d := dateOf(t.In(loc)).add(1)
	for i := 0; i < 31; i++ {
		if day := d.add(-i); s.runsOn(day) {
			if r, ok := s.at(day, loc); ok && !r.After(t) {
				return r
			}
		}
	}
	return time.Time{}
}

// Occurs reports whether a fire at t is one of the schedule's runs: its
// local date is a run day. (A weekly trigger fires every week; an
// every-two-weeks schedule lets every other week pass.)
func (s *Schedule) Occurs(t time.Time) bool {
	return s != nil && s.Enabled && s.runsOn(dateOf(t.In(s.location())))
}

// anchorFrom sets Anchor to the date of the first run after t.
func (s *Schedule) anchorFrom(t time.Time) {
	loc := s.location()
	d := dateOf(t.In(loc))
	want := weekday(s.DayOfWeek)
	for i := 0; i < 16; i++ {
		day := d.add(i)
		if r, ok := s.at(day, loc); ok && (s.Frequency == Daily || day.weekday() == want) && r.After(t) {
			s.Anchor = day.String()
			return
		}
	}
}

// Expression is the trigger's cron expression: every day, or every week
// on the schedule's day (every-two-weeks runs let every other fire pass).
func (s *Schedule) Expression() string {
	h, m, _ := clock(s.TimeOfDay)
	if s.Frequency == Daily {
		return fmt.Sprintf("cron(%d %d * * ? *)", m, h)
	}
	return fmt.Sprintf("cron(%d %d ? * %s *)", m, h, strings.ToUpper(s.DayOfWeek[:3]))
}

// Describe says when the schedule runs, for people.
func (s *Schedule) Describe() string {
	if s == nil || !s.Enabled {
		return "off"
	}
	switch s.Frequency {
	case Daily:
		return fmt.Sprintf("every day at %s (%s)", s.TimeOfDay, s.Timezone)
	case Weekly:
		return fmt.Sprintf("every %s at %s (%s)", title(s.DayOfWeek), s.TimeOfDay, s.Timezone)
	}
	return fmt.Sprintf("every two weeks on %s at %s (%s)", title(s.DayOfWeek), s.TimeOfDay, s.Timezone)
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
