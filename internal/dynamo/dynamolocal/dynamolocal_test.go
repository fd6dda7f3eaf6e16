package dynamolocal

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A relative DBPath is relative to the caller's working directory, not to
// the jar's folder the JVM runs in.
func TestStartRelativeDBPath(t *testing.T) {
	jar, err := Jar()
	if err != nil {
		t.Skip(err)
	}
	t.Setenv("DYNAMODB_LOCAL_JAR", jar)
	dir := t.TempDir()
	t.Chdir(dir)

	ctx := context.Background()
	s, err := Start(ctx, Options{DBPath: "data"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Client().CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            ptr("probe"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: ptr("PK"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: ptr("PK"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "data", "*"))
	if len(files) == 0 {
		entries, _ := os.ReadDir(dir)
		t.Fatalf("no database under %s/data; the folder holds %v", dir, entries)
	}
}

func ptr(s string) *string { return &s }

// Start refuses an address beyond loopback before it starts anything.
func TestStartRefusesNonLoopback(t *testing.T) {
	if _, err := Jar(); err != nil {
		t.Skip(err)
	}
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:8000", "localhost:8000"} {
		if s, err := Start(context.Background(), Options{Addr: addr}); err == nil {
			s.Close()
			t.Errorf("Start(%s) started", addr)
		}
	}
}
