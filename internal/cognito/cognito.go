// Package cognito signs a person in to the stack's Cognito user pool from the
// CLI (SRP with the password, then the pool's required TOTP two-factor) and
// administers the pool's users (an operator creates admins; there is no
// self sign-up).
//
// The pool (infra/stack.go) uses the e-mail as the sign-in name, requires
// TOTP, carries custom:account_id and custom:role, and its app client has no
// secret and only USER_SRP_AUTH (plus refresh). Sign-in needs no AWS
// credentials; the admin operations need IAM credentials for the pool.
//
// E-mails are trimmed and lower-cased before they reach Cognito, so an
// admin created as Alice@Example.com signs in as alice@example.com.
// Errors are written for the person at the terminal and never carry a
// password, code, secret or token.
package cognito

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/crmbackup/crmbackup/internal/apperr"
)

// API is the part of Cognito's user pool API the package calls; a
// *cognitoidentityprovider.Client satisfies it.
type API interface {
	InitiateAuth(context.Context, *cip.InitiateAuthInput, ...func(*cip.Options)) (*cip.InitiateAuthOutput, error)
	RespondToAuthChallenge(context.Context, *cip.RespondToAuthChallengeInput, ...func(*cip.Options)) (*cip.RespondToAuthChallengeOutput, error)
	AssociateSoftwareToken(context.Context, *cip.AssociateSoftwareTokenInput, ...func(*cip.Options)) (*cip.AssociateSoftwareTokenOutput, error)
	VerifySoftwareToken(context.Context, *cip.VerifySoftwareTokenInput, ...func(*cip.Options)) (*cip.VerifySoftwareTokenOutput, error)
	AdminCreateUser(context.Context, *cip.AdminCreateUserInput, ...func(*cip.Options)) (*cip.AdminCreateUserOutput, error)
	ListUsers(context.Context, *cip.ListUsersInput, ...func(*cip.Options)) (*cip.ListUsersOutput, error)
	AdminGetUser(context.Context, *cip.AdminGetUserInput, ...func(*cip.Options)) (*cip.AdminGetUserOutput, error)
	AdminDeleteUser(context.Context, *cip.AdminDeleteUserInput, ...func(*cip.Options)) (*cip.AdminDeleteUserOutput, error)
}

var _ API = (*cip.Client)(nil)

// Pool is one user pool and its app client (the stack's outputs UserPoolId
// and UserPoolClientId).
type Pool struct {
	API      API
	PoolID   string // e.g. "eu-west-1_AbCdEf123"
	ClientID string
	// Issuer names the account in the person's authenticator app when
	// they set up two-factor; "crmbackup" if empty.
	Issuer string
	// Now is the clock of the SRP timestamp and of Tokens.ExpiresAt;
	// time.Now if nil.
	Now func() time.Time
}

// Custom attributes of the pool (infra/stack.go).
const (
	AttrAccountID = "custom:account_id"
	AttrRole      = "custom:role"
)

// User is a user of the pool.
type User struct {
	Username  string // Cognito's own name for the user (a UUID in an e-mail pool)
	Email     string
	AccountID string
	Role      string
	Status    string // FORCE_CHANGE_PASSWORD until the first sign-in, then CONFIRMED, ...
	Enabled   bool
	Created   time.Time
}

// CreateUser creates an admin with a temporary password that Cognito
// e-mails them; their first sign-in sets a password and two-factor. The
// e-mail counts as verified (the operator vouches for it). An existing
// e-mail is an apperr.Conflict.
func (p *Pool) CreateUser(ctx context.Context, email, accountID, role string) (*User, error) {
	email = normalEmail(email)
	switch {
	case !plausibleEmail(email):
		return nil, apperr.New(apperr.Invalid, "%q is not an e-mail address", email)
	case strings.TrimSpace(accountID) == "":
		return nil, apperr.New(apperr.Invalid, "the account id is empty")
	case strings.TrimSpace(role) == "":
		return nil, apperr.New(apperr.Invalid, "the role is empty")
	}
	out, err := p.API.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: &p.PoolID,
		Username:   &email,
		UserAttributes: []types.AttributeType{
			attr("email", email),
			attr("email_verified", "true"),
			attr(AttrAccountID, accountID),
			attr(AttrRole, role),
		},
		DesiredDeliveryMediums: []types.DeliveryMediumType{types.DeliveryMediumTypeEmail},
	})
	if err != nil {
		if code, _ := apiError(err); code == "UsernameExistsException" || code == "AliasExistsException" {
			return nil, &failure{kind: apperr.New(apperr.Conflict, "a user with the e-mail %s already exists", email), cause: err}
		}
		return nil, p.adminError("create user "+email, err)
	}
	if out.User == nil {
		return nil, fmt.Errorf("cognito: create user %s: Cognito returned no user", email)
	}
	u := fromUserType(*out.User)
	return &u, nil
}

// Users lists every user of the pool, page by page. (Cognito cannot filter
// on custom attributes, so callers filter by account themselves.)
func (p *Pool) Users(ctx context.Context) ([]User, error) {
	var users []User
	var token *string
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out, err := p.API.ListUsers(ctx, &cip.ListUsersInput{
			UserPoolId:      &p.PoolID,
			Limit:           ptr(int32(60)), // Cognito's maximum
			PaginationToken: token,
		})
		if err != nil {
			return nil, p.adminError("list users", err)
		}
		for _, u := range out.Users {
			users = append(users, fromUserType(u))
		}
		if out.PaginationToken == nil || *out.PaginationToken == "" {
			return users, nil
		}
		if token != nil && *token == *out.PaginationToken {
			return nil, errors.New("cognito: list users: Cognito returned the same page token twice")
		}
		token = out.PaginationToken
	}
}

// User returns the user with the e-mail; apperr.NotFound if there is none.
func (p *Pool) User(ctx context.Context, email string) (*User, error) {
	email = normalEmail(email)
	out, err := p.API.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &p.PoolID, Username: &email})
	if err != nil {
		return nil, p.userError(email, "get user", err)
	}
	u := User{
		Username: deref(out.Username),
		Status:   string(out.UserStatus),
		Enabled:  out.Enabled,
		Created:  derefTime(out.UserCreateDate),
	}
	u.setAttributes(out.UserAttributes)
	return &u, nil
}

// DeleteUser deletes the user with the e-mail; apperr.NotFound if there is
// none. Their tokens stay valid until they expire (an hour at most).
func (p *Pool) DeleteUser(ctx context.Context, email string) error {
	email = normalEmail(email)
	_, err := p.API.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: &p.PoolID, Username: &email})
	if err != nil {
		return p.userError(email, "delete user", err)
	}
	return nil
}

// userError maps Cognito's UserNotFoundException to apperr.NotFound.
func (p *Pool) userError(email, what string, err error) error {
	if code, _ := apiError(err); code == "UserNotFoundException" {
		return &failure{kind: apperr.New(apperr.NotFound, "no user has the e-mail %s", email), cause: err}
	}
	return p.adminError(what+" "+email, err)
}

// adminError says what failed; the admin calls carry no secrets, so
// Cognito's own message is kept.
func (p *Pool) adminError(what string, err error) error {
	switch code, _ := apiError(err); code {
	case "ResourceNotFoundException":
		return &failure{kind: apperr.New(apperr.NotFound, "the user pool %s does not exist (check the stack's UserPoolId)", p.PoolID), cause: err}
	case "AccessDeniedException", "UnrecognizedClientException", "NotAuthorizedException":
		return &failure{kind: apperr.New(apperr.Forbidden, "the AWS credentials may not %s in the user pool %s", what, p.PoolID), cause: err}
	case "InvalidParameterException":
		return &failure{kind: apperr.New(apperr.Invalid, "Cognito refused to %s: %s", what, apiMessage(err)), cause: err}
	}
	return fmt.Errorf("cognito: %s: %w", what, err)
}

func fromUserType(t types.UserType) User {
	u := User{
		Username: deref(t.Username),
		Status:   string(t.UserStatus),
		Enabled:  t.Enabled,
		Created:  derefTime(t.UserCreateDate),
	}
	u.setAttributes(t.Attributes)
	return u
}

func (u *User) setAttributes(attrs []types.AttributeType) {
	for _, a := range attrs {
		switch deref(a.Name) {
		case "email":
			u.Email = deref(a.Value)
		case AttrAccountID:
			u.AccountID = deref(a.Value)
		case AttrRole:
			u.Role = deref(a.Value)
		}
	}
}

// failure is an error with a plain message for a person (kind, an
// *apperr.Error, so apperr.Code works) that keeps Cognito's error in the
// chain for errors.As without printing it.
type failure struct {
	kind  *apperr.Error
	msg   string // replaces kind.Message in Error() when set
	cause error
}

func (f *failure) Error() string {
	if f.msg != "" {
		return f.msg
	}
	return f.kind.Message
}

func (f *failure) Unwrap() []error {
	if f.cause == nil {
		return []error{f.kind}
	}
	return []error{f.kind, f.cause}
}

// apiError returns the Cognito exception name and message of err, if it
// is one.
func apiError(err error) (code, message string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}

func apiMessage(err error) string {
	_, m := apiError(err)
	return m
}

func normalEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func plausibleEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n")
}

func attr(name, value string) types.AttributeType {
	return types.AttributeType{Name: &name, Value: &value}
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
