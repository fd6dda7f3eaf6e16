package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/blobkey"
)

// discovery is what Discover leaves for the later steps (in the blob store:
// it is too large for the workflow's state).
type discovery struct {
	PortalID  int64      `json:"portalId"`
	StartedAt time.Time  `json:"startedAt"`
	Objects   []Object   `json:"objects"`
	Omitted   []Omission `json:"omitted,omitempty"`
}

// Discover marks the backup RUNNING and records the objects to export and
// their columns.
func (s *Service) Discover(ctx context.Context, in StepInput) (*DiscoverOutput, error) {
	b, err := s.Store.Backup(ctx, in.AccountID, in.BackupID)
	if err != nil {
		return nil, err
	}
	if b.Status == Queued {
		b.Status, b.StartedAt = Running, s.now()
		if err := s.Store.UpdateBackup(ctx, b, Queued); err != nil && !apperr.Is(err, apperr.Conflict) {
			return nil, err
		}
	} else if b.Status != Running {
		return nil, apperr.New(apperr.Conflict, "backup %s is %s", b.ID, b.Status)
	}
	crm, acct, err := s.crm(ctx, in.AccountID)
	if err != nil {
		return nil, err
	}
	details, err := crm.AccountDetails(ctx)
	if err != nil {
		return nil, fmt.Errorf("account details: %w", err)
	}
	if acct.PortalID != 0 && details.PortalID != acct.PortalID {
		return nil, apperr.New(apperr.Invalid, "the token reaches portal %d, not the account's portal %d", details.PortalID, acct.PortalID)
	}
	objs, omitted, err := Discover(ctx, crm, acct.Tier)
	if err != nil {
		return nil, err
	}
	if acct.LeaveOutSensitive {
		withoutSensitive(objs)
		omitted = append(omitted, LeftOutSensitive)
	}
	if err := preflight(ctx, crm, objs); err != nil {
		return nil, err
	}
	if err := checkDailyLimit(ctx, crm, objs); err != nil {
		return nil, err
	}
	d := discovery{PortalID: details.PortalID, StartedAt: b.StartedAt, Objects: objs, Omitted: omitted}
	body, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	if err := s.Blobs.Put(ctx, blobkey.Discovery(in.AccountID, in.BackupID), body); err != nil {
		return nil, fmt.Errorf("save discovery: %w", err)
	}
	out := &DiscoverOutput{}
	for _, o := range objs {
		out.Objects = append(out.Objects, o.Name)
	}
	return out, nil
}

func (s *Service) discovery(ctx context.Context, accountID, backupID string) (*discovery, error) {
	rc, err := s.Blobs.Get(ctx, blobkey.Discovery(accountID, backupID))
	if err != nil {
		return nil, fmt.Errorf("read discovery of backup %s: %w", backupID, err)
	}
	defer rc.Close()
	var d discovery
	if err := json.NewDecoder(rc).Decode(&d); err != nil {
		return nil, fmt.Errorf("decode discovery of backup %s: %w", backupID, err)
	}
	return &d, nil
}

// Finalize records the outcome: COMPLETED with the ZIP's details and a 14-day
// expiry, or FAILED with the quota refunded. Work files are removed either way.
func (s *Service) Finalize(ctx context.Context, in FinalizeInput) (*Backup, error) {
	b, err := s.Store.Backup(ctx, in.AccountID, in.BackupID)
	if err != nil {
		return nil, err
	}
	switch {
	case in.Zip != nil && b.Status == Completed, in.Zip == nil && b.Status == Failed:
		// A retry of a finished finalize.
	case in.Zip != nil:
		b.Status = Completed
		b.CompletedAt = in.Zip.CompletedAt
		b.ExpiresAt = in.Zip.CompletedAt.Add(Retention)
		b.Key, b.FileName, b.Size, b.SHA256, b.Objects = in.Zip.Key, in.Zip.FileName, in.Zip.Size, in.Zip.SHA256, in.Zip.Objects
		b.Omitted = in.Zip.Omitted
		if err := s.Store.UpdateBackup(ctx, b, Running); err != nil {
			return nil, err
		}
	default:
		b.Failure = in.Error.Reason("the backup")
		b.CompletedAt = s.now() // when it ended: its notification's time
		if err := s.Store.FailBackup(ctx, b); err != nil {
			return nil, err
		}
		b.Status = Failed
	}
	keys, err := s.Blobs.List(ctx, blobkey.WorkDir(in.AccountID, in.BackupID))
	if err == nil {
		err = s.Blobs.Delete(ctx, keys...)
	}
	if err != nil {
		// The bucket's lifecycle removes work files after a day anyway.
		s.log().WarnContext(ctx, "removing work files", "backupId", b.ID, "error", err)
	}
	return b, nil
}
