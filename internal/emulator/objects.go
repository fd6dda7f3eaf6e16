package emulator

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Listing and reading CRM objects, and the request parameters that object
// endpoints share: the {type} path value, properties, paging and archived.

// list answers a page of records in id order, appended by hand and streamed.
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.objectType(w, r)
	if t == nil {
		return
	}
	limit, after, ok := s.pageParams(w, r, maxPage, parseObjectCursor)
	if !ok {
		return
	}
	props := selectProps(t, queryList(r, "properties"))
	if !s.grantedValues(w, t, props, false) {
		return
	}
	// Streamed as it is encoded (as HubSpot does): a client decodes the
	// first records while the rest of the page is still being produced.
	writeJSONHeader(w, http.StatusOK)
	b := append(make([]byte, 0, 64<<10), `{"results":[`...)
	n, next := 0, int64(0)
	t.scan(after, archivedParam(r), func(rec *record) bool {
		if n == limit {
			next = rec.id
			return false
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendObject(b, rec, props)
		n++
		if len(b) >= 32<<10 {
			w.Write(b)
			b = b[:0]
		}
		return true
	})
	b = append(b, ']')
	if next != 0 {
		b = appendPaging(b, r.URL.Path, strconv.FormatInt(next, 10))
	}
	w.Write(append(b, '}'))
}

// read answers one record.
func (s *Server) read(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.objectType(w, r)
	if t == nil {
		return
	}
	props := selectProps(t, queryList(r, "properties"))
	if !s.grantedValues(w, t, props, false) {
		return
	}
	rec := s.lookup(t, r.PathValue("id"))
	if rec == nil || rec.archived != archivedParam(r) {
		s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.", nil)
		return
	}
	writeRecord(w, http.StatusOK, rec, props)
}

// objectType resolves the {type} path value (name, type id or fully
// qualified name) or answers 400 as HubSpot does for an unknown type.
func (s *Server) objectType(w http.ResponseWriter, r *http.Request) *objectType {
	key := r.PathValue("type")
	if t, ok := s.byKey[key]; ok {
		return t
	}
	if t, ok := s.byKey[strings.ToLower(key)]; ok {
		return t
	}
	s.badRequest(w, "Unable to infer object type from: %s", key)
	return nil
}

// decodeRequest resolves the {type} path value, then decodes the JSON body
// into v; it returns nil when it answered 400.
func (s *Server) decodeRequest(w http.ResponseWriter, r *http.Request, v any) *objectType {
	t := s.objectType(w, r)
	if t == nil || !s.decodeBody(w, r, v) {
		return nil
	}
	return t
}

// lookup returns the record with the decimal id (nil when there is none).
func (s *Server) lookup(t *objectType, id string) *record {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil
	}
	return t.get(n)
}

// selectProps returns the properties to return for the requested names:
// the type's always-returned ones first, then the known requested ones in
// request order; unknown names are ignored, as HubSpot does. No names at
// all selects the type's default properties.
func selectProps(t *objectType, names []string) []*property {
	if len(names) == 0 {
		return t.defaults
	}
	out := slices.Clone(t.always)
	for _, n := range names {
		if p, ok := t.byName[n]; ok && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// queryList reads a repeated and/or comma-separated query parameter.
func queryList(r *http.Request, key string) []string {
	var out []string
	for _, v := range r.URL.Query()[key] {
		for n := range strings.SplitSeq(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				out = append(out, n)
			}
		}
	}
	return out
}

// pageParams parses limit and after; ok is false when it answered 400.
func (s *Server) pageParams(w http.ResponseWriter, r *http.Request, maxLimit int, cursor func(string) (int64, bool)) (limit int, after int64, ok bool) {
	q := r.URL.Query()
	limit = defaultPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			s.badRequest(w, "limit must be an integer between 1 and %d, got %q", maxLimit, v)
			return 0, 0, false
		}
		limit = n
	}
	if v := q.Get("after"); v != "" {
		n, ok := cursor(v)
		if !ok {
			s.badRequest(w, "Invalid paging cursor after=%q", v)
			return 0, 0, false
		}
		after = n
	}
	return limit, after, true
}

// parseObjectCursor reads an object list's cursor: the next record's id.
func parseObjectCursor(v string) (int64, bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}

func archivedParam(r *http.Request) bool { return r.URL.Query().Get("archived") == "true" }
