package cognito_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/cognito"
	"github.com/crmbackup/crmbackup/internal/cognito/cognitofake"
)

func TestCreateUser(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name               string
		email, account     string
		role               string
		wantCode           string
		wantRequest        bool
		wantEmail          string
		wantAttrsInRequest []any
	}{
		{
			name: "an admin", email: "Carol@Example.com ", account: "acct-9", role: "super_admin",
			wantRequest: true, wantEmail: "carol@example.com",
			wantAttrsInRequest: []any{
				map[string]any{"Name": "email", "Value": "carol@example.com"},
				map[string]any{"Name": "email_verified", "Value": "true"},
				map[string]any{"Name": "custom:account_id", "Value": "acct-9"},
				map[string]any{"Name": "custom:role", "Value": "super_admin"},
			},
		},
		{name: "the same e-mail again", email: email, account: "acct-1", role: "super_admin", wantCode: apperr.Conflict, wantRequest: true},
		{name: "the same e-mail in capitals", email: "ALICE@example.com", account: "acct-1", role: "super_admin", wantCode: apperr.Conflict, wantRequest: true},
		{name: "not an e-mail", email: "alice", account: "acct-1", role: "super_admin", wantCode: apperr.Invalid},
		{name: "no account", email: "dan@example.com", account: " ", role: "super_admin", wantCode: apperr.Invalid},
		{name: "no role", email: "dan@example.com", account: "acct-1", role: "", wantCode: apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cognitofake.New(t)
			f.AddUser(email, password, "acct-1", "super_admin")
			pool := newPool(f)
			u, err := pool.CreateUser(ctx, tt.email, tt.account, tt.role)
			reqs := f.Requests()
			if (len(reqs) == 1) != tt.wantRequest {
				t.Fatalf("requests %v, want one: %v", ops(reqs), tt.wantRequest)
			}
			if tt.wantCode != "" {
				if apperr.Code(err) != tt.wantCode {
					t.Fatalf("error %v (%s), want %s", err, apperr.Code(err), tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			req := reqs[0]
			if req.Op != "AdminCreateUser" || req.Str("UserPoolId") != f.PoolID || req.Str("Username") != tt.wantEmail ||
				!reflect.DeepEqual(req.Get("DesiredDeliveryMediums"), []any{"EMAIL"}) ||
				!reflect.DeepEqual(req.Get("UserAttributes"), tt.wantAttrsInRequest) || req.Get("TemporaryPassword") != nil {
				t.Errorf("request %s %v", req.Op, req.Body)
			}
			if u.Email != tt.wantEmail || u.AccountID != tt.account || u.Role != tt.role || u.Status != "FORCE_CHANGE_PASSWORD" ||
				!u.Enabled || u.Username == "" || u.Username == u.Email || time.Since(u.Created) > time.Minute {
				t.Errorf("user %+v", u)
			}
			if f.TemporaryPassword(tt.wantEmail) == "" {
				t.Error("no temporary password")
			}
		})
	}
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{0, 1, 60, 61, 130} {
		t.Run(fmt.Sprint(n, " users"), func(t *testing.T) {
			f := cognitofake.New(t)
			pool := newPool(f)
			var want []string
			for i := range n {
				e := fmt.Sprintf("user%03d@example.com", i)
				f.AddUser(e, password, fmt.Sprint("acct-", i%3), "super_admin")
				want = append(want, e)
			}
			users, err := pool.Users(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range users {
				got = append(got, u.Email)
				if u.AccountID == "" || u.Role != "super_admin" || u.Status != "CONFIRMED" || u.Username == "" {
					t.Errorf("user %+v", u)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("listed %d users, want %d", len(got), len(want))
			}
			reqs := f.Requests()
			pages := max(1, (n+59)/60)
			if len(reqs) != pages {
				t.Fatalf("%d requests, want %d pages", len(reqs), pages)
			}
			for i, r := range reqs {
				if r.Op != "ListUsers" || r.Str("UserPoolId") != f.PoolID || r.Get("Limit") != float64(60) ||
					(i == 0) != (r.Get("PaginationToken") == nil) {
					t.Errorf("page %d: %s %v", i, r.Op, r.Body)
				}
			}
		})
	}
}

func TestUserAndDeleteUser(t *testing.T) {
	ctx := context.Background()
	f := cognitofake.New(t)
	f.AddUser(email, password, "acct-1", "super_admin")
	pool := newPool(f)

	tests := []struct {
		name     string
		do       func() error
		wantCode string
		wantOp   string
	}{
		{"get", func() error {
			u, err := pool.User(ctx, "Alice@Example.com")
			if err == nil && (u.Email != email || u.AccountID != "acct-1" || u.Role != "super_admin" || u.Status != "CONFIRMED" || !u.Enabled) {
				return fmt.Errorf("user %+v", u)
			}
			return err
		}, "", "AdminGetUser"},
		{"get a missing user", func() error { _, err := pool.User(ctx, "nobody@example.com"); return err }, apperr.NotFound, "AdminGetUser"},
		{"delete", func() error { return pool.DeleteUser(ctx, email) }, "", "AdminDeleteUser"},
		{"get after delete", func() error { _, err := pool.User(ctx, email); return err }, apperr.NotFound, "AdminGetUser"},
		{"delete again", func() error { return pool.DeleteUser(ctx, email) }, apperr.NotFound, "AdminDeleteUser"},
		{"list after delete", func() error {
			users, err := pool.Users(ctx)
			if err == nil && len(users) != 0 {
				return fmt.Errorf("listed %v", users)
			}
			return err
		}, "", "ListUsers"},
	}
	for _, tt := range tests { // in order: each step sees the one before
		n := len(f.Requests())
		err := tt.do()
		if tt.wantCode == "" && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if tt.wantCode != "" && apperr.Code(err) != tt.wantCode {
			t.Errorf("%s: error %v (%s), want %s", tt.name, err, apperr.Code(err), tt.wantCode)
		}
		if reqs := f.Requests()[n:]; len(reqs) != 1 || reqs[0].Op != tt.wantOp || reqs[0].Str("UserPoolId") != f.PoolID {
			t.Errorf("%s: requests %v", tt.name, ops(reqs))
		} else if tt.wantOp != "ListUsers" && reqs[0].Str("Username") == "" {
			t.Errorf("%s: no Username in %v", tt.name, reqs[0].Body)
		}
	}
}

func TestWrongPool(t *testing.T) {
	f := cognitofake.New(t)
	pool := &cognito.Pool{API: f.Client(), PoolID: "eu-west-1_Missing", ClientID: "nope"}
	if _, err := pool.Users(context.Background()); apperr.Code(err) != apperr.NotFound {
		t.Errorf("list users of a missing pool: %v", err)
	}
	if _, err := pool.SignIn(context.Background(), email, password, &prompter{t: t}); apperr.Code(err) != apperr.Invalid {
		t.Errorf("sign in to a missing client: %v", err)
	}
	bad := &cognito.Pool{API: f.Client(), PoolID: "nounderscore", ClientID: f.ClientID}
	if _, err := bad.SignIn(context.Background(), email, password, &prompter{t: t}); apperr.Code(err) != apperr.Invalid || len(f.Requests()) != 2 {
		t.Errorf("a malformed pool id: %v", err)
	}
}
