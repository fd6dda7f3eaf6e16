package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/cognito"
	"github.com/crmbackup/crmbackup/internal/localstack"
)

// errSignIn: no session, or it ended (exit status 3).
var errSignIn = errors.New("sign in first")

// session is a signed-in admin's tokens for one target, kept in the
// user's config folder (0600): the ID token the API takes, the refresh
// token that renews it, and when the two-factor sign-in was.
type session struct {
	Target       string    `json:"target"`
	Email        string    `json:"email"`
	AccountID    string    `json:"accountId,omitempty"`
	IDToken      string    `json:"idToken"`
	RefreshToken string    `json:"refreshToken,omitempty"`
	ExpiresAt    time.Time `json:"expiresAt"`
	SignedInAt   time.Time `json:"signedInAt"`
}

// localSessionLife is how long a local sign-in lasts before `login` again
// (Cognito's refresh tokens: 30 days by default; locally a working day).
const localSessionLife = 12 * time.Hour

func sessionFile(t *target) (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("your config folder: %w", err)
	}
	return filepath.Join(dir, "crmbackup", "sessions", t.key+".json"), nil
}

func loadSession(t *target) (*session, error) {
	path, err := sessionFile(t)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: `"+self()+" login` signs you in to %s", errSignIn, t.name)
	}
	if err != nil {
		return nil, err
	}
	var s session
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

func saveSession(t *target, s *session) error {
	path, err := sessionFile(t)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".session-*") // 0600; one per writer
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// token is the ID token to call the API with, renewed when it is about to
// expire: through the refresh token on AWS; locally re-signed with the
// stack's key, keeping the time of the sign-in (so a restore still asks
// for a fresh one when it is old).
func (t *target) token(ctx context.Context) (string, *session, error) {
	s, err := loadSession(t)
	if err != nil {
		return "", nil, err
	}
	if time.Until(s.ExpiresAt) > time.Minute {
		return s.IDToken, s, nil
	}
	if t.local != "" {
		if time.Since(s.SignedInAt) > localSessionLife {
			return "", nil, fmt.Errorf("%w: your local session of %s ended; `"+self()+" login` again", errSignIn, s.SignedInAt.Local().Format("2 Jan 15:04"))
		}
		if err := t.signLocal(s, s.SignedInAt); err != nil {
			return "", nil, err
		}
	} else {
		pool := t.pool()
		if pool == nil || s.RefreshToken == "" {
			return "", nil, fmt.Errorf("%w: your session ended; `"+self()+" login` again", errSignIn)
		}
		tok, err := pool.Refresh(ctx, s.RefreshToken)
		if apperr.Code(err) == apperr.Unauthorized || errors.Is(err, cognito.ErrExpired) {
			return "", nil, fmt.Errorf("%w: your session ended (%w); `"+self()+" login` again", errSignIn, err)
		}
		if err != nil {
			return "", nil, fmt.Errorf("renewing your session: %w", err)
		}
		s.IDToken, s.ExpiresAt = tok.IDToken, tok.ExpiresAt
		if tok.RefreshToken != "" {
			s.RefreshToken = tok.RefreshToken
		}
	}
	if err := saveSession(t, s); err != nil {
		return "", nil, err
	}
	return s.IDToken, s, nil
}

// signLocal signs a local session's token for the admin the local
// stack's directory lists: their account and role, two-factor at signedIn.
func (t *target) signLocal(s *session, signedIn time.Time) error {
	ad, err := (localstack.Directory{Path: localstack.DirectoryFile(t.local)}).Admin(s.Email)
	if err != nil {
		return err
	}
	secret, err := os.ReadFile(filepath.Join(t.local, "dev-secret"))
	if err != nil {
		return fmt.Errorf("the local stack's dev token key: %w", err)
	}
	tok, err := localstack.DevTokens(secret).Sign(auth.DevClaims{Subject: ad.Email, AccountID: ad.AccountID, Role: ad.Role, MFA: true, AuthTime: signedIn, TTL: time.Hour})
	if err != nil {
		return err
	}
	s.IDToken, s.ExpiresAt, s.SignedInAt, s.AccountID = tok, time.Now().Add(time.Hour), signedIn, ad.AccountID
	return nil
}

// accountClaim reads the account an ID token names, for people: the API
// verifies tokens, this does not.
func accountClaim(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims map[string]any
	json.Unmarshal(raw, &claims)
	id, _ := claims[auth.DefaultClaims.Account].(string)
	return id
}

func loginCommand(io stdio) *cobra.Command {
	var email string
	c := &cobra.Command{
		Use:   "login",
		Short: "Sign in as an admin, with two-factor (the session is kept in your config folder, 0600)",
		Long: `Sign in as an admin of an account.

On a deployed stack: the stack's Cognito user pool, with your password and the code of your
authenticator app (two-factor). The first sign-in sets your password and your authenticator.
The session is kept in your config folder (0600) and renewed as you use it; a restore needs a
sign-in of the last few minutes and asks for one.

Locally: the local stack signs in the admins "crmbackup admins" added (admin@acme.example is
there from the start), as if with two-factor now.`,
		RunE: func(c *cobra.Command, _ []string) error {
			t, err := resolve(c)
			if err != nil {
				return err
			}
			return t.login(c.Context(), io, email)
		},
	}
	c.Flags().StringVar(&email, "email", "", "your e-mail (asked if not given; locally "+localstack.DefaultAdmin+")")
	return c
}

func (t *target) login(ctx context.Context, io stdio, email string) error {
	s := &session{Target: t.name, Email: email}
	if t.local != "" {
		if s.Email == "" {
			s.Email = localstack.DefaultAdmin
		}
		if err := t.signLocal(s, time.Now()); err != nil {
			return err
		}
	} else {
		pool := t.pool()
		if pool == nil {
			return fmt.Errorf("%s trusts another identity provider (no user pool of its own): sign in there and give its ID token to the API", t.name)
		}
		p := &prompter{io: io}
		if s.Email == "" {
			var err error
			if s.Email, err = p.line("E-mail: "); err != nil {
				return err
			}
		}
		password, err := p.secret("Password: ")
		if err != nil {
			return err
		}
		tok, err := pool.SignIn(ctx, s.Email, password, p)
		if err != nil {
			return fmt.Errorf("sign in to %s: %w", t.name, err)
		}
		s.IDToken, s.RefreshToken, s.ExpiresAt, s.SignedInAt = tok.IDToken, tok.RefreshToken, tok.ExpiresAt, time.Now()
		s.AccountID = accountClaim(tok.IDToken)
	}
	if err := saveSession(t, s); err != nil {
		return err
	}
	fmt.Fprintf(io.err, "Signed in to %s as %s, an admin of account %s (two-factor now).\n", t.name, s.Email, cmp.Or(s.AccountID, "?"))
	return nil
}

func logoutCommand(io stdio) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Forget your session of the stack",
		RunE: func(c *cobra.Command, _ []string) error {
			t, err := resolve(c)
			if err != nil {
				return err
			}
			path, err := sessionFile(t)
			if err != nil {
				return err
			}
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			fmt.Fprintf(io.out, "Signed out of %s.\n", t.name)
			return nil
		},
	}
}

// prompter asks the person at the terminal (cognito.Prompter).
type prompter struct {
	io stdio
	rd *bufio.Reader
}

var _ cognito.Prompter = (*prompter)(nil)

func (p *prompter) line(prompt string) (string, error) {
	fmt.Fprint(p.io.err, prompt)
	if p.rd == nil {
		p.rd = bufio.NewReader(p.io.in)
	}
	s, err := p.rd.ReadString('\n')
	if err != nil && (s == "" || !errors.Is(err, io.EOF)) {
		return "", fmt.Errorf("reading your answer: %w", err)
	}
	return strings.TrimSpace(s), nil
}

// secret reads without echo on a terminal.
func (p *prompter) secret(prompt string) (string, error) {
	if f, ok := p.io.in.(*os.File); ok && p.io.terminal {
		fmt.Fprint(p.io.err, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(p.io.err)
		return strings.TrimSpace(string(b)), err
	}
	return p.line(prompt)
}

func (p *prompter) NewPassword(context.Context) (string, error) {
	fmt.Fprintln(p.io.err, "Your first sign-in: choose your password (12 characters or more, with upper and lower case, a digit and a symbol).")
	return p.secret("New password: ")
}

func (p *prompter) SetUpTOTP(_ context.Context, secret, uri string) (string, error) {
	fmt.Fprintf(p.io.err, "Set up two-factor: add this key to your authenticator app (or open the link on your phone):\n\n  key  %s\n  link %s\n\n", secret, uri)
	return p.line("The 6-digit code it shows: ")
}

func (p *prompter) TOTPCode(context.Context) (string, error) {
	return p.line("Two-factor code from your authenticator app: ")
}
