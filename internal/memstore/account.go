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
// (apperr.Conflict if the id exists).
func (s *Store) CreateAccount(ctx context.Context, a *backup.Account, e *audit.Entry) error {
	return s.writeAccount(ctx, a, e, func(exists bool) error {
		if exists {
			return apperr.New(apperr.Conflict, "account %q exists already", a.ID)
		}
		return nil
	})
}

// UpdateAccount replaces an existing account and writes its audit entry
// (apperr.NotFound if there is none).
func (s *Store) UpdateAccount(ctx context.Context, a *backup.Account, e *audit.Entry) error {
	return s.writeAccount(ctx, a, e, func(exists bool) error {
		if !exists {
			return apperr.New(apperr.NotFound, "no account %q", a.ID)
		}
		return nil
	})
}

func (s *Store) writeAccount(ctx context.Context, a *backup.Account, e *audit.Entry, cond func(exists bool) error) error {
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
	if err := cond(p.meta != nil); err != nil {
		return err
	}
	c := *a
	p.meta = &c
	if p.audit[e.ID] == nil {
		p.audit[e.ID] = entry
	}
	return nil
}

// DeleteAccount removes an account's settings and writes the audit entry
// (apperr.NotFound if there is no account); everything else stays.
func (s *Store) DeleteAccount(ctx context.Context, id string, e *audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entry, err := normalizeAudit(e)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.accounts[id]
	if p == nil || p.meta == nil {
		return apperr.New(apperr.NotFound, "no account %q", id)
	}
	p.meta = nil
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
