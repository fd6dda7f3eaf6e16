package api

import (
	"net/http"
	"testing"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/testenv/goconst"
)

// ErrorCodes lists every code apperr declares (read from its source, so a
// new code cannot be left out), and each has its own HTTP status.
func TestErrorCodesAreApperrs(t *testing.T) {
	goconst.Same(t, "ErrorCodes", ErrorCodes, "../apperr/apperr.go", "")
	for _, code := range ErrorCodes {
		if st := status(code); (st == http.StatusInternalServerError) != (code == apperr.Internal) {
			t.Errorf("%s: HTTP %d", code, st)
		}
	}
}
