package operator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// Admin is a person who may use crmbackup for an account: a user of the
// stack's user pool (or of the local stack's list) with the account and
// role attributes the API reads.
type Admin struct {
	Email     string    `json:"email"`
	AccountID string    `json:"accountId"`
	Role      string    `json:"role"`
	Status    string    `json:"status,omitempty"` // the user pool's (FORCE_CHANGE_PASSWORD, CONFIRMED…)
	Enabled   bool      `json:"enabled"`
	Created   time.Time `json:"created,omitzero"`
}

// Directory is where admins are (the stack's Cognito user pool, or the
// local stack's list).
type Directory interface {
	// CreateAdmin adds a user (apperr.Conflict if the e-mail has one).
	CreateAdmin(ctx context.Context, a Admin) (*Admin, error)
	// Admins lists every user of the directory.
	Admins(ctx context.Context) ([]Admin, error)
	// DeleteAdmin removes a user (apperr.NotFound if none).
	DeleteAdmin(ctx context.Context, email string) error
}

// Admins manages who may use the stack.
type Admins struct {
	Store     AccountStore
	Directory Directory
	Portals   Portals
	// Credential reads an account's credential from its reference.
	Credential func(ctx context.Context, ref string) (string, error)
	Operator   audit.Actor
	Log        *slog.Logger
	Now        func() time.Time
}

// AddAdminInput is a new admin.
type AddAdminInput struct {
	AccountID string
	Email     string
	// Override adds someone HubSpot does not list as a Super Admin of the
	// portal; Reason says why, in the audit log.
	Override bool
	Reason   string
}

// Add checks with HubSpot that the e-mail belongs to a Super Admin of the
// account's portal and adds them. An override is recorded with its reason.
func (s *Admins) Add(ctx context.Context, in AddAdminInput) (*Admin, *Verdict, error) {
	email, err := checkEmail(in.Email)
	if err != nil {
		return nil, nil, err
	}
	if in.Override && strings.TrimSpace(in.Reason) == "" {
		return nil, nil, apperr.New(apperr.Invalid, "an override needs a reason (--reason), kept in the audit log")
	}
	a, err := s.Store.Account(ctx, in.AccountID)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.verdict(ctx, a, email)
	if err != nil {
		return nil, nil, err
	}
	if !v.SuperAdmin && !in.Override {
		return nil, v, apperr.New(apperr.Forbidden, "%s: %s; only a portal's Super Admins may back up and restore its data (HubSpot's rule). An operator may still add them with --override --reason \"…\" (recorded in the audit log)", email, v.Why)
	}
	added, err := s.Directory.CreateAdmin(ctx, Admin{Email: email, AccountID: a.ID, Role: auth.SuperAdminRole})
	if err != nil {
		return nil, v, err
	}
	details := map[string]any{"email": email, "superAdmin": v.SuperAdmin}
	if !v.SuperAdmin {
		details["override"] = true
		details["reason"] = clipReason(in.Reason)
		details["hubspot"] = v.Why
	}
	now := s.now()
	if err := s.Store.AddAudit(ctx, audit.New(a.ID, backup.NewID(now), now, s.Operator, audit.AdminAdded, audit.Succeeded, details)); err != nil {
		return added, v, fmt.Errorf("%s was added, but the audit entry was not written: %w", email, err)
	}
	return added, v, nil
}

// Verdict is what HubSpot says of an admin now.
type Verdict struct {
	Email      string `json:"email"`
	AccountID  string `json:"accountId"`
	SuperAdmin bool   `json:"superAdmin"`
	Why        string `json:"why"` // in words: "a Super Admin of portal 123", "not a user of portal 123"…
}

// List lists the admins, of one account if accountID is set.
func (s *Admins) List(ctx context.Context, accountID string) ([]Admin, error) {
	all, err := s.Directory.Admins(ctx)
	if err != nil {
		return nil, err
	}
	var out []Admin
	for _, a := range all {
		if accountID == "" || a.AccountID == accountID {
			out = append(out, a)
		}
	}
	return out, nil
}

// Remove removes an admin, recording it in the account's audit log.
func (s *Admins) Remove(ctx context.Context, email string) (*Admin, error) {
	email, err := checkEmail(email)
	if err != nil {
		return nil, err
	}
	all, err := s.Directory.Admins(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range all {
		if strings.EqualFold(a.Email, email) {
			if err := s.Directory.DeleteAdmin(ctx, a.Email); err != nil {
				return nil, err
			}
			if a.AccountID != "" {
				now := s.now()
				if err := s.Store.AddAudit(ctx, audit.New(a.AccountID, backup.NewID(now), now, s.Operator, audit.AdminRemoved, audit.Succeeded, map[string]any{"email": a.Email})); err != nil {
					return &a, fmt.Errorf("%s was removed, but the audit entry was not written: %w", a.Email, err)
				}
			}
			return &a, nil
		}
	}
	return nil, apperr.New(apperr.NotFound, "no admin %s", email)
}

// Check asks HubSpot about every admin (of one account if accountID is
// set): who is still a Super Admin of their portal, and who is not.
func (s *Admins) Check(ctx context.Context, accountID string) ([]Verdict, error) {
	admins, err := s.List(ctx, accountID)
	if err != nil {
		return nil, err
	}
	accounts := map[string]*backup.Account{}
	var out []Verdict
	for _, ad := range admins {
		if ad.AccountID == "" {
			out = append(out, Verdict{Email: ad.Email, Why: "a user of the pool without an account (custom:account_id)"})
			continue
		}
		a, ok := accounts[ad.AccountID]
		if !ok {
			if a, err = s.Store.Account(ctx, ad.AccountID); err != nil && !apperr.Is(err, apperr.NotFound) {
				return nil, err
			}
			accounts[ad.AccountID] = a
		}
		if a == nil {
			out = append(out, Verdict{Email: ad.Email, AccountID: ad.AccountID, Why: "their account " + ad.AccountID + " is not in the stack"})
			continue
		}
		v, err := s.verdict(ctx, a, ad.Email)
		if err != nil {
			return nil, fmt.Errorf("checking %s: %w", ad.Email, err)
		}
		out = append(out, *v)
	}
	return out, nil
}

// verdict asks HubSpot's users API of the account's portal about email.
func (s *Admins) verdict(ctx context.Context, a *backup.Account, email string) (*Verdict, error) {
	tok, err := s.Credential(ctx, a.TokenRef)
	if err != nil {
		return nil, fmt.Errorf("read the credential of account %s: %w", a.ID, err)
	}
	crm, err := s.Portals.Open(ctx, a, tok)
	if err != nil {
		return nil, err
	}
	v := &Verdict{Email: email, AccountID: a.ID}
	portal := fmt.Sprintf("portal %d", a.PortalID)
	_, err = crm.SuperAdmin(ctx, email)
	var missing hubspot.MissingScopes
	switch {
	case err == nil:
		v.SuperAdmin, v.Why = true, "a Super Admin of "+portal
	case errors.Is(err, hubspot.ErrNotSuperAdmin):
		v.Why = "a user of " + portal + ", but not a Super Admin"
	case errors.Is(err, hubspot.ErrNotFound):
		v.Why = "not a user of " + portal
	case missing.Add(err):
		return nil, apperr.New(apperr.Conflict, "HubSpot refused the list of the portal's users: the account's credential lacks %s; add it to the service key (or private app)", strings.Join(missing.Scopes, ", "))
	default:
		return nil, fmt.Errorf("the portal's users: %w", err)
	}
	return v, nil
}

func checkEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || len(s) > 254 {
		return "", apperr.New(apperr.Invalid, "e-mail %q: want an address such as ana@example.com", clip(s))
	}
	return strings.ToLower(s), nil
}

func clipReason(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 300 {
		return string(r[:300]) + "…"
	}
	return s
}

func (s *Admins) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}
