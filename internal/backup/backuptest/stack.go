package backuptest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/dynamo"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/s3store"
	"github.com/crmbackup/crmbackup/internal/s3store/s3local"
)

// Stack is what a backup runs on in tests: the real adapters on their local
// stand-ins — the CRM emulator over HTTP, the S3 stand-in in memory and a
// fresh table in DynamoDB Local — with the account "acme" of the given tier
// on the emulator's portal.
type Stack struct {
	Emulator *emulator.Server
	CRM      *hubspot.Client // unthrottled: a budget of its own
	Blobs    *s3store.Store
	Store    *dynamo.Store
	S3URL    string
	Table    string
}

var tableSeq atomic.Int64

// NewStack starts a Stack; db is a DynamoDB Local client.
func NewStack(tb testing.TB, db *dynamodb.Client, opts emulator.Options, tier backup.Tier) *Stack {
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
	table := fmt.Sprintf("test-%d", tableSeq.Add(1))
	if err := dynamo.CreateTable(ctx, db, table); err != nil {
		tb.Fatal(err)
	}
	store := dynamo.New(db, table)
	portal := opts.PortalID
	if portal == 0 {
		portal = emulator.DefaultPortalID
	}
	if err := store.PutAccount(ctx, &backup.Account{ID: "acme", PortalID: portal, Name: "Acme", Tier: tier, TokenRef: "env:X"}); err != nil {
		tb.Fatal(err)
	}
	return &Stack{Emulator: emu, CRM: crm, Blobs: s3store.New(s3srv.Client(), "backups"), Store: store, S3URL: s3srv.URL, Table: table}
}

// StaticCRM is a backup.Connector and a restore.Connector that gives every
// account one client.
type StaticCRM struct{ C *hubspot.Client }

// CRM implements backup.Connector.
func (k StaticCRM) CRM(context.Context, *backup.Account) (backup.CRM, error) { return k.C, nil }

// RestoreCRM implements restore.Connector.
func (k StaticCRM) RestoreCRM(context.Context, *backup.Account) (restore.CRM, error) { return k.C, nil }
