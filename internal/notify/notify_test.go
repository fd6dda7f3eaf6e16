package notify

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSubject(t *testing.T) {
	long := strings.Repeat("é", 150)
	for _, tt := range []struct{ in, want string }{
		{"Your CRM backup is ready", "Your CRM backup is ready"},
		{"line\nbreak\ttab\x00nul", "line break tab nul"},
		{"bad \xff byte", "bad   byte"},
		{long, strings.Repeat("é", MaxSubjectRunes-1) + "…"},
	} {
		got := Subject(tt.in)
		if got != tt.want {
			t.Errorf("Subject(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > MaxSubjectRunes {
			t.Errorf("Subject(%q) = %q: invalid or too long", tt.in, got)
		}
	}
}
