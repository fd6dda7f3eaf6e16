// Package operator is what the people who run a crmbackup stack do to it:
// add the HubSpot accounts it backs up (their credentials checked against
// HubSpot, kept in the stack's secret store, never on a command line),
// change or remove them, and add the portals' Super Admins who may use it.
// It is the domain of `crmbackup accounts` and `crmbackup admins`; the
// adapters (DynamoDB, Secrets Manager, Cognito, or the local stack's
// stand-ins) are given to it.
package operator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/listing"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/schedule"
)

// AccountStore keeps the accounts (the stack's table). Each change writes
// its audit entry with it.
type AccountStore interface {
	// CreateAccount writes a new account (apperr.Conflict if the id exists).
	CreateAccount(ctx context.Context, a *backup.Account, e *audit.Entry) error
	// UpdateAccount replaces an existing account (apperr.NotFound if none).
	UpdateAccount(ctx context.Context, a *backup.Account, e *audit.Entry) error
	// DeleteAccount removes an account's settings (apperr.NotFound if
	// none; apperr.Conflict while its schedule is on); its backups'
	// records and audit log stay, and its id stays its portal's.
	DeleteAccount(ctx context.Context, a *backup.Account, e *audit.Entry) error
	Account(ctx context.Context, id string) (*backup.Account, error)
	Accounts(ctx context.Context) ([]backup.Account, error)
	AddAudit(ctx context.Context, e *audit.Entry) error
	Backups(ctx context.Context, accountID string, q listing.Query) (listing.Page[*backup.Backup], error)
	Schedule(ctx context.Context, accountID string) (*schedule.Schedule, error)
	Imports(ctx context.Context, accountID string, q listing.Query) (listing.Page[*restore.Import], error)
}

// Secrets keeps the accounts' HubSpot credentials (Secrets Manager under
// the stack's prefix; files of the local stack's folder).
type Secrets interface {
	// CreateSecret stores a new account's credential and returns the
	// reference the account keeps (apperr.Conflict if there is one).
	CreateSecret(ctx context.Context, accountID, value string) (ref string, err error)
	// PutSecret replaces the credential behind ref.
	PutSecret(ctx context.Context, ref, value string) error
	// DeleteSecret removes the credential behind ref (a missing one is no
	// error), recoverably where the store can.
	DeleteSecret(ctx context.Context, ref string) error
	// DiscardSecret removes a credential that was never in use (an add
	// that failed after storing it) at once, so the id can be added again.
	DiscardSecret(ctx context.Context, ref string) error
}

// Portals open a HubSpot client on a credential, for the checks.
type Portals interface {
	Open(ctx context.Context, a *backup.Account, credential string) (CRM, error)
}

// Accounts manages the stack's accounts.
type Accounts struct {
	Store   AccountStore
	Secrets Secrets
	Portals Portals
	// Operator is who acts, for the audit log ("operator:<AWS identity>"
	// or "operator:<local user>").
	Operator audit.Actor
	Log      *slog.Logger
	Now      func() time.Time
}

// AddInput is a new account.
type AddInput struct {
	ID                string
	Name              string
	Tier              backup.Tier
	Credential        string // a service key or legacy private-app token
	RequestsPer10s    int    // 0: the tier's usual limit
	APIVersion        string
	LeaveOutSensitive bool
	// AllowMissingScopes adds the account even though the check found
	// scopes missing (they are reported); otherwise it is refused.
	AllowMissingScopes bool
	// AllowSharedPortal adds an account of a portal another account has
	// (their backups then share, and may exceed, the portal's limit).
	AllowSharedPortal bool
}

var accountID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// checkID refuses an id that is not a short lowercase slug: it is part of
// every key the stack writes (table keys, S3 keys, the secret's name).
func checkID(id string) error {
	if !accountID.MatchString(id) {
		return apperr.New(apperr.Invalid, "account id %q: want 1 to 63 lowercase letters, digits or dashes, starting with a letter or digit", clip(id))
	}
	return nil
}

// Add checks the credential with HubSpot, stores it and writes the
// account. Nothing is written when any step refuses: an existing id, a
// credential HubSpot rejects, missing scopes (unless allowed).
func (s *Accounts) Add(ctx context.Context, in AddInput) (*backup.Account, *Check, error) {
	if err := checkID(in.ID); err != nil {
		return nil, nil, err
	}
	if !in.Tier.Valid() {
		return nil, nil, apperr.New(apperr.Invalid, "tier %q: want starter, professional or enterprise", clip(string(in.Tier)))
	}
	in.Credential = strings.TrimSpace(in.Credential)
	if in.Credential == "" {
		return nil, nil, apperr.New(apperr.Invalid, "no credential: paste the HubSpot service key (or private-app token) on standard input")
	}
	if in.RequestsPer10s == 0 {
		in.RequestsPer10s = usualLimit(in.Tier)
	}
	if in.RequestsPer10s < 1 || in.RequestsPer10s > 1000 {
		return nil, nil, apperr.New(apperr.Invalid, "requests per 10 s %d: want HubSpot's limit of the portal (100 Starter, 190 Professional and Enterprise, 250 with the API limit increase)", in.RequestsPer10s)
	}
	if _, err := s.Store.Account(ctx, in.ID); err == nil {
		return nil, nil, apperr.New(apperr.Conflict, "account %q exists already: `accounts rotate-credential` or `accounts set-tier` change it", in.ID)
	} else if !apperr.Is(err, apperr.NotFound) {
		return nil, nil, err
	}
	a := &backup.Account{ID: in.ID, Name: in.Name, Tier: in.Tier, RequestsPer10s: in.RequestsPer10s,
		APIVersion: in.APIVersion, LeaveOutSensitive: in.LeaveOutSensitive}
	check, err := s.check(ctx, a, in.Credential)
	if err != nil {
		return nil, nil, err
	}
	if err := refuseMissing(check, in.AllowMissingScopes, a.LeaveOutSensitive); err != nil {
		return nil, check, err
	}
	a.PortalID = check.PortalID
	if !in.AllowSharedPortal {
		all, err := s.Store.Accounts(ctx)
		if err != nil {
			return nil, check, err
		}
		for _, other := range all {
			if other.PortalID == a.PortalID {
				return nil, check, apperr.New(apperr.Conflict, "portal %d is account %s's already: two accounts of one portal share its API limit and would exceed it together (--allow-shared-portal if you mean it)", a.PortalID, other.ID)
			}
		}
	}
	ref, err := s.Secrets.CreateSecret(ctx, a.ID, in.Credential)
	if err != nil {
		return nil, check, fmt.Errorf("store the credential: %w", err)
	}
	a.TokenRef = ref
	details := map[string]any{"name": a.Name, "tier": string(a.Tier), "portalId": a.PortalID}
	if err := s.Store.CreateAccount(ctx, a, s.entry(a.ID, audit.AccountAdded, details)); err != nil {
		// The account is not there: neither may its credential be, even
		// when the add was interrupted, and at once, so a retry can store
		// it again.
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := s.Secrets.DiscardSecret(cleanup, ref); derr != nil {
			s.log().WarnContext(ctx, "removing the credential of an account not added", "accountId", a.ID, "error", derr)
			return nil, check, fmt.Errorf("%w (and its credential %s could not be removed: %v)", err, ref, derr)
		}
		return nil, check, err
	}
	return a, check, nil
}

// Check checks an account's stored credential again.
func (s *Accounts) Check(ctx context.Context, id string, credential func(ref string) (string, error)) (*backup.Account, *Check, error) {
	a, err := s.Store.Account(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	tok, err := credential(a.TokenRef)
	if err != nil {
		return a, nil, fmt.Errorf("read the account's credential: %w", err)
	}
	c, err := s.check(ctx, a, tok)
	if err != nil {
		return a, nil, err
	}
	if a.PortalID != 0 && c.PortalID != a.PortalID {
		return a, c, apperr.New(apperr.Conflict, "the credential reaches portal %d, not the account's portal %d", c.PortalID, a.PortalID)
	}
	return a, c, nil
}

// SetTier changes an account's tier (and so its quota and schedules).
func (s *Accounts) SetTier(ctx context.Context, id string, tier backup.Tier) (*backup.Account, error) {
	if !tier.Valid() {
		return nil, apperr.New(apperr.Invalid, "tier %q: want starter, professional or enterprise", clip(string(tier)))
	}
	a, err := s.Store.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.Tier == tier {
		return a, nil
	}
	old := a.Tier
	a.Tier = tier
	if a.RequestsPer10s == usualLimit(old) {
		a.RequestsPer10s = usualLimit(tier) // unless the operator set another
	}
	details := map[string]any{"old": string(old), "new": string(tier), "requestsPer10s": a.RequestsPer10s}
	if err := s.Store.UpdateAccount(ctx, a, s.entry(id, audit.AccountTierChanged, details)); err != nil {
		return nil, err
	}
	return a, nil
}

// RotateCredential replaces an account's credential with one that HubSpot
// accepts for the same portal.
func (s *Accounts) RotateCredential(ctx context.Context, id, credential string, allowMissing bool) (*Check, error) {
	credential = strings.TrimSpace(credential)
	if credential == "" {
		return nil, apperr.New(apperr.Invalid, "no credential: paste the new HubSpot service key (or private-app token) on standard input")
	}
	a, err := s.Store.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := s.check(ctx, a, credential)
	if err != nil {
		return nil, err
	}
	if a.PortalID != 0 && c.PortalID != a.PortalID {
		return c, apperr.New(apperr.Conflict, "the new credential reaches portal %d, not the account's portal %d: nothing changed", c.PortalID, a.PortalID)
	}
	if err := refuseMissing(c, allowMissing, a.LeaveOutSensitive); err != nil {
		return c, err
	}
	if err := s.Secrets.PutSecret(ctx, a.TokenRef, credential); err != nil {
		return c, fmt.Errorf("store the new credential: %w", err)
	}
	return c, s.Store.AddAudit(ctx, s.entry(id, audit.AccountCredentialRotated, map[string]any{"portalId": c.PortalID}))
}

// Removal is what removing an account leaves behind.
type Removal struct {
	Account *backup.Account
	// Backups still downloadable, and the last day one is.
	Backups   int       `json:"backups"`
	LastUntil time.Time `json:"lastUntil,omitzero"`
}

// Leftovers says what removing an account leaves: its backups that can
// still be downloaded. A schedule that is on refuses the removal.
func (s *Accounts) Leftovers(ctx context.Context, id string) (*Removal, error) {
	a, err := s.Store.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	switch sch, err := s.Store.Schedule(ctx, id); {
	case err != nil && !apperr.Is(err, apperr.NotFound):
		return nil, err
	case err == nil && sch.Enabled:
		return nil, apperr.New(apperr.Conflict, "account %s has recurring backups switched on: switch them off first (`crmbackup schedule set --enabled=false`, signed in as one of its admins)", id)
	}
	imports, err := s.Store.Imports(ctx, id, listing.Query{Limit: 10})
	if err != nil {
		return nil, err
	}
	for _, im := range imports.Items {
		if im.Status == restore.ImportRunning {
			return nil, apperr.New(apperr.Conflict, "account %s has a restore running (import %s): wait until it ends", id, im.ID)
		}
	}
	r := &Removal{Account: a}
	now := s.now()
	// Backups live 14 days: the newest pages hold every one still there.
	q := listing.Query{Limit: listing.MaxLimit, From: now.Add(-backup.Retention - 24*time.Hour)}
	for {
		page, err := s.Store.Backups(ctx, id, q)
		if err != nil {
			return nil, err
		}
		for _, b := range page.Items {
			if b.Status == backup.Queued || b.Status == backup.Running {
				return nil, apperr.New(apperr.Conflict, "account %s has a backup running (%s): wait until it ends", id, b.ID)
			}
			if b.Status == backup.Completed && b.ExpiresAt.After(now) {
				r.Backups++
				if b.ExpiresAt.After(r.LastUntil) {
					r.LastUntil = b.ExpiresAt
				}
			}
		}
		if page.Next == "" {
			return r, nil
		}
		q.After = page.Next
	}
}

// Remove deletes an account's settings and credential, once Leftovers
// allows it. Its backups' records and audit log stay in the table; their
// files expire with the bucket's lifecycle (14 days after each backup).
func (s *Accounts) Remove(ctx context.Context, id string) (*Removal, error) {
	r, err := s.Leftovers(ctx, id)
	if err != nil {
		return nil, err
	}
	a := r.Account
	if err := s.Store.DeleteAccount(ctx, a, s.entry(id, audit.AccountRemoved, map[string]any{"backupsLeft": r.Backups, "portalId": a.PortalID})); err != nil {
		return nil, err
	}
	if err := s.Secrets.DeleteSecret(ctx, a.TokenRef); err != nil {
		return r, fmt.Errorf("account %s is removed, but its credential was not: %w", id, err)
	}
	return r, nil
}

// usualLimit is HubSpot's per-10-second limit of a tier's portals (without
// the API limit increase).
func usualLimit(t backup.Tier) int {
	if t == backup.Starter {
		return 100
	}
	return 190
}

func (s *Accounts) check(ctx context.Context, a *backup.Account, credential string) (*Check, error) {
	crm, err := s.Portals.Open(ctx, a, credential)
	if err != nil {
		return nil, err
	}
	c, err := CheckCredential(ctx, crm, a.Tier)
	if he := (*hubspot.Error)(nil); errors.As(err, &he) && he.StatusCode == http.StatusUnauthorized {
		return nil, apperr.New(apperr.Invalid, "HubSpot rejected the credential (HTTP 401): paste the portal's service key (or private-app token) as HubSpot shows it")
	}
	return c, err
}

// refuseMissing refuses a credential that lacks scopes, naming them.
func refuseMissing(c *Check, allow, leaveOutSensitive bool) error {
	if c.OK() || allow {
		return nil
	}
	var parts []string
	if len(c.MissingBackup) > 0 {
		parts = append(parts, "for backups: "+strings.Join(c.MissingBackup, ", "))
	}
	if len(c.MissingRestore) > 0 {
		parts = append(parts, "for restores: "+strings.Join(c.MissingRestore, ", "))
	}
	if len(c.MissingUsers) > 0 {
		parts = append(parts, "to tell the portal's Super Admins: "+strings.Join(c.MissingUsers, ", "))
	}
	hint := "add them to the service key (or private app) and try again, or pass --allow-missing-scopes"
	if !leaveOutSensitive && strings.Contains(strings.Join(c.MissingBackup, " "), "sensitive") {
		hint += " (a credential without the sensitive scopes can back up everything else with --leave-out-sensitive)"
	}
	return apperr.New(apperr.Invalid, "HubSpot says the credential lacks scopes the product needs (%s): %s", strings.Join(parts, "; "), hint).
		With("missingScopes", c)
}

func (s *Accounts) entry(accountID, action string, details map[string]any) *audit.Entry {
	now := s.now()
	return audit.New(accountID, backup.NewID(now), now, s.Operator, action, audit.Succeeded, details)
}

func (s *Accounts) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Accounts) log() *slog.Logger { return backup.Logger(s.Log) }

func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
