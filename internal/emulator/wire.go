package emulator

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// HubSpot's wire format: JSON answers and error bodies, request bodies, and
// records appended by hand as SimplePublicObject JSON (the list's hot path).

// writeJSONHeader starts a JSON answer with status.
func writeJSONHeader(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
}

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
	writeJSONHeader(w, status)
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

// batchError is one entry of a multi-status answer's errors.
type batchError struct {
	Status   string              `json:"status"`
	Category string              `json:"category"`
	Message  string              `json:"message"`
	Context  map[string][]string `json:"context"`
	// refuseBatch: a validation rule that fails the whole batch broke.
	refuseBatch bool
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

func (rw *recordWriter) send(w http.ResponseWriter, status int) {
	writeJSONHeader(w, status)
	w.Write(rw.buf.Bytes())
}

// writeRecord answers with one record and the given properties.
func writeRecord(w http.ResponseWriter, status int, r *record, props []*property) {
	rw := newRecordWriter()
	rw.object(r, props)
	rw.send(w, status)
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

// appendPaging appends a list page's paging member for the next page, which
// starts at id next.
func appendPaging(b []byte, path string, after string) []byte {
	b = append(b, `,"paging":{"next":{"after":`...)
	b = appendString(b, after)
	b = append(b, `,"link":`...)
	b = appendString(b, "https://api.hubapi.com"+path+"?after="+after)
	return append(b, "}}"...)
}
