package hubspot

import (
	"fmt"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// A list page is the hot path of every export: 100 records × dozens of
// properties per request. Decoding it with reflection costs one allocation
// per value; this decoder packs each record's id and values into a single
// string (the values are substrings of it) and interns property names per
// page, so a record costs a handful of allocations whatever its width.

// UnmarshalJSONFrom decodes a list page.
func (r *listResponse) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return fmt.Errorf("list page: want an object: %v", err)
	}
	names := map[string]string{}
	var buf []byte
	for dec.PeekKind() != '}' {
		key, err := dec.ReadValue()
		if err != nil {
			return err
		}
		switch string(key) {
		case `"results"`:
			if _, err := dec.ReadToken(); err != nil { // '['
				return err
			}
			r.Results = make([]Object, 0, MaxPageSize)
			for dec.PeekKind() == '{' {
				var o Object
				if buf, err = decodeObject(dec, &o, names, buf[:0]); err != nil {
					return err
				}
				r.Results = append(r.Results, o)
			}
			if _, err := dec.ReadToken(); err != nil { // ']'
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

// decodeObject decodes one SimplePublicObject into o, using buf as scratch.
func decodeObject(dec *jsontext.Decoder, o *Object, names map[string]string, buf []byte) ([]byte, error) {
	if _, err := dec.ReadToken(); err != nil { // '{'
		return buf, err
	}
	type span struct {
		name       string
		start, end int
	}
	var spans [64]span
	vals := spans[:0]
	idStart, idEnd := 0, 0
	for dec.PeekKind() != '}' {
		key, err := dec.ReadValue()
		if err != nil {
			return buf, err
		}
		switch string(key) {
		case `"id"`:
			v, err := dec.ReadValue()
			if err != nil {
				return buf, err
			}
			idStart = len(buf)
			if buf, err = appendText(buf, v); err != nil {
				return buf, err
			}
			idEnd = len(buf)
		case `"properties"`:
			if dec.PeekKind() == 'n' {
				dec.SkipValue()
				continue
			}
			if _, err := dec.ReadToken(); err != nil { // '{'
				return buf, err
			}
			for dec.PeekKind() != '}' {
				rawName, err := dec.ReadValue()
				if err != nil {
					return buf, err
				}
				// []byte, not jsontext.Value: only then does the lookup not copy.
				name, ok := names[string([]byte(rawName))]
				if !ok {
					if name, err = internName(names, rawName); err != nil {
						return buf, err
					}
				}
				v, err := dec.ReadValue()
				if err != nil {
					return buf, err
				}
				start := len(buf)
				if buf, err = appendText(buf, v); err != nil {
					return buf, fmt.Errorf("property %s: %w", name, err)
				}
				vals = append(vals, span{name, start, len(buf)})
			}
			if _, err := dec.ReadToken(); err != nil { // '}'
				return buf, err
			}
		case `"createdAt"`, `"updatedAt"`:
			v, err := dec.ReadValue()
			if err != nil {
				return buf, err
			}
			t, err := parseTime(v)
			if err != nil {
				return buf, fmt.Errorf("%s: %w", key, err)
			}
			if string(key) == `"createdAt"` {
				o.CreatedAt = t
			} else {
				o.UpdatedAt = t
			}
		case `"archived"`:
			if err := json.UnmarshalDecode(dec, &o.Archived); err != nil {
				return buf, err
			}
		default:
			if err := dec.SkipValue(); err != nil {
				return buf, err
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil { // '}'
		return buf, err
	}
	all := string(buf)
	o.ID = all[idStart:idEnd]
	o.Properties = make(map[string]string, len(vals))
	for _, s := range vals {
		o.Properties[s.name] = all[s.start:s.end]
	}
	return buf, nil
}

// appendText appends a JSON string's text (null as nothing) to buf. Other
// scalars (HubSpot sends only strings, but be lenient) append their literal.
func appendText(buf []byte, v jsontext.Value) ([]byte, error) {
	switch v.Kind() {
	case 'n':
		return buf, nil
	case '"':
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

// internName decodes a property name once per page. It is a function of its
// own so that taking the address of the decoded string does not move the
// caller's variable to the heap on every lookup.
func internName(names map[string]string, raw jsontext.Value) (string, error) {
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return "", err
	}
	names[string(raw)] = name
	return name, nil
}
