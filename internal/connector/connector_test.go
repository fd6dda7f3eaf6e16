package connector

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/hubspot"
)

type secrets map[string]string

func (s secrets) SecretString(_ context.Context, arn string) (string, error) {
	v, ok := s[arn]
	if !ok {
		return "", apperr.New(apperr.NotFound, "no secret %s", arn)
	}
	return v, nil
}

func TestTokenReferences(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	os.WriteFile(file, []byte("pat-file\n"), 0o600)
	t.Setenv("CRMBACKUP_TEST_TOKEN", "pat-env")
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:crmbackup/acme-AbCdEf"
	const jsonARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:crmbackup/globex-AbCdEf"
	c := &Connector{Local: map[string]string{"emulator": "pat-local"}, Secrets: secrets{arn: "pat-secret", jsonARN: `{"token":"pat-json"}`}}
	tests := []struct {
		ref, want string
		wantErr   bool
	}{
		{"env:CRMBACKUP_TEST_TOKEN", "pat-env", false},
		{"file:" + file, "pat-file", false},
		{"local:emulator", "pat-local", false},
		{arn, "pat-secret", false},
		{jsonARN, "pat-json", false},
		{"env:CRMBACKUP_UNSET_TOKEN", "", true},
		{"pat-in-the-clear", "", true},
		{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:other", "", true},
	}
	for _, tt := range tests {
		got, err := c.token(context.Background(), tt.ref)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("token(%q) = %q, %v; want %q (error %v)", tt.ref, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestOneClientPerAccount(t *testing.T) {
	c := &Connector{BaseURL: "http://127.0.0.1:1", Local: map[string]string{"x": "pat"}}
	a := &backup.Account{ID: "acme", TokenRef: "local:x"}
	first, err := c.CRM(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	second, _ := c.CRM(context.Background(), a)
	if first != second {
		t.Error("a second client for the same account: the rate budget would not be shared")
	}
}

// rotating is a secret whose value an operator changes; reads are counted.
type rotating struct {
	mu    sync.Mutex
	value string
	reads int
}

func (r *rotating) SecretString(context.Context, string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads++
	return `{"token":"` + r.value + `"}`, nil
}

func (r *rotating) set(v string) { r.mu.Lock(); r.value = v; r.mu.Unlock() }

// portal accepts only its current token, as HubSpot does after a rotation.
func portal(t *testing.T, valid *atomic.Value) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+valid.Load().(string) {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"status":"error","message":"Authentication credentials not found.","category":"INVALID_AUTHENTICATION"}`)
			return
		}
		io.WriteString(w, `{"portalId":1,"timeZone":"Europe/Rome"}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:crmbackup/prod/hubspot/acme-AbCdEf"

// TestRotatedCredentials: a credential is read again after its TTL, and at
// once when HubSpot answers 401; the request that met the 401 goes through.
func TestRotatedCredentials(t *testing.T) {
	ctx := context.Background()
	var valid atomic.Value
	valid.Store("key-1")
	sec := &rotating{value: "key-1"}
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	c := &Connector{BaseURL: portal(t, &valid), Secrets: sec, SecretPrefix: "crmbackup/prod/hubspot/", TTL: 10 * time.Minute,
		Now: func() time.Time { return now }}
	acct := &backup.Account{ID: "acme", Tier: backup.Enterprise, TokenRef: arn}
	details := func() error {
		crm, err := c.CRM(ctx, acct)
		if err != nil {
			return err
		}
		_, err = crm.AccountDetails(ctx)
		return err
	}
	if err := details(); err != nil || sec.reads != 1 {
		t.Fatalf("%v, %d reads", err, sec.reads)
	}
	// Rotated in HubSpot and in Secrets Manager: the next call meets a 401,
	// reads the secret again and succeeds.
	valid.Store("key-2")
	sec.set("key-2")
	if err := details(); err != nil || sec.reads != 2 {
		t.Fatalf("after a rotation: %v, %d reads", err, sec.reads)
	}
	// Rotated in Secrets Manager only: read again after the TTL, not before.
	sec.set("key-3")
	now = now.Add(5 * time.Minute)
	details()
	if sec.reads != 2 {
		t.Fatalf("%d reads within the TTL", sec.reads)
	}
	valid.Store("key-3")
	now = now.Add(6 * time.Minute)
	if err := details(); err != nil || sec.reads != 3 {
		t.Fatalf("after the TTL: %v, %d reads", err, sec.reads)
	}
	// A credential HubSpot refuses even when read again: its 401 stands.
	valid.Store("key-4")
	if err := details(); !errors.Is(err, hubspot.ErrUnauthorized) || sec.reads != 4 {
		t.Fatalf("a refused credential: %v, %d reads", err, sec.reads)
	}
}

func TestOnlySecretsUnderTheStacksPrefix(t *testing.T) {
	c := &Connector{Secrets: secrets{
		arn: "tok", "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:crmbackup/prod/hubspot/globex-x": "tok",
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:other/acme-x": "tok"},
		SecretPrefix: "crmbackup/prod/hubspot/"}
	for _, tt := range []struct {
		ref string
		ok  bool
	}{
		{arn, true},
		{"arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:crmbackup/prod/hubspot/globex-x", true},
		{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:other/acme-x", false},
		{"env:HOME", false},
		{"file:/etc/passwd", false},
		{"local:emulator", false},
	} {
		_, err := c.token(context.Background(), tt.ref)
		if (err == nil) != tt.ok || (!tt.ok && !apperr.Is(err, apperr.Invalid)) {
			t.Errorf("%s: %v, want ok=%v", tt.ref, err, tt.ok)
		}
	}
}

// TestARequestOutDuringARotationGoesThrough: a request sent with the old
// credential, answered 401 after the client switched to the new one, is
// sent again with the new one, without reading the secret.
func TestARequestOutDuringARotationGoesThrough(t *testing.T) {
	var cl *hubspot.Client
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer key-2" {
			cl.SetToken("key-2") // the TTL's re-read, meanwhile
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"status":"error","category":"INVALID_AUTHENTICATION"}`)
			return
		}
		io.WriteString(w, `{"portalId":1}`)
	}))
	defer srv.Close()
	var err error
	cl, err = hubspot.New(hubspot.Config{BaseURL: srv.URL, Token: "key-1",
		Refresh: func(context.Context) (string, error) { t.Fatal("the secret was read"); return "", nil }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.AccountDetails(context.Background()); err != nil || len(seen) != 2 || seen[1] != "Bearer key-2" {
		t.Fatalf("%v, requests %v", err, seen)
	}
}
