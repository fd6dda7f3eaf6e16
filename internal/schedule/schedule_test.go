package schedule

import (
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
)

func TestCheckNamesTheField(t *testing.T) {
	ok := Settings{Enabled: true, Frequency: Weekly, TimeOfDay: "02:00", Timezone: "Europe/Rome", DayOfWeek: "monday"}
	for _, tt := range []struct {
		name  string
		edit  func(*Settings)
		field string // "" when valid
	}{
		{"valid weekly", func(*Settings) {}, ""},
		{"valid daily", func(s *Settings) { s.Frequency, s.DayOfWeek = Daily, "" }, ""},
		{"valid biweekly, UTC, 23:59", func(s *Settings) { s.Frequency, s.Timezone, s.TimeOfDay = Biweekly, "UTC", "23:59" }, ""},
		{"monthly", func(s *Settings) { s.Frequency = "monthly" }, "frequency"},
		{"empty frequency", func(s *Settings) { s.Frequency = "" }, "frequency"},
		{"Weekly in capitals", func(s *Settings) { s.Frequency = "Weekly" }, "frequency"},
		{"24:00", func(s *Settings) { s.TimeOfDay = "24:00" }, "timeOfDay"},
		{"a signed hour", func(s *Settings) { s.TimeOfDay = "+1:00" }, "timeOfDay"},
		{"a signed minute", func(s *Settings) { s.TimeOfDay = "01:-0" }, "timeOfDay"},
		{"Factory", func(s *Settings) { s.Timezone = "Factory" }, "timezone"},
		{"2:00", func(s *Settings) { s.TimeOfDay = "2:00" }, "timeOfDay"},
		{"02:60", func(s *Settings) { s.TimeOfDay = "02:60" }, "timeOfDay"},
		{"two o'clock", func(s *Settings) { s.TimeOfDay = "two" }, "timeOfDay"},
		{"unknown zone", func(s *Settings) { s.Timezone = "Europe/Atlantis" }, "timezone"},
		{"Local", func(s *Settings) { s.Timezone = "Local" }, "timezone"},
		{"a path as a zone", func(s *Settings) { s.Timezone = "../../etc/passwd" }, "timezone"},
		{"daily with a day", func(s *Settings) { s.Frequency = Daily }, "dayOfWeek"},
		{"weekly on Funday", func(s *Settings) { s.DayOfWeek = "funday" }, "dayOfWeek"},
		{"weekly on Monday in capitals", func(s *Settings) { s.DayOfWeek = "Monday" }, "dayOfWeek"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.edit(&s)
			err := s.Check()
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ae *apperr.Error
			if !apperr.Is(err, apperr.Invalid) || !errAs(err, &ae) || ae.Details["field"] != tt.field {
				t.Fatalf("%v: want a 400 naming %s", err, tt.field)
			}
		})
	}
}

func errAs(err error, target **apperr.Error) bool {
	e, ok := err.(*apperr.Error)
	*target = e
	return ok
}

func rome(t *testing.T, s string) time.Time {
	t.Helper()
	loc, _ := time.LoadLocation("Europe/Rome")
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRunTimes(t *testing.T) {
	weekly := &Schedule{Settings: Settings{Enabled: true, Frequency: Weekly, TimeOfDay: "02:00", Timezone: "Europe/Rome", DayOfWeek: "sunday"}}
	biweekly := &Schedule{Settings: Settings{Enabled: true, Frequency: Biweekly, TimeOfDay: "02:30", Timezone: "Europe/Rome", DayOfWeek: "wednesday"}, Anchor: "2026-12-02"}
	daily := &Schedule{Settings: Settings{Enabled: true, Frequency: Daily, TimeOfDay: "02:00", Timezone: "Europe/Rome"}}
	for _, tt := range []struct {
		name  string
		s     *Schedule
		after string // Rome time
		want  string // the next run, Rome time
	}{
		{"weekly, later the same week", weekly, "2026-12-02 10:00", "2026-12-06 02:00"},
		{"weekly, on the day before the time", weekly, "2026-12-06 01:59", "2026-12-06 02:00"},
		{"weekly, on the time itself: the next week", weekly, "2026-12-06 02:00", "2026-12-13 02:00"},
		{"daily, across the night", daily, "2026-12-02 03:00", "2026-12-03 02:00"},
		{"daily, 02:00 does not exist on 29 March (clocks go forward): skipped, as Scheduler does", daily, "2026-03-28 03:00", "2026-03-30 02:00"},
		{"weekly on Sunday, the same day", weekly, "2026-03-28 03:00", "2026-04-05 02:00"},
		{"daily, clocks go back on 25 October", daily, "2026-10-24 03:00", "2026-10-25 02:00"},
		{"every two weeks, from the anchor", biweekly, "2026-12-01 00:00", "2026-12-02 02:30"},
		{"every two weeks, skipping the off week", biweekly, "2026-12-02 03:00", "2026-12-16 02:30"},
		{"every two weeks, 26 weeks on", biweekly, "2027-06-01 00:00", "2027-06-02 02:30"},
		{"every two weeks, 27 weeks on", biweekly, "2027-06-08 00:00", "2027-06-16 02:30"},
		{"every two weeks, before the anchor", biweekly, "2026-11-10 00:00", "2026-11-18 02:30"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			after := rome(t, tt.after)
			got := tt.s.Next(after)
			if want := rome(t, tt.want); !got.Equal(want) {
				t.Fatalf("Next(%s) = %s, want %s", tt.after, got.In(want.Location()), tt.want)
			}
			if !tt.s.Occurs(got) {
				t.Fatalf("the next run %s is not one of the schedule's runs", got)
			}
			if last := tt.s.Last(got); !last.Equal(got) {
				t.Fatalf("Last(next) = %s, want the run itself", last)
			}
			if last := tt.s.Last(got.Add(-time.Second)); !last.Before(got) || tt.s.Next(last) != got {
				t.Fatalf("Last just before the run = %s, whose next is not the run", last)
			}
		})
	}
	if biweekly.Occurs(rome(t, "2026-12-09 02:30")) {
		t.Error("every two weeks ran on the off week")
	}
	off := *weekly
	off.Enabled = false
	if !off.Next(time.Now()).IsZero() || off.Occurs(rome(t, "2026-12-06 02:00")) {
		t.Error("a schedule that is off runs")
	}
}

func TestExpression(t *testing.T) {
	for _, tt := range []struct {
		s    Settings
		want string
	}{
		{Settings{Frequency: Daily, TimeOfDay: "02:00"}, "cron(0 2 * * ? *)"},
		{Settings{Frequency: Weekly, TimeOfDay: "23:45", DayOfWeek: "friday"}, "cron(45 23 ? * FRI *)"},
		{Settings{Frequency: Biweekly, TimeOfDay: "00:05", DayOfWeek: "sunday"}, "cron(5 0 ? * SUN *)"},
	} {
		if got := (&Schedule{Settings: tt.s}).Expression(); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.s, got, tt.want)
		}
	}
}

func TestAnchorIsTheFirstRun(t *testing.T) {
	s := &Schedule{Settings: Settings{Enabled: true, Frequency: Biweekly, TimeOfDay: "02:00", Timezone: "Europe/Rome", DayOfWeek: "wednesday"}}
	s.anchorFrom(rome(t, "2026-12-02 01:00")) // a Wednesday, before the time
	if s.Anchor != "2026-12-02" {
		t.Fatalf("anchor %s", s.Anchor)
	}
	s.anchorFrom(rome(t, "2026-12-02 02:00")) // at the time: next week's
	if s.Anchor != "2026-12-09" {
		t.Fatalf("anchor %s", s.Anchor)
	}
}
