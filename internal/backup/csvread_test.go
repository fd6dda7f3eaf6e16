package backup

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestCSVRoundTrip: every value appendCSVField writes comes back byte for
// byte, CR LF inside values included.
func TestCSVRoundTrip(t *testing.T) {
	records := [][]string{
		{"hs_object_id", "name", "notes"},
		{"1", "plain", ""},
		{"2", "comma, inside", "line one\r\nline two"},
		{"3", `say "hi"`, "bare\nLF and bare\rCR"},
		{"4", " padded ", "=SUM(A1:A2)"},
		{"5", "émoji 🚀 ünïcode", `"`},
		{"6", "", ""},
	}
	var buf []byte
	for _, rec := range records {
		for i, f := range rec {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendCSVField(buf, f)
		}
		buf = append(buf, '\r', '\n')
	}
	r := NewCSVReader(strings.NewReader(string(buf)))
	r.FieldsPerRecord = 3
	for i, want := range records {
		got, err := r.Read()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("record %d: %q, want %q", i, got, want)
		}
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("after the last record: %v", err)
	}
}

func TestCSVReaderRejectsMalformed(t *testing.T) {
	for name, in := range map[string]string{
		"unterminated quote":  "1,\"open\r\n",
		"text after a quote":  "1,\"a\"b\r\n",
		"wrong field count":   "1,2\r\n",
		"CR without LF":       "1,2,3\rx",
		"short record at end": "1,2,3\r\n4,5",
	} {
		t.Run(name, func(t *testing.T) {
			r := NewCSVReader(strings.NewReader(in))
			r.FieldsPerRecord = 3
			var err error
			for err == nil {
				_, err = r.Read()
			}
			if !errors.Is(err, ErrCSV) {
				t.Fatalf("got %v, want ErrCSV", err)
			}
		})
	}
}
