package cognito_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/cognito"
	"github.com/crmbackup/crmbackup/internal/cognito/cognitofake"
)

const (
	email    = "alice@example.com"
	password = "Correct-Horse-9-battery"
)

// prompter answers with functions; a nil one fails the test if called.
type prompter struct {
	t           *testing.T
	newPassword func() string
	setUp       func(secret, uri string) string
	code        func() string
	calls       []string
}

func (p *prompter) NewPassword(context.Context) (string, error) {
	p.calls = append(p.calls, "NewPassword")
	if p.newPassword == nil {
		p.t.Error("asked for a new password")
		return "", errors.New("not expected")
	}
	return p.newPassword(), nil
}

func (p *prompter) SetUpTOTP(_ context.Context, secret, uri string) (string, error) {
	p.calls = append(p.calls, "SetUpTOTP")
	if p.setUp == nil {
		p.t.Error("asked to set up TOTP")
		return "", errors.New("not expected")
	}
	return p.setUp(secret, uri), nil
}

func (p *prompter) TOTPCode(context.Context) (string, error) {
	p.calls = append(p.calls, "TOTPCode")
	if p.code == nil {
		p.t.Error("asked for a TOTP code")
		return "", errors.New("not expected")
	}
	return p.code(), nil
}

func newPool(f *cognitofake.Fake) *cognito.Pool {
	return &cognito.Pool{API: f.Client(), PoolID: f.PoolID, ClientID: f.ClientID, Now: f.Now}
}

// ops lists the requests' operations, with the challenge answered.
func ops(reqs []cognitofake.Request) []string {
	var out []string
	for _, r := range reqs {
		op := r.Op
		if name := r.Str("ChallengeName"); name != "" {
			op += " " + name
		}
		out = append(out, op)
	}
	return out
}

// noSecrets fails if the error shows the password or any of others, or if
// a sign-in request carried the password (SRP never sends it).
func noSecrets(t *testing.T, f *cognitofake.Fake, err error, password string, others ...string) {
	t.Helper()
	for _, s := range append([]string{password}, others...) {
		if s != "" && err != nil && strings.Contains(err.Error(), s) {
			t.Errorf("the error %q shows a secret", err)
		}
	}
	for _, r := range f.Requests() {
		raw, _ := json.Marshal(r.Body)
		if strings.Contains(string(raw), password) {
			t.Errorf("%s sent the password: %s", r.Op, raw)
		}
	}
}

// wrongCode is a six-digit code that is not code.
func wrongCode(code string) string {
	n := 0
	for _, r := range code {
		n = n*10 + int(r-'0')
	}
	return fmt.Sprintf("%06d", (n+500000)%1000000)
}

var timestampRE = regexp.MustCompile(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [1-9][0-9]? [0-2][0-9]:[0-5][0-9]:[0-5][0-9] UTC [0-9]{4}$`)

func TestSignIn(t *testing.T) {
	tests := []struct {
		name     string
		as       string // the e-mail typed
		password string
		before   func(f *cognitofake.Fake)
		code     func(f *cognitofake.Fake, secret string) func() string // nil: no code asked
		wantErr  error                                                  // a sentinel, or nil
		wantCode string                                                 // apperr code when failing
		wantMsg  string                                                 // part of the error's text
		wantOps  []string
	}{
		{
			name: "password and TOTP", as: email, password: password,
			code:    func(f *cognitofake.Fake, s string) func() string { return func() string { return f.Code(s) } },
			wantOps: []string{"InitiateAuth", "RespondToAuthChallenge PASSWORD_VERIFIER", "RespondToAuthChallenge SOFTWARE_TOKEN_MFA"},
		},
		{
			name: "e-mail in capitals with spaces", as: "  Alice@Example.COM ", password: password,
			code: func(f *cognitofake.Fake, s string) func() string {
				return func() string { return " " + f.Code(s) + "\n" }
			},
			wantOps: []string{"InitiateAuth", "RespondToAuthChallenge PASSWORD_VERIFIER", "RespondToAuthChallenge SOFTWARE_TOKEN_MFA"},
		},
		{
			name: "wrong password", as: email, password: password + "!",
			wantErr: cognito.ErrWrongPassword, wantCode: apperr.Unauthorized, wantMsg: "the e-mail or password is wrong",
			wantOps: []string{"InitiateAuth", "RespondToAuthChallenge PASSWORD_VERIFIER"},
		},
		{
			name: "password one bit off", as: email, password: "Correct-Horse-9-batterx",
			wantErr: cognito.ErrWrongPassword, wantCode: apperr.Unauthorized,
			wantOps: []string{"InitiateAuth", "RespondToAuthChallenge PASSWORD_VERIFIER"},
		},
		{
			name: "unknown e-mail looks like a wrong password", as: "bob@example.com", password: password,
			wantErr: cognito.ErrWrongPassword, wantCode: apperr.Unauthorized,
			wantOps: []string{"InitiateAuth", "RespondToAuthChallenge PASSWORD_VERIFIER"},
		},
		{
			name: "wrong code", as: email, password: password,
			code: func(f *cognitofake.Fake, s string) func() string {
				return func() string { return wrongCode(f.Code(s)) }
			},
			wantErr: cognito.ErrWrongCode, wantCode: apperr.Unauthorized, wantMsg: "the two-factor code is wrong",
			wantOps: []string{"InitiateAuth", "RespondToAuthChallenge PASSWORD_VERIFIER", "RespondToAuthChallenge SOFTWARE_TOKEN_MFA"},
		},
		{
			name: "took too long for the code", as: email, password: password,
			code: func(f *cognitofake.Fake, s string) func() string {
				return func() string { f.Advance(4 * time.Minute); return f.Code(s) }
			},
			wantErr: cognito.ErrExpired, wantCode: apperr.Unauthorized, wantMsg: "took too long; sign in again",
			wantOps: []string{"InitiateAuth", "RespondToAuthChallenge PASSWORD_VERIFIER", "RespondToAuthChallenge SOFTWARE_TOKEN_MFA"},
		},
		{
			name: "password reset required", as: email, password: password,
			before: func(f *cognitofake.Fake) {
				f.FailNext("InitiateAuth", "PasswordResetRequiredException", "Password reset required for the user")
			},
			wantCode: apperr.Forbidden, wantMsg: "the password must be reset",
			wantOps: []string{"InitiateAuth"},
		},
		{
			name: "not confirmed", as: email, password: password,
			before: func(f *cognitofake.Fake) {
				f.FailNext("InitiateAuth", "UserNotConfirmedException", "User is not confirmed.")
			},
			wantCode: apperr.Forbidden, wantMsg: "not confirmed",
			wantOps: []string{"InitiateAuth"},
		},
		{
			name: "too many attempts", as: email, password: password,
			before: func(f *cognitofake.Fake) {
				f.FailNext("RespondToAuthChallenge", "NotAuthorizedException", "Password attempts exceeded")
			},
			wantCode: apperr.Forbidden, wantMsg: "too many attempts",
			wantOps: []string{"InitiateAuth", "RespondToAuthChallenge PASSWORD_VERIFIER"},
		},
		{
			name: "an unexpected error keeps Cognito's words but not the password", as: email, password: password,
			before: func(f *cognitofake.Fake) {
				f.FailNext("RespondToAuthChallenge", "InvalidParameterException", "Value "+password+" is odd")
			},
			wantCode: apperr.Internal, wantMsg: "InvalidParameterException: Value [redacted] is odd",
			wantOps: []string{"InitiateAuth", "RespondToAuthChallenge PASSWORD_VERIFIER"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cognitofake.New(t)
			secret := f.AddUser(email, password, "acct-1", "super_admin")
			if tt.before != nil {
				tt.before(f)
			}
			ask := &prompter{t: t}
			if tt.code != nil {
				ask.code = tt.code(f, secret)
			}
			tokens, err := newPool(f).SignIn(context.Background(), tt.as, tt.password, ask)

			if got := ops(f.Requests()); !slices.Equal(got, tt.wantOps) {
				t.Errorf("requests %q, want %q", got, tt.wantOps)
			}
			noSecrets(t, f, err, tt.password, secret)
			if tt.wantCode != "" {
				if err == nil {
					t.Fatalf("signed in, want %s", tt.wantCode)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("error %q is not %q", err, tt.wantErr)
				}
				if apperr.Code(err) != tt.wantCode || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("error %q (%s), want %q (%s)", err, apperr.Code(err), tt.wantMsg, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkSignInRequests(t, f)
			claims, err := f.Claims(tokens.IDToken)
			if err != nil {
				t.Fatal(err)
			}
			if claims["email"] != email || claims["custom:account_id"] != "acct-1" || claims["custom:role"] != "super_admin" || claims["token_use"] != "id" {
				t.Errorf("ID token claims %v", claims)
			}
			if tokens.AccessToken == "" || tokens.RefreshToken == "" {
				t.Errorf("tokens %+v lack access or refresh", *tokens)
			}
			if d := tokens.ExpiresAt.Sub(f.Now()); d < 59*time.Minute || d > time.Hour {
				t.Errorf("expires in %v", d)
			}
			if s := fmt.Sprintf("%v %+v %#v", tokens, *tokens, tokens); strings.Contains(s, tokens.IDToken) || strings.Contains(s, tokens.RefreshToken) {
				t.Errorf("printing the tokens shows them: %s", s)
			}
		})
	}
}

// checkSignInRequests checks what a successful SRP sign-in sent.
func checkSignInRequests(t *testing.T, f *cognitofake.Fake) {
	t.Helper()
	reqs := f.Requests()
	start, verify := reqs[0], reqs[1]
	if start.Str("ClientId") != f.ClientID || start.Str("AuthFlow") != "USER_SRP_AUTH" ||
		start.Str("AuthParameters", "USERNAME") != email {
		t.Errorf("InitiateAuth %v", start.Body)
	}
	if a := start.Str("AuthParameters", "SRP_A"); !regexp.MustCompile(`^[0-9a-f]{700,768}$`).MatchString(a) {
		t.Errorf("SRP_A %.40q… is not a 3072-bit hex number", a)
	}
	if len(start.Get("AuthParameters").(map[string]any)) != 2 {
		t.Errorf("InitiateAuth sends more than USERNAME and SRP_A: %v", start.Body)
	}
	user, err := newPool(f).User(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	if verify.Str("ClientId") != f.ClientID || verify.Str("ChallengeResponses", "USERNAME") != user.Username {
		t.Errorf("PASSWORD_VERIFIER %v: want USERNAME = USER_ID_FOR_SRP %s", verify.Body, user.Username)
	}
	sig, err := base64.StdEncoding.DecodeString(verify.Str("ChallengeResponses", "PASSWORD_CLAIM_SIGNATURE"))
	if err != nil || len(sig) != 32 {
		t.Errorf("PASSWORD_CLAIM_SIGNATURE is not a base64 HMAC-SHA256: %v", verify.Body)
	}
	if ts := verify.Str("ChallengeResponses", "TIMESTAMP"); !timestampRE.MatchString(ts) {
		t.Errorf("TIMESTAMP %q", ts)
	}
	if verify.Str("ChallengeResponses", "PASSWORD_CLAIM_SECRET_BLOCK") == "" {
		t.Errorf("no secret block: %v", verify.Body)
	}
	if last := reqs[len(reqs)-1]; last.Str("ChallengeResponses", "USERNAME") != user.Username || last.Str("Session") == "" {
		t.Errorf("last answer %v", last.Body)
	}
}

func TestFirstSignIn(t *testing.T) {
	const newPassword = "Brand-New-Pa55word!"
	tests := []struct {
		name        string
		newPassword string
		wrongSetup  bool
		wantErr     error
		wantMsg     string
		wantOps     []string
	}{
		{
			name: "new password, TOTP setup, tokens", newPassword: newPassword,
			wantOps: []string{"InitiateAuth", "RespondToAuthChallenge PASSWORD_VERIFIER", "RespondToAuthChallenge NEW_PASSWORD_REQUIRED",
				"AssociateSoftwareToken", "VerifySoftwareToken", "RespondToAuthChallenge MFA_SETUP"},
		},
		{
			name: "new password too weak", newPassword: "short-Pa55",
			wantErr: cognito.ErrPasswordRejected, wantMsg: "the new password is not accepted: Password does not conform to policy: Password not long enough",
			wantOps: []string{"InitiateAuth", "RespondToAuthChallenge PASSWORD_VERIFIER", "RespondToAuthChallenge NEW_PASSWORD_REQUIRED"},
		},
		{
			name: "wrong first code", newPassword: newPassword, wrongSetup: true,
			wantErr: cognito.ErrWrongCode, wantMsg: "the two-factor code is wrong",
			wantOps: []string{"InitiateAuth", "RespondToAuthChallenge PASSWORD_VERIFIER", "RespondToAuthChallenge NEW_PASSWORD_REQUIRED",
				"AssociateSoftwareToken", "VerifySoftwareToken"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cognitofake.New(t)
			pool := newPool(f)
			pool.Issuer = "crmbackup-prod"
			ctx := context.Background()
			if _, err := pool.CreateUser(ctx, email, "acct-1", "super_admin"); err != nil {
				t.Fatal(err)
			}
			temp := f.TemporaryPassword(email)
			created := len(f.Requests()) // AdminCreateUser
			var shown string
			ask := &prompter{t: t,
				newPassword: func() string { return tt.newPassword },
				setUp: func(secret, uri string) string {
					shown = secret
					checkURI(t, uri, secret)
					if tt.wrongSetup {
						return wrongCode(f.Code(secret))
					}
					return f.Code(secret)
				},
			}
			tokens, err := pool.SignIn(ctx, email, temp, ask)
			reqs := f.Requests()[created:]
			if got := ops(reqs); !slices.Equal(got, tt.wantOps) {
				t.Errorf("requests %q, want %q", got, tt.wantOps)
			}
			noSecrets(t, f, err, temp, tt.newPassword, shown)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || err.Error() != tt.wantMsg {
					t.Fatalf("error %v, want %q", err, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ask.calls, []string{"NewPassword", "SetUpTOTP"}) {
				t.Errorf("asked %v", ask.calls)
			}
			if claims, err := f.Claims(tokens.IDToken); err != nil || claims["custom:role"] != "super_admin" {
				t.Errorf("ID token %v %v", claims, err)
			}
			if pw := reqs[2].Str("ChallengeResponses", "NEW_PASSWORD"); pw != tt.newPassword {
				t.Errorf("NEW_PASSWORD %q", pw)
			}
			if v := reqs[4]; v.Str("Session") == "" || v.Str("UserCode") == "" || v.Str("FriendlyDeviceName") != "crmbackup-prod" {
				t.Errorf("VerifySoftwareToken %v", v.Body)
			}
			if a := reqs[3]; a.Str("Session") == "" {
				t.Errorf("AssociateSoftwareToken %v", a.Body)
			}
			if f.TOTPSecret(email) != shown || f.TemporaryPassword(email) != "" {
				t.Error("the fake did not keep the TOTP secret or the new password")
			}

			// The next sign-in uses the new password and asks for a code.
			f.Advance(31 * time.Second)
			again := &prompter{t: t, code: func() string { return f.Code(shown) }}
			if _, err := pool.SignIn(ctx, email, tt.newPassword, again); err != nil {
				t.Fatal(err)
			}
			if _, err := pool.SignIn(ctx, email, temp, &prompter{t: t}); !errors.Is(err, cognito.ErrWrongPassword) {
				t.Errorf("the temporary password still works: %v", err)
			}
		})
	}
}

func checkURI(t *testing.T, uri, secret string) {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/crmbackup-prod:"+email ||
		u.Query().Get("secret") != secret || u.Query().Get("issuer") != "crmbackup-prod" {
		t.Errorf("otpauth URI %q", uri)
	}
}

func TestCodeUsedTwice(t *testing.T) {
	f := cognitofake.New(t)
	secret := f.AddUser(email, password, "acct-1", "super_admin")
	pool := newPool(f)
	code := f.Code(secret)
	ask := &prompter{t: t, code: func() string { return code }}
	if _, err := pool.SignIn(context.Background(), email, password, ask); err != nil {
		t.Fatal(err)
	}
	_, err := pool.SignIn(context.Background(), email, password, ask)
	if err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("second use of a code: %v", err)
	}
}

func TestRefresh(t *testing.T) {
	f := cognitofake.New(t)
	secret := f.AddUser(email, password, "acct-1", "super_admin")
	pool := newPool(f)
	ctx := context.Background()
	first, err := pool.SignIn(ctx, email, password, &prompter{t: t, code: func() string { return f.Code(secret) }})
	if err != nil {
		t.Fatal(err)
	}
	f.Advance(2 * time.Hour)
	if _, err := f.Claims(first.IDToken); err == nil {
		t.Fatal("the first ID token should have expired")
	}

	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"the refresh token", first.RefreshToken, nil},
		{"a wrong one", first.RefreshToken + "x", cognito.ErrExpired},
		{"none", "", cognito.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(f.Requests())
			got, err := pool.Refresh(ctx, tt.token)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || strings.Contains(err.Error(), first.RefreshToken) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			req := f.Requests()[n]
			if req.Op != "InitiateAuth" || req.Str("AuthFlow") != "REFRESH_TOKEN_AUTH" || req.Str("ClientId") != f.ClientID ||
				req.Str("AuthParameters", "REFRESH_TOKEN") != first.RefreshToken {
				t.Errorf("request %s %v", req.Op, req.Body)
			}
			if got.RefreshToken != first.RefreshToken {
				t.Error("the refresh token was not kept")
			}
			claims, err := f.Claims(got.IDToken)
			if err != nil {
				t.Fatal(err)
			}
			old, _ := parseUnverified(first.IDToken)
			if claims["auth_time"] != old["auth_time"] || claims["email"] != email {
				t.Errorf("refreshed claims %v, first %v", claims, old)
			}
			if !got.ExpiresAt.After(f.Now()) {
				t.Errorf("expires %v", got.ExpiresAt)
			}
		})
	}
}

// parseUnverified reads a JWT's claims without checking it.
func parseUnverified(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	return claims, json.Unmarshal(raw, &claims)
}
