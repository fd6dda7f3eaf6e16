package blobkey

import (
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, key string
		want         bool
	}{
		{"work/*", "work/a/b", true},
		{"work/*", "backups/a", false},
		{"work/*/chunks/*", "work/acme/01B/chunks/contacts/000000.deflate", true},
		{"work/*/chunks/*", "work/acme/01B/objects.json", false},
		{"backups/*.zip", "backups/acme/01B/x.zip", true},
		{"backups/*.zip", "backups/acme/imports/01I/errors.csv", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"", "", true},
		{"*", "", true},
		{"a**b", "axyb", true},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.key); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.key, got, tt.want)
		}
	}
}

// TestKinds: every kind's example is of that kind and no other, and lies
// under a lifecycle rule.
func TestKinds(t *testing.T) {
	examples := map[string]Kind{
		Discovery("a", "b"):              KindDiscovery,
		Chunk("a", "b", "deals", 3):      KindChunk,
		ChunkState("a", "b", "deals", 3): KindChunk,
		ZIP("a", "b", "f.zip"):           KindZIP,
		ErrorChunk("a", "i", 100):        KindErrorChunk,
		ErrorFile("a", "i"):              KindErrorFile,
	}
	for _, k := range Kinds() {
		examples[k.Example] = k
	}
	for key, want := range examples {
		var of []string
		for _, k := range Kinds() {
			if Match(k.Pattern, key) {
				of = append(of, k.Name)
			}
		}
		if len(of) != 1 || of[0] != want.Name {
			t.Errorf("%s is of kinds %v, want only %s", key, of, want.Name)
		}
		covered := 0
		for _, r := range Lifecycle {
			if Match(r.Prefix+"*", key) {
				covered++
			}
		}
		if covered != 1 {
			t.Errorf("%s is under %d lifecycle rules, want 1", key, covered)
		}
		if got := ContentType(key); got != want.ContentType {
			t.Errorf("ContentType(%s) = %q, want %q", key, got, want.ContentType)
		}
	}
	if _, ok := KindOf("elsewhere/x"); ok {
		t.Error("a key outside the layout has a kind")
	}
}
