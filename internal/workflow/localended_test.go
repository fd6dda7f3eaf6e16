package workflow

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
)

// TestLocalRunnerReportsFailedExecutions: an execution that fails beyond
// its Catch (here the catch's finalize fails too) is handed to Ended, as
// the EventBridge rule on AWS hands it to the ended function.
func TestLocalRunnerReportsFailedExecutions(t *testing.T) {
	nodeModules, err := FindNodeModules()
	if err != nil {
		t.Skip(err)
	}
	permanent := func(context.Context, backup.StepInput) (*backup.DiscoverOutput, error) {
		return nil, Permanent(apperr.New(apperr.Invalid, "broken"))
	}
	finalize := func(context.Context, backup.FinalizeInput) (*backup.Backup, error) {
		return nil, Permanent(errors.New("the store is gone"))
	}
	log := slog.New(slog.DiscardHandler)
	mux := http.NewServeMux()
	mux.Handle("POST /invoke/{function}", NewInvoker(log, map[string]any{"discover": permanent, "finalize": finalize}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	got := make(chan ExecutionEnd, 1)
	r := &LocalRunner{Log: log, NodeModules: nodeModules, InvokeURL: srv.URL + "/invoke", RetryInterval: time.Millisecond,
		Ended: func(_ context.Context, ev ExecutionEnd) (*EndResult, error) { got <- ev; return &EndResult{}, nil }}
	defer r.Close()
	if err := r.StartBackup(context.Background(), "acme", "01JD2Z6W6Q3V9K8M7N5P4R3S2A"); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-got:
		if ev.Detail.Status != "FAILED" || !strings.Contains(ev.Detail.Input, `"backupId":"01JD2Z6W6Q3V9K8M7N5P4R3S2A"`) || ev.Detail.Error == nil {
			t.Fatalf("%+v", ev.Detail)
		}
	case <-time.After(time.Minute):
		t.Fatal("no status change reported")
	}
}
