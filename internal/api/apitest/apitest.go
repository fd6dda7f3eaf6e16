// Package apitest has a fake of the API's backup port for handler tests.
package apitest

import (
	"context"
	"sync"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
)

// Backups is an in-memory api.Backups that records what it was asked.
type Backups struct {
	mu      sync.Mutex
	byID    map[string]*backup.Backup
	Created []string // account IDs Create was called for
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
func (f *Backups) Create(_ context.Context, accountID, requestedBy string, trigger backup.Trigger) (*backup.Backup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.CreateErr != nil {
		return nil, f.CreateErr
	}
	f.Created = append(f.Created, accountID)
	b := &backup.Backup{AccountID: accountID, ID: "B" + accountID, Status: backup.Queued, Trigger: trigger, RequestedBy: requestedBy, CreatedAt: f.Now}
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
func (f *Backups) List(_ context.Context, accountID string, limit int) ([]*backup.Backup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*backup.Backup
	for _, b := range f.byID {
		if b.AccountID == accountID && len(out) < limit {
			out = append(out, b)
		}
	}
	return out, nil
}

// DownloadURL implements api.Backups with the service's rules.
func (f *Backups) DownloadURL(ctx context.Context, accountID, id string) (string, error) {
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
