package dynamo_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/hubspot/slotstest"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/crmbackup/crmbackup/internal/backup/backuptest"
	"github.com/crmbackup/crmbackup/internal/dynamo"
	"github.com/crmbackup/crmbackup/internal/dynamo/dynamolocal"
	"github.com/crmbackup/crmbackup/internal/operator/operatortest"
	"github.com/crmbackup/crmbackup/internal/restore/restoretest"
	"github.com/crmbackup/crmbackup/internal/schedule/scheduletest"
)

var local *dynamolocal.Server

func TestMain(m *testing.M) {
	var err error
	local, err = dynamolocal.Start(context.Background(), dynamolocal.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dynamo tests need DynamoDB Local:", err)
		os.Exit(1)
	}
	code := m.Run()
	local.Close()
	os.Exit(code)
}

var tables atomic.Int64

func newStore(t *testing.T) *dynamo.Store {
	name := fmt.Sprintf("crmbackup-test-%d", tables.Add(1))
	db := local.Client()
	if err := dynamo.CreateTable(context.Background(), db, name); err != nil {
		t.Fatal(err)
	}
	return dynamo.New(db, name)
}

func TestConformance(t *testing.T) {
	backuptest.TestStore(t, func(t *testing.T) backuptest.Store { return newStore(t) })
}

func TestRestoreConformance(t *testing.T) {
	restoretest.TestStore(t, func(t *testing.T) restoretest.Store { return newStore(t) })
}

func TestSlotsConformance(t *testing.T) {
	store := newStore(t)
	var n atomic.Int64
	slotstest.Run(t, func(t *testing.T) hubspot.Slots {
		return store.Slots(fmt.Sprintf("acct-%d", n.Add(1)), "burst")
	})
}

func TestScheduleStore(t *testing.T) {
	scheduletest.TestStore(t, func(t *testing.T) scheduletest.Store { return newStore(t) })
}

// TestDynamoDBLocalIsKeyed: what the stack keeps in DynamoDB Local is
// reachable only with the stack's random key, also to other programs of
// the machine that reach its loopback port.
func TestDynamoDBLocalIsKeyed(t *testing.T) {
	ctx := context.Background()
	newStore(t) // a table under the stack's key
	mine, err := local.Client().ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || len(mine.TableNames) == 0 {
		t.Fatalf("the stack's key sees %v (%v)", mine, err)
	}
	theirs, err := dynamolocal.Client(local.Endpoint, "AKIAANYONEELSE").ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || len(theirs.TableNames) != 0 {
		t.Fatalf("another key sees the stack's tables: %v (%v)", theirs.TableNames, err)
	}
	// The key is the stack's own: random, not a name anyone can guess.
	if k := local.AccessKey; len(k) < 32 || k == dynamolocal.RandomKey() || strings.Contains(k, "local") {
		t.Fatalf("DynamoDB Local's key %q", k)
	}
}

func TestAccountStore(t *testing.T) {
	operatortest.TestStore(t, func(t *testing.T) operatortest.Store { return newStore(t) })
}
