package hubspot

import (
	"net/url"
	"testing"
)

// TestEncodeQueryKeepsOnlyThePropertyListsCommas: the commas of the
// properties list go as they are; every other value, a property name's
// other characters included, is escaped as url.Values.Encode escapes it.
func TestEncodeQueryKeepsOnlyThePropertyListsCommas(t *testing.T) {
	for _, tt := range []struct {
		q    url.Values
		want string
	}{
		{url.Values{"limit": {"100"}}, "limit=100"},
		{url.Values{"properties": {"email,firstname"}}, "properties=email,firstname"},
		{url.Values{"limit": {"100"}, "after": {"a,b&c"}, "properties": {"email,first name,a&b"}},
			"after=a%2Cb%26c&limit=100&properties=email,first+name,a%26b"},
		{url.Values{"properties": {"a", "b"}}, "properties=a&properties=b"}, // not a list: as Encode does
	} {
		if got := encodeQuery(tt.q); got != tt.want {
			t.Errorf("encodeQuery(%v) = %q, want %q", tt.q, got, tt.want)
		}
		if back, err := url.ParseQuery(encodeQuery(tt.q)); err != nil || back.Encode() != tt.q.Encode() {
			t.Errorf("encodeQuery(%v) decodes to %v (%v)", tt.q, back, err)
		}
	}
}
