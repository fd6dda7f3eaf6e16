package restore

import (
	"context"
	"fmt"
	"strings"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// preflight checks, before a plan is computed, that the credential may read
// and write the chosen properties of the object (their sensitive scopes
// included): a batch read and a batch update of a record that does not
// exist. HubSpot checks scopes before it looks for records, so a missing
// scope is a 403 MISSING_SCOPES naming it, and otherwise the answer is only
// "not found": nothing is read or written. Every missing scope of both
// requests is collected, and the plan is refused naming them.
func preflight(ctx context.Context, crm CRM, objectTypeID string, props []string) error {
	var missing hubspot.MissingScopes
	_, err := crm.BatchRead(ctx, objectTypeID, []string{hubspot.ProbeRecordID}, props, false)
	if err := missing.Probe(err); err != nil {
		return fmt.Errorf("preflight read: %w", err)
	}
	values := make(map[string]string, len(props))
	for _, p := range props {
		values[p] = ""
	}
	_, err = crm.BatchUpdate(ctx, objectTypeID, []hubspot.UpdateInput{{ID: hubspot.ProbeRecordID, Properties: values}})
	if err := missing.Probe(err); err != nil {
		return fmt.Errorf("preflight write: %w", err)
	}
	if len(missing.Scopes) == 0 {
		return nil
	}
	return apperr.New(apperr.Conflict, "HubSpot refused access: the account's credential lacks the scopes %s; add them to the service key (or private app), then make the plan again (HubSpot's correlation id %s)",
		strings.Join(missing.Scopes, ", "), missing.Last.CorrelationID).With("missingScopes", missing.Scopes)
}
