package hubspot

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

const threadsPath = "/conversations/v3/conversations/threads"

// ThreadPages lists conversation threads page by page. Threads are not CRM
// objects and their fields are not all strings; each thread comes back as an
// Object whose Values hold every field but "id" as text: strings as they
// are, numbers and booleans as their JSON literals, null as "", arrays as
// compact JSON, and each field of a nested object in a column of its own
// named parent.child. The page's Columns are
// opts.Properties (field names), then any other field a thread has.
func (c *Client) ThreadPages(ctx context.Context, opts ListOptions) iter.Seq2[*Page, error] {
	q := listQuery(opts) // the threads endpoint has no property selection
	cols := newColumns(opts.Properties)
	return cursorPages(ctx, opts.After, func(ctx context.Context, after string) (*Page, string, error) {
		q := cloneValues(q)
		if after != "" {
			q.Set("after", after)
		}
		var raw rawListResponse
		if err := c.do(ctx, http.MethodGet, c.paths.threads(), q, nil, &raw); err != nil {
			return nil, "", fmt.Errorf("list conversation threads after %q: %w", after, err)
		}
		page := &Page{Objects: make([]Object, 0, len(raw.Results))}
		if raw.Paging != nil && raw.Paging.Next != nil {
			page.Next = raw.Paging.Next.After
		}
		for _, t := range raw.Results {
			o, err := threadObject(t, cols)
			if err != nil {
				return nil, "", fmt.Errorf("conversation thread: %w", err)
			}
			page.Objects = append(page.Objects, o)
		}
		page.Columns = cols.names
		for i := range page.Objects { // a later thread may have added columns
			page.Objects[i].Values = padTo(page.Objects[i].Values, len(cols.names))
		}
		return page, page.Next, nil
	})
}

type rawListResponse struct {
	Results []map[string]jsontext.Value `json:"results"`
	Paging  *struct {
		Next *struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

func threadObject(fields map[string]jsontext.Value, cols *columns) (Object, error) {
	o := Object{Values: make([]string, len(cols.names), len(cols.names)+len(fields))}
	if err := addThreadFields(&o, "", fields, cols); err != nil {
		return Object{}, err
	}
	if o.ID == "" {
		return Object{}, fmt.Errorf("thread without id")
	}
	return o, nil
}

// addThreadFields puts fields into o's columns. A nested object becomes one
// column per field, named parent.child (threadAssociations.associatedTicketId),
// at any depth; arrays stay one column of compact JSON.
func addThreadFields(o *Object, prefix string, fields map[string]jsontext.Value, cols *columns) error {
	for k, v := range fields {
		name := prefix + k
		if v.Kind() == '{' {
			var nested map[string]jsontext.Value
			if err := json.Unmarshal(v, &nested); err != nil {
				return fmt.Errorf("field %s: %w", name, err)
			}
			if err := addThreadFields(o, name+".", nested, cols); err != nil {
				return err
			}
			continue
		}
		s, err := scalarText(v)
		if err != nil {
			return fmt.Errorf("field %s: %w", name, err)
		}
		switch name {
		case "id":
			o.ID = s
			continue
		case "archived":
			o.Archived = s == "true"
		case "createdAt":
			o.CreatedAt, _ = time.Parse(time.RFC3339Nano, s)
		}
		col := cols.column(name)
		o.Values = padTo(o.Values, col+1)
		o.Values[col] = s
	}
	return nil
}

// padTo returns vals with at least n values, the added ones "".
func padTo(vals []string, n int) []string {
	for len(vals) < n {
		vals = append(vals, "")
	}
	return vals
}

// scalarText renders one JSON value as the text that goes into a CSV cell.
func scalarText(v jsontext.Value) (string, error) {
	switch v.Kind() {
	case 'n':
		return "", nil
	case '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	case '{', '[':
		c := v.Clone()
		err := c.Compact()
		return string(c), err
	default: // numbers, true, false
		return strings.TrimSpace(string(v)), nil
	}
}
