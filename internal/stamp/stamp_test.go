package stamp

import (
	"testing"
	"time"
)

func TestStampsCompareAsTheirTimes(t *testing.T) {
	zone := time.FixedZone("UTC+5", 5*3600)
	for _, tt := range []struct{ a, b time.Time }{
		{time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 9, 0, 0, 1, time.UTC)},
		{time.Date(2026, 12, 1, 9, 0, 0, 999999999, time.UTC), time.Date(2026, 12, 1, 9, 0, 1, 0, time.UTC)},
		{time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 15, 0, 0, 0, zone)},
	} {
		if !tt.a.Before(tt.b) || !(Of(tt.a) < Of(tt.b)) {
			t.Errorf("%v < %v, but %q < %q is %v", tt.a, tt.b, Of(tt.a), Of(tt.b), Of(tt.a) < Of(tt.b))
		}
		if got := Time(Of(tt.b)); !got.Equal(tt.b) {
			t.Errorf("Time(Of(%v)) = %v", tt.b, got)
		}
	}
	if Of(time.Time{}) != "" || !Time("").IsZero() {
		t.Error("the zero time is not the empty stamp")
	}
}
