package restore

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/blobkey"
)

// Step actions of the restore state machine.
const (
	ActionPlan       = "plan"
	ActionPlanDone   = "planDone"
	ActionPlanFailed = "planFailed"
	ActionExecute    = "execute"
	ActionFinish     = "finish"
)

// StepInput is what the restore state machine hands the restore function.
type StepInput struct {
	Action    string            `json:"action"`
	AccountID string            `json:"accountId"`
	PlanID    string            `json:"planId,omitempty"`
	ImportID  string            `json:"importId,omitempty"`
	Cursor    Cursor            `json:"cursor"`
	Error     *backup.StepError `json:"error,omitempty"`
}

// open gets what a pass over an object of a backup needs.
func (s *Service) open(ctx context.Context, accountID, backupID, object string, props []string) (*Pass, error) {
	acct, err := s.Store.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	b, err := s.completedBackup(ctx, accountID, backupID)
	if err != nil {
		return nil, err
	}
	archive, err := backup.OpenArchive(ctx, s.Blobs, b.Key)
	if err != nil {
		return nil, err
	}
	o, err := archive.Object(object)
	if err != nil {
		return nil, err
	}
	crm, err := s.CRMs.RestoreCRM(ctx, acct)
	if err != nil {
		return nil, err
	}
	return &Pass{CRM: crm, Archive: archive, Sel: &Selection{Object: o, Properties: props}}, nil
}

// PlanChunk computes the next part of a PLANNING plan, until deadline.
func (s *Service) PlanChunk(ctx context.Context, in StepInput, deadline time.Time) (*Cursor, error) {
	p, err := s.Store.Plan(ctx, in.AccountID, in.PlanID)
	if err != nil {
		return nil, err
	}
	if p.Status != Planning {
		in.Cursor.Done = true // computed already: a retry after PlanDone
		return &in.Cursor, nil
	}
	pass, err := s.open(ctx, p.AccountID, p.BackupID, p.Object, p.Properties)
	if err != nil {
		return nil, err
	}
	cur, err := pass.Run(ctx, in.Cursor, deadline)
	if err != nil {
		return nil, err
	}
	// Samples are CRM values: they go to the plan's item (encrypted at
	// rest, read by admins), never into the cursor that Step Functions
	// keeps in the execution's history.
	p.RowsPlanned = cur.Row
	if len(cur.Tally.Samples) > 0 {
		if p.Tally == nil {
			p.Tally = &Tally{}
		}
		p.Tally.Samples = mergeSamples(p.Tally.Samples, cur.Tally.Samples)
		cur.Tally.Samples = nil
	}
	if err := s.Store.UpdatePlan(ctx, p, Planning); err != nil {
		return nil, err
	}
	return &cur, nil
}

// mergeSamples adds the samples of a chunk to the plan's, once each (a
// redone chunk finds the same ones), up to MaxSamples.
func mergeSamples(have, more []Sample) []Sample {
	for _, m := range more {
		if len(have) == MaxSamples {
			break
		}
		if !slices.ContainsFunc(have, func(h Sample) bool { return h.RecordID == m.RecordID && h.Property == m.Property }) {
			have = append(have, m)
		}
	}
	return have
}

// PlanDone makes a computed plan READY.
func (s *Service) PlanDone(ctx context.Context, in StepInput) error {
	return s.endPlan(ctx, in, func(p *Plan) {
		p.Status, p.ComputedAt, p.RowsPlanned = Ready, s.now(), in.Cursor.Row
		tally := in.Cursor.Tally
		if p.Tally != nil { // the samples the chunks kept on the plan
			tally.Samples = mergeSamples(p.Tally.Samples, tally.Samples)
		}
		p.Tally = &tally
	})
}

// PlanFailedStep marks a plan FAILED.
func (s *Service) PlanFailedStep(ctx context.Context, in StepInput) error {
	return s.endPlan(ctx, in, func(p *Plan) {
		p.Status, p.Failure = PlanFailed, in.Error.Reason("the plan")
	})
}

func (s *Service) endPlan(ctx context.Context, in StepInput, end func(*Plan)) error {
	p, err := s.Store.Plan(ctx, in.AccountID, in.PlanID)
	if err != nil {
		return err
	}
	if p.Status != Planning {
		return nil // ended already: a retry
	}
	end(p)
	err = s.Store.UpdatePlan(ctx, p, Planning)
	if err == nil {
		s.log().InfoContext(ctx, "restore plan ended", "accountId", p.AccountID, "planId", p.ID, "status", p.Status)
	}
	return err
}

// ExecuteChunk restores the next part of a RUNNING import, until deadline.
// Values HubSpot refuses go to an error chunk named by the cursor's row, so
// a retried chunk rewrites its own errors rather than adding to them.
func (s *Service) ExecuteChunk(ctx context.Context, in StepInput, deadline time.Time) (*Cursor, error) {
	im, err := s.Store.Import(ctx, in.AccountID, in.ImportID)
	if err != nil {
		return nil, err
	}
	if im.Status != ImportRunning {
		return nil, apperr.New(apperr.Conflict, "import %s is %s", im.ID, im.Status)
	}
	pass, err := s.open(ctx, im.AccountID, im.BackupID, im.Object, im.Properties)
	if err != nil {
		return nil, err
	}
	errs := &errorChunk{ctx: ctx, blobs: s.Blobs, key: blobkey.ErrorChunk(im.AccountID, im.ID, in.Cursor.Row)}
	journal, err := s.journal(ctx, im.AccountID, im.ID)
	if err != nil {
		return nil, err
	}
	pass.Write, pass.Errors, pass.Journal = true, errs.add, journal
	pass.Continue = func(ctx context.Context) error {
		cur, err := s.Store.Import(ctx, im.AccountID, im.ID)
		if err != nil {
			return err
		}
		if cur.Status != ImportRunning {
			return apperr.New(apperr.Conflict, "import %s ended (%s): nothing more is written", im.ID, cur.Status)
		}
		return nil
	}
	cur, err := pass.Run(ctx, in.Cursor, deadline)
	if err != nil {
		errs.abort()
		return nil, err
	}
	if err := errs.close(); err != nil {
		return nil, err
	}
	if err := s.Store.SetImportProgress(ctx, im.AccountID, im.ID, cur.Row, &cur.Tally); err != nil {
		return nil, err
	}
	return &cur, nil
}

// blobJournal is an import's journal in the blob store: one small JSON
// file per batch that wrote anything, listed once per execute step.
type blobJournal struct {
	blobs               backup.Blobs
	accountID, importID string
	rows                map[int64]bool
}

func (s *Service) journal(ctx context.Context, accountID, importID string) (*blobJournal, error) {
	j := &blobJournal{blobs: s.Blobs, accountID: accountID, importID: importID, rows: map[int64]bool{}}
	keys, err := s.Blobs.List(ctx, blobkey.Journals(accountID, importID))
	if err != nil {
		return nil, fmt.Errorf("list the journal of import %s: %w", importID, err)
	}
	for _, k := range keys {
		var row int64
		if _, err := fmt.Sscanf(path.Base(k), "%012d.json", &row); err == nil {
			j.rows[row] = true
		}
	}
	return j, nil
}

func (j *blobJournal) Intended(ctx context.Context, row int64) (map[string][]string, error) {
	if !j.rows[row] {
		return nil, nil
	}
	rc, err := j.blobs.Get(ctx, blobkey.Journal(j.accountID, j.importID, row))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var w map[string][]string
	if err := json.NewDecoder(rc).Decode(&w); err != nil {
		return nil, fmt.Errorf("decode the journal of row %d: %w", row, err)
	}
	return w, nil
}

func (j *blobJournal) Intend(ctx context.Context, row int64, writes map[string][]string) error {
	body, err := json.Marshal(writes)
	if err != nil {
		return err
	}
	if err := j.blobs.Put(ctx, blobkey.Journal(j.accountID, j.importID, row), body); err != nil {
		return err
	}
	j.rows[row] = true
	return nil
}
