package backup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// Object is one object type in a backup: what it is, its file in the ZIP
// and its columns.
type Object struct {
	Name     string `json:"name"`         // contacts, …, a custom object's name, conversations
	TypeID   string `json:"objectTypeId"` // 0-1, …, 2-…; "conversations" for inbox threads
	Singular string `json:"singular"`
	Plural   string `json:"plural"`
	Custom   bool   `json:"custom,omitempty"`
	File     string `json:"file"`
	// IDColumn is the first column: hs_object_id, or id for threads.
	IDColumn   string     `json:"idColumn"`
	Properties []Property `json:"properties"` // the other columns, in order
}

// propertyNames are the names of o's properties, in order: what its
// exports ask HubSpot for.
func (o *Object) propertyNames() []string {
	names := make([]string, len(o.Properties))
	for i, p := range o.Properties {
		names[i] = p.Name
	}
	return names
}

// Property is a column's metadata, as the manifest records it.
type Property struct {
	Name        string `json:"name"`
	Label       string `json:"label,omitempty"`
	Type        string `json:"type,omitempty"`
	FieldType   string `json:"fieldType,omitempty"`
	Sensitivity string `json:"sensitivity,omitempty"`
	ReadOnly    bool   `json:"readOnly"`
}

// Conversations is the pseudo object type of inbox threads.
const Conversations = "conversations"

// StandardObjects are HubSpot's standard objects a backup holds, in order.
var StandardObjects = []struct{ Name, TypeID, Singular, Plural string }{
	{"contacts", "0-1", "Contact", "Contacts"},
	{"companies", "0-2", "Company", "Companies"},
	{"deals", "0-3", "Deal", "Deals"},
	{"tickets", "0-5", "Ticket", "Tickets"},
	{"products", "0-7", "Product", "Products"},
	{"calls", "0-48", "Call", "Calls"},
	{"tasks", "0-27", "Task", "Tasks"},
}

// threadFields are the Conversations API's thread fields; fields a portal
// sends beyond these are added when discovery sees them.
var threadFields = []string{
	"createdAt", "status", "closedAt", "latestMessageTimestamp", "latestMessageSentTimestamp",
	"latestMessageReceivedTimestamp", "spam", "inboxId", "associatedContactId", "assignedTo",
	"originalChannelId", "originalChannelAccountId", "archived",
}

// Omission is something a backup does not hold, and why (the manifest
// lists them).
type Omission struct {
	What string `json:"what"`
	Why  string `json:"why"`
}

// NoCustomObjects is the omission of a portal below Enterprise.
var NoCustomObjects = Omission{What: "custom objects",
	Why: "HubSpot offers custom objects on Enterprise subscriptions only, and this portal's schemas endpoint refused (it has none)"}

// Discover lists the objects of a portal with their columns: the standard
// objects, every (unarchived) custom object, and conversations. Custom
// objects exist on Enterprise portals only, and HubSpot refuses the schemas
// endpoint (403) on the others: for an account whose tier is not Enterprise
// that refusal means "none" (an omission), for an Enterprise one it is the
// credential's missing scope, an error.
func Discover(ctx context.Context, crm CRM, tier Tier) ([]Object, []Omission, error) {
	var objs []Object
	var omitted []Omission
	for _, s := range StandardObjects {
		objs = append(objs, Object{Name: s.Name, TypeID: s.TypeID, Singular: s.Singular, Plural: s.Plural, File: s.Name + ".csv"})
	}
	schemas, err := crm.Schemas(ctx)
	switch {
	case err != nil && tier != Enterprise && errors.Is(err, hubspot.ErrUnauthorized):
		schemas, omitted = nil, append(omitted, NoCustomObjects)
	case err != nil:
		return nil, nil, fmt.Errorf("discover custom objects: %w", err)
	}
	slices.SortFunc(schemas, func(a, b hubspot.Schema) int { return strings.Compare(a.ObjectTypeID, b.ObjectTypeID) })
	for _, s := range schemas {
		if s.Archived {
			continue
		}
		objs = append(objs, Object{
			Name: s.Name, TypeID: s.ObjectTypeID, Singular: s.Labels.Singular, Plural: s.Labels.Plural, Custom: true,
			File: customFileName(s.Labels.Plural, s.Name, s.ObjectTypeID),
		})
	}
	// One request per object: side by side, they cost one round trip of
	// HubSpot's latency instead of a dozen (the budget still paces them).
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i := range objs {
		g.Go(func() error {
			props, err := crm.Properties(gctx, objs[i].TypeID)
			if err != nil {
				return fmt.Errorf("discover properties of %s: %w", objs[i].Name, err)
			}
			objs[i].IDColumn = "hs_object_id"
			objs[i].Properties = columns(props)
			return nil
		})
	}
	var threads Object
	g.Go(func() (err error) {
		threads, err = discoverThreads(gctx, crm)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	return append(objs, threads), omitted, nil
}

// columns orders an object's properties by name, hs_object_id excluded
// (it is the first column). Name order is stable when properties are added.
func columns(props []hubspot.Property) []Property {
	out := make([]Property, 0, len(props))
	for _, p := range props {
		if p.Name == "hs_object_id" {
			continue
		}
		out = append(out, Property{
			Name: p.Name, Label: p.Label, Type: p.Type, FieldType: p.FieldType,
			Sensitivity: p.DataSensitivity, ReadOnly: !p.Writable(),
		})
	}
	slices.SortFunc(out, func(a, b Property) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func discoverThreads(ctx context.Context, crm CRM) (Object, error) {
	// Threads carry different fields (HubSpot omits those without a value,
	// and sends some only for some threads): every thread is looked at, so
	// that every field any thread has becomes a column (an inbox is small
	// beside the CRM: one more pass over it costs little).
	names := slices.Clone(threadFields)
	for page, err := range crm.ThreadPages(ctx, hubspot.ListOptions{Limit: hubspot.MaxPageSize}) {
		if err != nil {
			return Object{}, fmt.Errorf("discover conversation threads: %w", err)
		}
		for _, c := range page.Columns {
			if !slices.Contains(names, c) {
				names = append(names, c)
			}
		}
	}
	slices.Sort(names)
	o := Object{Name: Conversations, TypeID: Conversations, Singular: "Conversation", Plural: "Conversations",
		File: "conversations.csv", IDColumn: "id"}
	for _, n := range names {
		o.Properties = append(o.Properties, Property{Name: n, ReadOnly: true})
	}
	return o, nil
}

// customFileName is a safe file name for a custom object: its plural label
// (else its name) as lowercase ASCII, disambiguated by its type id.
func customFileName(plural, name, typeID string) string {
	slug := slugify(plural)
	if slug == "" {
		slug = slugify(name)
	}
	if slug == "" {
		slug = "custom"
	}
	return slug + "_" + typeID + ".csv"
}

func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// appendCSVField appends one RFC 4180 field to buf. Values are written
// verbatim: a field with a comma, quote, CR, LF or leading/trailing space or
// tab is quoted with inner quotes doubled, and nothing else changes — not
// even CR LF inside a value, which encoding/csv's writer rewrites. Records
// end with CR LF (see appendRow).
func appendCSVField(buf []byte, f string) []byte {
	if !needsQuotes(f) {
		return append(buf, f...)
	}
	buf = append(buf, '"')
	for {
		j := strings.IndexByte(f, '"')
		if j < 0 {
			break
		}
		buf = append(buf, f[:j+1]...)
		buf = append(buf, '"')
		f = f[j+1:]
	}
	buf = append(buf, f...)
	return append(buf, '"')
}

func needsQuotes(f string) bool {
	if f == "" {
		return false
	}
	if f[0] == ' ' || f[0] == '\t' || f[len(f)-1] == ' ' || f[len(f)-1] == '\t' {
		return true
	}
	// A table, not strings.ContainsAny: values are short, and ContainsAny
	// builds its byte set on every call (a tenth of the export's CPU).
	for i := range len(f) {
		if csvSpecial[f[i]] {
			return true
		}
	}
	return false
}

// csvSpecial marks the bytes that make a field need quotes.
var csvSpecial = [256]bool{',': true, '"': true, '\r': true, '\n': true}
