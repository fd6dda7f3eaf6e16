package s3store_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup/backuptest"
	"github.com/crmbackup/crmbackup/internal/blobkey"
	"github.com/crmbackup/crmbackup/internal/s3store"
	"github.com/crmbackup/crmbackup/internal/s3store/s3local"
)

func TestConformance(t *testing.T) {
	for name, backend := range map[string]s3local.Backend{
		"memory": s3local.Memory,
		"disk":   s3local.Disk(t.TempDir()),
	} {
		t.Run(name, func(t *testing.T) {
			srv, err := s3local.Start(backend, "backups")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Close)
			backuptest.TestBlobs(t, s3store.New(srv.Client(), "backups"))
		})
	}
}

// TestContentTypes: each file is stored with its kind's media type, by
// single PUT and by multipart upload alike.
func TestContentTypes(t *testing.T) {
	srv, err := s3local.Start(s3local.Memory, "backups")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	ctx := context.Background()
	store := s3store.New(srv.Client(), "backups")
	for _, k := range blobkey.Kinds() {
		for name, write := range map[string]func(key string) error{
			"put": func(key string) error { return store.Put(ctx, key, []byte("x")) },
			"upload": func(key string) error {
				up, err := store.Create(ctx, key)
				if err != nil {
					return err
				}
				// More than a part, so the multipart path runs.
				if _, err := up.Write(bytes.Repeat([]byte("x"), s3store.PartSize+1)); err != nil {
					return err
				}
				return up.Close()
			},
		} {
			key := k.Example + "." + name
			if k.Pattern[len(k.Pattern)-1] != '*' {
				key = strings.Replace(k.Example, "acme", "acme-"+name, 1)
			}
			if err := write(key); err != nil {
				t.Fatal(err)
			}
			head, err := srv.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("backups"), Key: &key})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(head.ContentType); got != k.ContentType {
				t.Errorf("%s %s: Content-Type %q, want %q", name, key, got, k.ContentType)
			}
		}
	}
}

// TestMissingKeyWithoutListBucketIsNotFound: S3 answers a read of a
// missing key with 403 AccessDenied when the caller may not list the
// bucket (as every function but the listing ones): a missing file, not a
// fault to retry.
func TestMissingKeyWithoutListBucketIsNotFound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		if r.Method != http.MethodHead {
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>R</RequestId></Error>`)
		}
	}))
	defer srv.Close()
	client := s3.New(s3.Options{BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, Region: "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), RetryMaxAttempts: 1})
	store := s3store.New(client, "backups")
	ctx := context.Background()
	_, getErr := store.Get(ctx, "work/acme/B/discovery.json")
	_, rangeErr := store.GetRange(ctx, "backups/acme/B.zip", 0, 10)
	_, sizeErr := store.Size(ctx, "backups/acme/B.zip")
	for name, err := range map[string]error{"get": getErr, "range": rangeErr, "size": sizeErr} {
		if !apperr.Is(err, apperr.NotFound) {
			t.Errorf("%s: %v, want not found", name, err)
		}
	}
}
