package asl

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/crmbackup/crmbackup/internal/lambdas"
)

type state struct {
	Type  string
	Retry []struct {
		ErrorEquals []string
		MaxAttempts *int
	}
	Catch []struct {
		ErrorEquals []string
		Next        string
	}
	ItemProcessor *struct{ States map[string]state }
}

// tasks returns every Task state of a machine, nested ones too.
func tasks(t *testing.T, machine string) map[string]state {
	t.Helper()
	raw, err := Raw(machine)
	if err != nil {
		t.Fatal(err)
	}
	var def struct{ States map[string]state }
	if err := json.Unmarshal(raw, &def); err != nil {
		t.Fatal(err)
	}
	out := map[string]state{}
	var walk func(map[string]state)
	walk = func(states map[string]state) {
		for name, st := range states {
			if st.Type == "Task" {
				out[name] = st
			}
			if st.ItemProcessor != nil {
				walk(st.ItemProcessor.States)
			}
		}
	}
	walk(def.States)
	return out
}

// TestErrorNames: every Task retries ErrorTransient, never retries
// ErrorPermanent (the first Retry, so no later catch-all retries it), and
// names no error other than these two and the States./Lambda. ones, so a
// renamed or mistyped error name fails here instead of silently ending
// retries.
func TestErrorNames(t *testing.T) {
	for _, m := range Machines {
		ts := tasks(t, m)
		if len(ts) == 0 {
			t.Fatalf("%s: no Task states", m)
		}
		for name, st := range ts {
			if len(st.Retry) == 0 || !slices.Equal(st.Retry[0].ErrorEquals, []string{ErrorPermanent}) ||
				st.Retry[0].MaxAttempts == nil || *st.Retry[0].MaxAttempts != 0 {
				t.Errorf("%s.%s: the first Retry must be %s with MaxAttempts 0", m, name, ErrorPermanent)
			}
			retried := false
			var names []string
			for _, r := range st.Retry {
				retried = retried || slices.Contains(r.ErrorEquals, ErrorTransient)
				names = append(names, r.ErrorEquals...)
			}
			for _, c := range st.Catch {
				names = append(names, c.ErrorEquals...)
			}
			if !retried {
				t.Errorf("%s.%s does not retry %s", m, name, ErrorTransient)
			}
			for _, n := range names {
				if n != ErrorTransient && n != ErrorPermanent && !strings.HasPrefix(n, "States.") && !strings.HasPrefix(n, "Lambda.") {
					t.Errorf("%s.%s matches an unknown error name %q", m, name, n)
				}
			}
		}
	}
}

// TestTaskTimeoutsOutlastTheFunctions: a Task's timeout is above its
// function's, so Step Functions never starts a retry while the first
// invocation still runs (and writes).
func TestTaskTimeoutsOutlastTheFunctions(t *testing.T) {
	for _, m := range Machines {
		raw, err := Raw(m)
		if err != nil {
			t.Fatal(err)
		}
		var walk func(map[string]json.RawMessage)
		walk = func(states map[string]json.RawMessage) {
			for name, rawState := range states {
				var st struct {
					Type           string
					Resource       string
					TimeoutSeconds int
					ItemProcessor  *struct{ States map[string]json.RawMessage }
				}
				if err := json.Unmarshal(rawState, &st); err != nil {
					t.Fatal(err)
				}
				if st.ItemProcessor != nil {
					walk(st.ItemProcessor.States)
				}
				if st.Type != "Task" {
					continue
				}
				fn := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(st.Resource, "${"), "FunctionArn}"))
				spec, ok := lambdas.Get(fn)
				if !ok {
					t.Errorf("%s.%s: resource %q names no function", m, name, st.Resource)
					continue
				}
				if st.TimeoutSeconds <= spec.TimeoutSec {
					t.Errorf("%s.%s: Task timeout %d s, not above the %s function's %d s", m, name, st.TimeoutSeconds, fn, spec.TimeoutSec)
				}
			}
		}
		var def struct{ States map[string]json.RawMessage }
		if err := json.Unmarshal(raw, &def); err != nil {
			t.Fatal(err)
		}
		walk(def.States)
	}
}
