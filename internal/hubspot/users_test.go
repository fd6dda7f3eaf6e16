package hubspot_test

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// usersServer answers the users API from a script: lookup answers every
// idProperty=EMAIL request, pages the list (by its after parameter). It
// records each request as "GET path?query".
func usersServer(t *testing.T, lookup func(http.ResponseWriter), pages map[string]string) (string, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		mu.Unlock()
		if r.URL.Query().Get("idProperty") != "" {
			lookup(w)
			return
		}
		page, ok := pages[r.URL.Query().Get("after")]
		if !ok {
			reply(http.StatusBadRequest, `{"status":"error","message":"bad cursor","category":"VALIDATION_ERROR"}`)(w)
			return
		}
		reply(http.StatusOK, page)(w)
	}))
	t.Cleanup(ts.Close)
	return ts.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

var twoPages = map[string]string{
	"":     `{"results":[{"id":"1","email":"one@x.example","roleIds":["5"],"primaryTeamId":"8","superAdmin":true}],"paging":{"next":{"after":"c/2+","link":"https://api.hubapi.com/x"}}}`,
	"c/2+": `{"results":[{"id":"2","email":"Two@X.example","roleId":"6","secondaryTeamIds":["9"],"superAdmin":"false","sendWelcomeEmail":false}]}`,
}

func collectUsers(t *testing.T, c *hubspot.Client) []hubspot.User {
	t.Helper()
	var out []hubspot.User
	for u, err := range c.Users(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

// TestUserRequests: the exact requests of a list and a lookup, per API
// version: users stay on 2026-03 (HubSpot's 2026-09 users API is a beta),
// v3 is HubSpot's documented /settings/v3/users/.
func TestUserRequests(t *testing.T) {
	for _, tt := range []struct{ version, list, user string }{
		{"", "/settings/users/2026-03", "/settings/users/2026-03/"},
		{"2026-09", "/settings/users/2026-03", "/settings/users/2026-03/"},
		{"2026-03", "/settings/users/2026-03", "/settings/users/2026-03/"},
		{"v3", "/settings/v3/users/", "/settings/v3/users/"},
	} {
		t.Run(cmp.Or(tt.version, "default"), func(t *testing.T) {
			url, requests := usersServer(t, reply(http.StatusOK, `{"id":"7","email":"a+b@x.example","roleIds":[],"superAdmin":"true"}`), twoPages)
			c := client(t, url, hubspot.Config{APIVersion: tt.version})
			users := collectUsers(t, c)
			want := []hubspot.User{
				{ID: "1", Email: "one@x.example", RoleIDs: []string{"5"}, PrimaryTeamID: "8", SuperAdmin: true},
				{ID: "2", Email: "Two@X.example", RoleIDs: []string{"6"}, SecondaryTeamIDs: []string{"9"}},
			}
			if len(users) != 2 || !equalUser(users[0], want[0]) || !equalUser(users[1], want[1]) {
				t.Fatalf("users %+v, want %+v", users, want)
			}
			u, err := c.UserByEmail(context.Background(), " A+B@x.example ")
			if err != nil || u.ID != "7" || !u.SuperAdmin {
				t.Fatalf("user %+v, %v", u, err)
			}
			wantReqs := []string{
				"GET " + tt.list + "?limit=100",
				"GET " + tt.list + "?after=c%2F2%2B&limit=100",
				"GET " + tt.user + "A+B@x.example?idProperty=EMAIL",
			}
			if got := requests(); !slices.Equal(got, wantReqs) {
				t.Fatalf("requests\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantReqs, "\n"))
			}
		})
	}
}

func equalUser(a, b hubspot.User) bool {
	return a.ID == b.ID && a.Email == b.Email && a.SuperAdmin == b.SuperAdmin && a.PrimaryTeamID == b.PrimaryTeamID &&
		slices.Equal(a.RoleIDs, b.RoleIDs) && slices.Equal(a.SecondaryTeamIDs, b.SecondaryTeamIDs)
}

// TestUserByEmailConfirmsAMiss: HubSpot does not say its e-mail lookup
// ignores case, so a 404 (or an answer about another address) is checked
// against every page of the list, comparing without regard to case.
func TestUserByEmailConfirmsAMiss(t *testing.T) {
	notFound := reply(http.StatusNotFound, `{"status":"error","message":"User not found","category":"OBJECT_NOT_FOUND"}`)
	someoneElse := reply(http.StatusOK, `{"id":"1","email":"one@x.example","roleIds":[],"superAdmin":true}`)
	for name, lookup := range map[string]func(http.ResponseWriter){"404": notFound, "another address": someoneElse} {
		t.Run(name, func(t *testing.T) {
			url, requests := usersServer(t, lookup, twoPages)
			c := client(t, url, hubspot.Config{})
			u, err := c.UserByEmail(context.Background(), "two@x.EXAMPLE")
			if err != nil || u.ID != "2" || u.SuperAdmin {
				t.Fatalf("user %+v, %v; want user 2 from the list's second page", u, err)
			}
			_, err = c.UserByEmail(context.Background(), "nobody@x.example")
			if !errors.Is(err, hubspot.ErrNotFound) || !strings.Contains(err.Error(), "nobody@x.example") {
				t.Fatalf("unknown address: %v, want not found", err)
			}
			if n := len(requests()); n != 6 {
				t.Fatalf("%d requests, want a lookup and two pages per address: %q", n, requests())
			}
		})
	}
}

// TestUserByEmailErrors: a refusal of the lookup is final (no list), and
// what is not an e-mail address is refused before any request.
func TestUserByEmailErrors(t *testing.T) {
	missing := reply(http.StatusForbidden, `{"status":"error","message":"missing scopes","category":"MISSING_SCOPES",`+
		`"errors":[{"message":"m","context":{"requiredGranularScopes":["settings.users.read"]}}]}`)
	url, requests := usersServer(t, missing, twoPages)
	c := client(t, url, hubspot.Config{})
	_, err := c.SuperAdmin(context.Background(), "one@x.example")
	var m hubspot.MissingScopes
	if !errors.Is(err, hubspot.ErrUnauthorized) || !m.Add(err) || !slices.Equal(m.Scopes, []string{"settings.users.read"}) {
		t.Fatalf("%v, want a 403 naming settings.users.read", err)
	}
	if n := len(requests()); n != 1 {
		t.Fatalf("%d requests after a 403, want 1", n)
	}
	for _, email := range []string{"", "  ", "admin", "@x.example", "admin@", "a/b@x.example", "a b@x.example"} {
		if _, err := c.UserByEmail(context.Background(), email); !errors.Is(err, hubspot.ErrValidation) {
			t.Errorf("%q: %v, want ErrValidation", email, err)
		}
	}
	if n := len(requests()); n != 1 {
		t.Fatalf("%d requests, want none for bad addresses", n)
	}

	url, _ = usersServer(t, reply(http.StatusOK, `{"id":"1","email":"one@x.example","roleIds":[],"superAdmin":"yes"}`), twoPages)
	if _, err := client(t, url, hubspot.Config{}).UserByEmail(context.Background(), "one@x.example"); err == nil || errors.Is(err, hubspot.ErrNotFound) {
		t.Fatalf("superAdmin \"yes\": %v, want an error", err)
	}
}

// TestSuperAdmins is the client against the emulator's users, whose list
// takes two pages: the local stack's admin is a Super Admin, the viewer is
// refused, an unknown address is not found, and an address typed in
// another case is found on the list's last page.
func TestSuperAdmins(t *testing.T) {
	for _, tt := range []struct{ version, list, lookup string }{
		{"", "GET /settings/users/{version}", "GET /settings/users/{version}/{userId}"},
		{"v3", "GET /settings/v3/users/{$}", "GET /settings/v3/users/{userId}"},
	} {
		t.Run(cmp.Or(tt.version, "default"), func(t *testing.T) {
			late := emulator.User{Email: "late.admin@acme.example", SuperAdmin: true}
			c, srv := setup(t, emulator.Options{Users: []emulator.User{late}}, hubspot.Config{APIVersion: tt.version})
			ctx := context.Background()

			u, err := c.SuperAdmin(ctx, emulator.SuperAdminEmail)
			if err != nil || !u.SuperAdmin || u.Email != emulator.SuperAdminEmail {
				t.Fatalf("admin: %+v, %v", u, err)
			}
			u, err = c.SuperAdmin(ctx, emulator.ViewerEmail)
			if !errors.Is(err, hubspot.ErrNotSuperAdmin) || errors.Is(err, hubspot.ErrNotFound) || u == nil || u.Email != emulator.ViewerEmail {
				t.Fatalf("viewer: %+v, %v; want refused as not a Super Admin", u, err)
			}
			if _, err := c.SuperAdmin(ctx, "nobody@acme.example"); !errors.Is(err, hubspot.ErrNotFound) || errors.Is(err, hubspot.ErrNotSuperAdmin) {
				t.Fatalf("unknown address: %v, want not found", err)
			}
			u, err = c.SuperAdmin(ctx, "Late.Admin@ACME.example")
			if err != nil || u.Email != late.Email {
				t.Fatalf("address in another case: %+v, %v", u, err)
			}

			users := collectUsers(t, c)
			if len(users) != emulator.SeededUsers+1 || users[len(users)-1].Email != late.Email {
				t.Fatalf("%d users, want %d ending with %s", len(users), emulator.SeededUsers+1, late.Email)
			}
			// Two pages for each miss confirmed and for the full list.
			routes := srv.Stats().Routes
			if routes[tt.list] != 6 || routes[tt.lookup] != 4 {
				t.Fatalf("%d list and %d lookup requests, want 6 and 4: %v", routes[tt.list], routes[tt.lookup], routes)
			}
		})
	}
}

// TestSuperAdminScopes: a credential that may not read users is told the
// scope, from HubSpot's 403.
func TestSuperAdminScopes(t *testing.T) {
	c, _ := setup(t, emulator.Options{Scopes: []string{"crm.objects.contacts.read"}}, hubspot.Config{})
	_, err := c.SuperAdmin(context.Background(), emulator.SuperAdminEmail)
	var m hubspot.MissingScopes
	if !m.Add(err) || !slices.Equal(m.Scopes, []string{"settings.users.read"}) {
		t.Fatalf("%v, want a 403 naming settings.users.read", err)
	}
	c, _ = setup(t, emulator.Options{Scopes: []string{"crm.objects.users.read"}}, hubspot.Config{})
	if _, err := c.SuperAdmin(context.Background(), emulator.SuperAdminEmail); err != nil {
		t.Fatalf("with crm.objects.users.read: %v", err)
	}
}
