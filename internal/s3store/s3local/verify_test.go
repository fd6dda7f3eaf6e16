package s3local

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestOnlyTheStacksSignedRequests: the stand-in serves requests signed
// with its own keys and unexpired presigned URLs, on loopback; unsigned,
// forged, foreign-key and expired ones are a 403, and no answer lets a web
// page read it.
func TestOnlyTheStacksSignedRequests(t *testing.T) {
	srv, err := Start(Memory, "backups")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("listens on %s, want loopback", srv.URL)
	}
	if _, err := srv.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("backups"), Key: aws.String("backups/acme/a b.zip"),
		Body: strings.NewReader("zip")}); err != nil {
		t.Fatalf("a signed put: %v", err)
	}
	status := func(req *http.Request) (int, http.Header) {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	get := func(u string, headers ...string) (int, http.Header) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		return status(req)
	}
	if code, h := get(srv.URL+"/backups?list-type=2", "Origin", "https://evil.example"); code != 403 || h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("an unsigned listing: %d %v", code, h)
	}
	if code, _ := get(srv.URL + "/backups/backups/acme/a%20b.zip"); code != 403 {
		t.Errorf("an unsigned read: %d", code)
	}
	pre := s3.NewPresignClient(srv.Client())
	signed, err := pre.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("backups"), Key: aws.String("backups/acme/a b.zip"),
		ResponseContentDisposition: aws.String(`attachment; filename="a b.zip"`)}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if code, h := get(signed.URL, "Origin", "https://evil.example"); code != 200 || h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a presigned read: %d, CORS %q", code, h.Get("Access-Control-Allow-Origin"))
	}
	if code, _ := get(strings.Replace(signed.URL, "a%20b.zip", "other.zip", 1)); code != 403 {
		t.Errorf("a presigned URL for another key: %d", code)
	}
	if code, _ := get(signed.URL[:len(signed.URL)-2] + "00"); code != 403 {
		t.Errorf("a forged signature: %d", code)
	}
	// The same URL two minutes on (checked on a moved clock, not by waiting).
	later, _ := http.NewRequest(http.MethodGet, signed.URL, nil)
	later.Host = later.URL.Host
	if code, _ := check(later, srv.Keys, time.Now()); code != "" {
		t.Errorf("the presigned URL now: %s", code)
	}
	if code, msg := check(later, srv.Keys, time.Now().Add(2*time.Minute)); code != "AccessDenied" || !strings.Contains(msg, "expired") {
		t.Errorf("the presigned URL after its minute: %s %s", code, msg)
	}
	other := Client(srv.URL, newKeys())
	if _, err := other.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("backups"), Key: aws.String("backups/acme/a b.zip")}); err == nil {
		t.Error("another key read the file")
	}
	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/backups/x", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	if code, h := status(req); code != 403 || h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a CORS preflight: %d %v", code, h)
	}
}
