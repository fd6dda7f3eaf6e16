package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Data sensitivity levels of a property.
const (
	NonSensitive    = "non_sensitive"
	Sensitive       = "sensitive"
	HighlySensitive = "highly_sensitive"
)

// Property describes one property of an object type.
type Property struct {
	Name                 string               `json:"name"`
	Label                string               `json:"label"`
	Type                 string               `json:"type"`
	FieldType            string               `json:"fieldType"`
	GroupName            string               `json:"groupName"`
	Description          string               `json:"description,omitempty"`
	DisplayOrder         int                  `json:"displayOrder"`
	Calculated           bool                 `json:"calculated"`
	HasUniqueValue       bool                 `json:"hasUniqueValue"`
	Hidden               bool                 `json:"hidden"`
	HubspotDefined       bool                 `json:"hubspotDefined,omitempty"`
	ModificationMetadata ModificationMetadata `json:"modificationMetadata"`
	DataSensitivity      string               `json:"dataSensitivity,omitempty"`
	Options              []PropertyOption     `json:"options,omitempty"`
}

// ModificationMetadata says what may be changed about a property.
type ModificationMetadata struct {
	Archivable         bool `json:"archivable"`
	ReadOnlyDefinition bool `json:"readOnlyDefinition"`
	ReadOnlyValue      bool `json:"readOnlyValue"`
}

// PropertyOption is one choice of an enumeration property.
type PropertyOption struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

// Writable reports whether the property's values can be set through the API:
// calculated and read-only-value properties cannot.
func (p Property) Writable() bool {
	return !p.Calculated && !p.ModificationMetadata.ReadOnlyValue
}

// Sensitivities are the data sensitivity levels, in the order Properties
// asks for them.
var Sensitivities = []string{NonSensitive, Sensitive, HighlySensitive}

// Properties returns every (unarchived) property definition of objectType,
// of every sensitivity level: HubSpot lists only the level asked for
// (non-sensitive unless told), so it asks for each. Reading a sensitive
// property's definition needs no sensitive scope; reading its values does.
func (c *Client) Properties(ctx context.Context, objectType string) ([]Property, error) {
	var out []Property
	seen := map[string]bool{}
	for _, level := range Sensitivities {
		props, err := c.PropertiesAt(ctx, objectType, level)
		if err != nil {
			return nil, err
		}
		for _, p := range props {
			if !seen[p.Name] {
				seen[p.Name] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// PropertiesAt returns the property definitions of objectType of one data
// sensitivity level.
func (c *Client) PropertiesAt(ctx context.Context, objectType, level string) ([]Property, error) {
	var resp struct {
		Results []Property `json:"results"`
	}
	path := c.paths.properties(objectType)
	if err := c.do(ctx, http.MethodGet, path, url.Values{"dataSensitivity": {level}}, nil, &resp); err != nil {
		return nil, fmt.Errorf("%s properties of %s: %w", level, objectType, err)
	}
	for i := range resp.Results {
		if resp.Results[i].DataSensitivity == "" {
			resp.Results[i].DataSensitivity = level
		}
	}
	return resp.Results, nil
}

// Labels are an object type's display names.
type Labels struct {
	Singular string `json:"singular"`
	Plural   string `json:"plural"`
}

// Schema is a custom object definition.
type Schema struct {
	ID                     string     `json:"id"`
	ObjectTypeID           string     `json:"objectTypeId"` // "2-…"
	Name                   string     `json:"name"`
	FullyQualifiedName     string     `json:"fullyQualifiedName"`
	Labels                 Labels     `json:"labels"`
	PrimaryDisplayProperty string     `json:"primaryDisplayProperty,omitempty"`
	Archived               bool       `json:"archived"`
	Properties             []Property `json:"properties,omitempty"`
	CreatedAt              time.Time  `json:"createdAt,omitzero"`
	UpdatedAt              time.Time  `json:"updatedAt,omitzero"`
}

// Schemas returns the portal's custom object definitions.
func (c *Client) Schemas(ctx context.Context) ([]Schema, error) {
	var resp struct {
		Results []Schema `json:"results"`
	}
	if err := c.do(ctx, http.MethodGet, c.paths.schemas(), nil, nil, &resp); err != nil {
		return nil, fmt.Errorf("custom object schemas: %w", err)
	}
	return resp.Results, nil
}

// AccountDetails describes the portal a token belongs to.
type AccountDetails struct {
	PortalID            int64  `json:"portalId"`
	AccountType         string `json:"accountType"`
	TimeZone            string `json:"timeZone"`
	CompanyCurrency     string `json:"companyCurrency"`
	UIDomain            string `json:"uiDomain"`
	DataHostingLocation string `json:"dataHostingLocation"`
}

// AccountDetails returns the details of the token's portal.
func (c *Client) AccountDetails(ctx context.Context) (*AccountDetails, error) {
	var d AccountDetails
	if err := c.do(ctx, http.MethodGet, c.paths.accountDetails(), nil, nil, &d); err != nil {
		return nil, fmt.Errorf("account details: %w", err)
	}
	return &d, nil
}
