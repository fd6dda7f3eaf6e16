package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The batch endpoints: read, update and archive up to 100 records by id,
// answering 200, or 207 multi-status when some inputs failed.

// batchRead answers the records asked for; unknown ids are one grouped error.
func (s *Server) batchRead(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, b, ok := s.decodeBatch(w, r)
	if !ok {
		return
	}
	props := selectProps(t, b.Properties)
	if !s.grantedValues(w, t, props, false) {
		return
	}
	archived := archivedParam(r)
	rw := startBatch()
	var missing []string
	for _, in := range b.Inputs {
		rec := s.lookup(t, in.ID)
		if rec == nil || rec.archived != archived {
			missing = append(missing, in.ID)
			continue
		}
		rw.object(rec, props)
	}
	var errs []batchError
	if len(missing) > 0 {
		errs = append(errs, t.notFound(missing))
	}
	s.sendBatch(w, rw, errs, started)
}

// batchUpdate writes the inputs' values; a repeated id is a 400.
func (s *Server) batchUpdate(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, b, ok := s.decodeBatch(w, r)
	if !ok {
		return
	}
	seen := map[string]bool{}
	for _, in := range b.Inputs {
		if seen[in.ID] {
			s.badRequest(w, "Duplicate IDs found in batch input: [%s]. IDs must be unique", in.ID)
			return
		}
		seen[in.ID] = true
	}
	if s.scopes != nil {
		var written []*property
		for _, in := range b.Inputs {
			for n := range in.Properties {
				if p, ok := t.byName[n]; ok && !slices.Contains(written, p) {
					written = append(written, p)
				}
			}
		}
		if !s.grantedValues(w, t, written, true) {
			return
		}
	}
	// A value breaking a rule that refuses whole batches fails the batch
	// before anything is written (a pass only types with such a rule need).
	if t.refusesBatches() {
		for _, in := range b.Inputs {
			rec := s.lookup(t, in.ID)
			if rec == nil || rec.archived {
				continue
			}
			for _, e := range t.checkValues(rec.id, in.Properties) {
				if e.refuseBatch {
					s.writeError(w, http.StatusBadRequest, e.Category, e.Message, e.Context)
					return
				}
			}
		}
	}
	rw := startBatch()
	var errs []batchError
	var missing []string
	for _, in := range b.Inputs {
		rec := s.lookup(t, in.ID)
		if rec == nil || rec.archived {
			missing = append(missing, in.ID)
			continue
		}
		// Each input applies whole or not at all.
		if e := t.checkValues(rec.id, in.Properties); len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		rec = t.keep(rec)
		t.apply(rec, in.Properties, started)
		rw.object(rec, writtenProps(t, in.Properties))
	}
	if len(missing) > 0 {
		errs = append(errs, t.notFound(missing))
	}
	s.sendBatch(w, rw, errs, started)
}

// batchArchive archives the inputs; unknown ids are ignored, as by archive.
func (s *Server) batchArchive(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, b, ok := s.decodeBatch(w, r)
	if !ok {
		return
	}
	now := time.Now()
	for _, in := range b.Inputs {
		s.archiveRecord(t, in.ID, now)
	}
	w.WriteHeader(http.StatusNoContent)
}

// batchInput is one input of a batch body.
type batchInput struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
}

// batchBody is a batch request body.
type batchBody struct {
	Inputs     []batchInput `json:"inputs"`
	Properties []string     `json:"properties"`
}

// decodeBatch resolves the object type, then decodes and checks a batch
// body: 1 to 100 inputs, each with an id. ok is false when it answered 400.
func (s *Server) decodeBatch(w http.ResponseWriter, r *http.Request) (*objectType, *batchBody, bool) {
	var b batchBody
	t := s.decodeRequest(w, r, &b)
	if t == nil {
		return nil, nil, false
	}
	if len(b.Inputs) == 0 {
		s.badRequest(w, "inputs must not be empty")
		return nil, nil, false
	}
	if len(b.Inputs) > maxBatch {
		s.badRequest(w, "Batch input limit exceeded: got %d inputs, the limit is %d", len(b.Inputs), maxBatch)
		return nil, nil, false
	}
	for i, in := range b.Inputs {
		if in.ID == "" {
			s.badRequest(w, "inputs[%d].id is required", i)
			return nil, nil, false
		}
	}
	return t, &b, true
}

// startBatch begins a batch answer; the caller writes the results' records.
func startBatch() *recordWriter {
	rw := newRecordWriter()
	rw.tok(jsontext.BeginObject,
		jsontext.String("status"), jsontext.String("COMPLETE"),
		jsontext.String("results"), jsontext.BeginArray)
	return rw
}

// sendBatch ends a batch answer: 200, or 207 multi-status with errors.
func (s *Server) sendBatch(w http.ResponseWriter, rw *recordWriter, errs []batchError, started time.Time) {
	rw.tok(jsontext.EndArray, jsontext.String("numErrors"), jsontext.Int(int64(len(errs))))
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusMultiStatus
		rw.tok(jsontext.String("errors"))
		if err := json.MarshalEncode(rw.enc, errs); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	rw.tok(jsontext.String("startedAt"), jsontext.String(isoMillis(started)),
		jsontext.String("completedAt"), jsontext.String(isoMillis(time.Now())),
		jsontext.EndObject)
	rw.send(w, status)
}

// notFound is HubSpot's grouped multi-status error for unknown ids.
func (t *objectType) notFound(ids []string) batchError {
	return batchError{
		Status: "error", Category: "OBJECT_NOT_FOUND",
		Message: fmt.Sprintf("Could not get some %s objects, they may be deleted or not exist. Check that ids are valid.", strings.ToUpper(t.singular)),
		Context: map[string][]string{"ids": ids},
	}
}
