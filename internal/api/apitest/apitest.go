// Package apitest has a fake of the API's backup port for handler tests.
package apitest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/listing"
)

// Backups is an in-memory api.Backups that records what it was asked.
type Backups struct {
	mu      sync.Mutex
	byID    map[string]*backup.Backup
	Created []string      // account IDs Create was called for
	Actors  []audit.Actor // who called Create
	// CreateErr, when set, is what Create returns.
	CreateErr error
	Now       time.Time
}

// New returns a fake holding list.
func New(list ...*backup.Backup) *Backups {
	f := &Backups{byID: map[string]*backup.Backup{}, Now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	for _, b := range list {
		f.byID[b.ID] = b
	}
	return f
}

// Create implements api.Backups.
func (f *Backups) Create(_ context.Context, accountID string, who audit.Actor) (*backup.Backup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.CreateErr != nil {
		return nil, f.CreateErr
	}
	f.Created = append(f.Created, accountID)
	b := &backup.Backup{AccountID: accountID, ID: backup.NewID(f.Now), Status: backup.Queued, Trigger: backup.Manual, RequestedBy: who.Subject, CreatedAt: f.Now}
	f.Actors = append(f.Actors, who)
	f.byID[b.ID] = b
	return b, nil
}

// Get implements api.Backups; other accounts' backups are not found.
func (f *Backups) Get(_ context.Context, accountID, id string) (*backup.Backup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.byID[id]
	if !ok || b.AccountID != accountID {
		return nil, apperr.New(apperr.NotFound, "backup %s not found", id)
	}
	return b, nil
}

// List implements api.Backups.
func (f *Backups) List(_ context.Context, accountID string, q listing.Query) (listing.Page[*backup.Backup], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for id, b := range f.byID {
		if b.AccountID == accountID {
			keys = append(keys, id)
		}
	}
	slices.Sort(keys)
	sel, next := listing.Select(keys, q)
	out := listing.Page[*backup.Backup]{Next: next}
	for _, k := range sel {
		out.Items = append(out.Items, f.byID[k])
	}
	return out, nil
}

// DownloadURL implements api.Backups with the service's rules.
func (f *Backups) DownloadURL(ctx context.Context, accountID, id string, _ audit.Actor) (string, error) {
	b, err := f.Get(ctx, accountID, id)
	if err != nil {
		return "", err
	}
	switch {
	case b.Status != backup.Completed:
		return "", apperr.New(apperr.Conflict, "backup %s is %s", id, b.Status)
	case b.Expired(f.Now):
		return "", apperr.New(apperr.Gone, "backup %s expired", id)
	}
	return "https://bucket.example/" + b.Key + "?sig=x", nil
}

// Quota is allowed now for every account but "busy", whose next backup is
// allowed a day after the fake's clock.
func (f *Backups) Quota(_ context.Context, accountID string) (*backup.Quota, error) {
	if accountID == "busy" {
		return &backup.Quota{Tier: backup.Enterprise, Window: "24h0m0s", NextAllowedAt: f.Now.Add(24 * time.Hour), UsedBy: "01BUSY"}, nil
	}
	return &backup.Quota{Tier: backup.Enterprise, Window: "24h0m0s", AllowedNow: true}, nil
}

// AccountInfo is Acme's.
func (f *Backups) AccountInfo(_ context.Context, accountID string) (*backup.AccountView, error) {
	return &backup.AccountView{ID: accountID, Name: "Acme Inc.", PortalID: 12345678, Tier: backup.Enterprise}, nil
}
