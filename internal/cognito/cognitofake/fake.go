// Package cognitofake is a Cognito user pool for tests: an httptest server
// speaking the AWS JSON 1.1 protocol of cognito-idp for the operations
// package cognito calls, shaped like the stack's pool (e-mail as the
// username, TOTP required, custom:account_id and custom:role, an app client
// without secret allowing USER_SRP_AUTH and REFRESH_TOKEN_AUTH, user
// existence errors prevented).
//
// It is strict where a client can be wrong: it runs the server's side of
// SRP for real (a wrong signature, username or timestamp format fails as
// it would on AWS), checks TOTP codes, expires sessions after three minutes
// of its clock, and records every request for tests to inspect.
//
// Not modelled: other operations and auth flows, SMS and e-mail MFA,
// devices, groups, ListUsers filters, user-pool triggers, IAM (an admin
// call needs only some SigV4 Authorization header), token revocation and
// refresh-token rotation, and JWKS-verifiable tokens (they are HS256,
// see Claims).
package cognitofake

import (
	"bytes"
	"crypto/hmac"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/crmbackup/crmbackup/internal/localhttp"
	"github.com/golang-jwt/jwt/v5"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Fake is a running fake user pool.
type Fake struct {
	URL      string // the server's base URL
	Region   string // "eu-west-1"
	PoolID   string // "eu-west-1_CrmFake01"
	ClientID string

	srv *httptest.Server
	key []byte // signs the tokens

	mu       sync.Mutex
	offset   time.Duration // the fake's clock is time.Now() + offset
	users    []*user       // in creation order
	srp      map[string]*srpExchange
	sessions map[string]*session
	refresh  map[string]grant
	requests []Request
	failures map[string][]apiError
	ids      int
}

// Request is one call the fake received.
type Request struct {
	Op   string         // "InitiateAuth", from X-Amz-Target
	Body map[string]any // the decoded JSON body
}

// Get returns the value at path in the body ("AuthParameters", "SRP_A"),
// nil if there is none.
func (r Request) Get(path ...string) any {
	var v any = r.Body
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// Str is Get as a string ("" if absent or not a string).
func (r Request) Str(path ...string) string {
	s, _ := r.Get(path...).(string)
	return s
}

// New starts a fake pool, closed when the test ends.
func New(t testing.TB) *Fake {
	t.Helper()
	f := &Fake{
		Region:   "eu-west-1",
		PoolID:   "eu-west-1_CrmFake01",
		ClientID: "3n4fakeclient5id6crmbackup7",
		key:      randomBytes(32),
		srp:      map[string]*srpExchange{},
		sessions: map[string]*session{},
		refresh:  map[string]grant{},
		failures: map[string][]apiError{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL
	t.Cleanup(f.srv.Close)
	return f
}

// Client returns an SDK client pointed at the fake, with static
// credentials and no retries.
func (f *Fake) Client() *cip.Client {
	return cip.New(cip.Options{
		Region:           f.Region,
		BaseEndpoint:     aws.String(f.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       localhttp.Client(),
	})
}

// AddUser adds a confirmed user with password and TOTP set up, and returns
// the TOTP secret (for Code). The password is not checked against the
// policy.
func (f *Fake) AddUser(email, password, accountID, role string) (totpSecret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.newUser(email, map[string]string{"email_verified": "true", "custom:account_id": accountID, "custom:role": role})
	u.setPassword(f.poolName(), password)
	u.status = "CONFIRMED"
	u.totpSecret = newTOTPSecret()
	return u.totpSecret
}

// TemporaryPassword is the password Cognito would have e-mailed to a user
// created by AdminCreateUser, "" once they have set their own.
func (f *Fake) TemporaryPassword(email string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.find(email); u != nil && u.status == "FORCE_CHANGE_PASSWORD" {
		return u.tempPassword
	}
	return ""
}

// TOTPSecret is the user's TOTP secret, "" if they have not set one up.
func (f *Fake) TOTPSecret(email string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.find(email); u != nil {
		return u.totpSecret
	}
	return ""
}

// Code is the TOTP code of secret now, by the fake's clock.
func (f *Fake) Code(secret string) string {
	code, err := totp.GenerateCodeCustom(secret, f.Now(), totpOpts)
	if err != nil {
		panic(err)
	}
	return code
}

// Now is the fake's clock (pass it as the client's clock).
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now()
}

// Advance moves the fake's clock: past three minutes a sign-in's session
// expires, past an hour its tokens.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.offset += d
}

// FailNext makes the next call of op fail with Cognito's error typ
// ("PasswordResetRequiredException") and message.
func (f *Fake) FailNext(op, typ, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[op] = append(f.failures[op], apiError{typ, message})
}

// Requests returns every request so far, oldest first.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// Claims verifies a token the fake issued (at the fake's clock) and
// returns its claims.
func (f *Fake) Claims(token string) (map[string]any, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return f.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(f.Now))
	if err != nil {
		return nil, err
	}
	return claims, nil
}

// user is one user of the pool.
type user struct {
	username     string // a UUID, as in a pool with e-mail as the username
	attrs        map[string]string
	salt         string // hex
	verifier     *big.Int
	tempPassword string
	status       string // FORCE_CHANGE_PASSWORD, CONFIRMED
	enabled      bool
	totpSecret   string
	lastCode     string // the last TOTP code accepted, which may not be used again
	failures     int    // wrong passwords in a row
	created      time.Time
	modified     time.Time
}

func (u *user) email() string { return u.attrs["email"] }

func (u *user) setPassword(poolName, password string) {
	u.salt = newSalt()
	u.verifier = verifier(u.salt, poolName, u.username, password)
}

// srpExchange is a PASSWORD_VERIFIER in flight, found by its secret block.
type srpExchange struct {
	user    *user // nil for an unknown user (existence errors prevented)
	userID  string
	A       *big.Int
	key     serverKey
	expires time.Time
}

// session is a sign-in between challenges.
type session struct {
	user     *user
	next     string // the challenge (or "VerifySoftwareToken") it may answer
	secret   string // the TOTP secret being set up
	expires  time.Time
	authTime time.Time
}

// grant is what a refresh token stands for.
type grant struct {
	user     *user
	authTime time.Time
	expires  time.Time
}

type apiError struct{ typ, msg string }

func (e apiError) Error() string { return e.typ + ": " + e.msg }

var (
	errNotAuthorized = apiError{"NotAuthorizedException", "Incorrect username or password."}
	errSession       = apiError{"NotAuthorizedException", "Invalid session for the user, session is expired."}
	errNoUser        = apiError{"UserNotFoundException", "User does not exist."}
)

func invalid(format string, args ...any) apiError {
	return apiError{"InvalidParameterException", fmt.Sprintf(format, args...)}
}

const (
	sessionValidity = 3 * time.Minute
	tokenValidity   = time.Hour
	refreshValidity = 30 * 24 * time.Hour
	targetPrefix    = "AWSCognitoIdentityProviderService."
	contentType     = "application/x-amz-json-1.1"
)

var totpOpts = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

type handler func(f *Fake, r *http.Request, body []byte) (any, error)

var operations = map[string]handler{
	"InitiateAuth":           (*Fake).initiateAuth,
	"RespondToAuthChallenge": (*Fake).respondToAuthChallenge,
	"AssociateSoftwareToken": (*Fake).associateSoftwareToken,
	"VerifySoftwareToken":    (*Fake).verifySoftwareToken,
	"AdminCreateUser":        admin((*Fake).adminCreateUser),
	"ListUsers":              admin((*Fake).listUsers),
	"AdminGetUser":           admin((*Fake).adminGetUser),
	"AdminDeleteUser":        admin((*Fake).adminDeleteUser),
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, apiError{"SerializationException", err.Error()})
		return
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	h := operations[op]
	if r.Method != http.MethodPost || !ok || h == nil {
		writeError(w, http.StatusBadRequest, apiError{"UnknownOperationException", "the fake does not model " + r.Header.Get("X-Amz-Target")})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != contentType {
		writeError(w, http.StatusBadRequest, apiError{"SerializationException", "Content-Type " + ct + ", want " + contentType})
		return
	}
	decoded := map[string]any{}
	if err := json.Unmarshal(body, &decoded); err != nil {
		writeError(w, http.StatusBadRequest, apiError{"SerializationException", err.Error()})
		return
	}

	f.mu.Lock()
	f.requests = append(f.requests, Request{Op: op, Body: decoded})
	var out any
	if queued := f.failures[op]; len(queued) > 0 {
		f.failures[op], err = queued[1:], queued[0]
	} else {
		out, err = h(f, r, body)
	}
	f.mu.Unlock()

	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if out == nil {
		out = struct{}{}
	}
	w.Header().Set("Content-Type", contentType)
	_ = json.NewEncoder(w).Encode(out)
}

func writeError(w http.ResponseWriter, status int, err error) {
	e, ok := err.(apiError)
	if !ok {
		e, status = apiError{"InternalErrorException", err.Error()}, http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-ErrorType", e.typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.typ, "message": e.msg})
}

// admin requires a SigV4-signed request, as IAM does for admin calls.
func admin(h handler) handler {
	return func(f *Fake, r *http.Request, body []byte) (any, error) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
			return nil, apiError{"MissingAuthenticationTokenException", "Missing Authentication Token"}
		}
		return h(f, r, body)
	}
}

// decode reads the body into v, refusing fields the fake does not model.
func decode(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return apiError{"SerializationException", err.Error()}
	}
	return nil
}

func (f *Fake) initiateAuth(_ *http.Request, body []byte) (any, error) {
	var in struct {
		AuthFlow       string
		ClientId       string
		AuthParameters map[string]string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := f.checkClient(in.ClientId); err != nil {
		return nil, err
	}
	now := f.now()
	switch in.AuthFlow {
	case "USER_SRP_AUTH":
		name, aHex := in.AuthParameters["USERNAME"], in.AuthParameters["SRP_A"]
		if name == "" || aHex == "" {
			return nil, invalid("Missing required parameter USERNAME or SRP_A")
		}
		A, ok := new(big.Int).SetString(aHex, 16)
		if !ok || new(big.Int).Mod(A, groupN).Sign() == 0 {
			return nil, invalid("SRP_A is not a valid SRP value")
		}
		u := f.find(name)
		x := &srpExchange{user: u, userID: name, A: A, expires: now.Add(sessionValidity)}
		salt := newSalt()
		v := new(big.Int).SetBytes(randomBytes(384)) // an unknown user meets a plausible challenge
		if u != nil {
			x.userID, salt, v = u.username, u.salt, u.verifier
		}
		x.key = newServerKey(v)
		block := base64.StdEncoding.EncodeToString(randomBytes(64))
		f.srp[block] = x
		return map[string]any{
			"ChallengeName": "PASSWORD_VERIFIER",
			"ChallengeParameters": map[string]string{
				"SALT": salt, "SRP_B": x.key.B.Text(16), "SECRET_BLOCK": block,
				"USERNAME": x.userID, "USER_ID_FOR_SRP": x.userID,
			},
		}, nil
	case "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN":
		g, ok := f.refresh[in.AuthParameters["REFRESH_TOKEN"]]
		if !ok || now.After(g.expires) || !slices.Contains(f.users, g.user) {
			return nil, apiError{"NotAuthorizedException", "Invalid Refresh Token"}
		}
		result := f.mint(g.user, g.authTime)
		delete(result, "RefreshToken") // no rotation: the client keeps its own
		return map[string]any{"AuthenticationResult": result, "ChallengeParameters": map[string]string{}}, nil
	}
	return nil, invalid("Auth flow %s is not enabled for this client.", in.AuthFlow)
}

func (f *Fake) respondToAuthChallenge(_ *http.Request, body []byte) (any, error) {
	var in struct {
		ClientId           string
		ChallengeName      string
		ChallengeResponses map[string]string
		Session            string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := f.checkClient(in.ClientId); err != nil {
		return nil, err
	}
	resp := in.ChallengeResponses
	if in.ChallengeName == "PASSWORD_VERIFIER" {
		return f.passwordVerifier(resp)
	}
	s, err := f.session(in.Session, in.ChallengeName)
	if err != nil {
		return nil, err
	}
	if name := resp["USERNAME"]; name != s.user.username && name != s.user.email() {
		return nil, invalid("USERNAME %q does not belong to the session", name)
	}
	switch in.ChallengeName {
	case "NEW_PASSWORD_REQUIRED":
		pw := resp["NEW_PASSWORD"]
		if err := checkPolicy(pw); err != nil {
			return nil, err
		}
		s.user.setPassword(f.poolName(), pw)
		s.user.tempPassword, s.user.status, s.user.modified = "", "CONFIRMED", f.now()
		delete(f.sessions, in.Session)
		return f.afterPassword(s.user, s.authTime), nil
	case "MFA_SETUP":
		delete(f.sessions, in.Session)
		return map[string]any{"AuthenticationResult": f.mint(s.user, s.authTime), "ChallengeParameters": map[string]string{}}, nil
	case "SOFTWARE_TOKEN_MFA":
		if err := f.checkCode(s.user, s.user.totpSecret, resp["SOFTWARE_TOKEN_MFA_CODE"], apiError{"CodeMismatchException", "Invalid code received for user"}); err != nil {
			return nil, err // the session stays: the person may try again
		}
		delete(f.sessions, in.Session)
		return map[string]any{"AuthenticationResult": f.mint(s.user, s.authTime), "ChallengeParameters": map[string]string{}}, nil
	}
	return nil, invalid("challenge %s is not modelled", in.ChallengeName)
}

// passwordVerifier checks the SRP claim and moves to the next challenge.
func (f *Fake) passwordVerifier(resp map[string]string) (any, error) {
	block := resp["PASSWORD_CLAIM_SECRET_BLOCK"]
	x, ok := f.srp[block]
	if !ok {
		return nil, invalid("PASSWORD_CLAIM_SECRET_BLOCK is not one the pool sent")
	}
	delete(f.srp, block) // one attempt per exchange
	now := f.now()
	if now.After(x.expires) {
		return nil, errSession
	}
	ts := resp["TIMESTAMP"]
	at, err := time.Parse(timestampLayout, ts)
	if err != nil || at.Format(timestampLayout) != ts {
		return nil, invalid("TIMESTAMP %q is not in the format %q", ts, timestampLayout)
	}
	if d := now.Sub(at); d > 5*time.Minute || d < -5*time.Minute {
		return nil, invalid("TIMESTAMP %q is too far from the server's time", ts)
	}
	if x.user == nil {
		return nil, errNotAuthorized
	}
	u := x.user
	if resp["USERNAME"] != u.username {
		// A client must switch to USER_ID_FOR_SRP: the signature is over it.
		return nil, errNotAuthorized
	}
	if u.failures >= 5 {
		return nil, apiError{"NotAuthorizedException", "Password attempts exceeded"}
	}
	key := x.key.authKey(x.A, u.verifier)
	secret, _ := base64.StdEncoding.DecodeString(block)
	want := claimSignature(key, f.poolName(), u.username, secret, ts)
	got, err := base64.StdEncoding.DecodeString(resp["PASSWORD_CLAIM_SIGNATURE"])
	if key == nil || err != nil || !hmac.Equal(got, want) {
		u.failures++
		return nil, errNotAuthorized
	}
	u.failures = 0
	if !u.enabled {
		return nil, apiError{"NotAuthorizedException", "User is disabled."}
	}
	return f.afterPassword(u, now), nil
}

// afterPassword is the challenge after a verified password: a new password
// for an invited user, then TOTP setup, then the TOTP code.
func (f *Fake) afterPassword(u *user, authTime time.Time) map[string]any {
	switch {
	case u.status == "FORCE_CHANGE_PASSWORD":
		attrs, _ := json.Marshal(map[string]string{"email": u.email(), "email_verified": u.attrs["email_verified"]})
		return map[string]any{
			"ChallengeName": "NEW_PASSWORD_REQUIRED",
			"Session":       f.newSession(u, "NEW_PASSWORD_REQUIRED", authTime, ""),
			"ChallengeParameters": map[string]string{
				"USER_ID_FOR_SRP": u.username, "requiredAttributes": "[]", "userAttributes": string(attrs),
			},
		}
	case u.totpSecret == "":
		return map[string]any{
			"ChallengeName":       "MFA_SETUP",
			"Session":             f.newSession(u, "AssociateSoftwareToken", authTime, ""),
			"ChallengeParameters": map[string]string{"MFAS_CAN_SETUP": `["SOFTWARE_TOKEN_MFA"]`},
		}
	}
	return map[string]any{
		"ChallengeName":       "SOFTWARE_TOKEN_MFA",
		"Session":             f.newSession(u, "SOFTWARE_TOKEN_MFA", authTime, ""),
		"ChallengeParameters": map[string]string{},
	}
}

func (f *Fake) associateSoftwareToken(_ *http.Request, body []byte) (any, error) {
	var in struct{ Session, AccessToken string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.AccessToken != "" {
		return nil, invalid("the fake models AssociateSoftwareToken with a Session only")
	}
	s, err := f.session(in.Session, "AssociateSoftwareToken")
	if err != nil {
		return nil, err
	}
	delete(f.sessions, in.Session)
	secret := newTOTPSecret()
	return map[string]any{"SecretCode": secret, "Session": f.newSession(s.user, "VerifySoftwareToken", s.authTime, secret)}, nil
}

func (f *Fake) verifySoftwareToken(_ *http.Request, body []byte) (any, error) {
	var in struct{ Session, AccessToken, UserCode, FriendlyDeviceName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.AccessToken != "" {
		return nil, invalid("the fake models VerifySoftwareToken with a Session only")
	}
	s, err := f.session(in.Session, "VerifySoftwareToken")
	if err != nil {
		return nil, err
	}
	if err := f.checkCode(s.user, s.secret, in.UserCode, apiError{"EnableSoftwareTokenMFAException", "Code mismatch and fail enable Software Token MFA"}); err != nil {
		return nil, err
	}
	delete(f.sessions, in.Session)
	s.user.totpSecret, s.user.modified = s.secret, f.now()
	return map[string]any{"Status": "SUCCESS", "Session": f.newSession(s.user, "MFA_SETUP", s.authTime, "")}, nil
}

func (f *Fake) adminCreateUser(_ *http.Request, body []byte) (any, error) {
	var in struct {
		UserPoolId             string
		Username               string
		UserAttributes         []attribute
		DesiredDeliveryMediums []string
		MessageAction          string
		TemporaryPassword      string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := f.checkPool(in.UserPoolId); err != nil {
		return nil, err
	}
	if !strings.Contains(in.Username, "@") {
		return nil, invalid("Username should be an email.")
	}
	if f.find(in.Username) != nil {
		return nil, apiError{"UsernameExistsException", "An account with the given email already exists."}
	}
	attrs := map[string]string{}
	for _, a := range in.UserAttributes {
		switch a.Name {
		case "email", "email_verified", "name", "custom:account_id", "custom:role":
			attrs[a.Name] = a.Value
		default:
			return nil, invalid("Attributes did not conform to the schema: %s: Attribute does not exist in the schema.", a.Name)
		}
	}
	if e, ok := attrs["email"]; ok && e != in.Username {
		return nil, invalid("the email attribute %q differs from the username %q", e, in.Username)
	}
	for _, m := range in.DesiredDeliveryMediums {
		if m != "EMAIL" {
			return nil, invalid("DesiredDeliveryMediums %s needs a phone number, which the pool does not have", m)
		}
	}
	if in.MessageAction != "" {
		return nil, invalid("the fake does not model MessageAction")
	}
	u := f.newUser(in.Username, attrs)
	u.tempPassword = in.TemporaryPassword
	if u.tempPassword == "" {
		u.tempPassword = "Tmp-" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(randomBytes(8)) + "a1!"
	}
	u.setPassword(f.poolName(), u.tempPassword)
	return map[string]any{"User": f.userType(u, "Attributes")}, nil
}

func (f *Fake) listUsers(_ *http.Request, body []byte) (any, error) {
	var in struct {
		UserPoolId      string
		Limit           *int
		PaginationToken string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := f.checkPool(in.UserPoolId); err != nil {
		return nil, err
	}
	limit := 60
	if in.Limit != nil {
		limit = *in.Limit
	}
	if limit < 0 || limit > 60 {
		return nil, invalid("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60", limit)
	}
	if limit == 0 {
		limit = 60
	}
	start := 0
	if in.PaginationToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.PaginationToken)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "page:"))
		if err != nil || err2 != nil || n < 0 || n > len(f.users) {
			return nil, invalid("Invalid pagination token")
		}
		start = n
	}
	end := min(start+limit, len(f.users))
	users := make([]map[string]any, 0, end-start)
	for _, u := range f.users[start:end] {
		users = append(users, f.userType(u, "Attributes"))
	}
	out := map[string]any{"Users": users}
	if end < len(f.users) {
		out["PaginationToken"] = base64.RawURLEncoding.EncodeToString([]byte("page:" + strconv.Itoa(end)))
	}
	return out, nil
}

func (f *Fake) adminGetUser(_ *http.Request, body []byte) (any, error) {
	var in struct{ UserPoolId, Username string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := f.checkPool(in.UserPoolId); err != nil {
		return nil, err
	}
	u := f.find(in.Username)
	if u == nil {
		return nil, errNoUser
	}
	out := f.userType(u, "UserAttributes")
	if u.totpSecret != "" {
		out["UserMFASettingList"] = []string{"SOFTWARE_TOKEN_MFA"}
		out["PreferredMfaSetting"] = "SOFTWARE_TOKEN_MFA"
	}
	return out, nil
}

func (f *Fake) adminDeleteUser(_ *http.Request, body []byte) (any, error) {
	var in struct{ UserPoolId, Username string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := f.checkPool(in.UserPoolId); err != nil {
		return nil, err
	}
	u := f.find(in.Username)
	if u == nil {
		return nil, errNoUser
	}
	f.users = slices.DeleteFunc(f.users, func(v *user) bool { return v == u })
	return nil, nil
}

type attribute struct{ Name, Value string }

// userType is Cognito's UserType (attrKey "Attributes") or AdminGetUser's
// response (attrKey "UserAttributes").
func (f *Fake) userType(u *user, attrKey string) map[string]any {
	attrs := []attribute{{"sub", u.username}}
	names := make([]string, 0, len(u.attrs))
	for n := range u.attrs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		attrs = append(attrs, attribute{n, u.attrs[n]})
	}
	return map[string]any{
		"Username":             u.username,
		attrKey:                attrs,
		"Enabled":              u.enabled,
		"UserStatus":           u.status,
		"UserCreateDate":       epoch(u.created),
		"UserLastModifiedDate": epoch(u.modified),
	}
}

// mint issues a sign-in's tokens.
func (f *Fake) mint(u *user, authTime time.Time) map[string]any {
	now := f.now()
	iss := "https://cognito-idp." + f.Region + ".amazonaws.com/" + f.PoolID
	id := jwt.MapClaims{
		"sub": u.username, "email": u.email(), "email_verified": u.attrs["email_verified"] == "true",
		"custom:account_id": u.attrs["custom:account_id"], "custom:role": u.attrs["custom:role"],
		"cognito:username": u.username, "token_use": "id", "aud": f.ClientID, "iss": iss,
		"auth_time": authTime.Unix(), "iat": now.Unix(), "exp": now.Add(tokenValidity).Unix(),
		"jti": f.newID(),
	}
	access := jwt.MapClaims{
		"sub": u.username, "username": u.username, "client_id": f.ClientID, "token_use": "access",
		"scope": "aws.cognito.signin.user.admin", "iss": iss,
		"auth_time": authTime.Unix(), "iat": now.Unix(), "exp": now.Add(tokenValidity).Unix(),
		"jti": f.newID(),
	}
	refresh := base64.RawURLEncoding.EncodeToString(randomBytes(48))
	f.refresh[refresh] = grant{user: u, authTime: authTime, expires: now.Add(refreshValidity)}
	return map[string]any{
		"IdToken": f.sign(id), "AccessToken": f.sign(access), "RefreshToken": refresh,
		"ExpiresIn": int(tokenValidity / time.Second), "TokenType": "Bearer",
	}
}

func (f *Fake) sign(c jwt.MapClaims) string {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	t.Header["kid"] = "cognitofake"
	s, err := t.SignedString(f.key)
	if err != nil {
		panic(err)
	}
	return s
}

// checkCode accepts a TOTP code of secret once.
func (f *Fake) checkCode(u *user, secret, code string, mismatch apiError) error {
	ok, err := totp.ValidateCustom(code, secret, f.now(), totpOpts)
	if err != nil || !ok {
		return mismatch
	}
	if code == u.lastCode {
		return apiError{"ExpiredCodeException", "Your software token has already been used once."}
	}
	u.lastCode = code
	return nil
}

// checkPolicy is the stack's password policy.
func checkPolicy(pw string) error {
	has := func(f func(rune) bool) bool { return strings.IndexFunc(pw, f) >= 0 }
	symbol := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	var why string
	switch {
	case len(pw) < 12:
		why = "Password not long enough"
	case !has(unicode.IsLower):
		why = "Password must have lowercase characters"
	case !has(unicode.IsUpper):
		why = "Password must have uppercase characters"
	case !has(unicode.IsDigit):
		why = "Password must have numeric characters"
	case !has(symbol):
		why = "Password must have symbol characters"
	default:
		return nil
	}
	return apiError{"InvalidPasswordException", "Password does not conform to policy: " + why}
}

func (f *Fake) session(token, next string) (*session, error) {
	s, ok := f.sessions[token]
	if !ok || s.next != next {
		return nil, apiError{"NotAuthorizedException", "Invalid session for the user."}
	}
	if f.now().After(s.expires) {
		delete(f.sessions, token)
		return nil, errSession
	}
	return s, nil
}

func (f *Fake) newSession(u *user, next string, authTime time.Time, secret string) string {
	token := base64.StdEncoding.EncodeToString(randomBytes(96))
	f.sessions[token] = &session{user: u, next: next, secret: secret, authTime: authTime, expires: f.now().Add(sessionValidity)}
	return token
}

func (f *Fake) newUser(email string, attrs map[string]string) *user {
	attrs["email"] = email
	now := f.now()
	u := &user{username: f.newID(), attrs: attrs, status: "FORCE_CHANGE_PASSWORD", enabled: true, created: now, modified: now}
	f.users = append(f.users, u)
	return u
}

// find looks a user up by username or e-mail (the pool signs in by e-mail).
func (f *Fake) find(name string) *user {
	for _, u := range f.users {
		if u.username == name || u.email() == name {
			return u
		}
	}
	return nil
}

func (f *Fake) checkClient(id string) error {
	if id != f.ClientID {
		return apiError{"ResourceNotFoundException", "User pool client " + id + " does not exist."}
	}
	return nil
}

func (f *Fake) checkPool(id string) error {
	if id != f.PoolID {
		return apiError{"ResourceNotFoundException", "User pool " + id + " does not exist."}
	}
	return nil
}

func (f *Fake) poolName() string {
	_, name, _ := strings.Cut(f.PoolID, "_")
	return name
}

func (f *Fake) now() time.Time { return time.Now().Add(f.offset) }

// newID is a UUID-shaped id, unique within the fake.
func (f *Fake) newID() string {
	f.ids++
	b := randomBytes(16)
	return fmt.Sprintf("%08x-%x-%x-%x-%x", f.ids, b[0:2], b[2:4], b[4:6], b[6:12])
}

func newTOTPSecret() string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(randomBytes(20))
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// timestampLayout is Cognito's TIMESTAMP (Java's "EEE MMM d HH:mm:ss z yyyy").
const timestampLayout = "Mon Jan 2 15:04:05 UTC 2006"
