package emulator

import (
	"testing"
	"time"
)

func TestISOMillisMatchesFormat(t *testing.T) {
	times := []time.Time{
		time.Date(2023, 1, 2, 9, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2024, 2, 29, 0, 0, 0, 1_000_000, time.FixedZone("CET", 3600)), // rendered in UTC
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), // past four digits: Format's answer
	}
	for i := range 1000 {
		times = append(times, time.UnixMilli(int64(i)*7_919_993_423))
	}
	for _, tm := range times {
		if got, want := isoMillis(tm), tm.UTC().Format(isoMillisLayout); got != want {
			t.Errorf("%v: %s, want %s", tm, got, want)
		}
	}
}
