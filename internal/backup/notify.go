package backup

import (
	"context"
	"fmt"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
)

// Notify tells the account's admins how a backup ended: in-app and out.
func (s *Service) Notify(ctx context.Context, in NotifyInput) error {
	b, err := s.Store.Backup(ctx, in.AccountID, in.BackupID)
	if err != nil {
		return err
	}
	n := &Notification{AccountID: b.AccountID, BackupID: b.ID}
	// One notification per backup outcome: a retried Notify writes the same id.
	n.ID = "backup-" + b.ID
	if s.Link != nil {
		n.Link = s.Link(b.AccountID, b.ID)
	}
	switch b.Status {
	case Completed:
		n.Kind, n.Subject = "backup.completed", "Your CRM backup is ready"
		n.Message = fmt.Sprintf("Backup %s completed at %s. Download it until %s (%s, %d bytes). "+
			"Records changed while the backup ran may not be reflected in it.",
			b.ID, b.CompletedAt.Format(time.RFC1123), b.ExpiresAt.Format(time.RFC1123), b.FileName, b.Size)
		for _, o := range b.Omitted {
			n.Message += " Not included: " + o.What + " (" + o.Why + ")."
		}
	case Failed:
		n.Kind, n.Subject = "backup.failed", "Your CRM backup failed"
		n.Message = fmt.Sprintf("Backup %s failed: %s. The backup quota was given back; you can start a new backup.", b.ID, b.Failure)
	default:
		return apperr.New(apperr.Conflict, "backup %s is %s: nothing to notify yet", b.ID, b.Status)
	}
	n.CreatedAt = s.now()
	return s.notifyErr(ctx, n)
}

// notify records and publishes n, logging failures (best effort).
func (s *Service) notify(ctx context.Context, n *Notification) {
	if err := s.notifyErr(ctx, n); err != nil {
		s.log().ErrorContext(ctx, "notifying", "kind", n.Kind, "error", err)
	}
}

func (s *Service) notifyErr(ctx context.Context, n *Notification) error {
	if n.CreatedAt.IsZero() {
		n.CreatedAt = s.now()
	}
	return Notifier{Store: s.Store, Publisher: s.Publisher}.Notify(ctx, n)
}

// Notifier records notifications in-app and publishes them.
type Notifier struct {
	Store interface {
		AddNotification(ctx context.Context, n *Notification) error
	}
	Publisher Publisher // nil: in-app only
}

// Notify records n (once per id: a retry adds nothing) and publishes it.
func (nt Notifier) Notify(ctx context.Context, n *Notification) error {
	if n.CreatedAt.IsZero() {
		n.CreatedAt = Clock(nil)
	}
	if n.ID == "" {
		n.ID = NewID(n.CreatedAt)
	}
	if err := nt.Store.AddNotification(ctx, n); err != nil {
		return fmt.Errorf("in-app notification: %w", err)
	}
	if nt.Publisher == nil {
		return nil
	}
	if err := nt.Publisher.Publish(ctx, n); err != nil {
		return fmt.Errorf("publish notification: %w", err)
	}
	return nil
}
