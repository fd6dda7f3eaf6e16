package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/workflow/asl"
)

// Failure is a step's error as the state machine sees it: Name is the error
// name its Retry and Catch match (asl.ErrorTransient or asl.ErrorPermanent),
// Reason what an admin reads about it. Both are decided here, while the
// typed error still exists; the function reports them as its Lambda error
// (errorType, errorMessage), Step Functions hands that to the catching
// state as its Cause, and the backup or import records the Reason
// (backup.StepError.Reason).
type Failure struct {
	Name   string
	Reason string
	Err    error
}

func (f *Failure) Error() string { return f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

// Transient returns err as a failure worth retrying.
func Transient(err error) *Failure {
	return &Failure{Name: asl.ErrorTransient, Reason: Reason(err), Err: err}
}

// Permanent returns err as a failure retrying cannot fix: the state machine
// goes straight to its Catch.
func Permanent(err error) *Failure {
	return &Failure{Name: asl.ErrorPermanent, Reason: Reason(err), Err: err}
}

// Classify makes a step's error a *Failure, Transient or Permanent.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var f *Failure
	var hs *hubspot.Error
	switch {
	case errors.As(err, &f):
		return err
	case errors.As(err, &hs) && hs.Daily():
		return Permanent(err)
	case errors.Is(err, hubspot.ErrUnauthorized), errors.Is(err, hubspot.ErrValidation), errors.Is(err, hubspot.ErrNotFound):
		return Permanent(err)
	case errors.Is(err, context.Canceled):
		return Transient(err)
	}
	switch apperr.Code(err) {
	case apperr.Invalid, apperr.NotFound, apperr.Conflict, apperr.Forbidden, apperr.Gone, apperr.QuotaUsed, apperr.Unauthorized:
		return Permanent(err)
	}
	return Transient(err)
}

// Reason says in a sentence, for an admin, why a step failed: the one
// wording of failures for backups, plans and restores alike. It names what
// HubSpot said and what to do about it, never internals, never CRM values
// (HubSpot's own messages for a refused request can quote them, so only
// its category and correlation id are shown).
func Reason(err error) string {
	var hs *hubspot.Error
	var ae *apperr.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &hs):
		return hubspotReason(hs)
	case errors.Is(err, hubspot.ErrUnreachable):
		return "HubSpot unreachable: " + innermost(err).Error()
	case errors.As(err, &ae) && ae.Code != apperr.Internal:
		return ae.Message
	case errors.Is(err, context.DeadlineExceeded):
		return "the step ran out of time"
	case errors.Is(err, context.Canceled):
		return "the step was stopped"
	}
	return "an internal error stopped it (the function's log has the details)"
}

func hubspotReason(e *hubspot.Error) string {
	id := ""
	if e.CorrelationID != "" {
		id = "; HubSpot's correlation id " + e.CorrelationID
	}
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		return "HubSpot rejected the account's credential (HTTP 401): the service key or private-app token is wrong, expired or revoked; store a valid one" + id
	case e.StatusCode == http.StatusForbidden && len(e.Scopes) > 0:
		return "HubSpot refused access: the account's credential lacks the scopes " + strings.Join(e.Scopes, ", ") + "; add them to the service key (or private app)" + id
	case e.StatusCode == http.StatusForbidden:
		return "HubSpot refused access (HTTP 403" + category(e) + "): the account's credential lacks a permission this needs" + id
	case e.StatusCode == http.StatusTooManyRequests && e.Daily():
		until := "midnight in the portal's time zone"
		if e.RetryAfter > 0 {
			until = time.Now().Add(e.RetryAfter).UTC().Format("2006-01-02 15:04 MST")
		}
		return "HubSpot's daily API limit for the portal is used up until " + until + "; try again after that"
	case e.StatusCode == http.StatusTooManyRequests:
		return fmt.Sprintf("HubSpot kept answering that its rate limit was reached (HTTP 429, %d attempts): other integrations may be using the portal's limit; try again later", e.Attempts)
	case e.StatusCode == http.StatusLocked || e.StatusCode == hubspot.StatusMigrationInProgress:
		what := "the records are locked (HTTP 423)"
		if e.StatusCode == hubspot.StatusMigrationInProgress {
			what = "the portal's data is being migrated (HTTP 477)"
		}
		return fmt.Sprintf("HubSpot kept answering that %s, %d attempts; try again later%s", what, e.Attempts, id)
	case e.StatusCode >= 500:
		return fmt.Sprintf("HubSpot kept failing (HTTP %d, %d attempts); try again later%s", e.StatusCode, e.Attempts, id)
	case e.StatusCode == http.StatusNotFound:
		return "HubSpot has no " + e.Path + " (HTTP 404): an object or property was removed while this ran" + id
	}
	return fmt.Sprintf("HubSpot refused a request (HTTP %d%s)%s", e.StatusCode, category(e), id)
}

func category(e *hubspot.Error) string {
	if e.Category == "" {
		return ""
	}
	return ", " + e.Category
}

// innermost is the error at the end of err's chain (the last branch of a
// joined one: fmt.Errorf("…%w: %w", ErrUnreachable, cause) puts the cause
// last).
func innermost(err error) error {
	for {
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			if next := u.Unwrap(); next != nil {
				err = next
				continue
			}
		case interface{ Unwrap() []error }:
			if errs := u.Unwrap(); len(errs) > 0 {
				err = errs[len(errs)-1]
				continue
			}
		}
		return err
	}
}

// lambdaError is a step's error as its function returns it to the Lambda
// runtime: errorType is the failure's Name and errorMessage its Reason,
// set explicitly rather than from a Go type's name. The whole error goes to
// the function's log; only the reason reaches the execution history.
func lambdaError(ctx context.Context, log *slog.Logger, step string, err error) error {
	if err == nil {
		return nil
	}
	var f *Failure
	if !errors.As(Classify(err), &f) {
		return err
	}
	if log != nil {
		log.ErrorContext(ctx, "step failed", "step", step, "errorType", f.Name, "reason", f.Reason, "error", logDetail(err))
	}
	return messages.InvokeResponse_Error{Type: f.Name, Message: f.Reason}
}

// ErrorName is the error name a handler's error reaches the state machine
// with: what the Lambda runtime reports as errorType.
func ErrorName(err error) string {
	var ie messages.InvokeResponse_Error
	if errors.As(err, &ie) {
		return ie.Type
	}
	var f *Failure
	if errors.As(err, &f) {
		return f.Name
	}
	return goTypeName(err)
}

// ErrorMessage is what the Lambda runtime reports as errorMessage.
func ErrorMessage(err error) string {
	var ie messages.InvokeResponse_Error
	if errors.As(err, &ie) {
		return ie.Message
	}
	return err.Error()
}

// logDetail is what the function's log keeps of a step's error: the whole
// chain, except that a HubSpot answer is named by its request, status,
// category and correlation id, not its message (which can quote CRM values).
func logDetail(err error) string {
	var he *hubspot.Error
	if !errors.As(err, &he) {
		return err.Error()
	}
	return fmt.Sprintf("hubspot: %s %s: %d %s (correlationId %s, %d attempts)", he.Method, he.Path, he.StatusCode, he.Category, he.CorrelationID, he.Attempts)
}
