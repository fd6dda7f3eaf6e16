package hubspot

import (
	"fmt"
	"net/url"
	"regexp"
)

// API versions. HubSpot's REST APIs have dated versions (YYYY-MM, two a
// year) since March 2026; v1–v3 stop being supported in September 2027
// (v4 in March 2027) and new integrations are told to use the latest dated
// version. The response shapes of the endpoints this client uses are the
// same in both.
const (
	// DefaultAPIVersion is the latest generally available dated version.
	DefaultAPIVersion = "2026-09"
	// LegacyAPIVersion keeps the v3 paths (/crm/v3/…), as an explicit
	// choice.
	LegacyAPIVersion = "v3"
)

var datedVersion = regexp.MustCompile(`^20[0-9]{2}-(0[1-9]|1[0-2])$`)

// paths are the endpoints of one API version.
type paths struct {
	version string
}

func newPaths(version string) (paths, error) {
	if version == "" {
		version = DefaultAPIVersion
	}
	if version != LegacyAPIVersion && !datedVersion.MatchString(version) {
		return paths{}, fmt.Errorf("hubspot: config: API version %q: want a dated version (YYYY-MM, e.g. %s) or %s", version, DefaultAPIVersion, LegacyAPIVersion)
	}
	return paths{version: version}, nil
}

func (p paths) legacy() bool { return p.version == LegacyAPIVersion }

// objects is an object type's path: /crm/objects/2026-09/{type} (or
// /crm/v3/objects/{type}).
func (p paths) objects(objectType string) string {
	if p.legacy() {
		return "/crm/v3/objects/" + url.PathEscape(objectType)
	}
	return "/crm/objects/" + p.version + "/" + url.PathEscape(objectType)
}

func (p paths) properties(objectType string) string {
	if p.legacy() {
		return "/crm/v3/properties/" + url.PathEscape(objectType)
	}
	return "/crm/properties/" + p.version + "/" + url.PathEscape(objectType)
}

func (p paths) schemas() string {
	if p.legacy() {
		return "/crm/v3/schemas"
	}
	return "/crm-object-schemas/" + p.version + "/schemas"
}

func (p paths) accountDetails() string {
	if p.legacy() {
		return "/account-info/v3/details"
	}
	return "/account-info/" + p.version + "/details"
}

// threads is the conversation threads' path. It stays on v3 whatever the
// version: HubSpot offers threads in a dated version only as a beta
// (2026-09-beta), and a backup should not depend on a beta API; v3 is
// supported until September 2027.
func (p paths) threads() string { return threadsPath }

// usersVersion is the dated version of the user provisioning API
// (Settings → Users) whatever the client's version: HubSpot's latest
// generally available one. It offers 2026-09 only as a beta
// (2026-09-beta); moving on is a one-line change.
const usersVersion = "2026-03"

// usersList is the list of the portal's users: /settings/users/2026-03 (or
// /settings/v3/users/, with the trailing slash HubSpot documents for v3).
func (p paths) usersList() string {
	if p.legacy() {
		return "/settings/v3/users/"
	}
	return "/settings/users/" + usersVersion
}

// user is one user's path. id is a user id or an e-mail address (with
// idProperty=EMAIL), unescaped: endpoint escapes it; it must hold no "/".
func (p paths) user(id string) string {
	if p.legacy() {
		return "/settings/v3/users/" + id
	}
	return "/settings/users/" + usersVersion + "/" + id
}

// APIVersion is the API version the client speaks.
func (c *Client) APIVersion() string { return c.paths.version }
