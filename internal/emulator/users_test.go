package emulator_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/crmbackup/crmbackup/internal/emulator"
)

// TestUsersPaging: the users list pages with opaque cursors to the end, in
// id order, every user once, in HubSpot's PublicUser shape.
func TestUsersPaging(t *testing.T) {
	_, url := start(t, emulator.Options{})
	for _, path := range []string{"/settings/v3/users/", "/settings/v3/users", "/settings/users/2026-03"} {
		t.Run(path, func(t *testing.T) {
			first := call(t, "GET", url+path+"?limit=100", "")
			if first.status != 200 || len(first.body["results"].([]any)) != 100 {
				t.Fatalf("first page: %d, %d users", first.status, len(first.body["results"].([]any)))
			}
			after := first.body["paging"].(map[string]any)["next"].(map[string]any)["after"].(string)
			if _, err := strconv.Atoi(after); err == nil {
				t.Errorf("cursor %q is a bare id; HubSpot's are opaque", after)
			}
			users := listAll(t, url+path+"?limit=100")
			if len(users) != emulator.SeededUsers {
				t.Fatalf("%d users, want %d", len(users), emulator.SeededUsers)
			}
			prev, supers := 0, 0
			for _, u := range users {
				id, err := strconv.Atoi(u["id"].(string))
				if err != nil || id <= prev {
					t.Fatalf("user id %v out of order, repeated or not numeric", u["id"])
				}
				prev = id
				if _, ok := u["roleIds"].([]any); !ok {
					t.Fatalf("user %v: roleIds missing or not an array", u)
				}
				super, ok := u["superAdmin"].(bool)
				if !ok || u["email"] == "" {
					t.Fatalf("user %v: superAdmin not a boolean or no email", u)
				}
				if super {
					supers++
				}
			}
			if supers < 2 || supers == len(users) {
				t.Errorf("%d Super Admins of %d users", supers, len(users))
			}
		})
	}
}

func TestUsersLimit(t *testing.T) {
	_, url := start(t, emulator.Options{})
	for limit, want := range map[string]int{"": 100, "7": 7, "500": 100} {
		a := call(t, "GET", url+"/settings/users/2026-03?limit="+limit, "")
		if a.status != 200 || len(a.body["results"].([]any)) != want {
			t.Errorf("limit %q: %d, %d users, want %d", limit, a.status, len(a.body["results"].([]any)), want)
		}
	}
	for _, q := range []string{"limit=0", "limit=ten", "after=100"} {
		hubspotError(t, call(t, "GET", url+"/settings/users/2026-03?"+q, ""), 400, "VALIDATION_ERROR")
	}
}

// TestUserLookup: one user by id or by e-mail address (idProperty=EMAIL);
// an e-mail address without it is HubSpot's USER_ID_NOT_NUMERIC; unknown
// users are 404; a version HubSpot has not released for users is a 404.
func TestUserLookup(t *testing.T) {
	_, url := start(t, emulator.Options{})
	admin := call(t, "GET", url+"/settings/users/2026-03/"+emulator.SuperAdminEmail+"?idProperty=EMAIL", "")
	if admin.status != 200 || admin.body["email"] != emulator.SuperAdminEmail || admin.body["superAdmin"] != true {
		t.Fatalf("admin: %d %s", admin.status, admin.raw)
	}
	byID := call(t, "GET", url+"/settings/v3/users/"+admin.body["id"].(string), "")
	if string(byID.raw) != string(admin.raw) {
		t.Fatalf("by id %s, by e-mail %s", byID.raw, admin.raw)
	}
	viewer := call(t, "GET", url+"/settings/v3/users/"+emulator.ViewerEmail+"?idProperty=EMAIL", "")
	if viewer.status != 200 || viewer.body["superAdmin"] != false || fmt.Sprint(viewer.body["roleIds"]) != "[3001]" || viewer.body["roleId"] != "3001" {
		t.Fatalf("viewer: %d %s", viewer.status, viewer.raw)
	}

	a := call(t, "GET", url+"/settings/users/2026-03/"+emulator.SuperAdminEmail, "")
	hubspotError(t, a, 400, "VALIDATION_ERROR")
	if a.body["subCategory"] != "ValidationErrors.USER_ID_NOT_NUMERIC" {
		t.Errorf("e-mail as a user id: %s", a.raw)
	}
	hubspotError(t, call(t, "GET", url+"/settings/users/2026-03/1?idProperty=NAME", ""), 400, "VALIDATION_ERROR")
	for _, path := range []string{
		"/settings/users/2026-03/nobody@acme.example?idProperty=EMAIL",
		"/settings/users/2026-03/ADMIN@acme.example?idProperty=EMAIL", // matched exactly
		"/settings/users/2026-03/999?idProperty=USER_ID",
		"/settings/v3/users/999",
		"/settings/users/2026-09/" + emulator.SuperAdminEmail + "?idProperty=EMAIL",
		"/settings/users/2026-09",
	} {
		hubspotError(t, call(t, "GET", url+path, ""), 404, "OBJECT_NOT_FOUND")
	}
}

func TestUsersOption(t *testing.T) {
	srv, url := start(t, emulator.Options{Users: []emulator.User{
		{Email: "Admin@Acme.example", FirstName: "Demoted"}, // replaces the seeded admin
		{Email: "late@acme.example", SuperAdmin: true, RoleIDs: []string{"9"}},
		{ID: "77", Email: "early@acme.example"},
	}})
	users := listAll(t, url+"/settings/users/2026-03?limit=100")
	if len(users) != emulator.SeededUsers+2 {
		t.Fatalf("%d users, want %d", len(users), emulator.SeededUsers+2)
	}
	if users[0]["id"] != "77" || users[1]["email"] != "Admin@Acme.example" || users[1]["superAdmin"] != false {
		t.Errorf("first users %v, %v", users[0], users[1])
	}
	if last := users[len(users)-1]; last["email"] != "late@acme.example" || last["superAdmin"] != true {
		t.Errorf("last user %v", last)
	}
	if srv.Stats().Records["users"] != 0 {
		t.Error("users counted as records")
	}
	for name, u := range map[string][]emulator.User{
		"no e-mail":       {{FirstName: "x"}},
		"twice":           {{Email: "a@x.example"}, {Email: "A@x.example"}},
		"id not numeric":  {{ID: "u1", Email: "a@x.example"}},
		"id taken":        {{ID: "1000001", Email: "a@x.example"}},
		"id not positive": {{ID: "0", Email: "a@x.example"}},
	} {
		if _, err := emulator.New(emulator.Options{Users: u}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestUsersScopes: HubSpot accepts settings.users.read or
// crm.objects.users.read; without either the refusal names the first.
func TestUsersScopes(t *testing.T) {
	for _, scope := range []string{"settings.users.read", "crm.objects.users.read"} {
		_, url := start(t, emulator.Options{Scopes: []string{scope}})
		if a := call(t, "GET", url+"/settings/users/2026-03", ""); a.status != 200 {
			t.Errorf("%s: %d %s", scope, a.status, a.raw)
		}
	}
	_, url := start(t, emulator.Options{Scopes: []string{"crm.objects.contacts.read"}})
	for _, path := range []string{"/settings/users/2026-03", "/settings/v3/users/" + emulator.SuperAdminEmail + "?idProperty=EMAIL"} {
		a := call(t, "GET", url+path, "")
		hubspotError(t, a, 403, "MISSING_SCOPES")
		if !strings.Contains(string(a.raw), `"requiredGranularScopes":["settings.users.read"]`) {
			t.Errorf("%s: %s", path, a.raw)
		}
	}
}
