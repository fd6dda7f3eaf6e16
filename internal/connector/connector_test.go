package connector

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
)

func TestShareSplitsThePortalLimit(t *testing.T) {
	tests := []struct {
		limit, shares, want int
	}{
		{190, 0, 190},
		{190, 1, 190},
		{190, 3, 63},
		{0, 3, 33}, // HubSpot's smallest limit when the account does not say
		{4, 3, 2},  // never below 2 (the budget keeps one request of margin)
	}
	for _, tt := range tests {
		c := &Connector{Shares: tt.shares}
		if got := c.share(tt.limit); got != tt.want {
			t.Errorf("share(%d) with %d shares = %d, want %d", tt.limit, tt.shares, got, tt.want)
		}
	}
}

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
