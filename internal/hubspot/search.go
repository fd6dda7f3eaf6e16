package hubspot

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// MaxSearchPage is the most results a search request returns (HubSpot's
// search guide, "Limits").
const MaxSearchPage = 200

// IDRange is what SearchIDs returns: ids in ascending order and the number
// of records the range held when HubSpot answered.
type IDRange struct {
	IDs   []int64
	Total int
}

// SearchIDs returns the ids of up to limit (at most MaxSearchPage) records
// of objectType with after < id < below (below 0: no upper bound), in
// ascending order, through the CRM search endpoint: its own rate limit (5
// requests a second per account, outside the 10-second one), a fresh query
// each time (keyset paging by hs_object_id, so the 10,000-results cap of a
// query never applies). desc reads the range from its top instead (limit 1
// and desc: the largest id). Search's index trails writes by a few moments
// and never holds archived records; it serves no Highly Sensitive values,
// which is why only ids are asked for: values come from ReadPage.
func (c *Client) SearchIDs(ctx context.Context, objectType string, after, below int64, limit int, desc bool) (*IDRange, error) {
	if limit < 1 || limit > MaxSearchPage {
		return nil, fmt.Errorf("%w: a search page holds 1 to %d results, not %d", ErrValidation, MaxSearchPage, limit)
	}
	type filter struct {
		PropertyName string `json:"propertyName"`
		Operator     string `json:"operator"`
		Value        string `json:"value"`
	}
	type sort struct {
		PropertyName string `json:"propertyName"`
		Direction    string `json:"direction"`
	}
	filters := []filter{{"hs_object_id", "GT", strconv.FormatInt(after, 10)}}
	if below > 0 {
		filters = append(filters, filter{"hs_object_id", "LT", strconv.FormatInt(below, 10)})
	}
	dir := "ASCENDING"
	if desc {
		dir = "DESCENDING"
	}
	body := map[string]any{
		"filterGroups": []map[string]any{{"filters": filters}},
		"sorts":        []sort{{"hs_object_id", dir}},
		"properties":   []string{"hs_object_id"},
		"limit":        limit,
	}
	var resp struct {
		Total   int `json:"total"`
		Results []struct {
			ID string `json:"id"`
		} `json:"results"`
	}
	path := c.paths.objects(objectType) + "/search"
	if err := c.do(withBudget(ctx, c.search), http.MethodPost, path, nil, body, &resp); err != nil {
		return nil, fmt.Errorf("search %s ids after %d: %w", objectType, after, err)
	}
	out := &IDRange{Total: resp.Total, IDs: make([]int64, 0, len(resp.Results))}
	for _, r := range resp.Results {
		id, err := strconv.ParseInt(r.ID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("search %s: an id %q that is not a number", objectType, r.ID)
		}
		out.IDs = append(out.IDs, id)
	}
	if !slices.IsSorted(out.IDs) && !desc {
		return nil, fmt.Errorf("search %s: ids out of order", objectType)
	}
	return out, nil
}

// ReadPage reads records by id with one batch read (at most MaxBatchInputs)
// and returns them as a page, in ascending id order, their Values in the
// order of properties (as Pages does). Ids HubSpot no longer has (deleted
// since they were listed) are left out. Properties go in the body, so any
// number fits, and every sensitivity level is served.
func (c *Client) ReadPage(ctx context.Context, objectType string, ids []int64, properties []string) (*Page, error) {
	if err := checkBatchSize(len(ids)); err != nil {
		return nil, err
	}
	text := make([]string, len(ids))
	for i, id := range ids {
		text[i] = strconv.FormatInt(id, 10)
	}
	body := readBody(text, properties)
	resp := listResponse{cols: newColumns(properties)}
	path := c.paths.objects(objectType) + "/batch/read"
	if err := c.do(ctx, http.MethodPost, path, nil, body, &resp); err != nil {
		return nil, fmt.Errorf("batch read %d %s: %w", len(ids), objectType, err)
	}
	page := &Page{Columns: resp.Columns, Objects: resp.Results}
	num := make(map[string]int64, len(page.Objects))
	for _, o := range page.Objects {
		n, err := strconv.ParseInt(o.ID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("batch read %s: an id %q that is not a number", objectType, o.ID)
		}
		num[o.ID] = n
	}
	slices.SortFunc(page.Objects, func(a, b Object) int { return cmp.Compare(num[a.ID], num[b.ID]) })
	return page, nil
}
