package restore

import (
	"context"
	"fmt"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
)

// ObjectChoice is an object of a backup as a restore picker lists it.
type ObjectChoice struct {
	Name         string `json:"name"`
	ObjectTypeID string `json:"objectTypeId"`
	Singular     string `json:"singular"`
	Plural       string `json:"plural"`
	Custom       bool   `json:"custom,omitempty"`
	Rows         int64  `json:"rows"`
	Restorable   bool   `json:"restorable"`
	// Reason says why the object cannot be restored (when it cannot), in
	// English; ReasonCode is the same as one of ReasonCodes.
	Reason     string `json:"reason,omitempty"`
	ReasonCode string `json:"reasonCode,omitempty"`
}

// PropertyChoice is a backed-up property as a restore picker lists it.
type PropertyChoice struct {
	Name        string `json:"name"`
	Label       string `json:"label,omitempty"`
	Type        string `json:"type,omitempty"`
	FieldType   string `json:"fieldType,omitempty"`
	Sensitivity string `json:"sensitivity,omitempty"`
	Restorable  bool   `json:"restorable"`
	Reason      string `json:"reason,omitempty"`     // as ObjectChoice's
	ReasonCode  string `json:"reasonCode,omitempty"` // as ObjectChoice's
}

// pickable is a completed backup whose files are kept, and what keeps a
// restore from it now ("" if none): its expiry too close.
func (s *Service) pickable(ctx context.Context, accountID, backupID string) (*backup.Archive, string, error) {
	b, err := s.completedBackup(ctx, accountID, backupID)
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	if b.Expired(now) {
		return nil, "", apperr.New(apperr.Gone, "backup %s expired at %s: its files are deleted", backupID, b.ExpiresAt.Format(time.RFC3339))
	}
	why := ""
	if b.ExpiresAt.Sub(now) < MaxRun {
		why = fmt.Sprintf("the backup expires at %s, sooner than the %s a restore may take", b.ExpiresAt.Format(time.RFC3339), MaxRun)
	}
	archive, err := backup.OpenArchive(ctx, s.Blobs, b.Key)
	if err != nil {
		return nil, "", err
	}
	return archive, why, nil
}

// Objects lists a backup's objects, each restorable or not, and why.
func (s *Service) Objects(ctx context.Context, accountID, backupID string) ([]ObjectChoice, error) {
	archive, why, err := s.pickable(ctx, accountID, backupID)
	if err != nil {
		return nil, err
	}
	out := make([]ObjectChoice, 0, len(archive.Manifest.Objects))
	for i := range archive.Manifest.Objects {
		o := &archive.Manifest.Objects[i]
		c := ObjectChoice{Name: o.Name, ObjectTypeID: o.ObjectTypeID, Singular: o.Singular, Plural: o.Plural, Custom: o.Custom, Rows: o.Rows}
		c.ReasonCode, c.Reason = unrestorableObject(o)
		switch {
		case c.ReasonCode != "":
		case o.Rows == 0:
			c.ReasonCode, c.Reason = ReasonNoRecords, "the backup holds no record of it"
		case why != "":
			c.ReasonCode, c.Reason = ReasonExpiresSoon, why
		default:
			c.Restorable = true
		}
		out = append(out, c)
	}
	return out, nil
}

// Properties lists the backed-up properties of one object of a backup,
// each restorable into the portal now or not, and why.
func (s *Service) Properties(ctx context.Context, accountID, backupID, object string) ([]PropertyChoice, error) {
	archive, why, err := s.pickable(ctx, accountID, backupID)
	if err != nil {
		return nil, err
	}
	o, err := archive.Object(object)
	if err != nil {
		return nil, apperr.New(apperr.NotFound, "backup %s holds no object %q", backupID, clip(object))
	}
	if err := Restorable(o); err != nil {
		return nil, err
	}
	_, current, err := s.portalProperties(ctx, accountID, o)
	if err != nil {
		return nil, err
	}
	now := byName(current)
	out := make([]PropertyChoice, 0, len(o.Properties))
	for _, p := range o.Properties {
		c := PropertyChoice{Name: p.Name, Label: p.Label, Type: p.Type, FieldType: p.FieldType, Sensitivity: p.Sensitivity}
		c.ReasonCode, c.Reason = unwritable(p.Name, now)
		if c.ReasonCode == "" && why != "" {
			c.ReasonCode, c.Reason = ReasonExpiresSoon, why
		}
		c.Restorable = c.ReasonCode == ""
		out = append(out, c)
	}
	return out, nil
}
