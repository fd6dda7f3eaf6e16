// Package apperr is crmbackup's application error: a code every layer
// understands, a message safe to show the caller, and optional details. The
// HTTP layer maps codes to status codes in one place.
package apperr

import (
	"errors"
	"fmt"
)

// Codes.
const (
	Invalid      = "invalid"                   // 400: the request is wrong
	Unauthorized = "unauthorized"              // 401: no or bad credentials
	Forbidden    = "forbidden"                 // 403: not allowed for this caller
	Reauth       = "reauthentication_required" // 403: sign in again with two-factor first
	NeedsTier    = "enterprise_required"       // 403: the account's HubSpot tier does not include it
	NotFound     = "not_found"                 // 404
	Conflict     = "conflict"                  // 409: the state does not allow it (yet)
	Gone         = "gone"                      // 410: it existed but has expired
	QuotaUsed    = "quota_exceeded"            // 429: the account's backup quota is used
	Internal     = "internal"                  // 500
)

// Error is an application error.
type Error struct {
	Code    string
	Message string
	Details map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// New returns an error with code and a formatted message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// With returns a copy of e with a detail added.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Details = make(map[string]any, len(e.Details)+1)
	for k, v := range e.Details {
		c.Details[k] = v
	}
	c.Details[key] = value
	return &c
}

// Code returns the code of the first *Error in err's chain, Internal if none.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code string) bool { return err != nil && Code(err) == code }

// Message is the caller-safe message of err's *Error, "" if it has none.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}
