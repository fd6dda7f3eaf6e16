package auth_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/auth"
)

func TestFromClaimsReadsWhatGatewaysAndLibrariesGive(t *testing.T) {
	tests := []struct {
		name     string
		amr      any
		authTime any
		wantAMR  []string
		wantAt   int64
	}{
		{"API Gateway flattening", "[mfa pwd]", "1795514390", []string{"mfa", "pwd"}, 1795514390},
		{"JSON text", `["mfa","pwd"]`, "1795514390", []string{"mfa", "pwd"}, 1795514390},
		{"JSON array", []any{"sso"}, float64(1795514390), []string{"sso"}, 1795514390},
		{"one string", "pwd", nil, []string{"pwd"}, 0},
		{"absent", nil, "not a number", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := auth.FromClaims(map[string]any{"sub": "u1", "custom:account_id": "acme", "custom:role": "super_admin", "amr": tt.amr, "auth_time": tt.authTime}, auth.DefaultClaims)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.AMR, tt.wantAMR) {
				t.Errorf("AMR %q, want %q", c.AMR, tt.wantAMR)
			}
			var at int64
			if !c.AuthTime.IsZero() {
				at = c.AuthTime.Unix()
			}
			if at != tt.wantAt {
				t.Errorf("auth time %d, want %d", at, tt.wantAt)
			}
		})
	}
	if _, err := auth.FromClaims(map[string]any{"custom:role": "super_admin"}, auth.DefaultClaims); !apperr.Is(err, apperr.Unauthorized) {
		t.Errorf("no subject: %v, want unauthorized", err)
	}
}

func TestFreshMFA(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		amr  []string
		at   time.Time
		want bool
	}{
		{"just now", []string{"pwd", "mfa"}, now.Add(-time.Minute), true},
		{"at the window's edge", []string{"mfa"}, now.Add(-5 * time.Minute), true},
		{"stale", []string{"mfa"}, now.Add(-6 * time.Minute), false},
		{"no mfa", []string{"pwd"}, now, false},
		{"no auth time", []string{"mfa"}, time.Time{}, false},
		{"from the future", []string{"mfa"}, now.Add(time.Hour), false},
	}
	for _, tt := range tests {
		c := &auth.Caller{Subject: "u", AMR: tt.amr, AuthTime: tt.at}
		if got := c.FreshMFA(now, 5*time.Minute); got != tt.want {
			t.Errorf("%s: FreshMFA %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRequireSuperAdmin(t *testing.T) {
	for _, tt := range []struct {
		c    auth.Caller
		want string
	}{
		{auth.Caller{Subject: "u", AccountID: "acme", Role: auth.SuperAdminRole}, ""},
		{auth.Caller{Subject: "u", AccountID: "acme", Role: "admin"}, apperr.Forbidden},
		{auth.Caller{Subject: "u", Role: auth.SuperAdminRole}, apperr.Forbidden},
	} {
		acct, err := tt.c.RequireSuperAdmin()
		switch {
		case tt.want == "" && (err != nil || acct != tt.c.AccountID):
			t.Errorf("%+v: %q, %v; want the account", tt.c, acct, err)
		case tt.want != "" && !apperr.Is(err, tt.want):
			t.Errorf("%+v: %v, want %s", tt.c, err, tt.want)
		}
	}
}

func TestDevTokens(t *testing.T) {
	d := &auth.DevTokens{Secret: []byte(strings.Repeat("s", 32)), Issuer: "crmbackup-local", Audience: "crmbackup", Names: auth.DefaultClaims}
	tok, err := d.Sign(auth.DevClaims{Subject: "ada", AccountID: "acme", Role: auth.SuperAdminRole, MFA: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "ada" || c.AccountID != "acme" || !c.SuperAdmin() || !c.FreshMFA(time.Now(), 5*time.Minute) || c.SSO() {
		t.Errorf("caller %+v", c)
	}
	sso, _ := d.Sign(auth.DevClaims{Subject: "ada", AccountID: "acme", Role: auth.SuperAdminRole, SSO: true})
	if c, err := d.Verify(sso); err != nil || !c.SSO() {
		t.Errorf("SSO token: %+v, %v", c, err)
	}

	bad := map[string]string{
		"other audience": mustSign(t, &auth.DevTokens{Secret: d.Secret, Issuer: d.Issuer, Audience: "else", Names: d.Names}, auth.DevClaims{Subject: "a"}),
		"other issuer":   mustSign(t, &auth.DevTokens{Secret: d.Secret, Issuer: "else", Audience: d.Audience, Names: d.Names}, auth.DevClaims{Subject: "a"}),
		"other key":      mustSign(t, &auth.DevTokens{Secret: []byte(strings.Repeat("x", 32)), Issuer: d.Issuer, Audience: d.Audience, Names: d.Names}, auth.DevClaims{Subject: "a"}),
		"tampered":       tok[:len(tok)-2] + "xx",
		"not a JWT":      "hello",
	}
	for name, tok := range bad {
		if _, err := d.Verify(tok); !apperr.Is(err, apperr.Unauthorized) {
			t.Errorf("%s: %v, want unauthorized", name, err)
		}
	}
	if _, err := (&auth.DevTokens{Secret: []byte("short")}).Sign(auth.DevClaims{Subject: "a"}); err == nil {
		t.Error("a short secret signed a token")
	}
}

func mustSign(t *testing.T, d *auth.DevTokens, c auth.DevClaims) string {
	t.Helper()
	tok, err := d.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestMFAAlways: an issuer that requires two-factor on every sign-in
// (Cognito with MFA required) sends no amr; its sessions count as
// two-factor, still only within the window after auth_time.
func TestMFAAlways(t *testing.T) {
	now := time.Now()
	claims := map[string]any{"sub": "u", "custom:account_id": "acme", "custom:role": auth.SuperAdminRole, "auth_time": float64(now.Add(-time.Minute).Unix())}
	names := auth.DefaultClaims
	c, err := auth.FromClaims(claims, names)
	if err != nil || c.FreshMFA(now, 5*time.Minute) {
		t.Fatalf("without MFAAlways a token without amr is two-factor: %+v %v", c, err)
	}
	names.MFAAlways = true
	if c, err = auth.FromClaims(claims, names); err != nil || !c.FreshMFA(now, 5*time.Minute) {
		t.Fatalf("with MFAAlways: %+v %v", c, err)
	}
	claims["auth_time"] = float64(now.Add(-time.Hour).Unix())
	if c, _ = auth.FromClaims(claims, names); c.FreshMFA(now, 5*time.Minute) {
		t.Fatal("with MFAAlways an old sign-in is fresh")
	}
}

// TestSSOAsTheIssuerSaysIt: with the stack's Cognito pool, a sign-in
// through a federated SAML or OIDC provider (the ID token's identities);
// with another issuer, the configured claim and values; never a marker
// the issuer does not set.
func TestSSOAsTheIssuerSaysIt(t *testing.T) {
	cognito := auth.DefaultClaims
	cognito.MFAAlways, cognito.SSO, cognito.SSOValues = true, auth.IdentitiesClaim, nil
	okta := auth.DefaultClaims
	okta.SSO, okta.SSOValues = "idp", []string{"okta", "entra"}
	base := func(extra map[string]any) map[string]any {
		m := map[string]any{"sub": "u1", "custom:account_id": "acme", "custom:role": auth.SuperAdminRole, "auth_time": "1764669600"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tt := range []struct {
		name   string
		names  auth.ClaimNames
		claims map[string]any
		sso    bool
	}{
		{"Cognito, a SAML sign-in (API Gateway's string)", cognito,
			base(map[string]any{"cognito:username": "okta_jane@acme.example",
				"identities": `[{"userId":"x","providerName":"Okta","providerType":"SAML","primary":"true","dateCreated":"1"}]`}), true},
		{"Cognito, an OIDC sign-in (a library's list)", cognito,
			base(map[string]any{"cognito:username": "Entra_abc", "identities": []any{map[string]any{"providerName": "Entra", "providerType": "OIDC"}}}), true},
		{"Cognito, a native user linked to a provider signs in with a password", cognito,
			base(map[string]any{"cognito:username": "jane", "identities": `[{"providerName":"Okta","providerType":"SAML"}]`}), false},
		{"Cognito, a social sign-in is not SSO", cognito,
			base(map[string]any{"identities": `[{"providerName":"Google","providerType":"Google"}]`}), false},
		{"Cognito, a password sign-in", cognito, base(nil), false},
		{"Cognito ignores a home-made amr marker", cognito, base(map[string]any{"amr": "[sso]"}), false},
		{"another issuer, its claim and value", okta, base(map[string]any{"idp": "okta"}), true},
		{"another issuer, another value", okta, base(map[string]any{"idp": "google"}), false},
		{"another issuer ignores amr sso", okta, base(map[string]any{"amr": "[sso]"}), false},
		{"dev tokens: amr sso", auth.DefaultClaims, base(map[string]any{"amr": []any{"sso"}}), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := auth.FromClaims(tt.claims, tt.names)
			if err != nil || c.SSO() != tt.sso {
				t.Fatalf("SSO %v (%v), want %v", c.SSO(), err, tt.sso)
			}
		})
	}
	now := time.Unix(1764669600, 0).Add(7 * time.Hour)
	c, _ := auth.FromClaims(base(map[string]any{"idp": "okta"}), okta)
	if !c.FreshSSO(now, 8*time.Hour) || c.FreshSSO(now.Add(2*time.Hour), 8*time.Hour) {
		t.Error("FreshSSO does not bound the session's age")
	}
}

func TestAccessTokensAreRefusedWithAHint(t *testing.T) {
	_, err := auth.FromClaims(map[string]any{"sub": "u1", "token_use": "access", "client_id": "abc", "scope": "aws.cognito.signin.user.admin"}, auth.DefaultClaims)
	if !apperr.Is(err, apperr.Unauthorized) || !strings.Contains(err.Error(), "ID token") {
		t.Fatalf("%v: want a 401 that says to send the ID token", err)
	}
}
