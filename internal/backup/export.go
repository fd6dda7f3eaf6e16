package backup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/blobkey"
	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// chunkState reads the state blob of chunk n of an object.
func (s *Service) chunkState(ctx context.Context, in StepInput, object string, n int) ([]byte, error) {
	key := blobkey.ChunkState(in.AccountID, in.BackupID, object, n)
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
	names := obj.propertyNames()
	// The portal's budget serves the object whose export began first
	// first, across invocations too (see hubspot.Budget).
	ctx = hubspot.WithPriority(ctx, cp.SnapshotStart.UnixNano())
	// HubSpot's calls (and waits for the budget) end at the step's
	// deadline, not the invocation's: the margin after it is for saving
	// the checkpoint, which uses ctx. An invocation that starts past its
	// deadline may still read one page, so that every invocation makes
	// progress.
	hctx, cancel := context.WithDeadline(ctx, CallsUntil(deadline))
	defer cancel()
	sr, searchable := crm.(Searcher)
	searchable = searchable && obj.Name != Conversations
	for {
		if len(cp.Ranges) > 0 {
			list := func(ctx context.Context, after string) iter.Seq2[*hubspot.Page, error] {
				return crm.Pages(ctx, obj.TypeID, hubspot.ListOptions{After: after, Properties: names})
			}
			err := s.exportRanges(ctx, hctx, deadline, in, obj, names, limit, sr, list, &cp)
			switch {
			case errors.Is(err, errUnordered):
				s.log().WarnContext(ctx, "the list was not in id order; exporting the object again as one chain", "object", obj.Name, "error", err)
				cp = Checkpoint{SnapshotStart: cp.SnapshotStart, Plain: true}
			case err != nil:
				return nil, fmt.Errorf("export %s: %w", obj.Name, err)
			case cp.Done:
				cp.SnapshotEnd = s.now()
			}
			return s.exported(ctx, in, obj, cp), nil
		}
		// Whether the object is large is asked after its first page: at
		// 400 ms a page, RangedMin records alone would take 12 s.
		switchAt := int64(0)
		if searchable && !cp.Plain {
			switchAt = cp.Rows + 1
		}
		var switchNow bool
		cp, switchNow, err = s.exportChain(ctx, hctx, deadline, in, obj, crm, names, limit, cp, switchAt)
		if err != nil || !switchNow {
			if err != nil {
				return nil, err
			}
			return s.exported(ctx, in, obj, cp), nil
		}
		// A large object: read the rest of it as ranges side by side.
		ranges, err := planRanges(hctx, sr, obj.TypeID, cp, cmp.Or(s.RangedMin, RangedMin), cmp.Or(s.SearchCatchUp, SearchCatchUp))
		switch {
		case TimeUp(ctx, hctx, err):
			return s.exported(ctx, in, obj, cp), nil // planned by the next invocation
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			s.log().WarnContext(ctx, "searching an object failed; reading it as one chain", "object", obj.Name, "error", err)
		}
		cp.Ranges, cp.Plain, cp.ListFrom = ranges, ranges == nil, ranges != nil && positional(cp)
	}
}

// exportChain exports the object with its list cursor from the checkpoint
// on, in chunks, until it is done or the deadline nears — or, when switchAt
// is set, until that many rows are in chunks and the object goes on
// (switchNow: the caller may read the rest as ranges).
func (s *Service) exportChain(ctx, hctx context.Context, deadline time.Time, in ExportInput, obj *Object, crm CRM,
	names []string, limit int, cp Checkpoint, switchAt int64) (_ Checkpoint, switchNow bool, err error) {
	opts := hubspot.ListOptions{After: cp.After, Properties: names}
	pages := crm.Pages(hctx, obj.TypeID, opts)
	if obj.Name == Conversations {
		pages = crm.ThreadPages(hctx, opts)
	}

	enc, err := s.continueChunks(ctx, in.StepInput, obj.Name, cp.Chunks, limit)
	if err != nil {
		return cp, false, err
	}
	defer func() { s.chunkBufs.Put(enc.Release()) }()
	var (
		rows int64  // in the current chunk
		csv  []byte // one page's rows
		last string // the id of the last record read
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
			if err := s.Blobs.Put(ctx, blobkey.Chunk(in.AccountID, in.BackupID, obj.Name, cp.Chunks), chunk); err != nil {
				return fmt.Errorf("write chunk %d of %s: %w", cp.Chunks, obj.Name, err)
			}
			if err := s.Blobs.Put(ctx, blobkey.ChunkState(in.AccountID, in.BackupID, obj.Name, cp.Chunks), state); err != nil {
				return fmt.Errorf("write the state of chunk %d of %s: %w", cp.Chunks, obj.Name, err)
			}
			enc.Commit(&cp)
			cp.Rows += rows
			if id, err := strconv.ParseInt(last, 10, 64); err == nil {
				cp.LastID = id
			}
		}
		cp.After = next
		rows = 0
		return nil
	}
	next := cp.After // the cursor after the last page read
	for page, err := range pages {
		if err != nil && TimeUp(ctx, hctx, err) {
			// The step's time ran out during a call (or HubSpot's "later"
			// is past it): keep what was read.
			if err := flush(next); err != nil {
				return cp, false, err
			}
			break
		}
		if err != nil {
			return cp, false, fmt.Errorf("export %s after %q: %w", obj.Name, cp.After, err)
		}
		if !slices.Equal(page.Columns[:min(len(names), len(page.Columns))], names) {
			return cp, false, fmt.Errorf("export %s: a page's columns %v are not the %d asked for", obj.Name, page.Columns, len(names))
		}
		csv = csv[:0]
		if cp.Rows+rows == 0 && len(page.Objects) > 0 {
			csv = append(csv, headerRow(obj)...)
		}
		for _, o := range page.Objects {
			csv = appendRow(csv, &o, len(names))
			rows++
			last = o.ID
		}
		if _, err := enc.Write(csv); err != nil {
			return cp, false, fmt.Errorf("compress %s: %w", obj.Name, err)
		}
		if page.Next == "" {
			if err := flush(""); err != nil {
				return cp, false, err
			}
			cp.Done, cp.SnapshotEnd = true, s.now()
			break
		}
		next = page.Next
		large := switchAt > 0 && cp.Rows+rows >= switchAt
		if enc.Len() >= limit || time.Now().After(deadline) || large {
			if err := flush(page.Next); err != nil {
				return cp, false, err
			}
			if large && cp.LastID > 0 {
				return cp, true, nil
			}
			if time.Now().After(deadline) {
				break
			}
		}
	}
	if !cp.Done && rows > 0 {
		// The iteration ended without a last page: only the context can do that.
		return cp, false, fmt.Errorf("export %s: %w", obj.Name, ctx.Err())
	}
	return cp, false, nil
}

// continueChunks returns an encoder that goes on with a chunk sequence
// (an object's, or a range's) after its chunks written so far.
func (s *Service) continueChunks(ctx context.Context, in StepInput, name string, chunks, limit int) (*chunkEncoder, error) {
	var state []byte
	if chunks > 0 {
		var err error
		if state, err = s.chunkState(ctx, in, name, chunks-1); err != nil {
			return nil, err
		}
	}
	enc, err := newChunkEncoder(state, s.chunkBufs.Get(limit+limit/4))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return enc, nil
}

// exported records an invocation's progress and returns its checkpoint.
func (s *Service) exported(ctx context.Context, in ExportInput, obj *Object, cp Checkpoint) *ExportInput {
	if err := s.Store.SetProgress(ctx, in.AccountID, in.BackupID, obj.Name, cp.Rows); err != nil {
		s.log().WarnContext(ctx, "recording progress", "backupId", in.BackupID, "error", err)
	}
	out := in
	out.Checkpoint = cp
	return &out
}

// FirstPageTime is how long a step that starts past its deadline may wait
// for its one page (or batch).
const FirstPageTime = 30 * time.Second

// CallsUntil is when a step's HubSpot calls end: at its deadline, so that
// the invocation's remaining time is for its checkpoint; a step that
// starts past its deadline may still read one page, so that every
// invocation makes progress.
func CallsUntil(deadline time.Time) time.Time {
	if now := time.Now(); !now.Before(deadline) {
		return now.Add(FirstPageTime)
	}
	return deadline
}

// TimeUp reports whether err ended a step's HubSpot call because the
// step's time is up — bounded's deadline passed, or HubSpot's "retry
// later" lies past it — while the invocation (ctx) still runs: the step
// keeps what it did and ends, to be run again, instead of failing.
func TimeUp(ctx, bounded context.Context, err error) bool {
	return err != nil && ctx.Err() == nil && (bounded.Err() != nil || hubspot.OutOfTime(err))
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
