package restore_test

import (
	"errors"
	"testing"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/testenv/goconst"
)

// ReasonCodes lists every Reason… constant of the package (read from its
// source, so that a new reason cannot be left out of the console's
// catalogue, which a test of internal/console checks against ReasonCodes).
func TestReasonCodesAreDeclared(t *testing.T) {
	goconst.Same(t, "ReasonCodes", restore.ReasonCodes, "restore.go", "Reason")
}

// A refused object says why in its error's details too.
func TestRestorableGivesTheReasonCode(t *testing.T) {
	err := restore.Restorable(&backup.ManifestObject{Name: backup.Conversations})
	var e *apperr.Error
	if !apperr.Is(err, apperr.Invalid) || !errors.As(err, &e) || e.Details["reasonCode"] != restore.ReasonConversations {
		t.Fatalf("conversations: %v", err)
	}
	if err := restore.Restorable(&backup.ManifestObject{Name: "deals"}); err != nil {
		t.Fatalf("deals: %v", err)
	}
}
