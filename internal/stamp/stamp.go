// Package stamp is the one form in which the stores keep a time: a
// fixed-width UTC string, so stamps compare as strings (in DynamoDB
// condition expressions and in the in-memory store alike) the way the
// times compare. The zero time is the empty string.
package stamp

import "time"

const layout = "2006-01-02T15:04:05.000000000Z"

// Of is t as a stamp ("" for the zero time).
func Of(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(layout)
}

// Time is the time a stamp holds (the zero time for "" or a malformed
// stamp).
func Time(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}
