package emulator

import (
	"fmt"
	"net/http"
	"strings"
)

// Property definitions and custom object schemas as HubSpot's properties
// and schemas APIs return them.

// wireOption is one option of an enumeration property.
type wireOption struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

// wireProperty is a property definition on the wire.
type wireProperty struct {
	Name                 string       `json:"name"`
	Label                string       `json:"label"`
	Type                 string       `json:"type"`
	FieldType            string       `json:"fieldType"`
	Description          string       `json:"description"`
	GroupName            string       `json:"groupName"`
	Options              []wireOption `json:"options"`
	DisplayOrder         int          `json:"displayOrder"`
	Calculated           bool         `json:"calculated"`
	ExternalOptions      bool         `json:"externalOptions"`
	HasUniqueValue       bool         `json:"hasUniqueValue"`
	Hidden               bool         `json:"hidden"`
	HubspotDefined       bool         `json:"hubspotDefined"`
	ModificationMetadata struct {
		Archivable         bool `json:"archivable"`
		ReadOnlyDefinition bool `json:"readOnlyDefinition"`
		ReadOnlyValue      bool `json:"readOnlyValue"`
	} `json:"modificationMetadata"`
	FormField       bool   `json:"formField"`
	DataSensitivity string `json:"dataSensitivity"`
	CreatedAt       string `json:"createdAt"`
	UpdatedAt       string `json:"updatedAt"`
	Archived        bool   `json:"archived"`
}

// wireProperty describes p as HubSpot does; the timestamps are fixed.
func (t *objectType) wireProperty(p *property) wireProperty {
	sp := p.spec
	wp := wireProperty{
		Name: sp.name, Label: sp.label, Type: sp.typ, FieldType: sp.fieldType,
		GroupName:    strings.ToLower(strings.ReplaceAll(t.singular, " ", "")) + "information",
		Options:      []wireOption{},
		DisplayOrder: p.index, Calculated: sp.calculated, HasUniqueValue: sp.unique, Hidden: sp.hidden,
		HubspotDefined:  strings.HasPrefix(sp.name, "hs_") || !t.custom && !sp.unique && sp.sensitivity == "non_sensitive",
		FormField:       !sp.readOnly,
		DataSensitivity: sp.sensitivity,
		CreatedAt:       isoMillis(epoch.AddDate(-1, 0, 0)),
		UpdatedAt:       isoMillis(epoch.AddDate(-1, 0, 0)),
	}
	wp.ModificationMetadata.Archivable = !wp.HubspotDefined
	wp.ModificationMetadata.ReadOnlyDefinition = wp.HubspotDefined
	wp.ModificationMetadata.ReadOnlyValue = sp.readOnly
	for i, o := range sp.options {
		wp.Options = append(wp.Options, wireOption{Label: o, Value: o, DisplayOrder: i})
	}
	return wp
}

// wireProperties describes all of t's properties in definition order.
func (t *objectType) wireProperties() []wireProperty {
	out := make([]wireProperty, 0, len(t.props))
	for _, p := range t.props {
		out = append(out, t.wireProperty(p))
	}
	return out
}

// properties lists a type's property definitions.
func (s *Server) properties(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.objectType(w, r)
	if t == nil {
		return
	}
	// As HubSpot: only the sensitivity level asked for, non-sensitive
	// unless said (schema information needs no sensitive scope).
	level := r.URL.Query().Get("dataSensitivity")
	switch level {
	case "":
		level = "non_sensitive"
	case "non_sensitive", "sensitive", "highly_sensitive":
	default:
		s.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR",
			fmt.Sprintf("Unable to parse dataSensitivity %q: expected one of non_sensitive, sensitive, highly_sensitive", level), nil)
		return
	}
	results := []wireProperty{}
	for _, wp := range t.wireProperties() {
		if wp.DataSensitivity == level {
			results = append(results, wp)
		}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

// property answers one property definition by name.
func (s *Server) property(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.objectType(w, r)
	if t == nil {
		return
	}
	p, ok := t.byName[r.PathValue("name")]
	if !ok {
		s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", fmt.Sprintf("Unable to find property %s", r.PathValue("name")), nil)
		return
	}
	s.writeJSON(w, http.StatusOK, t.wireProperty(p))
}

// wireSchema is a custom object schema on the wire.
type wireSchema struct {
	ID                         string         `json:"id"`
	ObjectTypeID               string         `json:"objectTypeId"`
	Name                       string         `json:"name"`
	FullyQualifiedName         string         `json:"fullyQualifiedName"`
	Labels                     map[string]any `json:"labels"`
	PrimaryDisplayProperty     string         `json:"primaryDisplayProperty"`
	RequiredProperties         []string       `json:"requiredProperties"`
	SearchableProperties       []string       `json:"searchableProperties"`
	SecondaryDisplayProperties []string       `json:"secondaryDisplayProperties"`
	Properties                 []wireProperty `json:"properties"`
	Associations               []any          `json:"associations"`
	Archived                   bool           `json:"archived"`
	CreatedAt                  string         `json:"createdAt"`
	UpdatedAt                  string         `json:"updatedAt"`
}

// wireSchema describes custom type t with all its properties.
func (t *objectType) wireSchema() wireSchema {
	ws := wireSchema{
		ID: strings.TrimPrefix(t.id, "2-"), ObjectTypeID: t.id, Name: t.name, FullyQualifiedName: t.fqn,
		Labels:                 map[string]any{"singular": t.singular, "plural": t.plural},
		PrimaryDisplayProperty: t.primary,
		RequiredProperties:     []string{}, SearchableProperties: []string{}, SecondaryDisplayProperties: []string{},
		Associations: []any{},
		CreatedAt:    isoMillis(epoch.AddDate(0, -1, 0)), UpdatedAt: isoMillis(epoch.AddDate(0, -1, 0)),
	}
	if t.primary != "" {
		ws.RequiredProperties = []string{t.primary}
		ws.SearchableProperties = []string{t.primary}
	}
	ws.Properties = t.wireProperties()
	return ws
}

// schemas lists the custom object schemas only, as HubSpot does.
func (s *Server) schemas(w http.ResponseWriter, r *http.Request) {
	if s.notEnterprise {
		s.writeError(w, http.StatusForbidden, "MISSING_SCOPES",
			"This app hasn't been granted all required scopes to make this call. Custom objects are available on Enterprise subscriptions only.", nil)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.granted(w, "crm.schemas.custom.read") {
		return
	}
	results := []wireSchema{}
	for _, t := range s.types {
		if t.custom {
			results = append(results, t.wireSchema())
		}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

// schema answers one custom object's schema by exact name, id or fully
// qualified name; standard types are 404.
func (s *Server) schema(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.byKey[r.PathValue("type")]
	if !ok || !t.custom {
		s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "Unable to find object schema "+r.PathValue("type"), nil)
		return
	}
	s.writeJSON(w, http.StatusOK, t.wireSchema())
}
