package hubspot

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Object is one CRM record. Property values are strings exactly as HubSpot
// sends them; a property that is empty (null) in HubSpot is "".
type Object struct {
	ID string `json:"id"`
	// Properties holds the values by property name (batch reads; List).
	Properties map[string]string `json:"properties"`
	// Values holds the values of a list page's record in the order of the
	// page's Columns (Pages and ThreadPages fill Values, not Properties).
	// The values of one page share one string.
	Values    []string  `json:"-"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
	Archived  bool      `json:"archived"`
}

// ListOptions select what a list returns.
type ListOptions struct {
	// Properties to return. HubSpot returns its default set when empty.
	Properties []string
	// After resumes a list from a cursor returned as Page.Next.
	After string
	// Limit is the page size (default and maximum MaxPageSize).
	Limit int
	// Archived lists only archived (deleted, in the recycle bin) records.
	Archived bool
}

// Page is one page of a list.
type Page struct {
	// Columns name the Values of the page's objects: ListOptions.Properties
	// in order, then any property HubSpot sent unasked.
	Columns []string
	Objects []Object
	// Next is the cursor of the following page; "" on the last page.
	Next string
}

type listResponse struct {
	cols    *columns
	Results []Object
	Columns []string
	Paging  *struct {
		Next *struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

func (r *listResponse) next() string {
	if r.Paging == nil || r.Paging.Next == nil {
		return ""
	}
	return r.Paging.Next.After
}

// Pages lists the records of objectType (a name such as "contacts" or a type
// id such as "0-1" or "2-1234567"), one page per iteration, from opts.After to
// the end. The iteration stops after the first error, which it yields.
//
// When the property list would make the URL longer than the client sends
// (see ListsByID), each page is listed by id only and its properties are
// fetched with a batch read: twice the requests, same records. A 414 from
// HubSpot does the same, and the client sends no list URL that long again.
func (c *Client) Pages(ctx context.Context, objectType string, opts ListOptions) iter.Seq2[*Page, error] {
	path, q, length, byID := c.listURL(objectType, opts)
	cols := newColumns(opts.Properties) // the pages are fetched in turn
	return cursorPages(ctx, opts.After, func(ctx context.Context, after string) (*Page, string, error) {
		page, err := c.listPage(ctx, path, q, after, objectType, cols, byID)
		if errors.Is(err, ErrURITooLong) && !byID {
			c.tooLongAt(length)
			byID = true
			page, err = c.listPage(ctx, path, q, after, objectType, cols, byID)
		}
		if err != nil {
			return nil, "", fmt.Errorf("list %s after %q: %w", objectType, after, err)
		}
		return page, page.Next, nil
	})
}

// ListsByID reports whether Pages lists objectType's records by id and
// batch-reads their properties (two requests per page), as it does when
// the properties make a list URL longer than the client sends: the
// configured maximum, or shorter than the shortest one HubSpot refused.
func (c *Client) ListsByID(objectType string, properties []string) bool {
	_, _, _, byID := c.listURL(objectType, ListOptions{Properties: properties})
	return byID
}

// listURL is a list's path and query (without its cursor), the length of
// its URL, and whether it goes by id.
func (c *Client) listURL(objectType string, opts ListOptions) (path string, q url.Values, length int64, byID bool) {
	path = c.paths.objects(objectType)
	q = listQuery(opts)
	if len(opts.Properties) > 0 {
		q.Set("properties", strings.Join(opts.Properties, ","))
	}
	length, refused := int64(len(c.endpoint(path, q))), c.tooLong.Load()
	return path, q, length, length > int64(c.maxURL) || (refused > 0 && length >= refused)
}

// tooLongAt records that HubSpot answered 414 to a list URL of n characters.
func (c *Client) tooLongAt(n int64) {
	for {
		old := c.tooLong.Load()
		if old > 0 && old <= n || c.tooLong.CompareAndSwap(old, n) {
			return
		}
	}
}

// cursorPages yields what fetch returns for each cursor, from first until
// fetch returns no next cursor or an error (which it yields last). While the
// caller handles one page the next is already being fetched (the cursor is
// known once a page is decoded), so a caller's work overlaps HubSpot's
// latency; a caller that stops early cancels that fetch and waits for it.
func cursorPages[P any](ctx context.Context, first string, fetch func(ctx context.Context, after string) (P, string, error)) iter.Seq2[P, error] {
	return func(yield func(P, error) bool) {
		if _, ok := ctx.Value(priorityKey{}).(int64); !ok {
			ctx = WithPriority(ctx, time.Now().UnixNano()) // a stream keeps its rank in the budget
		}
		parent := ctx
		ctx, cancel := context.WithCancel(ctx)
		type result struct {
			page P
			next string
			err  error
		}
		pending := make(chan result, 1)
		inFlight := false
		start := func(after string) {
			inFlight = true
			go func() {
				p, next, err := fetch(ctx, after)
				pending <- result{p, next, err}
			}()
		}
		defer func() {
			cancel()
			if inFlight {
				<-pending
			}
		}()
		start(first)
		for {
			r := <-pending
			inFlight = false
			if err := context.Cause(parent); err != nil && r.err == nil {
				// the caller gave up while this page was in flight: a page
				// read after it did is not yielded, so none ever follows a cancel
				var zero P
				r.page, r.err = zero, err
			}
			if r.err != nil {
				yield(r.page, r.err)
				return
			}
			if r.next != "" {
				start(r.next)
			}
			if !yield(r.page, nil) || r.next == "" {
				return
			}
		}
	}
}

// listQuery is the query of a list request without cursor and properties.
func listQuery(opts ListOptions) url.Values {
	limit := opts.Limit
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if opts.Archived {
		q.Set("archived", "true")
	}
	return q
}

func (c *Client) listPage(ctx context.Context, path string, q url.Values, after, objectType string, cols *columns, byID bool) (*Page, error) {
	q = cloneValues(q)
	if after != "" {
		q.Set("after", after)
	}
	resp := listResponse{cols: cols}
	if byID {
		q.Set("properties", "hs_object_id")
		resp.cols = newColumns(nil)
	}
	if err := c.do(ctx, http.MethodGet, path, q, nil, &resp); err != nil {
		return nil, err
	}
	page := &Page{Columns: resp.Columns, Objects: resp.Results, Next: resp.next()}
	if !byID {
		return page, nil
	}
	page.Columns = cols.names
	if len(page.Objects) == 0 {
		return page, nil
	}
	ids := make([]string, len(page.Objects))
	for i, o := range page.Objects {
		ids[i] = o.ID
	}
	got, err := c.BatchRead(ctx, objectType, ids, cols.names, q.Get("archived") == "true")
	if err != nil {
		return nil, err
	}
	// Keep list order; a record deleted between the list and the read is gone.
	byKey := make(map[string]Object, len(got.Objects))
	for _, o := range got.Objects {
		byKey[o.ID] = o
	}
	page.Objects = page.Objects[:0]
	for _, id := range ids {
		if o, ok := byKey[id]; ok {
			o.Values = make([]string, len(cols.names))
			for col, name := range cols.names {
				o.Values[col] = o.Properties[name]
			}
			o.Properties = nil
			page.Objects = append(page.Objects, o)
		}
	}
	return page, nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// List is Pages flattened to records, each with its Properties by name.
func (c *Client) List(ctx context.Context, objectType string, opts ListOptions) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		for page, err := range c.Pages(ctx, objectType, opts) {
			if err != nil {
				yield(Object{}, err)
				return
			}
			for _, o := range page.Objects {
				o.Properties = make(map[string]string, len(o.Values))
				for col, v := range o.Values {
					o.Properties[page.Columns[col]] = v
				}
				if !yield(o, nil) {
					return
				}
			}
		}
	}
}

// BatchResult is the answer of a batch request: 200 (no Errors) or 207
// multi-status, where Errors lists the inputs HubSpot did not apply.
type BatchResult struct {
	StatusCode int
	Objects    []Object
	Errors     []BatchError
}

type batchResponse struct {
	Status  string       `json:"status"`
	Results []Object     `json:"results"`
	Errors  []batchError `json:"errors"`
}

type batchError struct {
	Category string              `json:"category"`
	Message  string              `json:"message"`
	Context  map[string][]string `json:"context"`
}

func (r *batchResponse) result() *BatchResult {
	out := &BatchResult{StatusCode: http.StatusOK, Objects: r.Results}
	for _, e := range r.Errors {
		be := BatchError{Category: e.Category, Message: e.Message}
		be.IDs = append(e.Context["ids"], e.Context["id"]...)
		be.Properties = append(e.Context["propertyName"], e.Context["properties"]...)
		out.Errors = append(out.Errors, be)
	}
	if len(out.Errors) > 0 {
		out.StatusCode = http.StatusMultiStatus
	}
	return out
}

type idInput struct {
	ID string `json:"id"`
}

// batchRead is a batch read's body.
type batchRead struct {
	Inputs     []idInput `json:"inputs"`
	Properties []string  `json:"properties"`
}

func readBody(ids, properties []string) batchRead {
	body := batchRead{Inputs: make([]idInput, len(ids)), Properties: properties}
	for i, id := range ids {
		body.Inputs[i].ID = id
	}
	if body.Properties == nil {
		body.Properties = []string{}
	}
	return body
}

// BatchRead reads up to MaxBatchInputs records by id. Ids HubSpot does not
// know (deleted, or never existed) come back as a BatchError with category
// OBJECT_NOT_FOUND, not as a failure of the call.
func (c *Client) BatchRead(ctx context.Context, objectType string, ids, properties []string, archived bool) (*BatchResult, error) {
	if err := checkBatchSize(len(ids)); err != nil {
		return nil, err
	}
	body := readBody(ids, properties)
	q := url.Values{}
	if archived {
		q.Set("archived", "true")
	}
	var resp batchResponse
	path := c.paths.objects(objectType) + "/batch/read"
	if err := c.do(ctx, http.MethodPost, path, q, body, &resp); err != nil {
		return nil, fmt.Errorf("batch read %d %s: %w", len(ids), objectType, err)
	}
	return resp.result(), nil
}

// UpdateInput sets properties of one record; "" clears a value.
type UpdateInput struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
}

// BatchUpdate writes up to MaxBatchInputs records. A 207 answer is not an
// error: BatchResult.Errors says which inputs failed and why.
func (c *Client) BatchUpdate(ctx context.Context, objectType string, inputs []UpdateInput) (*BatchResult, error) {
	if err := checkBatchSize(len(inputs)); err != nil {
		return nil, err
	}
	body := struct {
		Inputs []UpdateInput `json:"inputs"`
	}{inputs}
	var resp batchResponse
	path := c.paths.objects(objectType) + "/batch/update"
	if err := c.do(ctx, http.MethodPost, path, nil, body, &resp); err != nil {
		return nil, fmt.Errorf("batch update %d %s: %w", len(inputs), objectType, err)
	}
	return resp.result(), nil
}

func checkBatchSize(n int) error {
	if n == 0 || n > MaxBatchInputs {
		return fmt.Errorf("%w: a batch takes 1 to %d inputs, not %d", ErrValidation, MaxBatchInputs, n)
	}
	return nil
}

// Archive moves a record to the recycle bin (DELETE; 204, and 204 again if
// it is already archived).
func (c *Client) Archive(ctx context.Context, objectType, id string) error {
	path := c.paths.objects(objectType) + "/" + url.PathEscape(id)
	if err := c.do(ctx, http.MethodDelete, path, nil, nil, nil); err != nil {
		return fmt.Errorf("archive %s %s: %w", objectType, id, err)
	}
	return nil
}
