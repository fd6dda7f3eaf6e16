package api

import (
	"net/http"
	"slices"
	"testing"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/testenv/goconst"
)

// ErrorCodes lists every code apperr declares (read from its source, so a
// new code cannot be left out), and each has its own HTTP status.
func TestErrorCodesAreApperrs(t *testing.T) {
	declared := goconst.Strings(t, "../apperr/apperr.go", "")
	got := slices.Sorted(slices.Values(ErrorCodes))
	slices.Sort(declared)
	if len(declared) == 0 || !slices.Equal(got, declared) {
		t.Fatalf("ErrorCodes %v, apperr declares %v", got, declared)
	}
	for _, code := range ErrorCodes {
		if st := status(code); (st == http.StatusInternalServerError) != (code == apperr.Internal) {
			t.Errorf("%s: HTTP %d", code, st)
		}
	}
}
