package api

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/restore"
)

// TestDecodeIsStrict: names match exactly, a name given twice or unknown is
// refused, one value only; messages quote little of what was sent.
func TestDecodeIsStrict(t *testing.T) {
	for _, tt := range []struct {
		body, want string // want: "" accepted, else a substring of the 400's message
	}{
		{`{"acknowledgeDataChange": true, "acknowledgeIrreversible": true}`, ""},
		{``, ""},
		{`{"AcknowledgeDataChange": true, "ACKNOWLEDGEIRREVERSIBLE": true}`, `unknown field "AcknowledgeDataChange"`},
		{`{"acknowledgeDataChange": true, "acknowledgeDataChange": false}`, "duplicate"},
		{`{"acknowledgeDataChange": "yes"}`, "invalid JSON body"},
		{`{} {}`, "more than one value"},
		{`{"` + strings.Repeat("x", 5000) + `": 1}`, "unknown field"},
	} {
		var ack restore.Acknowledgements
		err := decode(httptest.NewRequest("POST", "/", strings.NewReader(tt.body)), &ack)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%.60s: %v", tt.body, err)
		case tt.want != "" && (!apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%.60s: %v, want a 400 saying %q", tt.body, err, tt.want)
		case err != nil && len(err.Error()) > 300:
			t.Errorf("%.60s: a message of %d bytes quotes too much", tt.body, len(err.Error()))
		}
	}
}
