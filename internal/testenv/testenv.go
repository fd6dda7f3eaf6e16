// Package testenv wires the environments the domain tests and benchmarks run
// on: the real adapters on their local stand-ins — the CRM emulator over
// HTTP, the S3 stand-in in memory — with a metadata store that is in memory
// (package memstore) unless a test asks for DynamoDB Local. It sits above
// the domain packages and their adapters, so that they import nothing above
// themselves; the ports' conformance suites stay in backuptest and
// restoretest, which import the domain alone.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os/exec"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/dynamo"
	"github.com/crmbackup/crmbackup/internal/dynamo/dynamolocal"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/listing"
	"github.com/crmbackup/crmbackup/internal/memstore"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/s3store"
	"github.com/crmbackup/crmbackup/internal/s3store/s3local"
	"github.com/crmbackup/crmbackup/internal/schedule"
)

// Store is the metadata store of both domains, as the DynamoDB and the
// in-memory adapters implement it.
type Store interface {
	backup.Store
	backup.Inbox
	restore.Store
	schedule.Store
	audit.Log
}

// Notifications is the account's first page of notifications, newest first.
func Notifications(t testing.TB, s Store, account string) []*backup.Notification {
	t.Helper()
	p, err := s.Notifications(context.Background(), account, listing.Query{Limit: listing.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

// AuditLog is the account's first page of audit entries, newest first.
func AuditLog(t testing.TB, s Store, account string) []*audit.Entry {
	t.Helper()
	p, err := s.AuditLog(context.Background(), account, audit.Query{Query: listing.Query{Limit: listing.MaxLimit}})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

// Stack is what a backup or a restore runs on in tests, with the account
// "acme" of the given tier on the emulator's portal.
type Stack struct {
	Emulator *emulator.Server
	CRM      *hubspot.Client // unthrottled: a budget of its own
	Blobs    *s3store.Store
	Store    Store
	S3URL    string
	S3Keys   s3local.Keys
}

// NewStack starts a Stack on an in-memory store.
func NewStack(tb testing.TB, opts emulator.Options, tier backup.Tier) *Stack {
	tb.Helper()
	return NewStackOn(tb, memstore.New(), opts, tier)
}

// NewStackOn starts a Stack on store (empty).
func NewStackOn(tb testing.TB, store Store, opts emulator.Options, tier backup.Tier) *Stack {
	tb.Helper()
	ctx := context.Background()
	emu, err := emulator.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(emu)
	tb.Cleanup(hs.Close)
	crm, err := hubspot.New(hubspot.Config{BaseURL: hs.URL, Token: emulator.DefaultToken, Budget: hubspot.NewBudget(1e6, hubspot.Window)})
	if err != nil {
		tb.Fatal(err)
	}
	s3srv, err := s3local.Start(s3local.Memory, "backups")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s3srv.Close)
	portal := opts.PortalID
	if portal == 0 {
		portal = emulator.DefaultPortalID
	}
	if err := store.PutAccount(ctx, &backup.Account{ID: "acme", PortalID: portal, Name: "Acme", Tier: tier, TokenRef: "env:X"}); err != nil {
		tb.Fatal(err)
	}
	return &Stack{Emulator: emu, CRM: crm, Blobs: s3store.New(s3srv.Client(), "backups"), Store: store, S3URL: s3srv.URL, S3Keys: s3srv.Keys}
}

// StaticCRM is a backup.Connector and a restore.Connector that gives every
// account one client.
type StaticCRM struct{ C *hubspot.Client }

// CRM implements backup.Connector.
func (k StaticCRM) CRM(context.Context, *backup.Account) (backup.CRM, error) { return k.C, nil }

// RestoreCRM implements restore.Connector.
func (k StaticCRM) RestoreCRM(context.Context, *backup.Account) (restore.CRM, error) { return k.C, nil }

var tableSeq atomic.Int64

// Table creates a fresh table in the DynamoDB Local behind db and returns
// the store on it and its name.
func Table(tb testing.TB, db *dynamodb.Client) (*dynamo.Store, string) {
	tb.Helper()
	table := fmt.Sprintf("test-%d", tableSeq.Add(1))
	if err := dynamo.CreateTable(context.Background(), db, table); err != nil {
		tb.Fatal(err)
	}
	return dynamo.New(db, table), table
}

// ErrNoJava says DynamoDB Local cannot run here.
var ErrNoJava = errors.New("DynamoDB Local needs a Java runtime (make tools installs one)")

// DynamoDBLocal starts a DynamoDB Local for the caller, stopped when it ends.
// Without a Java runtime it returns ErrNoJava, so a benchmark that needs it
// can say so and skip; conformance suites fail instead.
func DynamoDBLocal(tb testing.TB) (*dynamolocal.Server, error) {
	tb.Helper()
	if _, err := exec.LookPath("java"); err != nil {
		return nil, ErrNoJava
	}
	srv, err := dynamolocal.Start(context.Background(), dynamolocal.Options{})
	if err != nil {
		return nil, err
	}
	tb.Cleanup(func() { srv.Close() })
	return srv, nil
}
