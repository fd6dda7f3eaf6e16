package memstore

import (
	"context"
	"slices"
	"strings"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
)

// CreateAccount writes a new account and its audit entry
// (apperr.Conflict if the id exists, or belonged to another portal).
func (s *Store) CreateAccount(ctx context.Context, a *backup.Account, e *audit.Entry) error {
	return s.writeAccount(ctx, a, e, func(p *account) error {
		switch {
		case p.meta != nil:
			return apperr.New(apperr.Conflict, "account %q exists already", a.ID)
		case p.removed != nil && *p.removed != a.PortalID:
			return apperr.New(apperr.Conflict, "account id %q belonged to a removed account of another portal: its backups, audit log and admins are kept under it; give this one another id", a.ID)
		}
		return nil
	})
}

// UpdateAccount replaces an existing account and writes its audit entry
// (apperr.NotFound if there is none).
func (s *Store) UpdateAccount(ctx context.Context, a *backup.Account, e *audit.Entry) error {
	return s.writeAccount(ctx, a, e, func(p *account) error {
		if p.meta == nil {
			return apperr.New(apperr.NotFound, "no account %q", a.ID)
		}
		return nil
	})
}

func (s *Store) writeAccount(ctx context.Context, a *backup.Account, e *audit.Entry, cond func(*account) error) error {
	if a.ID == "" || !a.Tier.Valid() {
		return apperr.New(apperr.Invalid, "an account needs an id and a tier (starter, professional, enterprise)")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	entry, err := normalizeAudit(e)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.partition(a.ID)
	if err := cond(p); err != nil {
		return err
	}
	c := *a
	p.meta, p.removed = &c, nil
	if p.audit[e.ID] == nil {
		p.audit[e.ID] = entry
	}
	return nil
}

// DeleteAccount removes an account's settings, keeping its id for its
// portal, and writes the audit entry: apperr.NotFound if there is no
// account, apperr.Conflict while its recurring backups are on.
func (s *Store) DeleteAccount(ctx context.Context, acct *backup.Account, e *audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entry, err := normalizeAudit(e)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.accounts[acct.ID]
	if p == nil || p.meta == nil {
		return apperr.New(apperr.NotFound, "no account %q", acct.ID)
	}
	if p.sched != nil && p.sched.settings != nil && p.sched.settings.Enabled {
		return apperr.New(apperr.Conflict, "account %s has recurring backups switched on", acct.ID)
	}
	portal := acct.PortalID
	p.meta, p.removed = nil, &portal
	if p.audit[e.ID] == nil {
		p.audit[e.ID] = entry
	}
	return nil
}

// Accounts lists every account, by id.
func (s *Store) Accounts(ctx context.Context) ([]backup.Account, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []backup.Account{}
	for _, p := range s.accounts {
		if p.meta != nil {
			out = append(out, *p.meta)
		}
	}
	slices.SortFunc(out, func(a, b backup.Account) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// AccountIDs lists the id of every account the store has held, removed
// ones included.
func (s *Store) AccountIDs(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := []string{}
	for id, p := range s.accounts {
		if p.meta != nil || p.removed != nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}
