package hubspot

import (
	"bytes"
	"fmt"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// A list page is the hot path of every export: 100 records × dozens of
// properties per request. Decoding it with reflection costs a map and an
// allocation per value; this decoder writes every value of a page as a
// substring of one string and places it by column, so a page costs a
// handful of allocations whatever its size. Finding a value's column
// compares its key with the key at the same place in the previous record
// (HubSpot sends every record's properties in the same order) and hashes
// only when that guess fails.

// columns maps the property keys of one list's pages to value columns. It
// is used by one page decode at a time (a list fetches its pages in turn).
type columns struct {
	names  []string       // Page.Columns
	byName map[string]int // property name → column
	byKey  map[string]int // property key as sent (quoted JSON) → column
	last   []keyColumn    // the previous record's keys, in order

	// Scratch reused from page to page.
	text  []byte
	cells []cell
	recs  []recordSpan
}

type keyColumn struct {
	key string
	col int
}

// cell is one value: column, and where its text is in columns.text.
type cell struct{ col, start, end int }

// recordSpan is one record of a page being decoded.
type recordSpan struct {
	idStart, idEnd     int
	cellStart, cellEnd int // in columns.cells
	created, updated   time.Time
	archived           bool
}

// newColumns starts the columns of a list that asks for names.
func newColumns(names []string) *columns {
	c := &columns{byName: make(map[string]int, len(names)), byKey: make(map[string]int, len(names))}
	for _, n := range names {
		c.column(n)
	}
	return c
}

// column returns the column of name, adding one for a new name.
func (c *columns) column(name string) int {
	col, ok := c.byName[name]
	if !ok {
		col = len(c.names)
		c.names = append(c.names, name)
		c.byName[name] = col
	}
	return col
}

// keyColumn returns the column of the k-th property key of a record.
func (c *columns) keyColumn(k int, key jsontext.Value) (int, error) {
	if k < len(c.last) && c.last[k].key == string(key) {
		return c.last[k].col, nil
	}
	// []byte, not jsontext.Value: only then does the lookup not copy.
	col, ok := c.byKey[string([]byte(key))]
	if !ok {
		var name string
		if err := json.Unmarshal(key, &name); err != nil {
			return 0, err
		}
		col = c.column(name)
		c.byKey[string(key)] = col
	}
	kc := keyColumn{string(key), col}
	if k < len(c.last) {
		c.last[k] = kc
	} else {
		c.last = append(c.last, kc)
	}
	return col, nil
}

// UnmarshalJSONFrom decodes a list page.
func (r *listResponse) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return fmt.Errorf("list page: want an object: %v", err)
	}
	if r.cols == nil {
		r.cols = newColumns(nil)
	}
	for dec.PeekKind() != '}' {
		key, err := dec.ReadValue()
		if err != nil {
			return err
		}
		switch string(key) {
		case `"results"`:
			if err := r.decodeResults(dec); err != nil {
				return err
			}
		case `"paging"`:
			if err := json.UnmarshalDecode(dec, &r.Paging); err != nil {
				return err
			}
		default:
			if err := dec.SkipValue(); err != nil {
				return err
			}
		}
	}
	_, err := dec.ReadToken() // '}'
	return err
}

// decodeResults decodes the results array into r.Results.
func (r *listResponse) decodeResults(dec *jsontext.Decoder) error {
	c := r.cols
	if _, err := dec.ReadToken(); err != nil { // '['
		return err
	}
	c.text, c.cells, c.recs = c.text[:0], c.cells[:0], c.recs[:0]
	for dec.PeekKind() == '{' {
		if err := c.decodeRecord(dec); err != nil {
			return err
		}
	}
	if _, err := dec.ReadToken(); err != nil { // ']'
		return err
	}
	// One string holds the page's text, one slice its values.
	text, width := string(c.text), len(c.names)
	values := make([]string, len(c.recs)*width)
	r.Results = make([]Object, len(c.recs))
	for i, rec := range c.recs {
		vals := values[i*width : (i+1)*width : (i+1)*width]
		for _, v := range c.cells[rec.cellStart:rec.cellEnd] {
			vals[v.col] = text[v.start:v.end]
		}
		r.Results[i] = Object{ID: text[rec.idStart:rec.idEnd], Values: vals,
			CreatedAt: rec.created, UpdatedAt: rec.updated, Archived: rec.archived}
	}
	r.Columns = c.names
	return nil
}

// decodeRecord decodes one SimplePublicObject into c's scratch.
func (c *columns) decodeRecord(dec *jsontext.Decoder) error {
	if _, err := dec.ReadToken(); err != nil { // '{'
		return err
	}
	rec := recordSpan{cellStart: len(c.cells)}
	for dec.PeekKind() != '}' {
		key, err := dec.ReadValue()
		if err != nil {
			return err
		}
		switch string(key) {
		case `"id"`:
			v, err := dec.ReadValue()
			if err != nil {
				return err
			}
			rec.idStart = len(c.text)
			if c.text, err = appendText(c.text, v); err != nil {
				return err
			}
			rec.idEnd = len(c.text)
		case `"properties"`:
			if err := c.decodeProperties(dec); err != nil {
				return err
			}
		case `"createdAt"`, `"updatedAt"`:
			v, err := dec.ReadValue()
			if err != nil {
				return err
			}
			t, err := parseTime(v)
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			if string(key) == `"createdAt"` {
				rec.created = t
			} else {
				rec.updated = t
			}
		case `"archived"`:
			if err := json.UnmarshalDecode(dec, &rec.archived); err != nil {
				return err
			}
		default:
			if err := dec.SkipValue(); err != nil {
				return err
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil { // '}'
		return err
	}
	rec.cellEnd = len(c.cells)
	c.recs = append(c.recs, rec)
	return nil
}

// decodeProperties decodes a record's properties object into cells.
func (c *columns) decodeProperties(dec *jsontext.Decoder) error {
	if dec.PeekKind() == 'n' {
		return dec.SkipValue()
	}
	if _, err := dec.ReadToken(); err != nil { // '{'
		return err
	}
	for k := 0; dec.PeekKind() != '}'; k++ {
		key, err := dec.ReadValue()
		if err != nil {
			return err
		}
		col, err := c.keyColumn(k, key)
		if err != nil {
			return err
		}
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		start := len(c.text)
		if c.text, err = appendText(c.text, v); err != nil {
			return fmt.Errorf("property %s: %w", c.names[col], err)
		}
		c.cells = append(c.cells, cell{col, start, len(c.text)})
	}
	_, err := dec.ReadToken() // '}'
	return err
}

// appendText appends a JSON string's text (null as nothing) to buf. Other
// scalars (HubSpot sends only strings, but be lenient) append their literal.
func appendText(buf []byte, v jsontext.Value) ([]byte, error) {
	switch v.Kind() {
	case 'n':
		return buf, nil
	case '"':
		if bytes.IndexByte(v, '\\') < 0 {
			// No escapes: the text is the bytes between the quotes (the
			// decoder has checked they are valid UTF-8).
			return append(buf, v[1:len(v)-1]...), nil
		}
		return jsontext.AppendUnquote(buf, v)
	case '{', '[':
		return buf, fmt.Errorf("unexpected %s value", v.Kind())
	}
	return append(buf, v...), nil
}

// parseTime parses a JSON string holding an RFC 3339 time (null: zero).
func parseTime(v jsontext.Value) (time.Time, error) {
	if v.Kind() != '"' || len(v) < 2 {
		return time.Time{}, nil
	}
	var scratch [40]byte
	text, err := jsontext.AppendUnquote(scratch[:0], v)
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, string(text))
}
