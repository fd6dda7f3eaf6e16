package hubspot

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Sentinel errors callers branch on with errors.Is. Every *Error returned by
// the client matches exactly one of them (see Error.Is).
var (
	ErrUnauthorized = errors.New("hubspot: unauthorized")         // 401, 403
	ErrNotFound     = errors.New("hubspot: not found")            // 404
	ErrValidation   = errors.New("hubspot: invalid request")      // other 4xx
	ErrRateLimited  = errors.New("hubspot: rate limited")         // 429
	ErrServer       = errors.New("hubspot: server error")         // 5xx
	ErrURITooLong   = errors.New("hubspot: request URI too long") // 414
	// ErrRetryLater: HubSpot asked to try again later (423 Locked, 477
	// Migration in progress) and was still not ready after every attempt.
	ErrRetryLater = errors.New("hubspot: try again later") // 423, 477
	// ErrUnreachable: no answer came from HubSpot (DNS, connection, TLS,
	// or a connection dropped on every attempt).
	ErrUnreachable = errors.New("hubspot: unreachable")
)

// Error is a non-2xx answer from HubSpot, decoded from its standard error body
// ({status, message, correlationId, category}).
type Error struct {
	StatusCode    int
	Method        string
	Path          string // path only: the query may hold property names, never the token
	Category      string
	Message       string
	CorrelationID string
	// Attempts is how many times the request was sent before giving up.
	Attempts int
	// Policy and RetryAfter are set on 429: HubSpot's policyName (e.g.
	// TEN_SECONDLY_ROLLING or DAILY) and its Retry-After hint.
	Policy     string
	RetryAfter time.Duration
	// Scopes are the scopes HubSpot says the call needs, on a 403
	// MISSING_SCOPES (from errors[].context.requiredGranularScopes).
	Scopes []string
	// OutOfTime: HubSpot said to retry later, and later is past the
	// caller's deadline (see OutOfTime).
	OutOfTime bool
}

// OutOfTime reports whether err is a passing refusal whose retry would
// come after the caller's deadline: a step should checkpoint and end, to
// be run again, rather than fail.
func OutOfTime(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.OutOfTime
}

// Daily reports a 429 for the portal's daily cap: retrying today is pointless.
func (e *Error) Daily() bool { return e.Policy == "DAILY" }

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	s := fmt.Sprintf("hubspot: %s %s: %d", e.Method, e.Path, e.StatusCode)
	if e.Category != "" {
		s += " " + e.Category
	}
	s += ": " + msg
	if e.CorrelationID != "" {
		s += " (correlationId " + e.CorrelationID + ")"
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" after %d attempts", e.Attempts)
	}
	return s
}

// Is maps the status code to the sentinel errors.
func (e *Error) Is(target error) bool {
	return target == sentinelFor(e.StatusCode)
}

func sentinelFor(status int) error {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ErrUnauthorized
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status == http.StatusRequestURITooLong:
		return ErrURITooLong
	case status == http.StatusLocked || status == StatusMigrationInProgress:
		return ErrRetryLater
	case status >= 500:
		return ErrServer
	default:
		return ErrValidation
	}
}

// StatusMigrationInProgress is HubSpot's 477: the portal's data is being
// migrated; try again after Retry-After.
const StatusMigrationInProgress = 477

// MinLockedWait is the least HubSpot asks a client to wait after a 423.
const MinLockedWait = 2 * time.Second

// retryLater reports an answer HubSpot documents as worth retrying after a
// wait: 423 Locked and 477 Migration in progress.
func retryLater(status int) bool {
	return status == http.StatusLocked || status == StatusMigrationInProgress
}

// BatchError is one failed input group of a 207 multi-status batch answer.
type BatchError struct {
	Category string
	Message  string
	// IDs are the record ids the error is about (HubSpot's context.ids or context.id).
	IDs []string
	// Properties are the property names the error is about, when HubSpot says.
	Properties []string
}

// MissingScopes collects the scopes HubSpot's 403 MISSING_SCOPES answers
// name, over several requests (a preflight's), so that a caller can refuse
// once, naming all of them.
type MissingScopes struct {
	Scopes []string // each once, in the order HubSpot named them
	Last   *Error   // the last such answer
}

// Add notes err's missing scopes and reports whether err was a 403 naming
// scopes.
func (m *MissingScopes) Add(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusForbidden || len(e.Scopes) == 0 {
		return false
	}
	m.Last = e
	for _, sc := range e.Scopes {
		if !slices.Contains(m.Scopes, sc) {
			m.Scopes = append(m.Scopes, sc)
		}
	}
	return true
}

// ProbeRecordID is a record id no portal has: a scope probe's read or
// write names it, so that HubSpot checks the scopes and then finds nothing
// to read or write.
const ProbeRecordID = "0"

// Probe reads the answer to a scope probe (a request HubSpot checks the
// scopes of before anything else): a missing scope is noted and is no
// error, and neither is an answer about the request or the record (they
// mean the scopes are there); anything else is returned.
func (m *MissingScopes) Probe(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrNotFound), errors.Is(err, ErrValidation), m.Add(err):
		return nil
	}
	return err
}

// Err is nil when no scope was missing, else one 403 naming every scope
// noted.
func (m *MissingScopes) Err() error {
	if len(m.Scopes) == 0 {
		return nil
	}
	e := *m.Last
	e.Scopes = m.Scopes
	return &e
}
