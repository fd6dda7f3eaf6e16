package emulator

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Limits HubSpot enforces.
const (
	maxPage        = 100
	maxThreadsPage = 500
	maxBatch       = 100
	defaultPage    = 10
	maxBody        = 8 << 20
)

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	handle := func(pattern string, h http.HandlerFunc) {
		s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			s.stats.route(pattern)
			h(w, r)
		})
	}
	handle("GET /crm/v3/objects/{type}", s.list)
	handle("POST /crm/v3/objects/{type}", s.create)
	handle("GET /crm/v3/objects/{type}/{id}", s.read)
	handle("PATCH /crm/v3/objects/{type}/{id}", s.update)
	handle("DELETE /crm/v3/objects/{type}/{id}", s.archive)
	handle("POST /crm/v3/objects/{type}/batch/read", s.batchRead)
	handle("POST /crm/v3/objects/{type}/batch/update", s.batchUpdate)
	handle("POST /crm/v3/objects/{type}/batch/archive", s.batchArchive)
	handle("GET /crm/v3/properties/{type}", s.properties)
	handle("GET /crm/v3/properties/{type}/{name}", s.property)
	handle("GET /crm/v3/schemas", s.schemas)
	handle("GET /crm/v3/schemas/{type}", s.schema)
	handle("GET /conversations/v3/conversations/threads", s.listThreads)
	handle("GET /account-info/v3/details", s.accountDetails)
	s.mux.HandleFunc("GET /_emulator/stats", func(w http.ResponseWriter, r *http.Request) {
		s.writeJSON(w, http.StatusOK, s.Stats())
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found: "+r.Method+" "+r.URL.Path, nil)
	})
}

// --- responses ---

func (s *Server) correlationID() string {
	n := s.corrID.Add(1)
	return fmt.Sprintf("%08x-e111-4a7e-8000-%012x", s.portalID&0xffffffff, n)
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v, json.Deterministic(true))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// writeError writes HubSpot's standard error body.
func (s *Server) writeError(w http.ResponseWriter, status int, category, msg string, context map[string][]string) {
	body := map[string]any{
		"status":        "error",
		"message":       msg,
		"correlationId": s.correlationID(),
		"category":      category,
	}
	if context != nil {
		body["context"] = context
	}
	s.writeJSON(w, status, body)
}

func (s *Server) badRequest(w http.ResponseWriter, format string, args ...any) {
	s.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf(format, args...), nil)
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

// recordWriter streams records as HubSpot's SimplePublicObject JSON.
type recordWriter struct {
	enc     *jsontext.Encoder
	buf     bytes.Buffer
	scratch []byte
}

func newRecordWriter() *recordWriter {
	rw := &recordWriter{}
	rw.enc = newEncoder(&rw.buf)
	return rw
}

// newEncoder skips the duplicate name check (a sixth of a page's cost):
// names are unique by construction.
func newEncoder(w io.Writer) *jsontext.Encoder {
	return jsontext.NewEncoder(w, jsontext.AllowDuplicateNames(true))
}

func (rw *recordWriter) tok(ts ...jsontext.Token) {
	for _, t := range ts {
		rw.enc.WriteToken(t) // errors only on misuse; the output is validated by the tests
	}
}

// object writes one record with the given properties.
func (rw *recordWriter) object(r *record, props []*property) {
	rw.scratch = appendObject(rw.scratch[:0], r, props)
	rw.enc.WriteValue(rw.scratch) // errors only on misuse; the output is validated by the tests
}

// appendObject appends one record as SimplePublicObject JSON; empty values
// are null, as HubSpot returns them for requested properties. It is the
// list's hot path: a page is 100 records of dozens of values.
func appendObject(b []byte, r *record, props []*property) []byte {
	b = append(b, `{"id":"`...)
	b = strconv.AppendInt(b, r.id, 10)
	b = append(b, `","properties":{`...)
	for i, p := range props {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p.key...)
		if v := r.value(p); v != "" {
			b = appendString(b, v)
		} else {
			b = append(b, "null"...)
		}
	}
	b = append(b, `},"createdAt":`...)
	b = appendMillis(b, r.created)
	b = append(b, `,"updatedAt":`...)
	b = appendMillis(b, r.updated)
	if r.archived {
		b = append(b, `,"archived":true,"archivedAt":`...)
		b = appendMillis(b, r.archivedAt)
	} else {
		b = append(b, `,"archived":false`...)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD
// (values are stored as valid UTF-8; this only keeps the output valid).
func appendString(b []byte, s string) []byte {
	if plainJSON(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	out, err := jsontext.AppendQuote(b, s)
	if err != nil {
		out, _ = jsontext.AppendQuote(b, strings.ToValidUTF8(s, "\uFFFD"))
	}
	return out
}

// plainJSON reports whether s is printable ASCII without quote or backslash:
// quoted as it is.
func plainJSON(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appendMillis appends t as a JSON string in HubSpot's millisecond ISO form.
func appendMillis(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = appendISOMillis(b, t)
	return append(b, '"')
}

func (rw *recordWriter) send(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	w.Write(rw.buf.Bytes())
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
func (s *Server) pageParams(w http.ResponseWriter, r *http.Request, maxLimit int) (limit int, after int64, ok bool) {
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
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			s.badRequest(w, "Invalid paging cursor after=%q", v)
			return 0, 0, false
		}
		after = n
	}
	return limit, after, true
}

func archivedParam(r *http.Request) bool { return r.URL.Query().Get("archived") == "true" }

// --- objects ---

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.objectType(w, r)
	if t == nil {
		return
	}
	limit, after, ok := s.pageParams(w, r, maxPage)
	if !ok {
		return
	}
	props := selectProps(t, queryList(r, "properties"))
	// Streamed as it is encoded (as HubSpot does): a client decodes the
	// first records while the rest of the page is still being produced.
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(http.StatusOK)
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
		after := strconv.FormatInt(next, 10)
		b = append(b, `,"paging":{"next":{"after":`...)
		b = appendString(b, after)
		b = append(b, `,"link":`...)
		b = appendString(b, "https://api.hubapi.com"+r.URL.Path+"?after="+after)
		b = append(b, "}}"...)
	}
	w.Write(append(b, '}'))
}

func (s *Server) read(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.objectType(w, r)
	if t == nil {
		return
	}
	rec := s.lookup(t, r.PathValue("id"))
	if rec == nil || rec.archived != archivedParam(r) {
		s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.", nil)
		return
	}
	rw := newRecordWriter()
	rw.object(rec, selectProps(t, queryList(r, "properties")))
	rw.send(w, http.StatusOK)
}

func (s *Server) lookup(t *objectType, id string) *record {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil
	}
	return t.get(n)
}

// decodeBody decodes a JSON request body; ok is false when it answered 400.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		s.badRequest(w, "Invalid input JSON on line 1: %v", err)
		return false
	}
	return true
}

type batchInput struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
}

type batchBody struct {
	Inputs     []batchInput `json:"inputs"`
	Properties []string     `json:"properties"`
}

// decodeBatch decodes and checks a batch body: 1 to 100 inputs, each with an id.
func (s *Server) decodeBatch(w http.ResponseWriter, r *http.Request) (*batchBody, bool) {
	var b batchBody
	if !s.decodeBody(w, r, &b) {
		return nil, false
	}
	if len(b.Inputs) == 0 {
		s.badRequest(w, "inputs must not be empty")
		return nil, false
	}
	if len(b.Inputs) > maxBatch {
		s.badRequest(w, "Batch input limit exceeded: got %d inputs, the limit is %d", len(b.Inputs), maxBatch)
		return nil, false
	}
	for i, in := range b.Inputs {
		if in.ID == "" {
			s.badRequest(w, "inputs[%d].id is required", i)
			return nil, false
		}
	}
	return &b, true
}

// batchError is one entry of a multi-status answer's errors.
type batchError struct {
	Status   string              `json:"status"`
	Category string              `json:"category"`
	Message  string              `json:"message"`
	Context  map[string][]string `json:"context"`
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

func (s *Server) batchRead(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.objectType(w, r)
	if t == nil {
		return
	}
	b, ok := s.decodeBatch(w, r)
	if !ok {
		return
	}
	props := selectProps(t, b.Properties)
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

// notFound is HubSpot's grouped multi-status error for unknown ids.
func (t *objectType) notFound(ids []string) batchError {
	return batchError{
		Status: "error", Category: "OBJECT_NOT_FOUND",
		Message: fmt.Sprintf("Could not get some %s objects, they may be deleted or not exist. Check that ids are valid.", strings.ToUpper(t.singular)),
		Context: map[string][]string{"ids": ids},
	}
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

func (s *Server) batchUpdate(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.objectType(w, r)
	if t == nil {
		return
	}
	b, ok := s.decodeBatch(w, r)
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

type singleBody struct {
	Properties map[string]string `json:"properties"`
}

func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.objectType(w, r)
	if t == nil {
		return
	}
	var b singleBody
	if !s.decodeBody(w, r, &b) {
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
	rw := newRecordWriter()
	rw.object(rec, writtenProps(t, b.Properties))
	rw.send(w, http.StatusOK)
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

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.objectType(w, r)
	if t == nil {
		return
	}
	var b singleBody
	if !s.decodeBody(w, r, &b) {
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
	rw := newRecordWriter()
	rw.object(rec, writtenProps(t, b.Properties))
	rw.send(w, http.StatusCreated)
}

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

func (s *Server) batchArchive(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.objectType(w, r)
	if t == nil {
		return
	}
	b, ok := s.decodeBatch(w, r)
	if !ok {
		return
	}
	now := time.Now()
	for _, in := range b.Inputs {
		s.archiveRecord(t, in.ID, now)
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- properties and schemas ---

type wireOption struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

type wireProperty struct {
	Name                 string       `json:"name"`
	Label                string       `json:"label"`
	Type                 string       `json:"type"`
	FieldType            string       `json:"fieldType"`
	Description          string       `json:"description"`
	GroupName            string       `json:"groupName"`
	Options              []wireOption `json:"options"`
	DisplayOrder         int          `json:"displayOrder"`
	Calculated           bool         `json:"calculated"`
	ExternalOptions      bool         `json:"externalOptions"`
	HasUniqueValue       bool         `json:"hasUniqueValue"`
	Hidden               bool         `json:"hidden"`
	HubspotDefined       bool         `json:"hubspotDefined"`
	ModificationMetadata struct {
		Archivable         bool `json:"archivable"`
		ReadOnlyDefinition bool `json:"readOnlyDefinition"`
		ReadOnlyValue      bool `json:"readOnlyValue"`
	} `json:"modificationMetadata"`
	FormField       bool   `json:"formField"`
	DataSensitivity string `json:"dataSensitivity"`
	CreatedAt       string `json:"createdAt"`
	UpdatedAt       string `json:"updatedAt"`
	Archived        bool   `json:"archived"`
}

func (t *objectType) wireProperty(p *property) wireProperty {
	sp := p.spec
	wp := wireProperty{
		Name: sp.name, Label: sp.label, Type: sp.typ, FieldType: sp.fieldType,
		GroupName:    strings.ToLower(strings.ReplaceAll(t.singular, " ", "")) + "information",
		Options:      []wireOption{},
		DisplayOrder: p.index, Calculated: sp.calculated, HasUniqueValue: sp.unique, Hidden: sp.hidden,
		HubspotDefined:  strings.HasPrefix(sp.name, "hs_") || !t.custom && !sp.unique && sp.sensitivity == "non_sensitive",
		FormField:       !sp.readOnly,
		DataSensitivity: sp.sensitivity,
		CreatedAt:       isoMillis(epoch.AddDate(-1, 0, 0)),
		UpdatedAt:       isoMillis(epoch.AddDate(-1, 0, 0)),
	}
	wp.ModificationMetadata.Archivable = !wp.HubspotDefined
	wp.ModificationMetadata.ReadOnlyDefinition = wp.HubspotDefined
	wp.ModificationMetadata.ReadOnlyValue = sp.readOnly
	for i, o := range sp.options {
		wp.Options = append(wp.Options, wireOption{Label: o, Value: o, DisplayOrder: i})
	}
	return wp
}

func (s *Server) properties(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.objectType(w, r)
	if t == nil {
		return
	}
	results := make([]wireProperty, 0, len(t.props))
	for _, p := range t.props {
		results = append(results, t.wireProperty(p))
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

func (s *Server) property(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.objectType(w, r)
	if t == nil {
		return
	}
	p, ok := t.byName[r.PathValue("name")]
	if !ok {
		s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", fmt.Sprintf("Unable to find property %s", r.PathValue("name")), nil)
		return
	}
	s.writeJSON(w, http.StatusOK, t.wireProperty(p))
}

type wireSchema struct {
	ID                         string         `json:"id"`
	ObjectTypeID               string         `json:"objectTypeId"`
	Name                       string         `json:"name"`
	FullyQualifiedName         string         `json:"fullyQualifiedName"`
	Labels                     map[string]any `json:"labels"`
	PrimaryDisplayProperty     string         `json:"primaryDisplayProperty"`
	RequiredProperties         []string       `json:"requiredProperties"`
	SearchableProperties       []string       `json:"searchableProperties"`
	SecondaryDisplayProperties []string       `json:"secondaryDisplayProperties"`
	Properties                 []wireProperty `json:"properties"`
	Associations               []any          `json:"associations"`
	Archived                   bool           `json:"archived"`
	CreatedAt                  string         `json:"createdAt"`
	UpdatedAt                  string         `json:"updatedAt"`
}

func (t *objectType) wireSchema() wireSchema {
	ws := wireSchema{
		ID: strings.TrimPrefix(t.id, "2-"), ObjectTypeID: t.id, Name: t.name, FullyQualifiedName: t.fqn,
		Labels:                 map[string]any{"singular": t.singular, "plural": t.plural},
		PrimaryDisplayProperty: t.primary,
		RequiredProperties:     []string{}, SearchableProperties: []string{}, SecondaryDisplayProperties: []string{},
		Associations: []any{},
		CreatedAt:    isoMillis(epoch.AddDate(0, -1, 0)), UpdatedAt: isoMillis(epoch.AddDate(0, -1, 0)),
	}
	if t.primary != "" {
		ws.RequiredProperties = []string{t.primary}
		ws.SearchableProperties = []string{t.primary}
	}
	for _, p := range t.props {
		ws.Properties = append(ws.Properties, t.wireProperty(p))
	}
	return ws
}

func (s *Server) schemas(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	results := []wireSchema{}
	for _, t := range s.types {
		if t.custom {
			results = append(results, t.wireSchema())
		}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

func (s *Server) schema(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.byKey[r.PathValue("type")]
	if !ok || !t.custom {
		s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "Unable to find object schema "+r.PathValue("type"), nil)
		return
	}
	s.writeJSON(w, http.StatusOK, t.wireSchema())
}

// --- conversations and account ---

func (s *Server) listThreads(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	limit, after, ok := s.pageParams(w, r, maxThreadsPage)
	if !ok {
		return
	}
	archived := archivedParam(r)
	var buf bytes.Buffer
	buf.WriteString(`{"results":[`)
	n, next := 0, int64(0)
	start, _ := slices.BinarySearchFunc(s.threads, after, func(t thread, id int64) int {
		return cmpInt(t.id, id)
	})
	for _, th := range s.threads[start:] {
		if threadArchived(th) != archived {
			continue
		}
		if n == limit {
			next = th.id
			break
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('{')
		for i, f := range th.fields {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(rawString(f.name))
			buf.WriteByte(':')
			buf.Write(f.value)
		}
		buf.WriteByte('}')
		n++
	}
	buf.WriteByte(']')
	if next != 0 {
		a := strconv.FormatInt(next, 10)
		fmt.Fprintf(&buf, `,"paging":{"next":{"after":%q,"link":"https://api.hubapi.com%s?after=%s"}}`, a, r.URL.Path, a)
	}
	buf.WriteByte('}')
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Write(buf.Bytes())
}

func threadArchived(th thread) bool {
	for _, f := range th.fields {
		if f.name == "archived" {
			return string(f.value) == "true"
		}
	}
	return false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *Server) accountDetails(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]any{
		"portalId":              s.portalID,
		"accountType":           "STANDARD",
		"timeZone":              "US/Eastern",
		"companyCurrency":       "USD",
		"additionalCurrencies":  []string{},
		"utcOffset":             "-05:00",
		"utcOffsetMilliseconds": -18000000,
		"uiDomain":              "app.hubspot.com",
		"dataHostingLocation":   "na1",
	})
}
