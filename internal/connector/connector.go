// Package connector gives the HubSpot client of an account: it resolves the
// account's token reference and keeps one client per account per process
// (the clients of one portal share its rate budget anyway).
package connector

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/restore"
)

// SecretReader reads a secret's value (Secrets Manager on AWS).
type SecretReader interface {
	SecretString(ctx context.Context, arn string) (string, error)
}

// Connector implements backup.Connector.
type Connector struct {
	// BaseURL is HubSpot's API (default hubspot.DefaultBaseURL; the
	// emulator's URL locally).
	BaseURL string
	Secrets SecretReader
	// Local holds tokens for "local:NAME" references (the local stack's
	// emulator token); never used on AWS.
	Local map[string]string
	Log   *slog.Logger
	// Slots, if set, gives an account's request slots shared with every
	// other process that calls its portal (limit "burst": the portal's
	// 10-second limit). On AWS each export, the discovery, a restore and
	// the API run in their own Lambda containers: they pace themselves
	// together through the table. Nil: this process alone calls the portal.
	Slots func(accountID, limit string) hubspot.Slots
	// SecretPrefix, when set (on AWS: the stack's), makes a Secrets
	// Manager secret whose name starts with it the only credential
	// reference accepted, in any partition.
	SecretPrefix string
	// TTL is how long a credential read is used before it is read again
	// (default 15 minutes); a 401 re-reads it at once.
	TTL time.Duration
	Now func() time.Time

	mu      sync.Mutex
	clients map[string]*cached
}

// cached is an account's client and when its credential was read.
type cached struct {
	client *hubspot.Client
	ref    string
	token  string
	read   time.Time
}

var (
	_ backup.Connector  = (*Connector)(nil)
	_ restore.Connector = (*Connector)(nil)
)

// CRM returns the account's client, for backups.
func (c *Connector) CRM(ctx context.Context, a *backup.Account) (backup.CRM, error) {
	return c.client(ctx, a)
}

// RestoreCRM returns the account's client, for restores: the same client,
// so backups and restores of a portal share its rate budget.
func (c *Connector) RestoreCRM(ctx context.Context, a *backup.Account) (restore.CRM, error) {
	return c.client(ctx, a)
}

func (c *Connector) client(ctx context.Context, a *backup.Account) (*hubspot.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if e, ok := c.clients[a.ID]; ok {
		if e.ref == a.TokenRef && now.Sub(e.read) < cmp.Or(c.TTL, 15*time.Minute) {
			return e.client, nil
		}
		// Read again: it may have been rotated (or the account points
		// at another secret now). The client and its budget stay; a
		// failed read keeps the credential in use (a 401 reads again).
		token, err := c.token(ctx, a.TokenRef)
		if err != nil {
			c.log().WarnContext(ctx, "re-reading an account's credential; keeping the one in use", "accountId", a.ID, "error", err)
			e.read = now
			return e.client, nil
		}
		e.client.SetToken(token)
		e.ref, e.token, e.read = a.TokenRef, token, now
		return e.client, nil
	}
	token, err := c.token(ctx, a.TokenRef)
	if err != nil {
		return nil, fmt.Errorf("token of account %s: %w", a.ID, err)
	}
	id := a.ID
	cfg := hubspot.Config{BaseURL: c.BaseURL, Token: token, RequestsPer10s: a.RequestsPer10s,
		APIVersion: a.APIVersion, Logger: c.Log,
		Refresh: func(ctx context.Context) (string, error) { return c.reread(ctx, id) }}
	if c.Slots != nil {
		cfg.Slots = c.Slots(a.ID, "burst")
	}
	cl, err := hubspot.New(cfg)
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "account %s: %v", a.ID, err)
	}
	if c.clients == nil {
		c.clients = map[string]*cached{}
	}
	c.clients[a.ID] = &cached{client: cl, ref: a.TokenRef, token: token, read: now}
	return cl, nil
}

// reread reads an account's credential again after HubSpot refused it,
// from the reference the account has now.
func (c *Connector) reread(ctx context.Context, accountID string) (string, error) {
	c.mu.Lock()
	e, ok := c.clients[accountID]
	var ref string
	if ok {
		ref = e.ref
	}
	c.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("no client of account %s", accountID)
	}
	token, err := c.token(ctx, ref)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.ref == ref {
		e.token, e.read = token, c.now()
	}
	return token, nil
}

func (c *Connector) log() *slog.Logger { return backup.Logger(c.Log) }

func (c *Connector) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// secretARN matches a Secrets Manager secret's ARN in any partition; its
// last group is the secret's name (with its random suffix).
var secretARN = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:(.+)$`)

// token resolves a reference: env:NAME, file:PATH or a Secrets Manager ARN
// whose value is the token or JSON {"token": "..."}.
func (c *Connector) token(ctx context.Context, ref string) (string, error) {
	if c.SecretPrefix != "" {
		m := secretARN.FindStringSubmatch(ref)
		if m == nil || !strings.HasPrefix(m[1], c.SecretPrefix) {
			return "", apperr.New(apperr.Invalid, "the account's credential must be a Secrets Manager secret named %s…, not %q", c.SecretPrefix, clip(ref))
		}
	}
	var tok string
	switch {
	case strings.HasPrefix(ref, "env:"):
		tok = os.Getenv(strings.TrimPrefix(ref, "env:"))
	case strings.HasPrefix(ref, "local:") && c.Local != nil:
		tok = c.Local[strings.TrimPrefix(ref, "local:")]
	case strings.HasPrefix(ref, "file:"):
		b, err := os.ReadFile(strings.TrimPrefix(ref, "file:"))
		if err != nil {
			return "", err
		}
		tok = string(b)
	case secretARN.MatchString(ref):
		if c.Secrets == nil {
			return "", apperr.New(apperr.Invalid, "token reference %s needs Secrets Manager", ref)
		}
		v, err := c.Secrets.SecretString(ctx, ref)
		if err != nil {
			return "", err
		}
		var doc struct {
			Token string `json:"token"`
		}
		if json.Unmarshal([]byte(v), &doc) == nil && doc.Token != "" {
			v = doc.Token
		}
		tok = v
	default:
		return "", apperr.New(apperr.Invalid, "token reference %q: want env:NAME, file:PATH or a Secrets Manager ARN", ref)
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", apperr.New(apperr.Invalid, "token reference %s resolves to nothing", ref)
	}
	return tok, nil
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// Credential resolves a credential reference as the functions do (the
// operator's checks read an account's credential back with it).
func (c *Connector) Credential(ctx context.Context, ref string) (string, error) {
	return c.token(ctx, ref)
}
