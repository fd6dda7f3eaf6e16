package backup

import (
	"encoding/json"
	"strings"

	"github.com/crmbackup/crmbackup/internal/workflow/asl"
)

// StepError is the error Step Functions caught ({Error, Cause}).
//
// When one of crmbackup's functions failed, Error is its errorType
// ("Transient" or "Permanent") and Cause the function's error payload as a
// JSON string, {"errorMessage": …, "errorType": …}, whose errorMessage is
// already the reason an admin reads (decided where the typed error existed:
// workflow.Classify). Otherwise Error is Step Functions' own (States.Timeout,
// Lambda.…, Runtime.… when a function crashed) and Cause its text.
type StepError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// Reason is what an admin reads about how what ("the backup", "the
// restore", …) ended: the failed function's reason, or a plain sentence for
// failures no function of ours reported (the full cause is in the execution
// history and the functions' logs).
// The errors of an execution that ended without running its Catch (as the
// "ended" function reports them).
const (
	ExecutionTimedOut = "Execution.TimedOut"
	ExecutionAborted  = "Execution.Aborted"
)

func (e *StepError) Reason(what string) string {
	if e == nil {
		return what + " failed"
	}
	var payload struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	switch {
	case e.Error == asl.ErrorTransient || e.Error == asl.ErrorPermanent:
		if json.Unmarshal([]byte(e.Cause), &payload) == nil && payload.ErrorMessage != "" {
			return payload.ErrorMessage
		}
		return what + " failed"
	case e.Error == "States.Timeout":
		return what + " timed out"
	case e.Error == ExecutionTimedOut:
		return what + " ran longer than the 24 hours its workflow allows, and was stopped"
	case e.Error == ExecutionAborted:
		return what + " was stopped: its workflow execution was aborted"
	case strings.HasPrefix(e.Error, "Lambda.") || strings.HasPrefix(e.Error, "Runtime.") ||
		strings.HasPrefix(e.Error, "Sandbox.") || e.Error == "States.TaskFailed":
		return what + " stopped: one of its functions failed (" + e.Error + "); the functions' logs have the details"
	}
	return what + " failed (" + e.Error + ")"
}
