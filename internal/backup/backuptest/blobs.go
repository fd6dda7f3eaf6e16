// Package backuptest holds the conformance suites of the backup package's
// ports. Each suite runs against every real adapter on its local stand-in
// (the S3 adapter on gofakes3, the DynamoDB adapter on DynamoDB Local) — and
// against nothing else pretending to be it.
package backuptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
)

// TestBlobs runs the Blobs conformance suite. Every subtest works under its
// own prefix, so one store serves the whole suite.
func TestBlobs(t *testing.T, blobs backup.Blobs) {
	ctx := context.Background()
	prefix := func(t *testing.T) string {
		return "conformance/" + strings.ReplaceAll(t.Name(), "/", "_") + "/" + fmt.Sprint(time.Now().UnixNano()) + "/"
	}
	read := func(t *testing.T) func(io.ReadCloser, error) []byte {
		return func(rc io.ReadCloser, err error) []byte {
			return readAll(t, rc, err)
		}
	}
	t.Run("put get size", func(t *testing.T) {
		key := prefix(t) + "a.bin"
		body := []byte("bytes\x00with\r\nanything \xff\xfe")
		if err := blobs.Put(ctx, key, body); err != nil {
			t.Fatal(err)
		}
		if got := read(t)(blobs.Get(ctx, key)); !bytes.Equal(got, body) {
			t.Fatalf("got %q, want %q", got, body)
		}
		if n, err := blobs.Size(ctx, key); err != nil || n != int64(len(body)) {
			t.Fatalf("size %d, %v; want %d", n, err, len(body))
		}
		if err := blobs.Put(ctx, key, []byte("v2")); err != nil {
			t.Fatal(err)
		}
		if got := read(t)(blobs.Get(ctx, key)); string(got) != "v2" {
			t.Fatalf("overwrite: got %q", got)
		}
	})

	t.Run("missing files", func(t *testing.T) {
		key := prefix(t) + "missing"
		if _, err := blobs.Get(ctx, key); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("get: %v, want not found", err)
		}
		if _, err := blobs.Size(ctx, key); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("size: %v, want not found", err)
		}
		if _, err := blobs.GetRange(ctx, key, 0, 10); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("range: %v, want not found", err)
		}
	})

	t.Run("ranges", func(t *testing.T) {
		key := prefix(t) + "r"
		body := []byte("0123456789abcdef")
		if err := blobs.Put(ctx, key, body); err != nil {
			t.Fatal(err)
		}
		for _, r := range []struct{ off, n int64 }{{0, 1}, {3, 4}, {10, 6}, {0, 16}} {
			if got := read(t)(blobs.GetRange(ctx, key, r.off, r.n)); !bytes.Equal(got, body[r.off:r.off+r.n]) {
				t.Errorf("range %d+%d: %q", r.off, r.n, got)
			}
		}
	})

	t.Run("streaming upload of several parts", func(t *testing.T) {
		key := prefix(t) + "big.zip"
		body := make([]byte, 19<<20+12345) // more than three parts of S3's minimum size
		rand.Read(body)
		up, err := blobs.Create(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		for rest := body; len(rest) > 0; {
			n := min(len(rest), 64<<10+7)
			if _, err := up.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		if _, err := blobs.Size(ctx, key); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("file visible before Close: %v", err)
		}
		if err := up.Close(); err != nil {
			t.Fatal(err)
		}
		if got := read(t)(blobs.Get(ctx, key)); !bytes.Equal(got, body) {
			t.Fatalf("uploaded %d bytes, read back %d different ones", len(body), len(got))
		}
		if got := read(t)(blobs.GetRange(ctx, key, 5<<20-5, 10)); !bytes.Equal(got, body[5<<20-5:5<<20+5]) {
			t.Fatal("range across a part boundary differs")
		}
	})

	t.Run("small and empty uploads", func(t *testing.T) {
		for _, body := range [][]byte{nil, []byte("tiny")} {
			key := prefix(t) + fmt.Sprint(len(body))
			up, err := blobs.Create(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			up.Write(body)
			if err := up.Close(); err != nil {
				t.Fatal(err)
			}
			if got := read(t)(blobs.Get(ctx, key)); !bytes.Equal(got, body) {
				t.Fatalf("got %q, want %q", got, body)
			}
		}
	})

	t.Run("uploads around S3's minimum part size", func(t *testing.T) {
		for _, n := range []int{5<<20 - 1, 5 << 20, 5<<20 + 1, 10 << 20} {
			key := prefix(t) + fmt.Sprint(n)
			body := make([]byte, n)
			rand.Read(body)
			up, err := blobs.Create(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := up.Write(body); err != nil {
				t.Fatal(err)
			}
			if err := up.Close(); err != nil {
				t.Fatal(err)
			}
			if got := read(t)(blobs.Get(ctx, key)); !bytes.Equal(got, body) {
				t.Fatalf("%d bytes uploaded, %d different ones read back", n, len(got))
			}
		}
	})

	t.Run("failed upload leaves nothing", func(t *testing.T) {
		key := prefix(t) + "failed.zip"
		cctx, cancel := context.WithCancel(ctx)
		up, err := blobs.Create(cctx, key)
		if err != nil {
			t.Fatal(err)
		}
		up.Write(make([]byte, 6<<20)) // a part is sent
		cancel()
		_, werr := up.Write(make([]byte, 6<<20))
		if cerr := up.Close(); werr == nil && cerr == nil {
			t.Fatal("an upload whose context was cancelled succeeded")
		}
		if _, err := blobs.Size(ctx, key); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("failed upload visible: %v", err)
		}
	})

	t.Run("aborted upload leaves nothing", func(t *testing.T) {
		key := prefix(t) + "aborted.zip"
		up, err := blobs.Create(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		up.Write(make([]byte, 9<<20))
		if err := up.Abort(); err != nil {
			t.Fatal(err)
		}
		if _, err := blobs.Size(ctx, key); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("aborted upload visible: %v", err)
		}
	})

	t.Run("list and delete", func(t *testing.T) {
		p := prefix(t)
		var want []string
		for i := range 1005 { // more than one list page
			k := fmt.Sprintf("%schunks/%06d.csv", p, i)
			want = append(want, k)
			if err := blobs.Put(ctx, k, []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := blobs.Put(ctx, p+"objects.json", []byte("{}")); err != nil {
			t.Fatal(err)
		}
		got, err := blobs.List(ctx, p+"chunks/")
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("listed %d keys, want %d", len(got), len(want))
		}
		all, _ := blobs.List(ctx, p)
		if err := blobs.Delete(ctx, append(all, p+"never-existed")...); err != nil {
			t.Fatal(err)
		}
		if left, err := blobs.List(ctx, p); err != nil || len(left) != 0 {
			t.Fatalf("after delete: %d keys, %v", len(left), err)
		}
		if err := blobs.Delete(ctx); err != nil {
			t.Fatalf("deleting nothing: %v", err)
		}
	})

	t.Run("presigned download", func(t *testing.T) {
		key := prefix(t) + "dl.zip"
		if err := blobs.Put(ctx, key, []byte("PK zip bytes")); err != nil {
			t.Fatal(err)
		}
		url, err := blobs.PresignGet(ctx, key, "crm-backup-1-20260101T000000Z.zip", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(body) != "PK zip bytes" {
			t.Fatalf("GET presigned: %d %q", resp.StatusCode, body)
		}
		if cd := resp.Header.Get("Content-Disposition"); cd != "" {
			_, params, err := mime.ParseMediaType(cd)
			if err != nil || params["filename"] != "crm-backup-1-20260101T000000Z.zip" {
				t.Fatalf("Content-Disposition %q", cd)
			}
		}
	})
}

func readAll(t *testing.T, rc io.ReadCloser, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
