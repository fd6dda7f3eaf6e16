package emulator

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The portal's users, as HubSpot's user provisioning API (Settings → Users)
// serves them: GET /settings/v3/users/ and /settings/users/2026-03 list them
// with cursor paging, …/{userId} reads one by id or, with idProperty=EMAIL,
// by e-mail address. Every portal has the same seeded users (seedUsers),
// whatever its seed or fixture, plus Options.Users.

// User is a user of the emulated portal.
type User struct {
	// ID is numeric; empty takes the next free id.
	ID        string
	Email     string
	FirstName string
	LastName  string
	// RoleIDs are the user's roles (permission sets); Super Admins have none.
	RoleIDs          []string
	PrimaryTeamID    string
	SecondaryTeamIDs []string
	SuperAdmin       bool
}

// Seeded users: the local stack's default admin is a Super Admin, a viewer
// is not, and SeededUsers in all, so that a full list takes two pages.
const (
	SuperAdminEmail = "admin@acme.example"
	ViewerEmail     = "viewer@acme.example"
	SeededUsers     = 150
	firstUserID     = 1_000_001
	maxUsersPage    = 100
)

// usersVersions are the dated versions of the users API HubSpot has made
// generally available (2026-09 is a beta there, as 2026-09-beta).
var usersVersions = []string{"2026-03"}

// usersScopes: HubSpot's reference accepts either for reading users; a
// refusal names the first.
var usersScopes = []string{"settings.users.read", "crm.objects.users.read"}

// seedUsers are the users every portal has: admin and viewer first, then
// deterministic colleagues, one in fifty of them a Super Admin too.
func seedUsers() []User {
	users := []User{
		{Email: SuperAdminEmail, FirstName: "Ada", LastName: "Admin", SuperAdmin: true},
		{Email: ViewerEmail, FirstName: "Vic", LastName: "Viewer", RoleIDs: []string{"3001"}, PrimaryTeamID: "4001"},
	}
	for i := 3; i <= SeededUsers; i++ {
		n := fmt.Sprintf("%03d", i)
		u := User{Email: "user" + n + "@acme.example", FirstName: "User", LastName: n}
		switch {
		case i%50 == 0:
			u.SuperAdmin = true
		default:
			u.RoleIDs = []string{strconv.Itoa(3001 + i%3)}
			u.PrimaryTeamID = strconv.Itoa(4001 + i%4)
			if i%7 == 0 {
				u.SecondaryTeamIDs = []string{strconv.Itoa(4001 + (i+1)%4)}
			}
		}
		users = append(users, u)
	}
	for i := range users {
		users[i].ID = strconv.Itoa(firstUserID + i)
	}
	return users
}

// newUsers is the seeded users with extra's: one whose e-mail address is
// a seeded user's (in any case) replaces that user, keeping its id unless
// it names one; the others are added.
func newUsers(extra []User) ([]User, error) {
	users := seedUsers()
	next := firstUserID + len(users)
	seen := map[string]bool{}
	for _, u := range extra {
		key := strings.ToLower(u.Email)
		if u.Email == "" || !strings.Contains(u.Email, "@") {
			return nil, fmt.Errorf("emulator: user %q: want an e-mail address", u.Email)
		}
		if seen[key] {
			return nil, fmt.Errorf("emulator: user %s given twice", u.Email)
		}
		seen[key] = true
		u.RoleIDs, u.SecondaryTeamIDs = slices.Clone(u.RoleIDs), slices.Clone(u.SecondaryTeamIDs)
		if i := slices.IndexFunc(users, func(s User) bool { return strings.EqualFold(s.Email, u.Email) }); i >= 0 {
			if u.ID == "" {
				u.ID = users[i].ID
			}
			users[i] = u
			continue
		}
		if u.ID == "" {
			u.ID = strconv.Itoa(next)
			next++
		}
		users = append(users, u)
	}
	ids := map[string]bool{}
	for _, u := range users {
		if n, err := strconv.ParseInt(u.ID, 10, 64); err != nil || n <= 0 || u.ID != strconv.FormatInt(n, 10) {
			return nil, fmt.Errorf("emulator: user %s: id %q is not a positive integer", u.Email, u.ID)
		}
		if ids[u.ID] {
			return nil, fmt.Errorf("emulator: user id %s given twice", u.ID)
		}
		ids[u.ID] = true
	}
	slices.SortFunc(users, func(a, b User) int { return cmpInt(userID(a), userID(b)) })
	return users, nil
}

func userID(u User) int64 {
	n, _ := strconv.ParseInt(u.ID, 10, 64) // checked by newUsers
	return n
}

// publicUser is a user as HubSpot sends it (its PublicUser schema; roleIds
// and superAdmin always present, roleId the older single role).
type publicUser struct {
	ID               string   `json:"id"`
	Email            string   `json:"email"`
	FirstName        string   `json:"firstName,omitempty"`
	LastName         string   `json:"lastName,omitempty"`
	RoleIDs          []string `json:"roleIds"`
	RoleID           string   `json:"roleId,omitempty"`
	PrimaryTeamID    string   `json:"primaryTeamId,omitempty"`
	SecondaryTeamIDs []string `json:"secondaryTeamIds,omitempty"`
	SuperAdmin       bool     `json:"superAdmin"`
}

func (u User) public() publicUser {
	p := publicUser{
		ID: u.ID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		RoleIDs: u.RoleIDs, PrimaryTeamID: u.PrimaryTeamID, SecondaryTeamIDs: u.SecondaryTeamIDs,
		SuperAdmin: u.SuperAdmin,
	}
	if p.RoleIDs == nil {
		p.RoleIDs = []string{}
	}
	if len(u.RoleIDs) > 0 {
		p.RoleID = u.RoleIDs[0]
	}
	return p
}

// usersDated serves h under the users API's dated versions.
func (s *Server) usersDated(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(usersVersions, r.PathValue("version")) {
			s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "unknown API version "+r.PathValue("version"), nil)
			return
		}
		h(w, r)
	}
}

// grantedUsers answers 403 MISSING_SCOPES unless the credential holds one
// of usersScopes.
func (s *Server) grantedUsers(w http.ResponseWriter) bool {
	if s.scopes == nil || slices.ContainsFunc(usersScopes, func(sc string) bool { return slices.Contains(s.scopes, sc) }) {
		return true
	}
	return s.granted(w, usersScopes[0])
}

// listUsers answers a page of users in id order. HubSpot documents at most
// 100 per page, not its default nor what it does with more: 100 for both.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.grantedUsers(w) {
		return
	}
	limit := maxUsersPage
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.badRequest(w, "limit must be a positive integer, got %q", v)
			return
		}
		limit = min(n, maxUsersPage)
	}
	start := 0
	if v := q.Get("after"); v != "" {
		id, ok := parseUserCursor(v)
		if !ok {
			s.badRequest(w, "Invalid paging cursor after=%q", v)
			return
		}
		start, _ = slices.BinarySearchFunc(s.users, id, func(u User, id int64) int { return cmpInt(userID(u), id) })
	}
	page := s.users[start:min(start+limit, len(s.users))]
	type next struct {
		After string `json:"after"`
		Link  string `json:"link"`
	}
	var body struct {
		Results []publicUser `json:"results"`
		Paging  *struct {
			Next next `json:"next"`
		} `json:"paging,omitzero"`
	}
	body.Results = make([]publicUser, len(page))
	for i, u := range page {
		body.Results[i] = u.public()
	}
	if end := start + len(page); end < len(s.users) {
		after := userCursor(userID(s.users[end]))
		body.Paging = &struct {
			Next next `json:"next"`
		}{next{after, "https://api.hubapi.com" + r.URL.Path + "?after=" + after}}
	}
	s.writeJSON(w, http.StatusOK, body)
}

// getUser answers one user, by id or (idProperty=EMAIL) by e-mail address.
// HubSpot does not say whether the e-mail lookup ignores case: the
// emulator matches exactly, the strictest reading.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.grantedUsers(w) {
		return
	}
	key := r.PathValue("userId")
	var match func(User) bool
	switch prop := r.URL.Query().Get("idProperty"); prop {
	case "EMAIL":
		match = func(u User) bool { return u.Email == key }
	case "", "USER_ID":
		if _, err := strconv.ParseInt(key, 10, 64); err != nil {
			// HubSpot's answer to an e-mail address sent without idProperty=EMAIL.
			s.writeJSON(w, http.StatusBadRequest, map[string]any{
				"status":        "error",
				"message":       "User ID must be numeric, got " + strconv.Quote(key),
				"correlationId": s.correlationID(),
				"category":      "VALIDATION_ERROR",
				"subCategory":   "ValidationErrors.USER_ID_NOT_NUMERIC",
			})
			return
		}
		match = func(u User) bool { return u.ID == key }
	default:
		s.badRequest(w, "idProperty must be USER_ID or EMAIL, got %q", prop)
		return
	}
	i := slices.IndexFunc(s.users, match)
	if i < 0 {
		s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "User not found", nil)
		return
	}
	s.writeJSON(w, http.StatusOK, s.users[i].public())
}

// Users' cursors are opaque, as HubSpot's are: the next user's id, encoded.
func userCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("user:" + strconv.FormatInt(id, 10)))
}

func parseUserCursor(v string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || !bytes.HasPrefix(b, []byte("user:")) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b[len("user:"):]), 10, 64)
	return n, err == nil && n >= 0
}
