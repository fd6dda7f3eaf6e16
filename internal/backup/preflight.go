package backup

import (
	"context"
	"fmt"
	"slices"

	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// preflight checks, before any work, that the credential can read every
// value the backup will read: for each object, one list request of one
// record asking for one property of each sensitivity level the object has.
// HubSpot answers a missing scope with 403 MISSING_SCOPES naming the scopes
// the call needs; the missing scopes of every object are collected, so that
// the backup fails once, naming all of them in HubSpot's own scope names.
// Conversations need no check here: discovery has read every thread.
func preflight(ctx context.Context, crm CRM, objs []Object) error {
	var missing hubspot.MissingScopes
	for _, o := range objs {
		if o.Name == Conversations {
			continue
		}
		var probe []string
		levels := map[string]bool{}
		for _, p := range o.Properties {
			if !levels[p.Sensitivity] {
				levels[p.Sensitivity] = true
				probe = append(probe, p.Name)
			}
		}
		for _, err := range crm.Pages(ctx, o.TypeID, hubspot.ListOptions{Limit: 1, Properties: probe}) {
			if err != nil && !missing.Add(err) {
				return fmt.Errorf("preflight of %s: %w", o.Name, err)
			}
			break // one page tells
		}
	}
	if err := missing.Err(); err != nil {
		return fmt.Errorf("preflight: %w", err)
	}
	return nil
}

// LeftOutSensitive is the omission of an account configured to leave
// sensitive data out.
var LeftOutSensitive = Omission{What: "Sensitive and Highly Sensitive properties",
	Why: "the account is configured to leave sensitive data out of its backups"}

// withoutSensitive drops every Sensitive and Highly Sensitive property.
func withoutSensitive(objs []Object) {
	for i := range objs {
		objs[i].Properties = slices.DeleteFunc(objs[i].Properties, func(p Property) bool {
			return p.Sensitivity != "" && p.Sensitivity != hubspot.NonSensitive
		})
	}
}
