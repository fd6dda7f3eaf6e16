package emulator

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Writes to CRM objects: create, update and archive of one record, and the
// value checks and changes that the batch update and archive share.

// singleBody is a create or update request body.
type singleBody struct {
	Properties map[string]string `json:"properties"`
}

// create answers 201 with the new record.
func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b singleBody
	t := s.decodeRequest(w, r, &b)
	if t == nil {
		return
	}
	if !s.checkSingle(w, t, 0, b.Properties) {
		return
	}
	now := time.Now().Truncate(time.Millisecond)
	rec := &record{id: t.nextID, vals: make([]string, len(t.props)), created: now}
	rec = t.keep(rec)
	rec.set(t.byName["hs_object_id"], strconv.FormatInt(rec.id, 10))
	for _, n := range []string{"createdate", "hs_createdate"} {
		if p, ok := t.byName[n]; ok {
			rec.set(p, isoMillis(now))
		}
	}
	t.apply(rec, b.Properties, now)
	writeRecord(w, http.StatusCreated, rec, writtenProps(t, b.Properties))
}

// update answers the record with the written properties.
func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b singleBody
	t := s.decodeRequest(w, r, &b)
	if t == nil {
		return
	}
	rec := s.lookup(t, r.PathValue("id"))
	if rec == nil || rec.archived {
		s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "Object not found.", nil)
		return
	}
	if !s.checkSingle(w, t, rec.id, b.Properties) {
		return
	}
	rec = t.keep(rec)
	t.apply(rec, b.Properties, time.Now())
	writeRecord(w, http.StatusOK, rec, writtenProps(t, b.Properties))
}

// archive answers 204, whether or not the record exists.
func (s *Server) archive(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.objectType(w, r)
	if t == nil {
		return
	}
	s.archiveRecord(t, r.PathValue("id"), time.Now())
	w.WriteHeader(http.StatusNoContent)
}

// checkSingle answers 409 or 400 for a single-record write with bad values.
func (s *Server) checkSingle(w http.ResponseWriter, t *objectType, id int64, values map[string]string) bool {
	errs := t.checkValues(id, values)
	if len(errs) == 0 {
		return true
	}
	status := http.StatusBadRequest
	if errs[0].Category == "CONFLICT" {
		status = http.StatusConflict
	}
	s.writeError(w, status, errs[0].Category, errs[0].Message, errs[0].Context)
	return false
}

// checkValues validates property values for a write to record id (0 for a
// new record); it returns one error per offending property.
func (t *objectType) checkValues(id int64, values map[string]string) []batchError {
	var errs []batchError
	fail := func(p, category, format string, args ...any) {
		ctx := map[string][]string{"propertyName": {p}}
		if id != 0 {
			ctx["id"] = []string{strconv.FormatInt(id, 10)}
		}
		errs = append(errs, batchError{Status: "error", Category: category, Message: fmt.Sprintf(format, args...), Context: ctx})
	}
	for _, n := range slices.Sorted(maps.Keys(values)) {
		v := values[n]
		p, ok := t.byName[n]
		before := len(errs)
		switch {
		case !ok:
			fail(n, "VALIDATION_ERROR", "Property %q does not exist", n)
		case p.spec.readOnly:
			fail(n, "VALIDATION_ERROR", "%s is a read only property; its value cannot be set.", n)
		case v == "":
			// Clearing is always allowed.
		case p.spec.typ == "number":
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				fail(n, "VALIDATION_ERROR", "%q was not a valid number for property %s", v, n)
			}
		case p.spec.typ == "bool":
			if v != "true" && v != "false" {
				fail(n, "VALIDATION_ERROR", "%q was not a valid boolean for property %s", v, n)
			}
		case p.spec.typ == "enumeration" && len(p.spec.options) > 0:
			for o := range strings.SplitSeq(v, ";") {
				if !slices.Contains(p.spec.options, o) {
					fail(n, "VALIDATION_ERROR", "%q was not one of the allowed options for %s", o, n)
					break
				}
			}
		case p.spec.unique:
			if other, taken := t.uniqueIndex(p)[v]; taken && other != id {
				fail(n, "CONFLICT", "A %s with %s %q already exists (id %d)", strings.ToLower(t.singular), n, v, other)
			}
		}
		if ok && v != "" && len(errs) == before {
			for _, r := range p.rules {
				if msg, broke := r.breaks(v); broke {
					fail(n, "VALIDATION_ERROR", "%s", msg)
					errs[len(errs)-1].refuseBatch = r.RefuseBatch
					break
				}
			}
		}
	}
	return errs
}

// apply writes checked values to r (a kept record).
func (t *objectType) apply(r *record, values map[string]string, now time.Time) {
	for n, v := range values {
		p := t.byName[n]
		if p.spec.unique {
			idx := t.uniqueIndex(p)
			if old := r.value(p); old != "" && idx[old] == r.id {
				delete(idx, old)
			}
			if v != "" {
				idx[v] = r.id
			}
		}
		r.set(p, v)
	}
	r.updated = now.Truncate(time.Millisecond)
	for _, n := range []string{"lastmodifieddate", "hs_lastmodifieddate"} {
		if p, ok := t.byName[n]; ok {
			r.set(p, isoMillis(r.updated))
		}
	}
}

// writtenProps are the properties an update answer returns: the written ones
// plus the always-returned ones.
func writtenProps(t *objectType, values map[string]string) []*property {
	names := slices.Sorted(maps.Keys(values))
	return selectProps(t, append(names, t.always[0].spec.name))
}

// archiveRecord archives a live record and frees its unique values.
func (s *Server) archiveRecord(t *objectType, id string, now time.Time) {
	rec := s.lookup(t, id)
	if rec == nil || rec.archived {
		return
	}
	rec = t.keep(rec)
	for _, p := range t.props {
		if p.spec.unique {
			if idx := t.unique[p.index]; idx != nil && idx[rec.value(p)] == rec.id {
				delete(idx, rec.value(p))
			}
		}
	}
	rec.archived, rec.archivedAt = true, now.Truncate(time.Millisecond)
}
