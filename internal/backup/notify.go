package backup

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/listing"
)

// Notify tells the account's admins how a backup ended: in-app and out.
func (s *Service) Notify(ctx context.Context, in NotifyInput) error {
	b, err := s.Store.Backup(ctx, in.AccountID, in.BackupID)
	if err != nil {
		return err
	}
	n := &Notification{AccountID: b.AccountID, BackupID: b.ID}
	if s.Link != nil {
		n.Link = s.Link(b.AccountID, b.ID)
	}
	switch b.Status {
	case Completed:
		n.Kind, n.Subject = "backup.completed", "Your CRM backup is ready"
		n.Message = fmt.Sprintf("Your %s backup %s completed at %s: %s. The file %s (%s) can be downloaded until %s. "+
			"Records changed while the backup ran may not be reflected in it.",
			b.Trigger, b.ID, b.CompletedAt.Format(time.RFC1123), Records(b.Objects), b.FileName, Bytes(b.Size), b.ExpiresAt.Format(time.RFC1123))
		for _, o := range b.Omitted {
			n.Message += " Not included: " + o.What + " (" + o.Why + ")."
		}
	case Failed:
		n.Kind, n.Subject = "backup.failed", "Your CRM backup failed"
		n.Message = fmt.Sprintf("Backup %s failed: %s. The backup quota was given back; you can start a new backup.", b.ID, b.Failure)
	default:
		return apperr.New(apperr.Conflict, "backup %s is %s: nothing to notify yet", b.ID, b.Status)
	}
	// One notification per backup outcome: a retried Notify writes the
	// same id, of the time the backup ended.
	ended := b.CompletedAt
	if ended.IsZero() {
		ended = IDTime(b.ID)
	}
	n.ID, n.CreatedAt = DerivedID(ended, b.ID, n.Kind), ended
	return s.notifyErr(ctx, n)
}

// Records says what a backup holds, for people: "1,234 records (contacts
// 1,200, deals 34; no products)".
func Records(objs []ObjectSummary) string {
	var total int64
	var with, without []string
	for _, o := range objs {
		total += o.Rows
		if o.Rows == 0 {
			without = append(without, o.Name)
		} else {
			with = append(with, o.Name+" "+thousands(o.Rows))
		}
	}
	s := thousands(total) + " records"
	if total == 1 {
		s = "1 record"
	}
	var parts []string
	if len(with) > 0 {
		parts = append(parts, strings.Join(with, ", "))
	}
	if len(without) > 0 {
		parts = append(parts, "no "+strings.Join(without, ", no "))
	}
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, "; ") + ")"
	}
	return s
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Bytes is a size for people: "912 bytes", "4.2 MB", "1.3 GB".
func Bytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d bytes", n)
	case n < 1_000_000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1_000_000_000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
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

// Inbox is an account's in-app notifications as its admins read them.
type Inbox interface {
	// Notifications pages through an account's notifications.
	Notifications(ctx context.Context, accountID string, q listing.Query) (listing.Page[*Notification], error)
	// UnreadCount is how many of them no admin has marked read.
	UnreadCount(ctx context.Context, accountID string) (int, error)
	// MarkRead marks one read at at (apperr.NotFound if unknown; one read
	// already keeps its first ReadAt).
	MarkRead(ctx context.Context, accountID, id string, at time.Time) error
	// MarkAllRead marks every unread one read and says how many it marked.
	MarkAllRead(ctx context.Context, accountID string, at time.Time) (int, error)
}

// Notifier records notifications in-app and publishes them.
type Notifier struct {
	Store interface {
		AddNotification(ctx context.Context, n *Notification) (bool, error)
		MarkPublished(ctx context.Context, accountID, id string, at time.Time) error
	}
	Publisher Publisher // nil: in-app only
}

// Notify records n (once per id: a retry adds nothing) and publishes it
// (once per id, unless a crash comes between publishing and noting it).
func (nt Notifier) Notify(ctx context.Context, n *Notification) error {
	if n.CreatedAt.IsZero() {
		n.CreatedAt = Clock(nil)
	}
	if n.ID == "" {
		n.ID = NewID(n.CreatedAt)
	}
	published, err := nt.Store.AddNotification(ctx, n)
	if err != nil {
		return fmt.Errorf("in-app notification: %w", err)
	}
	// A retry publishes only what no earlier try published: at least once
	// (a crash between the two writes sends it again), not on every retry.
	if nt.Publisher == nil || published {
		return nil
	}
	if err := nt.Publisher.Publish(ctx, n); err != nil {
		return fmt.Errorf("publish notification: %w", err)
	}
	if err := nt.Store.MarkPublished(ctx, n.AccountID, n.ID, Clock(nil)); err != nil {
		return fmt.Errorf("mark notification %s published: %w", n.ID, err)
	}
	return nil
}
