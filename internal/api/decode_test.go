package api

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/schedule"
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

// FuzzDecode: any body sent to any route's request type is decoded or
// refused with a 400 of a bounded message; nothing panics.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, ``, `{"acknowledgeDataChange": true, "acknowledgeIrreversible": true}`,
		`{"objectType":"deals","properties":["dealname","amount"]}`, `{"enabled":true,"frequency":"weekly","timeOfDay":"02:00"}`,
		`{"AcknowledgeDataChange": true}`, `{"a":1,"a":2}`, `{} {}`, `[`, `{"properties":[1,2]}`, "\xff", `{"enabled":null}`} {
		f.Add(s)
	}
	targets := []func() any{
		func() any { return &restore.Acknowledgements{} },
		func() any { return &restore.PlanRequest{} },
		func() any { return &schedule.Request{} },
		func() any { return &createRequest{} },
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, target := range targets {
			err := decode(httptest.NewRequest("POST", "/", strings.NewReader(body)), target())
			if err != nil && (!apperr.Is(err, apperr.Invalid) || len(err.Error()) > 400) {
				t.Fatalf("%q: %v", body, err)
			}
		}
	})
}
