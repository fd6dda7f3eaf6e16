package cognito

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/crmbackup/crmbackup/internal/apperr"
)

// Prompter asks the person at the terminal what a sign-in needs. Each
// method is called only when Cognito asks for it.
type Prompter interface {
	// NewPassword asks for a new password (the first sign-in of a user
	// created with a temporary one).
	NewPassword(ctx context.Context) (string, error)
	// SetUpTOTP shows the TOTP secret (and the otpauth:// URI for a QR
	// code) to add to an authenticator app, and returns the app's first
	// code.
	SetUpTOTP(ctx context.Context, secret, otpauthURI string) (string, error)
	// TOTPCode asks for the current code of the authenticator app.
	TOTPCode(ctx context.Context) (string, error)
}

// Tokens are a sign-in's tokens. The ID token carries the account and role
// and is what the API wants. String and GoString print no token, so a
// stray %v cannot leak one into a log.
type Tokens struct {
	IDToken      string    `json:"idToken"`
	AccessToken  string    `json:"accessToken"`
	RefreshToken string    `json:"refreshToken,omitempty"`
	ExpiresAt    time.Time `json:"expiresAt"` // of the ID and access tokens
}

func (t Tokens) String() string {
	return "cognito.Tokens{expires " + t.ExpiresAt.UTC().Format(time.RFC3339) + "}"
}

func (t Tokens) GoString() string { return t.String() }

// Errors of a sign-in that a caller may branch on (errors.Is). Each is an
// *apperr.Error whose message is meant for the person.
var (
	ErrWrongPassword = apperr.New(apperr.Unauthorized, "the e-mail or password is wrong")
	ErrWrongCode     = apperr.New(apperr.Unauthorized, "the two-factor code is wrong")
	// ErrExpired: the sign-in's session timed out (Cognito allows a few
	// minutes between steps), or a refresh token expired or was revoked.
	ErrExpired = apperr.New(apperr.Unauthorized, "took too long; sign in again")
	// ErrPasswordRejected: the new password does not meet the pool's policy
	// (the error's text says which rule).
	ErrPasswordRejected = apperr.New(apperr.Invalid, "the new password does not meet the password policy")
)

var (
	errCodeUsed       = apperr.New(apperr.Unauthorized, "that two-factor code was already used; wait for the next one and sign in again")
	errResetRequired  = apperr.New(apperr.Forbidden, "the password must be reset before you can sign in (ask an operator, or use \"forgot password\")")
	errNotConfirmed   = apperr.New(apperr.Forbidden, "the account is not confirmed yet")
	errDisabled       = apperr.New(apperr.Forbidden, "the account is disabled")
	errTooMany        = apperr.New(apperr.Forbidden, "too many attempts; wait a few minutes and try again")
	errRefreshExpired = "the sign-in has expired; sign in again" // ErrExpired, worded for a refresh
)

// maxChallenges bounds the challenge loop; a sign-in takes at most four
// (password, new password, TOTP setup, and the TOTP code on a later run).
const maxChallenges = 8

// SignIn signs in with USER_SRP_AUTH: the password proves itself by SRP
// and never leaves the machine, then ask answers whatever Cognito asks next
// (a new password, setting up TOTP, a TOTP code), in the order Cognito asks.
func (p *Pool) SignIn(ctx context.Context, email, password string, ask Prompter) (*Tokens, error) {
	return p.signIn(ctx, email, password, ask, rand.Reader)
}

func (p *Pool) signIn(ctx context.Context, email, password string, ask Prompter, random io.Reader) (*Tokens, error) {
	email = normalEmail(email)
	_, poolName, ok := strings.Cut(p.PoolID, "_")
	if !ok || poolName == "" {
		return nil, apperr.New(apperr.Invalid, "the user pool id %q is not of the form region_name", p.PoolID)
	}
	if email == "" || password == "" {
		return nil, ErrWrongPassword
	}
	if ask == nil {
		return nil, errors.New("sign in: no Prompter (the pool requires two-factor)")
	}
	srp, err := newSRPClient(random)
	if err != nil {
		return nil, err
	}
	secrets := []string{password} // what error text must never show
	start, err := p.API.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeUserSrpAuth,
		ClientId:       &p.ClientID,
		AuthParameters: map[string]string{"USERNAME": email, "SRP_A": srp.publicHex()},
	})
	if err != nil {
		return nil, signInError(err, secrets)
	}
	step := challenge{start.ChallengeName, start.ChallengeParameters, deref(start.Session), start.AuthenticationResult}
	username := email // becomes USER_ID_FOR_SRP once Cognito names it
	for range maxChallenges {
		if step.result != nil {
			return p.tokens(step.result, "")
		}
		if id := step.params["USER_ID_FOR_SRP"]; id != "" {
			username = id
		}
		var answer map[string]string
		session := step.session
		switch step.name {
		case types.ChallengeNameTypePasswordVerifier:
			ts := srpTimestamp(p.now())
			block := step.params["SECRET_BLOCK"]
			claim, err := srp.claim(srpChallenge{
				PoolName: poolName, UserID: username, SaltHex: step.params["SALT"],
				BHex: step.params["SRP_B"], SecretBlock: block, Timestamp: ts,
			}, password)
			if err != nil {
				return nil, fmt.Errorf("sign in: %w", err)
			}
			answer = map[string]string{"USERNAME": username, "PASSWORD_CLAIM_SECRET_BLOCK": block,
				"PASSWORD_CLAIM_SIGNATURE": claim, "TIMESTAMP": ts}
		case types.ChallengeNameTypeNewPasswordRequired:
			if missing := requiredAttributes(step.params); len(missing) > 0 {
				return nil, fmt.Errorf("sign in: the user pool asks for %s on the first sign-in, which this CLI does not set", strings.Join(missing, ", "))
			}
			pw, err := ask.NewPassword(ctx)
			if err != nil {
				return nil, fmt.Errorf("sign in: new password: %w", err)
			}
			secrets = append(secrets, pw)
			answer = map[string]string{"USERNAME": username, "NEW_PASSWORD": pw}
		case types.ChallengeNameTypeMfaSetup:
			if session, err = p.setUpTOTP(ctx, email, step, ask, &secrets); err != nil {
				return nil, err
			}
			answer = map[string]string{"USERNAME": username}
		case types.ChallengeNameTypeSoftwareTokenMfa:
			code, err := ask.TOTPCode(ctx)
			if err != nil {
				return nil, fmt.Errorf("sign in: two-factor code: %w", err)
			}
			code = strings.TrimSpace(code)
			secrets = append(secrets, code)
			answer = map[string]string{"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": code}
		case types.ChallengeNameTypeSelectMfaType:
			answer = map[string]string{"USERNAME": username, "ANSWER": string(types.ChallengeNameTypeSoftwareTokenMfa)}
		default:
			return nil, fmt.Errorf("sign in: Cognito asks for %s, which this CLI does not support (the pool should require TOTP only)", step.name)
		}
		out, err := p.API.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
			ClientId:           &p.ClientID,
			ChallengeName:      step.name,
			ChallengeResponses: answer,
			Session:            nonEmpty(session),
		})
		if err != nil {
			return nil, signInError(err, secrets)
		}
		step = challenge{out.ChallengeName, out.ChallengeParameters, deref(out.Session), out.AuthenticationResult}
	}
	return nil, errors.New("sign in: Cognito kept asking; giving up")
}

// challenge is one step of a sign-in, from InitiateAuth or
// RespondToAuthChallenge.
type challenge struct {
	name    types.ChallengeNameType
	params  map[string]string
	session string
	result  *types.AuthenticationResultType
}

// setUpTOTP answers MFA_SETUP: Cognito makes a TOTP secret, the person adds
// it to their app and gives its first code, Cognito verifies it. It returns
// the session to answer the challenge with.
func (p *Pool) setUpTOTP(ctx context.Context, email string, step challenge, ask Prompter, secrets *[]string) (string, error) {
	if can := step.params["MFAS_CAN_SETUP"]; can != "" && !strings.Contains(can, string(types.ChallengeNameTypeSoftwareTokenMfa)) {
		return "", fmt.Errorf("sign in: the user pool offers no TOTP two-factor to set up (it offers %s)", can)
	}
	assoc, err := p.API.AssociateSoftwareToken(ctx, &cip.AssociateSoftwareTokenInput{Session: nonEmpty(step.session)})
	if err != nil {
		return "", signInError(err, *secrets)
	}
	secret := deref(assoc.SecretCode)
	*secrets = append(*secrets, secret)
	code, err := ask.SetUpTOTP(ctx, secret, p.otpauthURI(email, secret))
	if err != nil {
		return "", fmt.Errorf("sign in: two-factor setup: %w", err)
	}
	code = strings.TrimSpace(code)
	*secrets = append(*secrets, code)
	verified, err := p.API.VerifySoftwareToken(ctx, &cip.VerifySoftwareTokenInput{
		Session:            cmpSession(assoc.Session, step.session),
		UserCode:           &code,
		FriendlyDeviceName: ptr(p.issuer()),
	})
	if err != nil {
		return "", signInError(err, *secrets)
	}
	if verified.Status != types.VerifySoftwareTokenResponseTypeSuccess {
		return "", ErrWrongCode
	}
	return deref(cmpSession(verified.Session, deref(assoc.Session))), nil
}

// Refresh gets new ID and access tokens with REFRESH_TOKEN_AUTH. Cognito
// returns no new refresh token unless rotation is on, so the given one is
// kept then.
func (p *Pool) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	if refreshToken == "" {
		return nil, &failure{kind: ErrExpired, msg: errRefreshExpired}
	}
	out, err := p.API.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
		ClientId:       &p.ClientID,
		AuthParameters: map[string]string{"REFRESH_TOKEN": refreshToken},
	})
	if err != nil {
		if code, _ := apiError(err); code == "NotAuthorizedException" {
			return nil, &failure{kind: ErrExpired, msg: errRefreshExpired, cause: err}
		}
		return nil, signInError(err, []string{refreshToken})
	}
	if out.AuthenticationResult == nil {
		return nil, fmt.Errorf("refresh: Cognito asks for %s instead of returning tokens", out.ChallengeName)
	}
	return p.tokens(out.AuthenticationResult, refreshToken)
}

func (p *Pool) tokens(r *types.AuthenticationResultType, refreshToken string) (*Tokens, error) {
	t := &Tokens{
		IDToken:      deref(r.IdToken),
		AccessToken:  deref(r.AccessToken),
		RefreshToken: cmp.Or(deref(r.RefreshToken), refreshToken),
		ExpiresAt:    p.now().Add(time.Duration(r.ExpiresIn) * time.Second),
	}
	if t.IDToken == "" {
		return nil, errors.New("sign in: Cognito returned no ID token")
	}
	return t, nil
}

// signInError turns Cognito's error into one for the person at the
// terminal. Cognito's own message is shown only where it helps (the
// password policy, a misconfigured pool), with anything in secrets blanked.
func signInError(err error, secrets []string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	code, message := apiError(err)
	lower := strings.ToLower(message)
	var kind *apperr.Error
	switch code {
	case "":
		return fmt.Errorf("sign in: %w", err)
	case "NotAuthorizedException":
		switch {
		case strings.Contains(lower, "session"):
			kind = ErrExpired
		case strings.Contains(lower, "attempts exceeded"):
			kind = errTooMany
		case strings.Contains(lower, "disabled"):
			kind = errDisabled
		case strings.Contains(lower, "code"):
			kind = ErrWrongCode
		default:
			kind = ErrWrongPassword
		}
	case "UserNotFoundException": // only when PreventUserExistenceErrors is off
		kind = ErrWrongPassword
	case "CodeMismatchException", "EnableSoftwareTokenMFAException":
		kind = ErrWrongCode
	case "ExpiredCodeException":
		kind = errCodeUsed
	case "PasswordResetRequiredException":
		kind = errResetRequired
	case "UserNotConfirmedException":
		kind = errNotConfirmed
	case "TooManyRequestsException", "TooManyFailedAttemptsException", "LimitExceededException":
		kind = errTooMany
	case "InvalidPasswordException":
		return &failure{kind: ErrPasswordRejected, msg: "the new password is not accepted: " + scrub(message, secrets), cause: err}
	case "ResourceNotFoundException":
		return &failure{kind: apperr.New(apperr.Invalid, "the user pool or its app client does not exist (check the pool and client ids)"), cause: err}
	default:
		return &failure{kind: apperr.New(apperr.Internal, "Cognito refused the sign-in: %s: %s", code, scrub(message, secrets)), cause: err}
	}
	return &failure{kind: kind, cause: err}
}

// scrub blanks every secret that occurs in s.
func scrub(s string, secrets []string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// requiredAttributes lists the attributes a NEW_PASSWORD_REQUIRED
// challenge asks for ("userAttributes.name"...); the stack's pool asks for
// none.
func requiredAttributes(params map[string]string) []string {
	var names []string
	if raw := params["requiredAttributes"]; raw != "" {
		_ = json.Unmarshal([]byte(raw), &names)
	}
	return slices.DeleteFunc(names, func(s string) bool { return s == "" })
}

// otpauthURI is the Key URI authenticator apps read from a QR code
// (https://github.com/google/google-authenticator/wiki/Key-Uri-Format).
func (p *Pool) otpauthURI(email, secret string) string {
	issuer := p.issuer()
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + email,
		RawQuery: url.Values{"secret": {secret}, "issuer": {issuer}}.Encode()}
	return u.String()
}

func (p *Pool) issuer() string { return cmp.Or(p.Issuer, "crmbackup") }

func (p *Pool) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// cmpSession is s if Cognito sent one, else the previous session.
func cmpSession(s *string, previous string) *string {
	if s != nil && *s != "" {
		return s
	}
	return nonEmpty(previous)
}
