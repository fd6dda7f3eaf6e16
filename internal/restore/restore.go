// Package restore is the domain of restores: which objects and properties of
// a backup can be restored, what a restore would change (the plan), and the
// checkpointed pass that writes the backed-up values back with batch
// updates. It imports no AWS package; the ports it needs are interfaces
// defined here.
//
// Values become what they were when the backup completed: for each record of
// the backup's CSV and each chosen property, the current value is read
// (batch read, 100 at a time) and compared with the backup's:
//
//   - set: the backup has a value and it differs from the current one;
//   - clear: the backup's value is empty and the current one is not;
//   - unchanged: they are equal (nothing is written);
//   - missing: the record no longer exists (deleted since the backup); it is
//     reported, never re-created — an import or the recycle bin bring it back.
//
// Records created after the backup are not in its CSV and are left alone.
package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// BatchSize is HubSpot's batch limit: records read and written per request.
const BatchSize = hubspot.MaxBatchInputs

// MaxSamples bounds the before → after samples a plan keeps for review.
const MaxSamples = 25

// WorkflowWarning is said by every plan and before every execution.
const WorkflowWarning = "Restored values are written as ordinary property updates: workflows that " +
	"enroll on these properties with re-enrollment on may be triggered, and the records' " +
	"last-modified dates change."

// MissingAdvice tells an admin how deleted records come back.
const MissingAdvice = "Records deleted since the backup are not restored: restore them from the " +
	"recycle bin (within 90 days of deletion) or re-import them from the backup's CSV."

// CRM is what a restore needs of a portal: implemented by *hubspot.Client.
type CRM interface {
	Properties(ctx context.Context, objectType string) ([]hubspot.Property, error)
	BatchRead(ctx context.Context, objectType string, ids, properties []string, archived bool) (*hubspot.BatchResult, error)
	BatchUpdate(ctx context.Context, objectType string, inputs []hubspot.UpdateInput) (*hubspot.BatchResult, error)
}

// Reason codes say why an object or a property of a backup cannot be
// restored, for programs: the console words each in the admin's language
// (a test there keeps its catalogue equal to ReasonCodes, and one here keeps
// ReasonCodes equal to these constants). The English reason that goes with
// each is for people (the CLI, API clients) and may change; a code may not.
const (
	ReasonConversations = "conversations" // inbox threads are not CRM records
	ReasonNoRecords     = "no_records"    // the backup holds no record of the object
	ReasonExpiresSoon   = "expires_soon"  // the backup expires before a restore could end
	ReasonPropertyGone  = "property_gone" // the property no longer exists in the portal
	ReasonCalculated    = "calculated"    // HubSpot calculates the property
	ReasonReadOnly      = "read_only"     // HubSpot does not accept writes to it
)

// ReasonCodes are every reason code, for the tests that keep their
// consumers in step.
var ReasonCodes = []string{
	ReasonConversations, ReasonNoRecords, ReasonExpiresSoon, ReasonPropertyGone, ReasonCalculated, ReasonReadOnly,
}

// unrestorableObject says why an object of a backup cannot be restored
// (code "" if it can): every CRM object (standard or custom) can, not
// conversations (inbox threads are not CRM records and cannot be written
// back).
func unrestorableObject(o *backup.ManifestObject) (code, why string) {
	if o.Name == backup.Conversations {
		return ReasonConversations, "conversations cannot be restored: pick companies, contacts, deals, tickets, products, calls, tasks or a custom object"
	}
	return "", ""
}

// Restorable reports whether an object of a backup may be restored.
func Restorable(o *backup.ManifestObject) error {
	if code, why := unrestorableObject(o); code != "" {
		return apperr.New(apperr.Invalid, "%s", why).With("reasonCode", code)
	}
	return nil
}

// Excluded is a requested property that will not be restored, and why
// (ReasonCode is one of ReasonCodes; plans made before it existed have
// none).
type Excluded struct {
	Name       string `json:"name"`
	Reason     string `json:"reason"`
	ReasonCode string `json:"reasonCode,omitempty"`
}

// Selection is the properties of one object a restore writes.
type Selection struct {
	Object     *backup.ManifestObject
	Properties []string   // to restore, in the order asked
	Excluded   []Excluded // asked for, but read-only or calculated now
}

// Select checks a request for properties of an object of a backup against
// the backup's columns and the portal's properties now. A property the backup
// does not hold is a bad request; one that is read-only or calculated now is
// excluded with its reason. At least one property must remain.
func Select(o *backup.ManifestObject, requested []string, current []hubspot.Property) (*Selection, error) {
	if err := Restorable(o); err != nil {
		return nil, err
	}
	if len(requested) == 0 {
		return nil, apperr.New(apperr.Invalid, "properties: name at least one property of %s to restore", o.Name)
	}
	inBackup := map[string]bool{}
	for _, p := range o.Properties {
		inBackup[p.Name] = true
	}
	now := byName(current)
	sel := &Selection{Object: o}
	var unknown []string
	for _, name := range requested {
		switch {
		case slices.Contains(sel.Properties, name) || slices.ContainsFunc(sel.Excluded, func(e Excluded) bool { return e.Name == name }):
			// asked twice
		case !inBackup[name]:
			unknown = append(unknown, name)
		default:
			if code, why := unwritable(name, now); code != "" {
				sel.Excluded = append(sel.Excluded, Excluded{Name: name, Reason: why, ReasonCode: code})
			} else {
				sel.Properties = append(sel.Properties, name)
			}
		}
	}
	if len(unknown) > 0 {
		return nil, apperr.New(apperr.Invalid, "properties %q are not in the backup's %s", unknown, o.Name)
	}
	if len(sel.Properties) == 0 {
		return nil, apperr.New(apperr.Invalid, "none of the requested properties of %s can be written now (see excluded)", o.Name).
			With("excluded", sel.Excluded)
	}
	return sel, nil
}

// byName is properties by their name.
func byName(props []hubspot.Property) map[string]hubspot.Property {
	out := make(map[string]hubspot.Property, len(props))
	for _, p := range props {
		out[p.Name] = p
	}
	return out
}

// unwritable says why a backed-up property cannot be restored into the
// portal now (code "" if it can): now is the portal's properties by name.
func unwritable(name string, now map[string]hubspot.Property) (code, why string) {
	switch p, exists := now[name]; {
	case !exists:
		return ReasonPropertyGone, "the property no longer exists in the portal"
	case p.Calculated:
		return ReasonCalculated, "calculated by HubSpot: it cannot be written"
	case !p.Writable():
		return ReasonReadOnly, "read-only: HubSpot does not accept writes to it"
	}
	return "", ""
}

// Counts of values (or records) by what a restore does to them.
type Counts struct {
	Set       int64 `json:"set"`
	Cleared   int64 `json:"cleared"`
	Unchanged int64 `json:"unchanged"`
	Missing   int64 `json:"missing"`
	Failed    int64 `json:"failed"`
}

func (c *Counts) add(v Verdict, n int64) {
	switch v {
	case Set:
		c.Set += n
	case Clear:
		c.Cleared += n
	case Unchanged:
		c.Unchanged += n
	case Missing:
		c.Missing += n
	case Failed:
		c.Failed += n
	}
}

// Verdict is what a restore does to one value.
type Verdict int

// Verdicts.
const (
	Unchanged Verdict = iota
	Set
	Clear
	Missing
	Failed
)

// Judge compares a backed-up value with the current one.
func Judge(backedUp, now string) Verdict {
	switch {
	case backedUp == now:
		return Unchanged
	case backedUp == "":
		return Clear
	}
	return Set
}

// Sample is one change shown for review.
type Sample struct {
	RecordID string `json:"recordId"`
	Property string `json:"property"`
	Now      string `json:"now"`
	After    string `json:"after"`
}

// Tally is what a pass found or did, per record and per property. It is
// part of the pass's checkpoint: small whatever the object's size.
type Tally struct {
	// Records: Set counts records with at least one value written (or to
	// write), Unchanged records left as they are, Missing deleted ones,
	// Failed records HubSpot refused.
	Records    Counts            `json:"records"`
	Values     Counts            `json:"values"`
	Properties map[string]Counts `json:"properties"`
	Samples    []Sample          `json:"samples,omitempty"`
}

// WriteGrace is how long after its deadline a run may still be writing a
// batch it started (a variable: tests shorten it).
var WriteGrace = 10 * time.Second

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// clone is a copy of t that shares nothing with it.
func (t Tally) clone() Tally {
	c := t
	c.Properties = maps.Clone(t.Properties)
	c.Samples = slices.Clone(t.Samples)
	return c
}

func (t *Tally) value(prop string, v Verdict) {
	t.Values.add(v, 1)
	if t.Properties == nil {
		t.Properties = map[string]Counts{}
	}
	c := t.Properties[prop]
	c.add(v, 1)
	t.Properties[prop] = c
}

// ErrorRow is one value HubSpot refused, for the import's error CSV.
type ErrorRow struct {
	RecordID string
	Property string
	Value    string
	Error    string
}

// Cursor is where a pass over an object's rows stands: the whole state of
// the plan and execute loops, small enough for a workflow payload.
type Cursor struct {
	Row   int64 `json:"row"` // rows of the CSV handled
	Done  bool  `json:"done"`
	Tally Tally `json:"tally"`
}

// Pass walks an object's rows of a backup in batches and compares them with
// the portal. Plan passes only read; execute passes write the changed values.
type Pass struct {
	CRM     CRM
	Archive *backup.Archive
	Sel     *Selection
	// Write makes the pass execute: batch updates of changed values.
	Write bool
	// Errors receives the values HubSpot refused (execute only).
	Errors func(ErrorRow) error
	// Journal remembers, per batch, what a try meant to write (execute
	// only; nil: no retry is counted for).
	Journal Journal
	// Continue, if set, is asked before each batch is written whether the
	// run may go on: an import that ended meanwhile (its execution timed
	// out or was stopped while this invocation ran) writes nothing more.
	Continue func(ctx context.Context) error
}

// Journal keeps, per batch (by the row it begins at), the values a try of
// the batch meant to write — record ids and property names, never values.
// A retry of the batch (its step crashed after writing, before its
// checkpoint was kept) finds those values already restored: they count
// as the earlier try wrote them, not as unchanged, so an import's counts
// are exact however often its steps were retried.
type Journal interface {
	// Intended is what earlier tries of the batch at row meant to write
	// (nil when none did).
	Intended(ctx context.Context, row int64) (map[string][]string, error)
	// Intend records what this try of the batch at row is about to write.
	Intend(ctx context.Context, row int64, writes map[string][]string) error
}

// Prefetch is how many batches a pass reads ahead of the one it writes:
// reading the next batches' current values while the previous batch's
// update is in flight keeps the portal's rate budget busy, where one
// request at a time would leave it idle for every round trip.
const Prefetch = 3

// Run handles rows from cur on, a batch at a time, until the object ends or
// the deadline passes, and returns the new cursor. Batches are judged and
// (when writing) updated in order, and the cursor moves past a batch only
// once it is done, so redoing a run after a crash redoes at most the
// batches after the last saved cursor — harmlessly: they re-read the
// current values, and writing a value a second time changes nothing.
// Reads of the next batches run ahead (Prefetch); a read-ahead batch is
// judged on values read before the previous batch was written, which is
// safe because batches hold different records.
func (p *Pass) Run(ctx context.Context, cur Cursor, deadline time.Time) (Cursor, error) {
	if cur.Done {
		return cur, nil
	}
	o := p.Sel.Object
	rows, closer, err := p.Archive.Rows(o)
	if err != nil {
		return cur, err
	}
	defer closer.Close()
	cols, err := p.columns(rows)
	if err != nil {
		return cur, err
	}
	for range cur.Row {
		if _, err := rows.Read(); err != nil {
			return cur, fmt.Errorf("%s: skip to row %d: %w", o.File, cur.Row, err)
		}
	}
	// Reads end at the deadline (the invocation's remaining time is for
	// the batch being written and the checkpoint); a run that starts past
	// its deadline may still read one batch, so every run makes progress.
	reads := backup.CallsUntil(deadline)
	readCtx, stop := context.WithDeadline(ctx, reads)
	batches := make(chan fetched, Prefetch-1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(batches)
		p.fetch(readCtx, rows, cols, cur.Row, batches)
	}()
	defer func() { stop(); <-done }() // the reader is gone before rows closes

	for b := range batches {
		if backup.TimeUp(ctx, readCtx, b.err) {
			return cur, nil // the time for reads ran out: go on next run
		}
		if b.err != nil {
			return cur, b.err
		}
		if len(b.recs) > 0 {
			// A batch's writes end a little after the deadline: what the
			// invocation has left is for its checkpoint. One cut short is
			// redone by the next run (its journal counts what it wrote).
			if p.Write && p.Continue != nil {
				if err := p.Continue(ctx); err != nil {
					return cur, err
				}
			}
			wctx, cancel := context.WithDeadline(ctx, later(reads, deadline.Add(WriteGrace)))
			before := cur.Tally.clone()
			err := p.apply(wctx, cur.Row, b, &cur.Tally)
			cancel()
			if backup.TimeUp(ctx, wctx, err) {
				cur.Tally = before
				return cur, nil
			}
			if err != nil {
				return cur, err
			}
			cur.Row += int64(len(b.recs))
		}
		if len(b.recs) < BatchSize {
			cur.Done = true
			return cur, nil
		}
		if ctx.Err() != nil {
			return cur, ctx.Err()
		}
		if time.Now().After(deadline) {
			return cur, nil
		}
	}
	return cur, ctx.Err()
}

// fetched is one batch of backed-up rows with the records' current values.
type fetched struct {
	recs    []record
	current map[string]map[string]string // id → property → value; absent: deleted
	err     error
}

// fetch reads batches of rows and their current values into out until the
// rows end (a short batch) or ctx ends.
func (p *Pass) fetch(ctx context.Context, rows *backup.CSVReader, cols []int, row int64, out chan<- fetched) {
	o := p.Sel.Object
	for {
		b := fetched{recs: make([]record, 0, BatchSize)}
		for len(b.recs) < BatchSize {
			fields, err := rows.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.err = fmt.Errorf("%s row %d: %w", o.File, row+int64(len(b.recs))+1, err)
				break
			}
			r := record{id: fields[0], values: make([]string, len(cols))}
			for i, c := range cols {
				r.values[i] = fields[c]
			}
			b.recs = append(b.recs, r)
		}
		row += int64(len(b.recs))
		if b.err == nil && len(b.recs) > 0 {
			b.current, b.err = p.read(ctx, b.recs)
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return
		}
		if b.err != nil || len(b.recs) < BatchSize {
			return
		}
	}
}

// read fetches the current values of a batch's records.
func (p *Pass) read(ctx context.Context, batch []record) (map[string]map[string]string, error) {
	o := p.Sel.Object
	ids := make([]string, len(batch))
	for i, r := range batch {
		ids[i] = r.id
	}
	res, err := p.CRM.BatchRead(ctx, o.ObjectTypeID, ids, p.Sel.Properties, false)
	if err != nil {
		return nil, fmt.Errorf("read current %s: %w", o.Name, err)
	}
	for _, e := range res.Errors {
		if e.Category != "OBJECT_NOT_FOUND" {
			return nil, fmt.Errorf("read current %s: %s: %s", o.Name, e.Category, e.Message)
		}
	}
	current := make(map[string]map[string]string, len(res.Objects))
	for _, obj := range res.Objects {
		current[obj.ID] = obj.Properties
	}
	return current, nil
}

type record struct {
	id     string
	values []string // backed-up values of the selected properties
}

// columns reads the header and finds the selected properties' columns.
func (p *Pass) columns(rows *backup.CSVReader) ([]int, error) {
	header, err := rows.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s header: %w", p.Sel.Object.File, err)
	}
	cols := make([]int, len(p.Sel.Properties))
	for i, name := range p.Sel.Properties {
		cols[i] = slices.Index(header, name)
		if cols[i] < 1 {
			return nil, fmt.Errorf("%s has no column %s", p.Sel.Object.File, name)
		}
	}
	return cols, nil
}

// apply judges (and, writing, restores) one batch of records, the batch
// that begins at row.
func (p *Pass) apply(ctx context.Context, row int64, b fetched, t *Tally) error {
	o, props, batch, current := p.Sel.Object, p.Sel.Properties, b.recs, b.current
	type change struct {
		rec      *record
		verdicts []Verdict
		input    hubspot.UpdateInput
	}
	var earlier map[string][]string // what an earlier try of this batch wrote
	if p.Write && p.Journal != nil {
		var err error
		if earlier, err = p.Journal.Intended(ctx, row); err != nil {
			return fmt.Errorf("restore %s: the journal of row %d: %w", o.Name, row, err)
		}
	}
	var changes []change
	for i := range batch {
		r := &batch[i]
		now, ok := current[r.id]
		if !ok {
			t.Records.Missing++
			for _, name := range props {
				t.value(name, Missing)
			}
			continue
		}
		c := change{rec: r, verdicts: make([]Verdict, len(props))}
		before := false
		for j, name := range props {
			c.verdicts[j] = Judge(r.values[j], now[name])
			if c.verdicts[j] == Unchanged && slices.Contains(earlier[r.id], name) {
				// Restored by an earlier try of this batch: counted as it
				// wrote it, and not written again.
				c.verdicts[j], before = Set, true
				if r.values[j] == "" {
					c.verdicts[j] = Clear
				}
				continue
			}
			if c.verdicts[j] == Unchanged {
				continue
			}
			if c.input.Properties == nil {
				c.input = hubspot.UpdateInput{ID: r.id, Properties: map[string]string{}}
			}
			c.input.Properties[name] = r.values[j]
			if !p.Write && len(t.Samples) < MaxSamples {
				t.Samples = append(t.Samples, Sample{RecordID: r.id, Property: name, Now: clip(now[name]), After: clip(r.values[j])})
			}
		}
		if c.input.Properties == nil && !before {
			t.Records.Unchanged++
			for _, name := range props {
				t.value(name, Unchanged)
			}
			continue
		}
		if c.input.Properties == nil { // nothing left to write: all restored before
			t.Records.Set++
			for j, name := range props {
				t.value(name, c.verdicts[j])
			}
			continue
		}
		changes = append(changes, c)
	}
	failed := map[string][]hubspot.BatchError{}
	if p.Write && len(changes) > 0 {
		inputs := make([]hubspot.UpdateInput, len(changes))
		for i, c := range changes {
			inputs[i] = c.input
		}
		if p.Journal != nil {
			writes := make(map[string][]string, len(earlier)+len(changes))
			for id, names := range earlier {
				writes[id] = slices.Clone(names)
			}
			for _, c := range changes {
				for name := range c.input.Properties {
					if !slices.Contains(writes[c.rec.id], name) {
						writes[c.rec.id] = append(writes[c.rec.id], name)
					}
				}
			}
			if err := p.Journal.Intend(ctx, row, writes); err != nil {
				return fmt.Errorf("restore %s: the journal of row %d: %w", o.Name, row, err)
			}
		}
		var err error
		if failed, err = p.update(ctx, o.ObjectTypeID, inputs); err != nil {
			return fmt.Errorf("restore %s: %w", o.Name, err)
		}
	}
	for _, c := range changes {
		errs, refused := failed[c.rec.id]
		if refused {
			t.Records.Failed++
		} else {
			t.Records.Set++
		}
		for j, name := range props {
			v := c.verdicts[j]
			if _, writing := c.input.Properties[name]; refused && writing {
				v = Failed
				if err := p.reportError(c.rec.id, name, c.rec.values[j], errs); err != nil {
					return err
				}
			}
			t.value(name, v)
		}
	}
	return nil
}

// clip shortens a sample's value (samples are for review) or a name a
// caller sent.
func clip(v string) string {
	const max = 200
	if len(v) <= max {
		return v
	}
	r := []rune(v[:max])
	return string(r[:len(r)-1]) + "…"
}
