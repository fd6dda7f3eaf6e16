package emulator

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Fixture is a portal described as JSON instead of generated (format in
// docs/emulator.md). Standard object types always exist; objects not in the
// fixture have no records.
type Fixture struct {
	PortalID      int64                       `json:"portalId,omitempty"`
	Objects       map[string]FixtureObject    `json:"objects"`
	Schemas       []FixtureSchema             `json:"schemas,omitempty"`
	Conversations []map[string]jsontext.Value `json:"conversations,omitempty"`
}

// FixtureObject is one object type's labels, property definitions and records.
type FixtureObject struct {
	Label      *FixtureLabels    `json:"label,omitempty"`
	Properties []FixtureProperty `json:"properties,omitempty"`
	Records    []FixtureRecord   `json:"records"`
}

// FixtureLabels are singular and plural display names.
type FixtureLabels struct {
	Singular string `json:"singular"`
	Plural   string `json:"plural"`
}

// FixtureProperty defines a property; fields as in HubSpot's properties API.
type FixtureProperty struct {
	Name                 string `json:"name"`
	Label                string `json:"label,omitempty"`
	Type                 string `json:"type,omitempty"`      // default "string"
	FieldType            string `json:"fieldType,omitempty"` // default "text"
	Calculated           bool   `json:"calculated,omitempty"`
	HasUniqueValue       bool   `json:"hasUniqueValue,omitempty"`
	Hidden               bool   `json:"hidden,omitempty"`
	ModificationMetadata struct {
		ReadOnlyValue bool `json:"readOnlyValue,omitempty"`
	} `json:"modificationMetadata,omitzero"`
	DataSensitivity string `json:"dataSensitivity,omitempty"` // default non_sensitive
	Options         []struct {
		Label string `json:"label,omitempty"`
		Value string `json:"value"`
	} `json:"options,omitempty"`
}

// FixtureRecord is one record. A null property value is empty.
type FixtureRecord struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	Archived   bool               `json:"archived,omitempty"`
	CreatedAt  time.Time          `json:"createdAt,omitzero"`
	UpdatedAt  time.Time          `json:"updatedAt,omitzero"`
}

// FixtureSchema defines a custom object (type id "2-…").
type FixtureSchema struct {
	ObjectTypeID           string            `json:"objectTypeId"`
	Name                   string            `json:"name"`
	Labels                 FixtureLabels     `json:"labels"`
	PrimaryDisplayProperty string            `json:"primaryDisplayProperty,omitempty"`
	Properties             []FixtureProperty `json:"properties,omitempty"`
}

// LoadFixture reads a fixture file, rejecting unknown fields.
func LoadFixture(path string) (*Fixture, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("emulator: fixture: %w", err)
	}
	defer f.Close()
	return ReadFixture(f)
}

// ReadFixture decodes a fixture, rejecting unknown fields.
func ReadFixture(r io.Reader) (*Fixture, error) {
	var fx Fixture
	if err := json.UnmarshalRead(r, &fx, json.RejectUnknownMembers(true)); err != nil {
		return nil, fmt.Errorf("emulator: fixture: %w", err)
	}
	return &fx, nil
}

func (fp FixtureProperty) spec() propSpec {
	s := propSpec{
		name: fp.Name, label: fp.Label, typ: fp.Type, fieldType: fp.FieldType,
		calculated: fp.Calculated, readOnly: fp.Calculated || fp.ModificationMetadata.ReadOnlyValue,
		unique: fp.HasUniqueValue, hidden: fp.Hidden, sensitivity: fp.DataSensitivity,
	}
	if s.label == "" {
		s.label = fp.Name
	}
	if s.typ == "" {
		s.typ = "string"
	}
	if s.fieldType == "" {
		s.fieldType = "text"
	}
	if s.sensitivity == "" {
		s.sensitivity = "non_sensitive"
	}
	for _, o := range fp.Options {
		s.options = append(s.options, o.Value)
	}
	return s
}

func (s *Server) loadFixture(fx *Fixture) error {
	if fx.PortalID != 0 {
		s.portalID = fx.PortalID
	}
	for _, spec := range objectSpecs {
		if spec.custom {
			continue
		}
		if err := s.addType(newObjectType(spec, s.portalID)); err != nil {
			return err
		}
	}
	if s.notEnterprise && len(fx.Schemas) > 0 {
		return fmt.Errorf("emulator: fixture: a portal that is not Enterprise has no custom objects")
	}
	for _, sc := range fx.Schemas {
		if !strings.HasPrefix(sc.ObjectTypeID, "2-") || sc.Name == "" {
			return fmt.Errorf("emulator: fixture: schema %q/%q: custom objects need a 2-… type id and a name", sc.ObjectTypeID, sc.Name)
		}
		ts := typeSpec{
			id: sc.ObjectTypeID, name: sc.Name, singular: sc.Labels.Singular, plural: sc.Labels.Plural, custom: true,
			always:   []string{"hs_object_id", "hs_createdate", "hs_lastmodifieddate"},
			defaults: []string{"hs_object_id", "hs_createdate", "hs_lastmodifieddate"},
			props: []string{
				"hs_createdate|Object create date/time|datetime|date|created|ro,req",
				"hs_lastmodifieddate|Object last modified date/time|datetime|date|modified|ro,req",
			},
		}
		t := newObjectType(ts, s.portalID)
		t.primary = sc.PrimaryDisplayProperty
		for _, fp := range sc.Properties {
			t.defineProperty(fp.spec())
		}
		if err := s.addType(t); err != nil {
			return err
		}
	}
	for _, key := range slices.Sorted(maps.Keys(fx.Objects)) {
		obj := fx.Objects[key]
		t, ok := s.byKey[key]
		if !ok {
			return fmt.Errorf("emulator: fixture: unknown object type %q (custom objects need a schema)", key)
		}
		if obj.Label != nil {
			t.singular, t.plural = obj.Label.Singular, obj.Label.Plural
		}
		for _, fp := range obj.Properties {
			t.defineProperty(fp.spec())
		}
		for i, fr := range obj.Records {
			if err := t.loadRecord(fr); err != nil {
				return fmt.Errorf("emulator: fixture: %s record %d: %w", key, i, err)
			}
		}
	}
	for i, raw := range fx.Conversations {
		idv, ok := raw["id"]
		if !ok {
			return fmt.Errorf("emulator: fixture: conversation %d has no id", i)
		}
		var idText string
		if err := json.Unmarshal(idv, &idText); err != nil {
			idText = string(idv) // a numeric id
		}
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			return fmt.Errorf("emulator: fixture: conversation %d: id %s is not numeric", i, idv)
		}
		if _, dup := s.threadID[id]; dup {
			return fmt.Errorf("emulator: fixture: conversation id %d twice", id)
		}
		th := thread{id: id}
		th.fields = append(th.fields, field{"id", rawString(idText)})
		for _, n := range slices.Sorted(maps.Keys(raw)) {
			if n != "id" {
				th.fields = append(th.fields, field{n, raw[n].Clone()})
			}
		}
		s.threads = append(s.threads, th)
	}
	slices.SortFunc(s.threads, func(a, b thread) int { return cmpInt(a.id, b.id) })
	for i, th := range s.threads {
		s.threadID[th.id] = i
	}
	return nil
}

// defineProperty adds a property, or replaces the definition of a built-in one.
func (t *objectType) defineProperty(s propSpec) {
	if p, ok := t.byName[s.name]; ok {
		p.spec = s
		return
	}
	t.addProperty(s)
}

func (t *objectType) loadRecord(fr FixtureRecord) error {
	id, err := strconv.ParseInt(fr.ID, 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("id %q is not a positive number", fr.ID)
	}
	if _, dup := t.mat[id]; dup {
		return fmt.Errorf("id %d twice", id)
	}
	r := &record{id: id, created: fr.CreatedAt, updated: fr.UpdatedAt, archived: fr.Archived}
	if r.created.IsZero() {
		r.created = epoch
	}
	if r.updated.IsZero() {
		r.updated = r.created
	}
	if r.archived {
		r.archivedAt = r.updated
	}
	for _, n := range slices.Sorted(maps.Keys(fr.Properties)) {
		p, ok := t.byName[n]
		if !ok {
			p = t.addProperty(propSpec{name: n, label: n, typ: "string", fieldType: "text", sensitivity: "non_sensitive"})
		}
		if v := fr.Properties[n]; v != nil {
			r.set(p, *v)
		}
	}
	r.set(t.byName["hs_object_id"], fr.ID)
	for _, n := range []string{"createdate", "hs_createdate"} {
		if p, ok := t.byName[n]; ok && r.value(p) == "" {
			r.set(p, isoMillis(r.created))
		}
	}
	for _, n := range []string{"lastmodifieddate", "hs_lastmodifieddate"} {
		if p, ok := t.byName[n]; ok && r.value(p) == "" {
			r.set(p, isoMillis(r.updated))
		}
	}
	t.keep(r)
	return nil
}
