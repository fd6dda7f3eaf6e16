package restore

import (
	"context"
	"fmt"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/blobkey"
)

// Finish ends an import: its counts, its error CSV (the chunks joined under
// one header), the audit entry, the lock released, and the "import
// completed" notification. in.Error says the execution failed. Retrying it
// after any crash completes what is left.
func (s *Service) Finish(ctx context.Context, in StepInput) error {
	im, err := s.Store.Import(ctx, in.AccountID, in.ImportID)
	if err != nil {
		return err
	}
	if im.Status == ImportRunning {
		tally := in.Cursor.Tally
		im.Tally, im.Counts, im.RowsDone = &tally, CountsOf(&tally), in.Cursor.Row
		im.CompletedAt, im.Status = s.now(), ImportCompleted
		if in.Error != nil {
			im.Status, im.Failure = ImportFailed, in.Error.Reason("the restore")
			if in.Error.Error == backup.ExecutionTimedOut || in.Error.Error == backup.ExecutionAborted {
				// Its counts past its last checkpoint were in the execution's
				// state, which is gone.
				im.Failure += fmt.Sprintf("; the counts are those of its last checkpoint, %d of %d rows: what it wrote after that is not counted", im.RowsDone, im.Rows)
			}
		}
		if err := s.joinErrors(ctx, im); err != nil {
			return err
		}
		action, outcome := audit.RestoreCompleted, audit.Succeeded
		if im.Status == ImportFailed {
			action, outcome = audit.RestoreFailed, audit.Failed
		}
		entry := audit.New(im.AccountID, backup.NewID(im.CompletedAt), im.CompletedAt, audit.Actor{Subject: im.StartedBy}, action, outcome,
			map[string]any{"importId": im.ID, "planId": im.PlanID, "backupId": im.BackupID, "objectType": im.Object,
				"properties": im.Properties, "counts": im.Counts, "failure": im.Failure})
		switch err := s.Store.FinishImport(ctx, im, entry); {
		case apperr.Is(err, apperr.Conflict): // an earlier try ended it: use what it wrote
			if im, err = s.Store.Import(ctx, in.AccountID, in.ImportID); err != nil {
				return err
			}
		case err != nil:
			return err
		}
	}
	// Ended (now or by an earlier try): make sure of the rest.
	if err := s.Store.ReleaseLock(ctx, im.AccountID, im.ID); err != nil {
		return err
	}
	for _, dir := range []string{blobkey.ErrorChunks(im.AccountID, im.ID), blobkey.Journals(im.AccountID, im.ID)} {
		if keys, err := s.Blobs.List(ctx, dir); err == nil && len(keys) > 0 {
			if err := s.Blobs.Delete(ctx, keys...); err != nil {
				s.log().WarnContext(ctx, "deleting an import's work files", "importId", im.ID, "error", err)
			}
		}
	}
	s.log().InfoContext(ctx, "restore ended", "accountId", im.AccountID, "importId", im.ID, "status", im.Status,
		"updated", im.Counts.Updated, "cleared", im.Counts.Cleared, "unchanged", im.Counts.Unchanged,
		"missing", im.Counts.Missing, "failed", im.Counts.Failed)
	return backup.Notifier{Store: s.Store, Publisher: s.Publisher}.Notify(ctx, s.notification(im))
}

func (s *Service) notification(im *Import) *backup.Notification {
	// One notification per import outcome: a retried Finish writes the same id.
	n := &backup.Notification{AccountID: im.AccountID, ImportID: im.ID, BackupID: im.BackupID, CreatedAt: im.CompletedAt}
	if s.Link != nil {
		n.Link = s.Link(im.AccountID, im.ID)
	}
	c := im.Counts
	counts := fmt.Sprintf("%d values updated, %d cleared, %d unchanged, %d failed; %d records no longer exist.",
		c.Updated, c.Cleared, c.Unchanged, c.Failed, c.Missing)
	if im.Status == ImportCompleted {
		n.Kind, n.Subject = "import.completed", "Your import \""+im.Name+"\" is complete"
		n.Message = fmt.Sprintf("The restore of %s from backup %s completed: %s", im.Object, im.BackupID, counts)
	} else {
		n.Kind, n.Subject = "import.failed", "Your import \""+im.Name+"\" failed"
		n.Message = fmt.Sprintf("The restore of %s from backup %s stopped: %s. Until it stopped: %s", im.Object, im.BackupID, im.Failure, counts)
	}
	if c.Missing > 0 {
		n.Message += " " + MissingAdvice
	}
	if c.Failed > 0 {
		n.Message += " The import's error file lists the values HubSpot refused."
	}
	n.ID = backup.DerivedID(im.CompletedAt, im.ID, n.Kind)
	return n
}
