package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/lambdas"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/workflow/asl"
)

// aslValidator finds the asl-validator the Makefile installs.
func aslValidator(t *testing.T) string {
	t.Helper()
	nm, err := FindNodeModules()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(nm, ".bin", "asl-validator")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("asl-validator not installed: run `make tools`: %v", err)
	}
	return p
}

// TestDefinitionsValidate runs asl-validator on every state machine, as
// written and with ARNs substituted as the CDK stack does.
func TestDefinitionsValidate(t *testing.T) {
	validator := aslValidator(t)
	for _, m := range asl.Machines {
		raw, err := asl.Raw(m)
		if err != nil {
			t.Fatal(err)
		}
		sub, err := asl.Definition(m, func(f string) string { return "arn:aws:lambda:eu-west-1:123456789012:function:crmbackup-" + f })
		if err != nil {
			t.Fatal(err)
		}
		for name, def := range map[string][]byte{"raw": raw, "substituted": sub} {
			path := filepath.Join(t.TempDir(), m+".json")
			os.WriteFile(path, def, 0o600)
			out, err := exec.Command(validator, "--json-path", path).CombinedOutput()
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", m, name, err, out)
			}
		}
		if strings.Contains(string(sub), "${") {
			t.Fatalf("%s: placeholders left after substitution", m)
		}
	}
}

// TestValidatorRejectsBrokenDefinitions proves the validation can fail.
func TestValidatorRejectsBrokenDefinitions(t *testing.T) {
	validator := aslValidator(t)
	raw, _ := asl.Raw("backup")
	broken := strings.Replace(string(raw), `"Next": "ExportObjects"`, `"Next": "NoSuchState"`, 1)
	path := filepath.Join(t.TempDir(), "broken.json")
	os.WriteFile(path, []byte(broken), 0o600)
	if out, err := exec.Command(validator, "--json-path", path).CombinedOutput(); err == nil {
		t.Fatalf("a transition to a missing state validated:\n%s", out)
	}
}

func TestTaskFunctions(t *testing.T) {
	def, err := asl.Definition("backup", LocalARN)
	if err != nil {
		t.Fatal(err)
	}
	got, err := taskFunctions(def)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Discover": "discover", "ExportChunk": "export", "Zip": "zip", "Finalize": "finalize",
		"Notify": "notify", "MarkFailed": "finalize", "NotifyFailure": "notify"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	fns, _ := asl.Functions("backup")
	if !slices.Equal(fns, []string{"discover", "export", "finalize", "notify", "zip"}) {
		t.Fatalf("functions %v", fns)
	}
	if fns, _ := asl.Functions("restore"); !slices.Equal(fns, []string{"restore"}) {
		t.Fatalf("restore functions %v", fns)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"invalid", apperr.New(apperr.Invalid, "x"), "Permanent"},
		{"conflict", fmt.Errorf("wrapped: %w", apperr.New(apperr.Conflict, "x")), "Permanent"},
		{"hubspot 401", &hubspot.Error{StatusCode: 401}, "Permanent"},
		{"hubspot 400", &hubspot.Error{StatusCode: 400}, "Permanent"},
		{"hubspot daily cap", &hubspot.Error{StatusCode: 429, Policy: "DAILY"}, "Permanent"},
		{"hubspot 429 after retries", &hubspot.Error{StatusCode: 429, Policy: "TEN_SECONDLY_ROLLING"}, "Transient"},
		{"hubspot 503 after retries", &hubspot.Error{StatusCode: 503}, "Transient"},
		{"hubspot 477 after retries", &hubspot.Error{StatusCode: 477}, "Transient"},
		{"hubspot 423 after retries", &hubspot.Error{StatusCode: 423}, "Transient"},
		{"network", errors.New("connection reset"), "Transient"},
		{"already classified", Permanent(errors.New("x")), "Permanent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.err)
			if got == nil {
				if tt.want != "" {
					t.Fatalf("nil, want %s", tt.want)
				}
				return
			}
			if ErrorName(got) != tt.want {
				t.Fatalf("%s, want %s", ErrorName(got), tt.want)
			}
		})
	}
}

func TestInvokerErrorShape(t *testing.T) {
	type in struct {
		N int `json:"n"`
	}
	inv := NewInvoker(slog.New(slog.DiscardHandler), map[string]any{
		"double": func(ctx context.Context, v in) (in, error) { return in{v.N * 2}, nil },
		"fail": lambdaFunc(nil, "fail", func(ctx context.Context, v in) (in, error) {
			return in{}, Permanent(apperr.New(apperr.Invalid, "bad input"))
		}),
	})
	mux := http.NewServeMux()
	mux.Handle("POST /invoke/{function}", inv)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	post := func(fn, body string) (int, map[string]any) {
		resp, err := http.Post(srv.URL+"/invoke/"+fn, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		json.Unmarshal(raw, &m)
		return resp.StatusCode, m
	}
	if code, m := post("double", `{"n":21}`); code != 200 || m["n"] != float64(42) {
		t.Fatalf("%d %v", code, m)
	}
	if code, m := post("fail", `{"n":1}`); code != 500 || m["errorType"] != "Permanent" || m["errorMessage"] != "bad input" {
		t.Fatalf("%d %v", code, m)
	}
	if code, m := post("nope", `{}`); code != 404 || m["errorType"] != "ResourceNotFoundException" {
		t.Fatalf("%d %v", code, m)
	}
}

// TestRestoreMaxRunIsTheMachinesTimeout: a restore is refused when its
// backup expires sooner than restore.MaxRun, which must be the longest the
// restore state machine lets one run.
func TestRestoreMaxRunIsTheMachinesTimeout(t *testing.T) {
	raw, err := asl.Raw(lambdas.RestoreMachine)
	if err != nil {
		t.Fatal(err)
	}
	var def struct{ TimeoutSeconds int }
	if err := json.Unmarshal(raw, &def); err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(def.TimeoutSeconds) * time.Second; got != restore.MaxRun {
		t.Fatalf("the restore machine times out after %s, restore.MaxRun is %s", got, restore.MaxRun)
	}
}
