package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/bufpool"
	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// Service runs backups. Each workflow step is one method, safe to retry:
// Step Functions may run any of them again after a crash or a timeout.
type Service struct {
	Store     Store
	Blobs     Blobs
	CRMs      Connector
	Runner    Runner
	Publisher Publisher
	Log       *slog.Logger
	Now       func() time.Time
	// ChunkBytes ends an export chunk once its compressed size reaches it
	// (default 2 MiB, some 10,000 contacts): an export's memory is one
	// chunk, whatever the account's size, and a small account fills it as
	// a large one does.
	ChunkBytes int
	// DownloadTTL is how long a presigned download URL works (default 5 min).
	DownloadTTL time.Duration
	// Link is the in-app link to a backup, for notifications.
	Link func(accountID, backupID string) string

	// chunkBufs keeps chunk buffers for the process's next exports.
	chunkBufs bufpool.Pool
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// NewID returns a ULID: unique, and sorting by time.
func NewID(t time.Time) string {
	return ulid.MustNew(ulid.Timestamp(t), rand.Reader).String()
}

// Blob keys. Work files live under work/ (deleted after a day by the
// bucket's lifecycle if a run dies), ZIPs under backups/ (14 days).
func workPrefix(accountID, backupID string) string {
	return "work/" + accountID + "/" + backupID + "/"
}

func objectsKey(accountID, backupID string) string {
	return workPrefix(accountID, backupID) + "objects.json"
}

func chunkKey(accountID, backupID, object string, n int) string {
	return fmt.Sprintf("%schunks/%s/%06d.deflate", workPrefix(accountID, backupID), object, n)
}

// stateSuffix names the state blob of a chunk (see chunk.go).
const stateSuffix = ".state"

// chunkState reads the state blob of chunk n of an object.
func (s *Service) chunkState(ctx context.Context, in StepInput, object string, n int) ([]byte, error) {
	key := chunkKey(in.AccountID, in.BackupID, object, n) + stateSuffix
	rc, err := s.Blobs.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read the state of chunk %d of %s: %w", n, object, err)
	}
	defer rc.Close()
	state, err := io.ReadAll(io.LimitReader(rc, 1<<10))
	if err != nil {
		return nil, fmt.Errorf("read the state of chunk %d of %s: %w", n, object, err)
	}
	return state, nil
}

// FileName is a backup ZIP's name: crm-backup-<portal>-<UTC time>.zip.
func FileName(portalID int64, t time.Time) string {
	return "crm-backup-" + strconv.FormatInt(portalID, 10) + "-" + t.UTC().Format("20060102T150405Z") + ".zip"
}

// Create queues a backup of account for requestedBy, consuming the
// account's quota, and starts its workflow. A scheduled backup that finds
// the quota used is skipped, and the admins are told.
func (s *Service) Create(ctx context.Context, accountID, requestedBy string, trigger Trigger) (*Backup, error) {
	acct, err := s.Store.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	b := &Backup{AccountID: acct.ID, ID: NewID(now), Status: Queued, Trigger: trigger, RequestedBy: requestedBy, CreatedAt: now}
	if err := s.Store.CreateBackup(ctx, b, acct.Tier.QuotaWindow()); err != nil {
		if trigger == Scheduled && apperr.Is(err, apperr.QuotaUsed) {
			s.notify(ctx, &Notification{AccountID: acct.ID, Kind: "backup.skipped",
				Subject: "Scheduled CRM backup skipped",
				Message: "The scheduled backup was skipped because the account's backup quota is used: " + err.Error()})
		}
		return nil, err
	}
	if err := s.Runner.StartBackup(ctx, b.AccountID, b.ID); err != nil {
		// The backup will never run: give the quota back.
		b.Failure = "the backup could not be started"
		if ferr := s.Store.FailBackup(ctx, b); ferr != nil {
			s.log().ErrorContext(ctx, "failing an unstarted backup", "backupId", b.ID, "error", ferr)
		}
		return nil, fmt.Errorf("start backup %s: %w", b.ID, err)
	}
	s.log().InfoContext(ctx, "backup queued", "accountId", b.AccountID, "backupId", b.ID, "trigger", trigger)
	return b, nil
}

// Get returns one backup of an account.
func (s *Service) Get(ctx context.Context, accountID, id string) (*Backup, error) {
	return s.Store.Backup(ctx, accountID, id)
}

// List returns an account's backups, newest first.
func (s *Service) List(ctx context.Context, accountID string, limit int) ([]*Backup, error) {
	return s.Store.Backups(ctx, accountID, ListLimit(limit))
}

// ListLimit is how many items a list returns when asked for n: 1 to 100,
// 50 unless said.
func ListLimit(n int) int {
	if n <= 0 || n > 100 {
		return 50
	}
	return n
}

// DownloadURL returns a short-lived URL of a completed backup's ZIP:
// apperr.Conflict before completion, apperr.Gone after expiry.
func (s *Service) DownloadURL(ctx context.Context, accountID, id string) (string, error) {
	b, err := s.Store.Backup(ctx, accountID, id)
	if err != nil {
		return "", err
	}
	switch {
	case b.Status == Failed:
		return "", apperr.New(apperr.Conflict, "backup %s failed: nothing to download", id)
	case b.Status != Completed:
		return "", apperr.New(apperr.Conflict, "backup %s is %s: it can be downloaded once completed", id, b.Status)
	case b.Expired(s.now()):
		return "", apperr.New(apperr.Gone, "backup %s expired at %s", id, b.ExpiresAt.Format(time.RFC3339))
	}
	ttl := s.DownloadTTL
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	return s.Blobs.PresignGet(ctx, b.Key, b.FileName, ttl)
}

// StepInput identifies the backup a workflow step works on.
type StepInput struct {
	AccountID string `json:"accountId"`
	BackupID  string `json:"backupId"`
}

// DiscoverOutput lists the objects to export.
type DiscoverOutput struct {
	Objects []string `json:"objects"`
}

// discovery is what Discover leaves for the later steps (in the blob store:
// it is too large for the workflow's state).
type discovery struct {
	PortalID  int64     `json:"portalId"`
	StartedAt time.Time `json:"startedAt"`
	Objects   []Object  `json:"objects"`
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
	objs, err := Discover(ctx, crm)
	if err != nil {
		return nil, err
	}
	d := discovery{PortalID: details.PortalID, StartedAt: b.StartedAt, Objects: objs}
	body, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	if err := s.Blobs.Put(ctx, objectsKey(in.AccountID, in.BackupID), body); err != nil {
		return nil, fmt.Errorf("save discovery: %w", err)
	}
	out := &DiscoverOutput{}
	for _, o := range objs {
		out.Objects = append(out.Objects, o.Name)
	}
	return out, nil
}

func (s *Service) crm(ctx context.Context, accountID string) (CRM, *Account, error) {
	acct, err := s.Store.Account(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	crm, err := s.CRMs.CRM(ctx, acct)
	if err != nil {
		return nil, nil, fmt.Errorf("HubSpot connection of account %s: %w", accountID, err)
	}
	return crm, acct, nil
}

func (s *Service) discovery(ctx context.Context, accountID, backupID string) (*discovery, error) {
	rc, err := s.Blobs.Get(ctx, objectsKey(accountID, backupID))
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

// Checkpoint is where an object's export stands. It is the whole state of
// the export loop, small enough for the workflow's payload.
type Checkpoint struct {
	// After is the list cursor of the first record not yet in a chunk.
	After  string `json:"after,omitempty"`
	Chunks int    `json:"chunks"`
	Rows   int64  `json:"rows"`
	// Bytes is the size of the CSV so far (header included), Compressed
	// that of its chunks (see chunk.go).
	Bytes      int64 `json:"bytes"`
	Compressed int64 `json:"compressed"`
	Done       bool  `json:"done"`
	// The time span over which the object was read.
	SnapshotStart time.Time `json:"snapshotStart,omitzero"`
	SnapshotEnd   time.Time `json:"snapshotEnd,omitzero"`
}

// ExportInput is one invocation of the export loop of one object.
type ExportInput struct {
	StepInput
	Object     string     `json:"object"`
	Checkpoint Checkpoint `json:"checkpoint"`
}

// Export exports the object's records from the checkpoint on, in chunks,
// until the object is done or the deadline nears, and returns the new
// checkpoint. Chunk n always holds the records from the cursor the
// checkpoint had when chunk n began, so redoing an invocation after a crash
// rewrites the same chunks: no duplicates, no gaps.
func (s *Service) Export(ctx context.Context, in ExportInput, deadline time.Time) (*ExportInput, error) {
	if in.Checkpoint.Done {
		return &in, nil
	}
	d, err := s.discovery(ctx, in.AccountID, in.BackupID)
	if err != nil {
		return nil, err
	}
	var obj *Object
	for i := range d.Objects {
		if d.Objects[i].Name == in.Object {
			obj = &d.Objects[i]
		}
	}
	if obj == nil {
		return nil, apperr.New(apperr.Invalid, "backup %s has no object %q", in.BackupID, in.Object)
	}
	crm, _, err := s.crm(ctx, in.AccountID)
	if err != nil {
		return nil, err
	}
	cp := in.Checkpoint
	if cp.SnapshotStart.IsZero() {
		cp.SnapshotStart = s.now()
	}
	limit := s.ChunkBytes
	if limit <= 0 {
		limit = 2 << 20
	}
	names := make([]string, len(obj.Properties))
	for i, p := range obj.Properties {
		names[i] = p.Name
	}
	// The portal's budget serves the object whose export began first
	// first, across invocations too (see hubspot.Budget).
	ctx = hubspot.WithPriority(ctx, cp.SnapshotStart.UnixNano())
	opts := hubspot.ListOptions{After: cp.After, Properties: names}
	pages := crm.Pages(ctx, obj.TypeID, opts)
	if obj.Name == Conversations {
		pages = crm.ThreadPages(ctx, opts)
	}

	var state []byte
	if cp.Chunks > 0 {
		if state, err = s.chunkState(ctx, in.StepInput, obj.Name, cp.Chunks-1); err != nil {
			return nil, err
		}
	}
	enc, err := newChunkEncoder(state, s.chunkBufs.Get(limit+limit/4))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", obj.Name, err)
	}
	defer func() { s.chunkBufs.Put(enc.Release()) }()
	var (
		rows int64  // in the current chunk
		csv  []byte // one page's rows
	)
	flush := func(next string) error {
		if rows == 0 && next != "" {
			return nil
		}
		if rows > 0 {
			chunk, state, err := enc.Chunk()
			if err != nil {
				return fmt.Errorf("compress chunk %d of %s: %w", cp.Chunks, obj.Name, err)
			}
			key := chunkKey(in.AccountID, in.BackupID, obj.Name, cp.Chunks)
			if err := s.Blobs.Put(ctx, key, chunk); err != nil {
				return fmt.Errorf("write chunk %d of %s: %w", cp.Chunks, obj.Name, err)
			}
			if err := s.Blobs.Put(ctx, key+stateSuffix, state); err != nil {
				return fmt.Errorf("write the state of chunk %d of %s: %w", cp.Chunks, obj.Name, err)
			}
			enc.Commit(&cp)
			cp.Rows += rows
		}
		cp.After = next
		rows = 0
		return nil
	}
	for page, err := range pages {
		if err != nil {
			return nil, fmt.Errorf("export %s after %q: %w", obj.Name, cp.After, err)
		}
		if !slices.Equal(page.Columns[:min(len(names), len(page.Columns))], names) {
			return nil, fmt.Errorf("export %s: a page's columns %v are not the %d asked for", obj.Name, page.Columns, len(names))
		}
		csv = csv[:0]
		if cp.Rows+rows == 0 && len(page.Objects) > 0 {
			csv = append(csv, headerRow(obj)...)
		}
		for _, o := range page.Objects {
			csv = appendRow(csv, &o, len(names))
			rows++
		}
		if _, err := enc.Write(csv); err != nil {
			return nil, fmt.Errorf("compress %s: %w", obj.Name, err)
		}
		if page.Next == "" {
			if err := flush(""); err != nil {
				return nil, err
			}
			cp.Done, cp.SnapshotEnd = true, s.now()
			break
		}
		if enc.Len() >= limit || time.Now().After(deadline) {
			if err := flush(page.Next); err != nil {
				return nil, err
			}
			if time.Now().After(deadline) {
				break
			}
		}
	}
	if !cp.Done && rows > 0 {
		// The iteration ended without a last page: only the context can do that.
		return nil, fmt.Errorf("export %s: %w", obj.Name, ctx.Err())
	}
	if err := s.Store.SetProgress(ctx, in.AccountID, in.BackupID, obj.Name, cp.Rows); err != nil {
		s.log().WarnContext(ctx, "recording progress", "backupId", in.BackupID, "error", err)
	}
	out := in
	out.Checkpoint = cp
	return &out, nil
}

// appendRow appends one record of a page as a CSV row: its id, then its
// first n values (the object's properties, in the order the page has them).
func appendRow(buf []byte, o *hubspot.Object, n int) []byte {
	buf = appendCSVField(buf, o.ID)
	for i := range n {
		buf = append(buf, ',')
		if i < len(o.Values) {
			buf = appendCSVField(buf, o.Values[i])
		}
	}
	return append(buf, '\r', '\n')
}

// headerRow is the CSV header of obj.
func headerRow(obj *Object) []byte {
	buf := appendCSVField(nil, obj.IDColumn)
	for _, p := range obj.Properties {
		buf = append(buf, ',')
		buf = appendCSVField(buf, p.Name)
	}
	return append(buf, '\r', '\n')
}

// ExportResult is an object's final checkpoint, as the export loop ends.
type ExportResult struct {
	Object     string     `json:"object"`
	Checkpoint Checkpoint `json:"checkpoint"`
}

// ZipInput is the zip step's input: every object's final checkpoint.
type ZipInput struct {
	StepInput
	Exports []ExportResult `json:"exports"`
}

// ZipOutput describes the ZIP written.
type ZipOutput struct {
	Key         string          `json:"key"`
	FileName    string          `json:"fileName"`
	Size        int64           `json:"size"`
	SHA256      string          `json:"sha256"`
	CompletedAt time.Time       `json:"completedAt"`
	Objects     []ObjectSummary `json:"objects"`
}

// FinalizeInput ends a backup: with the ZIP, or with the error that failed it.
type FinalizeInput struct {
	StepInput
	Zip   *ZipOutput `json:"zip,omitempty"`
	Error *StepError `json:"error,omitempty"`
}

// StepError is the error Step Functions caught ({Error, Cause}).
type StepError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
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
		if err := s.Store.UpdateBackup(ctx, b, Running); err != nil {
			return nil, err
		}
	default:
		b.Failure = failureText(in.Error)
		if err := s.Store.FailBackup(ctx, b); err != nil {
			return nil, err
		}
		b.Status = Failed
	}
	keys, err := s.Blobs.List(ctx, workPrefix(in.AccountID, in.BackupID))
	if err == nil {
		err = s.Blobs.Delete(ctx, keys...)
	}
	if err != nil {
		// The bucket's lifecycle removes work files after a day anyway.
		s.log().WarnContext(ctx, "removing work files", "backupId", b.ID, "error", err)
	}
	return b, nil
}

// failureText turns a caught step error into a reason for an admin, without
// internals (the full cause is in the execution history and the logs).
func failureText(e *StepError) string {
	if e == nil {
		return "the backup failed"
	}
	switch {
	case e.Error == "States.Timeout":
		return "the backup timed out"
	case bytes.Contains([]byte(e.Cause), []byte("hubspot: unauthorized")):
		return "HubSpot rejected the account's token (401/403): check the private app and its scopes"
	case bytes.Contains([]byte(e.Cause), []byte("hubspot: rate limited")):
		return "HubSpot's rate limit stopped the backup (daily cap reached?)"
	}
	return "the backup failed (" + e.Error + ")"
}

// NotifyInput asks to notify the admins of a backup's outcome.
type NotifyInput struct {
	StepInput
}

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
		n.CreatedAt = time.Now().UTC()
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

// FinalizeOutput is what the finalize step returns (kept small: the state
// machine discards it).
type FinalizeOutput struct {
	Status Status `json:"status"`
}

// NotifyOutput is what the notify step returns.
type NotifyOutput struct {
	Notified bool `json:"notified"`
}
