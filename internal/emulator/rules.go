package emulator

import (
	"fmt"
	"regexp"
	"strconv"
)

// Validation rules: from the 2026-09 API version on, HubSpot checks writes
// against the rules a portal's admins configured on its properties (a
// pattern, a range). A refused value is reported per input in a 207, or the
// whole batch is refused; which of the two a rule causes is configured here,
// as HubSpot does not document when it does which.

// ValidationRule is one admin-configured rule on a property.
type ValidationRule struct {
	Object   string `json:"object"`   // type name or id
	Property string `json:"property"` // internal name
	// Pattern is a regular expression a value must match whole.
	Pattern string `json:"pattern,omitempty"`
	// Min and Max bound a number.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// RefuseBatch makes a batch update holding a value that breaks the rule
	// fail whole (400, nothing written) instead of answering 207.
	RefuseBatch bool `json:"refuseBatch,omitempty"`
}

type rule struct {
	ValidationRule
	re *regexp.Regexp
}

// SetValidationRules replaces the portal's validation rules, as an admin
// changing them while the portal is in use.
func (s *Server) SetValidationRules(rules []ValidationRule) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.types {
		for _, p := range t.props {
			p.rules = nil
		}
	}
	return s.addRules(rules)
}

// addRules attaches rules to their properties.
func (s *Server) addRules(rules []ValidationRule) error {
	for _, vr := range rules {
		t, ok := s.byKey[vr.Object]
		if !ok {
			return fmt.Errorf("emulator: validation rule on unknown object %q", vr.Object)
		}
		p, ok := t.byName[vr.Property]
		if !ok {
			return fmt.Errorf("emulator: validation rule on unknown property %s.%s", vr.Object, vr.Property)
		}
		r := &rule{ValidationRule: vr}
		if vr.Pattern != "" {
			re, err := regexp.Compile("^(?:" + vr.Pattern + ")$")
			if err != nil {
				return fmt.Errorf("emulator: validation rule on %s.%s: %w", vr.Object, vr.Property, err)
			}
			r.re = re
		}
		p.rules = append(p.rules, r)
	}
	return nil
}

// breaks reports whether v breaks the rule, and how.
func (r *rule) breaks(v string) (string, bool) {
	if r.re != nil && !r.re.MatchString(v) {
		return fmt.Sprintf("%q does not match the format the portal requires for %s", v, r.Property), true
	}
	if r.Min != nil || r.Max != nil {
		n, err := strconv.ParseFloat(v, 64)
		switch {
		case err != nil:
			return fmt.Sprintf("%q is not a number, as the portal requires for %s", v, r.Property), true
		case r.Min != nil && n < *r.Min:
			return fmt.Sprintf("%s is below the minimum %g the portal allows for %s", v, *r.Min, r.Property), true
		case r.Max != nil && n > *r.Max:
			return fmt.Sprintf("%s is above the maximum %g the portal allows for %s", v, *r.Max, r.Property), true
		}
	}
	return "", false
}

// refusesBatches reports whether one of t's properties has a rule that
// refuses whole batches.
func (t *objectType) refusesBatches() bool {
	for _, p := range t.props {
		for _, r := range p.rules {
			if r.RefuseBatch {
				return true
			}
		}
	}
	return false
}
