package dynamo_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/dynamo"
	"github.com/crmbackup/crmbackup/internal/restore"
)

// fakeDynamoDB answers TransactWriteItems from a script of responses (as
// real DynamoDB does when two transactions touch one item at once), and
// counts the calls.
type fakeDynamoDB struct {
	mu     sync.Mutex
	script []string // "conflict", "condition", "ok"; the last repeats
	calls  int
}

const (
	conflictBody  = `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]","CancellationReasons":[{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"},{"Code":"None"},{"Code":"None"}]}`
	conditionBody = `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]","CancellationReasons":[{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"},{"Code":"None"},{"Code":"None"}]}`
)

func (f *fakeDynamoDB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".TransactWriteItems") {
		http.Error(w, "unexpected "+r.Header.Get("X-Amz-Target"), http.StatusNotImplemented)
		return
	}
	f.mu.Lock()
	step := f.script[min(f.calls, len(f.script)-1)]
	f.calls++
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	switch step {
	case "conflict":
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, conflictBody)
	case "condition":
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, conditionBody)
	default:
		io.WriteString(w, `{}`)
	}
}

func fakeStore(t *testing.T, script ...string) (*dynamo.Store, *fakeDynamoDB) {
	t.Helper()
	f := &fakeDynamoDB{script: script}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	db := dynamodb.New(dynamodb.Options{BaseEndpoint: aws.String(srv.URL), Region: "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), RetryMaxAttempts: 1})
	return dynamo.New(db, "crmbackup"), f
}

// TestTransactionConflictsAreRetried: the losers of a race that DynamoDB
// cancels with TransactionConflict are tried again (and then meet the
// winner's condition), never a 500.
func TestTransactionConflictsAreRetried(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	b := &backup.Backup{AccountID: "acme", ID: backup.NewID(now), Status: backup.Queued, CreatedAt: now}
	entry := audit.New("acme", backup.NewID(now), now, audit.Actor{Subject: "u"}, audit.BackupCreated, audit.Succeeded, nil)
	for _, tt := range []struct {
		name   string
		script []string
		calls  int
		code   string // "" for success
	}{
		{"a conflict, then the write", []string{"conflict", "conflict", "ok"}, 3, ""},
		{"a conflict, then the winner's condition", []string{"conflict", "condition"}, 2, apperr.Conflict},
		{"a condition at once", []string{"condition"}, 1, apperr.Conflict},
		{"conflicts that persist", []string{"conflict"}, 6, apperr.Conflict},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, f := fakeStore(t, tt.script...)
			err := s.CreateBackup(ctx, b, time.Hour, entry)
			if apperr.Code(err) != tt.code && !(tt.code == "" && err == nil) {
				t.Fatalf("%v, want %q", err, tt.code)
			}
			if f.calls != tt.calls {
				t.Fatalf("%d transactions sent, want %d", f.calls, tt.calls)
			}
		})
	}
	t.Run("an execute race", func(t *testing.T) {
		s, f := fakeStore(t, "conflict", "ok")
		im := &restore.Import{AccountID: "acme", ID: backup.NewID(now), PlanID: backup.NewID(now), Status: restore.ImportRunning, StartedAt: now}
		if err := s.StartImport(ctx, im, restore.Lock{ImportID: im.ID, Until: now.Add(time.Hour)}, entry); err != nil || f.calls != 2 {
			t.Fatalf("%v after %d transactions", err, f.calls)
		}
	})
}
