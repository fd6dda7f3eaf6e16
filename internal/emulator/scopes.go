package emulator

import (
	"net/http"
	"slices"
)

// Scopes: a credential (a service key, or a private app's token) holds the
// scopes it was given, and HubSpot answers 403 MISSING_SCOPES, naming the
// scopes the call needs, when one is missing. Reading or writing the values
// of a Sensitive or Highly Sensitive property needs the object's sensitive
// scope on top (its definition does not). Options.Scopes nil grants every
// scope.
//
// The scope names follow HubSpot's scopes reference: crm.objects.<object>.read
// and .write (tickets: "tickets"; products: "e-commerce"; custom objects:
// crm.objects.custom.*), crm.objects.<object>.sensitive.read/.write and
// .highly_sensitive.read/.write (tickets: tickets.sensitive,
// tickets.highly_sensitive), crm.schemas.custom.read, conversations.read.

// objectScope is the scope that reads (write=false) or writes t's records.
func objectScope(t *objectType, write bool) string {
	access := ".read"
	if write {
		access = ".write"
	}
	switch {
	case t.custom:
		return "crm.objects.custom" + access
	case t.name == "tickets":
		return "tickets"
	case t.name == "products":
		return "e-commerce"
	}
	return "crm.objects." + t.name + access
}

// sensitiveScope is the scope that reads or writes t's values of a
// sensitivity level ("" for non-sensitive values).
func sensitiveScope(t *objectType, level string, write bool) string {
	if level == "" || level == "non_sensitive" {
		return ""
	}
	if t.name == "tickets" {
		return "tickets." + level
	}
	access := ".read"
	if write {
		access = ".write"
	}
	name := t.name
	if t.custom {
		name = "custom"
	}
	return "crm.objects." + name + "." + level + access
}

// valueScopes are the scopes reading or writing props of t needs.
func valueScopes(t *objectType, props []*property, write bool) []string {
	need := []string{objectScope(t, write)}
	for _, p := range props {
		if sc := sensitiveScope(t, p.spec.sensitivity, write); sc != "" && !slices.Contains(need, sc) {
			need = append(need, sc)
		}
	}
	return need
}

// grantedValues is granted for reading (or writing) props of t; with every
// scope granted it computes nothing (list pages are the hot path).
func (s *Server) grantedValues(w http.ResponseWriter, t *objectType, props []*property, write bool) bool {
	return s.scopes == nil || s.granted(w, valueScopes(t, props, write)...)
}

// granted answers 403 MISSING_SCOPES, as HubSpot does, unless the
// credential holds every scope of need.
func (s *Server) granted(w http.ResponseWriter, need ...string) bool {
	if s.scopes == nil {
		return true
	}
	var missing []string
	for _, sc := range need {
		if sc != "" && !slices.Contains(s.scopes, sc) {
			missing = append(missing, sc)
		}
	}
	if len(missing) == 0 {
		return true
	}
	s.stats.missingScopes.Add(1)
	s.writeJSON(w, http.StatusForbidden, map[string]any{
		"status":        "error",
		"message":       "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
		"correlationId": s.correlationID(),
		"category":      "MISSING_SCOPES",
		"errors": []any{map[string]any{
			"message": "One or more of the following scopes are required.",
			"context": map[string][]string{"requiredGranularScopes": missing},
		}},
	})
	return false
}

// SetScopes replaces the credential's scopes (nil: every scope), as an admin
// editing the service key.
func (s *Server) SetScopes(scopes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = slices.Clone(scopes)
}
