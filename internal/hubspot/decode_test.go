package hubspot

import (
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
)

// TestListDecoderMatchesReflection pins the hand-written page decoder to
// what plain reflection-based decoding yields, on the inputs that trip
// hand-written decoders.
func TestListDecoderMatchesReflection(t *testing.T) {
	tests := map[string]string{
		"empty page":       `{"results":[]}`,
		"no results key":   `{"paging":{"next":{"after":"5"}}}`,
		"null properties":  `{"results":[{"id":"1","properties":null,"archived":false}]}`,
		"null values":      `{"results":[{"id":"1","properties":{"a":null,"b":"x"}}]}`,
		"escaped names":    `{"results":[{"id":"1","properties":{"na\u006de":"v","q\"uote":"w"}}]}`,
		"escaped values":   `{"results":[{"id":"1","properties":{"a":"l1\nl2 \"q\" \ud83d\ude80 \u00e9"}}]}`,
		"unknown fields":   `{"results":[{"id":"1","extra":{"deep":[1,2,{"x":null}]},"properties":{"a":"1"},"propertiesWithHistory":{}}],"total":3}`,
		"times":            `{"results":[{"id":"7","properties":{},"createdAt":"2024-01-02T03:04:05.678Z","updatedAt":"2024-05-06T07:08:09Z","archived":true}]}`,
		"paging last page": `{"results":[{"id":"1","properties":{}}],"paging":{"prev":{"before":"0"}}}`,
		"many records": `{"results":[{"id":"1","properties":{"a":"1","b":"2"}},{"id":"2","properties":{"b":"3","c":""}},` +
			`{"id":"3","properties":{"a":null}}],"paging":{"next":{"after":"4","link":"x"}}}`,
		"keys reordered": `{"results":[{"id":"1","properties":{"a":"1","b":"2","c":"3"}},{"id":"2","properties":{"c":"4","a":"5","b":"6"}},` +
			`{"id":"3","properties":{"a":"7","b":"8","c":"9"}},{"id":"4","properties":{"b":"10"}}]}`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			// Columns asked for ("b", and "z", which no record has) come
			// first, in order.
			got := listResponse{cols: newColumns([]string{"b", "z"})}
			if err := json.Unmarshal([]byte(doc), &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Results) > 0 && (len(got.Columns) < 2 || got.Columns[0] != "b" || got.Columns[1] != "z") {
				t.Fatalf("columns %q do not begin with the ones asked for", got.Columns)
			}
			// The reference: reflection into the same shapes.
			var want struct {
				Results []struct {
					ID         string            `json:"id"`
					Properties map[string]string `json:"properties"`
					CreatedAt  time.Time         `json:"createdAt"`
					UpdatedAt  time.Time         `json:"updatedAt"`
					Archived   bool              `json:"archived"`
				} `json:"results"`
				Paging *struct {
					Next *struct {
						After string `json:"after"`
					} `json:"next"`
				} `json:"paging"`
			}
			if err := json.Unmarshal([]byte(doc), &want); err != nil {
				t.Fatal(err)
			}
			if len(got.Results) != len(want.Results) {
				t.Fatalf("%d results, want %d", len(got.Results), len(want.Results))
			}
			for i, w := range want.Results {
				g := got.Results[i]
				// By name: every value sent, and "" for a column not sent.
				gp, wp := map[string]string{}, map[string]string{}
				for col, name := range got.Columns {
					gp[name], wp[name] = g.Values[col], ""
				}
				maps.Copy(wp, w.Properties)
				if len(g.Values) != len(got.Columns) {
					t.Fatalf("record %d has %d values for %d columns", i, len(g.Values), len(got.Columns))
				}
				if g.ID != w.ID || !reflect.DeepEqual(gp, wp) || g.Archived != w.Archived ||
					!g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) {
					t.Fatalf("record %d: got %+v, want %+v", i, g, w)
				}
			}
			wantNext := ""
			if want.Paging != nil && want.Paging.Next != nil {
				wantNext = want.Paging.Next.After
			}
			if got.next() != wantNext {
				t.Fatalf("next %q, want %q", got.next(), wantNext)
			}
		})
	}
	for name, doc := range map[string]string{
		"not an object": `[]`,
		"object value":  `{"results":[{"id":"1","properties":{"a":{"b":1}}}]}`,
		"truncated":     `{"results":[{"id":"1","properties":{"a":"x`,
		"bad time":      `{"results":[{"id":"1","createdAt":"yesterday"}]}`,
	} {
		t.Run("rejects "+name, func(t *testing.T) {
			var got listResponse
			if err := json.Unmarshal([]byte(doc), &got); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
