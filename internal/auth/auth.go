// Package auth turns a caller's token claims into a Caller and checks what
// it may do. On AWS the API Gateway JWT authorizer verifies tokens (Cognito
// or another OIDC issuer) and hands over the claims; locally the project
// signs and verifies its own dev tokens (HS256).
package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
)

// ClaimNames say which claims carry what: configuration, since Cognito,
// Okta or Entra name custom claims differently.
type ClaimNames struct {
	Account  string // the caller's crmbackup account id
	Role     string // must equal SuperAdminRole
	AMR      string // authentication methods: "mfa" after two-factor, SSOMethod for SSO
	AuthTime string // when the user authenticated (seconds since epoch)
	// MFAAlways says the issuer requires two-factor on every sign-in (a
	// Cognito user pool with MFA required): its tokens carry no amr claim,
	// and every session counts as two-factor; auth_time still says when.
	MFAAlways bool
	// SSO says how the issuer marks a sign-in through single sign-on:
	// the claim SSO holds one of SSOValues. The claim name IdentitiesClaim
	// is Cognito's: an ID token of a user who signed in through a
	// federated SAML or OIDC provider carries an "identities" list.
	SSO       string
	SSOValues []string
}

// IdentitiesClaim is the claim of a Cognito ID token that lists the
// federated identities (SAML, OIDC, social) a user signed in through.
const IdentitiesClaim = "identities"

// DefaultClaims are the claim names used unless configured otherwise (the
// local dev tokens mark SSO in amr).
var DefaultClaims = ClaimNames{Account: "custom:account_id", Role: "custom:role", AMR: "amr", AuthTime: "auth_time",
	SSO: "amr", SSOValues: []string{SSOMethod}}

// SuperAdminRole is the role value of a HubSpot Super Admin.
const SuperAdminRole = "super_admin"

// SSOMethod marks a session signed in through SSO in the dev tokens' amr.
const SSOMethod = "sso"

// Caller is an authenticated user.
type Caller struct {
	Subject   string
	AccountID string
	Role      string
	AMR       []string
	AuthTime  time.Time
	// SSOSignIn: the caller signed in through single sign-on (as the
	// issuer says it, ClaimNames.SSO).
	SSOSignIn bool
	// IP and UserAgent are the request's, for the audit log (set by the
	// API, not read from the token).
	IP        string
	UserAgent string
}

// Actor is the caller as the audit log records them.
func (c *Caller) Actor() audit.Actor {
	return audit.Actor{Subject: c.Subject, IP: c.IP, UserAgent: c.UserAgent}
}

// SuperAdmin reports whether the caller is a super admin.
func (c *Caller) SuperAdmin() bool { return c.Role == SuperAdminRole }

// SSO reports whether the caller signed in with SSO.
func (c *Caller) SSO() bool { return c.SSOSignIn }

// FreshSSO reports whether the caller's SSO sign-in happened within maxAge
// of now (an unknown sign-in time is not fresh).
func (c *Caller) FreshSSO(now time.Time, maxAge time.Duration) bool {
	return c.SSOSignIn && !c.AuthTime.IsZero() && now.Sub(c.AuthTime) <= maxAge && !c.AuthTime.After(now.Add(time.Minute))
}

// FreshMFA reports whether the caller completed two-factor authentication
// within window of now.
func (c *Caller) FreshMFA(now time.Time, window time.Duration) bool {
	return slices.Contains(c.AMR, "mfa") && !c.AuthTime.IsZero() && now.Sub(c.AuthTime) <= window && !c.AuthTime.After(now.Add(time.Minute))
}

// RequireSuperAdmin returns the caller's account, or apperr.Forbidden.
func (c *Caller) RequireSuperAdmin() (string, error) {
	if !c.SuperAdmin() {
		return "", apperr.New(apperr.Forbidden, "only a super admin of the account may do this")
	}
	if c.AccountID == "" {
		return "", apperr.New(apperr.Forbidden, "the token names no account")
	}
	return c.AccountID, nil
}

// FromClaims builds a Caller from claims as a JWT library or API Gateway
// gives them (API Gateway flattens every claim to a string).
func FromClaims(claims map[string]any, names ClaimNames) (*Caller, error) {
	c := &Caller{
		Subject:   str(claims["sub"]),
		AccountID: str(claims[names.Account]),
		Role:      str(claims[names.Role]),
		AMR:       list(claims[names.AMR]),
	}
	// A Cognito access token passes API Gateway's authorizer too, but it
	// carries no account or role: say which token to send.
	if str(claims["token_use"]) == "access" {
		return nil, apperr.New(apperr.Unauthorized, "this is an access token: send the ID token of the sign-in (it carries your account and role)")
	}
	c.SSOSignIn = ssoSignIn(claims, names)
	if names.MFAAlways && !slices.Contains(c.AMR, "mfa") {
		c.AMR = append(c.AMR, "mfa")
	}
	if c.Subject == "" {
		return nil, apperr.New(apperr.Unauthorized, "the token has no subject")
	}
	if at, ok := epoch(claims[names.AuthTime]); ok {
		c.AuthTime = at
	}
	return c, nil
}

// ssoSignIn reads the issuer's mark of a single sign-on.
func ssoSignIn(claims map[string]any, names ClaimNames) bool {
	v, ok := claims[names.SSO]
	if names.SSO == "" || !ok {
		return false
	}
	if names.SSO == IdentitiesClaim {
		// A JSON list of objects (API Gateway hands it over as a string).
		// A user who signed in through the provider is one Cognito made
		// for it: its username is "<providerName>_<id>". A native user
		// linked to a provider carries identities on every token,
		// password sign-ins too: not SSO.
		var ids []struct {
			ProviderName string `json:"providerName"`
			ProviderType string `json:"providerType"`
		}
		switch x := v.(type) {
		case string:
			if json.Unmarshal([]byte(x), &ids) != nil {
				return false
			}
		default:
			raw, _ := json.Marshal(x)
			if json.Unmarshal(raw, &ids) != nil {
				return false
			}
		}
		user := str(claims["cognito:username"])
		return slices.ContainsFunc(ids, func(id struct {
			ProviderName string `json:"providerName"`
			ProviderType string `json:"providerType"`
		}) bool {
			return (id.ProviderType == "SAML" || id.ProviderType == "OIDC") && id.ProviderName != "" &&
				strings.HasPrefix(strings.ToLower(user), strings.ToLower(id.ProviderName)+"_")
		})
	}
	for _, got := range list(v) {
		if slices.Contains(names.SSOValues, got) {
			return true
		}
	}
	return false
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// list reads a claim holding a list: a JSON array, or API Gateway's
// flattening of one ("[mfa pwd]" or `["mfa","pwd"]`), or one string.
func list(v any) []string {
	switch x := v.(type) {
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return x
	case string:
		var arr []string
		if json.Unmarshal([]byte(x), &arr) == nil {
			return arr
		}
		return strings.Fields(strings.Trim(x, "[]"))
	}
	return nil
}

func epoch(v any) (time.Time, bool) {
	switch x := v.(type) {
	case float64:
		return time.Unix(int64(x), 0).UTC(), true
	case json.Number:
		n, err := x.Int64()
		return time.Unix(n, 0).UTC(), err == nil
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return time.Unix(n, 0).UTC(), err == nil
	}
	return time.Time{}, false
}

// DevTokens signs and verifies local dev tokens. Never used on AWS.
type DevTokens struct {
	Secret   []byte
	Issuer   string
	Audience string
	Names    ClaimNames
}

// DevClaims describe a dev token.
type DevClaims struct {
	Subject   string
	AccountID string
	Role      string
	MFA       bool // amr has "mfa", auth_time now
	SSO       bool // amr has SSOMethod
	AuthTime  time.Time
	TTL       time.Duration
}

// Sign returns a signed dev token.
func (d *DevTokens) Sign(c DevClaims) (string, error) {
	if len(d.Secret) < 32 {
		return "", errors.New("dev token secret must be at least 32 bytes")
	}
	now := time.Now()
	if c.TTL <= 0 {
		c.TTL = time.Hour
	}
	if c.AuthTime.IsZero() {
		c.AuthTime = now
	}
	amr := []string{"pwd"}
	if c.MFA {
		amr = append(amr, "mfa")
	}
	if c.SSO {
		amr = []string{SSOMethod}
	}
	claims := jwt.MapClaims{
		"sub": c.Subject, "iss": d.Issuer, "aud": d.Audience,
		"iat": now.Unix(), "exp": now.Add(c.TTL).Unix(),
		d.Names.Account: c.AccountID, d.Names.Role: c.Role,
		d.Names.AMR: amr, d.Names.AuthTime: c.AuthTime.Unix(),
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(d.Secret)
}

// Verify checks a dev token (signature, issuer, audience, expiry) and
// returns its caller.
func (d *DevTokens) Verify(token string) (*Caller, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) { return d.Secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(d.Issuer), jwt.WithAudience(d.Audience),
		jwt.WithExpirationRequired(), jwt.WithLeeway(30*time.Second))
	if err != nil {
		return nil, apperr.New(apperr.Unauthorized, "invalid token: %v", err)
	}
	return FromClaims(claims, d.Names)
}

// String describes the claim names (for startup logs).
func (n ClaimNames) String() string {
	return fmt.Sprintf("account=%s role=%s amr=%s auth_time=%s", n.Account, n.Role, n.AMR, n.AuthTime)
}
