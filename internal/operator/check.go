package operator

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// CRM is what a credential's check asks HubSpot (the hubspot client).
type CRM interface {
	AccountDetails(ctx context.Context) (*hubspot.AccountDetails, error)
	Schemas(ctx context.Context) ([]hubspot.Schema, error)
	Properties(ctx context.Context, objectType string) ([]hubspot.Property, error)
	Pages(ctx context.Context, objectType string, opts hubspot.ListOptions) iter.Seq2[*hubspot.Page, error]
	ThreadPages(ctx context.Context, opts hubspot.ListOptions) iter.Seq2[*hubspot.Page, error]
	BatchUpdate(ctx context.Context, objectType string, inputs []hubspot.UpdateInput) (*hubspot.BatchResult, error)
	Users(ctx context.Context) iter.Seq2[hubspot.User, error]
	SuperAdmin(ctx context.Context, email string) (*hubspot.User, error)
}

// Check is what HubSpot says of an account's credential: the portal it
// reaches and the scopes the product needs that it lacks, each in
// HubSpot's own names.
type Check struct {
	PortalID    int64  `json:"portalId"`
	AccountType string `json:"accountType,omitempty"`
	TimeZone    string `json:"timeZone,omitempty"`
	UIDomain    string `json:"uiDomain,omitempty"`
	// Objects are the objects a backup would hold (custom ones included).
	Objects []string `json:"objects"`
	// MissingBackup are scopes without which a backup fails: reading an
	// object, its Sensitive or Highly Sensitive values, the custom object
	// schemas, the conversations.
	MissingBackup []string `json:"missingBackupScopes"`
	// MissingRestore are scopes without which restores fail: writing an
	// object and its sensitive values.
	MissingRestore []string `json:"missingRestoreScopes"`
	// MissingUsers is the scope `admins add` and `admins check` need to
	// tell the portal's Super Admins.
	MissingUsers []string `json:"missingUsersScopes"`
}

// OK reports whether nothing the product needs is missing.
func (c *Check) OK() bool {
	return len(c.MissingBackup)+len(c.MissingRestore)+len(c.MissingUsers) == 0
}

// CheckCredential asks HubSpot, with the credential crm holds, what the
// product needs of it: the account information (the portal), every
// object's read (one record of one property per sensitivity level), the
// write of every restorable object (an update of a record that does not
// exist: HubSpot checks scopes first and then writes nothing), the inbox
// and the users. A refusal for a missing scope is noted, never an error;
// any other failure is (HubSpot rejected the credential, unreachable).
func CheckCredential(ctx context.Context, crm CRM, tier backup.Tier) (*Check, error) {
	d, err := crm.AccountDetails(ctx)
	if err != nil {
		return nil, fmt.Errorf("HubSpot's account information: %w", err)
	}
	c := &Check{PortalID: d.PortalID, AccountType: d.AccountType, TimeZone: d.TimeZone, UIDomain: d.UIDomain}
	var read, write, users hubspot.MissingScopes
	type object struct{ name, typeID string }
	var objs []object
	for _, s := range backup.StandardObjects {
		objs = append(objs, object{s.Name, s.TypeID})
	}
	schemas, err := crm.Schemas(ctx)
	switch {
	case err != nil && tier != backup.Enterprise && errors.Is(err, hubspot.ErrUnauthorized):
		// No custom objects below Enterprise: HubSpot refuses the endpoint.
	case err != nil:
		if err := read.Probe(err); err != nil {
			return nil, fmt.Errorf("custom object schemas: %w", err)
		}
	}
	for _, s := range schemas {
		if !s.Archived {
			objs = append(objs, object{s.Name, s.ObjectTypeID})
		}
	}
	for _, o := range objs {
		c.Objects = append(c.Objects, o.name)
		props, err := crm.Properties(ctx, o.typeID)
		if err != nil {
			if err := read.Probe(err); err != nil {
				return nil, fmt.Errorf("properties of %s: %w", o.name, err)
			}
			continue
		}
		readProbe, writeProbe := probes(props)
		for _, err := range crm.Pages(ctx, o.typeID, hubspot.ListOptions{Limit: 1, Properties: readProbe}) {
			if err := read.Probe(err); err != nil {
				return nil, fmt.Errorf("reading %s: %w", o.name, err)
			}
			break // one page tells
		}
		values := make(map[string]string, len(writeProbe))
		for _, p := range writeProbe {
			values[p] = ""
		}
		if len(values) > 0 {
			_, err := crm.BatchUpdate(ctx, o.typeID, []hubspot.UpdateInput{{ID: hubspot.ProbeRecordID, Properties: values}})
			if err := write.Probe(err); err != nil {
				return nil, fmt.Errorf("the write check of %s: %w", o.name, err)
			}
		}
	}
	c.Objects = append(c.Objects, backup.Conversations)
	for _, err := range crm.ThreadPages(ctx, hubspot.ListOptions{Limit: 1}) {
		if err := read.Probe(err); err != nil {
			return nil, fmt.Errorf("reading conversations: %w", err)
		}
		break
	}
	for _, err := range crm.Users(ctx) {
		if err := users.Probe(err); err != nil {
			return nil, fmt.Errorf("reading the portal's users: %w", err)
		}
		break
	}
	c.MissingBackup, c.MissingRestore, c.MissingUsers = orEmpty(read.Scopes), orEmpty(write.Scopes), orEmpty(users.Scopes)
	return c, nil
}

// probes picks, for each sensitivity level an object's properties have,
// one property to read and one writable property to write: HubSpot checks
// a sensitive scope per level.
func probes(props []hubspot.Property) (read, write []string) {
	readLevels, writeLevels := map[string]bool{}, map[string]bool{}
	for _, p := range props {
		if p.Name == "hs_object_id" {
			continue
		}
		level := p.DataSensitivity
		if !readLevels[level] {
			readLevels[level] = true
			read = append(read, p.Name)
		}
		if p.Writable() && !writeLevels[level] {
			writeLevels[level] = true
			write = append(write, p.Name)
		}
	}
	slices.Sort(read)
	slices.Sort(write)
	return read, write
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
