package backup

import (
	"context"
	"time"

	"github.com/crmbackup/crmbackup/internal/listing"
)

// Quota says when an account's next manual backup is allowed, and why.
type Quota struct {
	Tier Tier `json:"tier"`
	// Window is the quota's period: one backup per Window.
	Window string `json:"window"` // "24h0m0s", "168h0m0s"
	// AllowedNow: a backup may be created now.
	AllowedNow bool `json:"allowedNow"`
	// NextAllowedAt is when one may (absent when allowed now).
	NextAllowedAt time.Time `json:"nextAllowedAt,omitzero"`
	// UsedBy is the backup that holds the quota, and how it was started
	// (absent when allowed now).
	UsedBy        string  `json:"usedBy,omitempty"`
	UsedByTrigger Trigger `json:"usedByTrigger,omitempty"`
}

// Quota reads the account's quota off its backups: the newest one that
// did not fail holds the quota for the tier's window from its creation (a
// failed backup gives its quota back). The store's QUOTA item decides at
// create time; this is the same rule, for people.
func (s *Service) Quota(ctx context.Context, accountID string) (*Quota, error) {
	acct, err := s.Store.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	window := acct.Tier.QuotaWindow()
	q := &Quota{Tier: acct.Tier, Window: window.String(), AllowedNow: true}
	now := s.now()
	page, err := s.Store.Backups(ctx, accountID, listing.Query{Limit: 20, From: now.Add(-window)})
	if err != nil {
		return nil, err
	}
	for _, b := range page.Items {
		if b.Status == Failed {
			continue
		}
		if next := b.CreatedAt.Add(window); next.After(now) {
			q.AllowedNow, q.NextAllowedAt, q.UsedBy, q.UsedByTrigger = false, next, b.ID, b.Trigger
		}
		break
	}
	return q, nil
}

// AccountView is what an admin sees of their account (never its
// credential's reference).
type AccountView struct {
	ID       string `json:"accountId"`
	Name     string `json:"name"`
	PortalID int64  `json:"portalId"`
	Tier     Tier   `json:"tier"`
}

// AccountInfo is the admin's account, for the console's header.
func (s *Service) AccountInfo(ctx context.Context, accountID string) (*AccountView, error) {
	a, err := s.Store.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return &AccountView{ID: a.ID, Name: a.Name, PortalID: a.PortalID, Tier: a.Tier}, nil
}
