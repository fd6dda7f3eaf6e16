package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/api"
	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/memstore"
	"github.com/crmbackup/crmbackup/internal/schedule"
)

type noRunner struct{}

func (noRunner) StartBackup(context.Context, string, string) error { return nil }

type romeZone struct{}

func (romeZone) TimeZone(context.Context, *backup.Account) (string, error) { return "Europe/Rome", nil }

// stored is an API on the real services over the in-memory store.
type stored struct {
	url    string
	store  *memstore.Store
	tokens *auth.DevTokens
}

func newStored(t testing.TB, tier backup.Tier) *stored {
	t.Helper()
	store := memstore.New()
	ctx := context.Background()
	for _, id := range []string{"acme", "globex"} {
		if err := store.PutAccount(ctx, &backup.Account{ID: id, Name: id, Tier: tier, TokenRef: "env:X"}); err != nil {
			t.Fatal(err)
		}
	}
	clock := func() time.Time { return now }
	bk := &backup.Service{Store: store, Runner: noRunner{}, Now: clock}
	sch := &schedule.Service{Store: store, Backups: bk, Zones: romeZone{}, Now: clock}
	tokens := &auth.DevTokens{Secret: []byte(strings.Repeat("k", 32)), Issuer: "test", Audience: "crmbackup", Names: auth.DefaultClaims}
	srv := httptest.NewServer((&api.Server{Auth: api.BearerTokens{Tokens: tokens}, Backups: bk, Schedules: sch,
		Notifications: store, Audit: store, Now: clock}).Handler())
	t.Cleanup(srv.Close)
	return &stored{url: srv.URL, store: store, tokens: tokens}
}

func (s *stored) get(t *testing.T, account, method, path, body string) (int, map[string]any) {
	t.Helper()
	tok, err := s.tokens.Sign(auth.DevClaims{Subject: "admin@" + account, AccountID: account, Role: auth.SuperAdminRole})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", "lists-test/1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: %s", method, path, raw)
	}
	return resp.StatusCode, m
}

func TestPagingThroughTheAPI(t *testing.T) {
	s := newStored(t, backup.Enterprise)
	ctx := context.Background()
	var want []string
	for i := range 250 {
		at := now.Add(-time.Duration(250-i) * time.Minute)
		id := backup.NewID(at)
		if _, err := s.store.AddNotification(ctx, &backup.Notification{AccountID: "acme", ID: id, CreatedAt: at, Kind: "backup.completed"}); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	for _, order := range []string{"oldest", "newest"} {
		var got []string
		path := "/v1/notifications?limit=40&order=" + order
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			code, m := s.get(t, "acme", "GET", path, "")
			if code != 200 || m["unread"] != float64(250) {
				t.Fatalf("%s: %d %v", path, code, m["error"])
			}
			for _, n := range m["notifications"].([]any) {
				got = append(got, n.(map[string]any)["id"].(string))
			}
			next, _ := m["next"].(string)
			if next == "" {
				break
			}
			path = "/v1/notifications?limit=40&cursor=" + url.QueryEscape(next)
		}
		exp := slices.Clone(want)
		if order == "newest" {
			slices.Reverse(exp)
		}
		if !slices.Equal(got, exp) {
			t.Fatalf("%s first: %d ids, not the 250 in order", order, len(got))
		}
	}

	code, m := s.get(t, "acme", "GET", "/v1/notifications?limit=10", "")
	if code != 200 {
		t.Fatal(code)
	}
	cursor := m["next"].(string)
	raw, _ := base64.RawURLEncoding.DecodeString(cursor)
	raw[len(raw)/2] ^= 1
	tampered := base64.RawURLEncoding.EncodeToString(raw)
	for _, tt := range []struct {
		name, account, path string
	}{
		{"a tampered cursor", "acme", "/v1/notifications?cursor=" + tampered},
		{"a cursor cut short", "acme", "/v1/notifications?cursor=" + cursor[:len(cursor)-3]},
		{"another account's cursor", "globex", "/v1/notifications?cursor=" + cursor},
		{"another list's cursor", "acme", "/v1/backups?cursor=" + cursor},
		{"a made-up cursor", "acme", "/v1/notifications?cursor=bm90IGEgY3Vyc29y"},
		{"a cursor and another order", "acme", "/v1/notifications?order=oldest&cursor=" + cursor},
		{"an unknown parameter", "acme", "/v1/notifications?page=2"},
		{"limit twice", "acme", "/v1/notifications?limit=1&limit=2"},
		{"order sideways", "acme", "/v1/notifications?order=random"},
		{"from after to", "acme", "/v1/audit-log?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z"},
		{"from not a time", "acme", "/v1/audit-log?from=yesterday"},
		{"an unknown action", "acme", "/v1/audit-log?action=backup.deleted"},
		{"an action on a list without", "acme", "/v1/backups?action=backup.created"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code, m := s.get(t, tt.account, "GET", tt.path, ""); code != 400 || m["error"].(map[string]any)["code"] != apperr.Invalid {
				t.Fatalf("%d %v", code, m)
			}
		})
	}
}

func TestNotificationReadRoutes(t *testing.T) {
	s := newStored(t, backup.Enterprise)
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		at := now.Add(-time.Duration(i) * time.Hour)
		id := backup.NewID(at)
		s.store.AddNotification(ctx, &backup.Notification{AccountID: "acme", ID: id, CreatedAt: at, Kind: "backup.completed"})
		ids = append(ids, id)
	}
	if code, m := s.get(t, "acme", "POST", "/v1/notifications/"+ids[0]+"/read", ""); code != 200 || m["unread"] != float64(2) {
		t.Fatalf("read one: %d %v", code, m)
	}
	if code, m := s.get(t, "globex", "POST", "/v1/notifications/"+ids[1]+"/read", ""); code != 404 {
		t.Fatalf("another account's: %d %v", code, m)
	}
	if code, m := s.get(t, "acme", "POST", "/v1/notifications/"+ids[1]+"/read", `{"all":true}`); code != 400 {
		t.Fatalf("a body: %d %v", code, m)
	}
	if n, _ := s.store.UnreadCount(ctx, "acme"); n != 2 {
		t.Fatalf("a refused request changed the unread count: %d", n)
	}
	if code, m := s.get(t, "acme", "POST", "/v1/notifications/read-all?before=now", ""); code != 400 {
		t.Fatalf("a query parameter on a route without any: %d %v", code, m)
	}
	if code, m := s.get(t, "acme", "GET", "/v1/backup-schedule?verbose=1", ""); code != 400 {
		t.Fatalf("a query parameter on a route without any: %d %v", code, m)
	}
	if code, m := s.get(t, "acme", "POST", "/v1/notifications/read-all", ""); code != 200 || m["marked"] != float64(2) || m["unread"] != float64(0) {
		t.Fatalf("read all: %d %v", code, m)
	}
	_, m := s.get(t, "acme", "GET", "/v1/notifications", "")
	for _, n := range m["notifications"].([]any) {
		if n.(map[string]any)["readAt"] == nil {
			t.Fatalf("unread after read-all: %v", n)
		}
	}
}

func TestScheduleRoutes(t *testing.T) {
	for _, tt := range []struct {
		name   string
		tier   backup.Tier
		method string
		body   string
		status int
		want   string // in the body
	}{
		{"get the defaults", backup.Enterprise, "GET", "", 200, `"timezone":"Europe/Rome"`},
		{"set weekly", backup.Enterprise, "PUT", `{"enabled":true,"frequency":"weekly"}`, 200, `"nextRunAt":"2026-11-25T01:00:00Z"`},
		{"set daily at 05:15 UTC", backup.Enterprise, "PUT", `{"enabled":true,"frequency":"daily","timeOfDay":"05:15","timezone":"UTC"}`, 200, `"nextRunAt":"2026-11-25T05:15:00Z"`},
		{"professional: get", backup.Professional, "GET", "", 403, `"code":"enterprise_required"`},
		{"professional: put", backup.Professional, "PUT", `{"enabled":true,"frequency":"weekly"}`, 403, `Enterprise feature`},
		{"a bad frequency", backup.Enterprise, "PUT", `{"enabled":true,"frequency":"hourly"}`, 400, `"field":"frequency"`},
		{"a bad time", backup.Enterprise, "PUT", `{"enabled":true,"frequency":"daily","timeOfDay":"7pm"}`, 400, `"field":"timeOfDay"`},
		{"a bad zone", backup.Enterprise, "PUT", `{"enabled":true,"frequency":"daily","timezone":"Europe/Nowhere"}`, 400, `"field":"timezone"`},
		{"a wrong type", backup.Enterprise, "PUT", `{"enabled":"yes"}`, 400, `invalid JSON`},
		{"an unknown field", backup.Enterprise, "PUT", `{"enabled":true,"hour":2}`, 400, `unknown field`},
		{"a case-variant key", backup.Enterprise, "PUT", `{"Enabled":true}`, 400, `unknown field`},
		{"no enabled", backup.Enterprise, "PUT", `{"frequency":"weekly"}`, 400, `"field":"enabled"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newStored(t, tt.tier)
			code, m := s.get(t, "acme", tt.method, "/v1/backup-schedule", tt.body)
			raw, _ := json.Marshal(m)
			if code != tt.status || !strings.Contains(string(raw), tt.want) {
				t.Fatalf("%d %s, want %d with %s", code, raw, tt.status, tt.want)
			}
			if tt.status >= 400 {
				if _, err := s.store.Schedule(context.Background(), "acme"); !apperr.Is(err, apperr.NotFound) {
					t.Fatalf("a refused request stored a schedule: %v", err)
				}
			}
		})
	}
	t.Run("the audit log records who changed it, from where", func(t *testing.T) {
		s := newStored(t, backup.Enterprise)
		s.get(t, "acme", "PUT", "/v1/backup-schedule", `{"enabled":true,"frequency":"weekly"}`)
		code, m := s.get(t, "acme", "GET", "/v1/audit-log?action="+audit.ScheduleUpdated, "")
		entries := m["entries"].([]any)
		if code != 200 || len(entries) != 1 {
			t.Fatalf("%d %v", code, m)
		}
		e := entries[0].(map[string]any)
		if e["actor"] != "admin@acme" || e["ip"] != "127.0.0.1" || e["userAgent"] != "lists-test/1" || e["outcome"] != audit.Succeeded {
			t.Fatalf("%v", e)
		}
		if _, m := s.get(t, "globex", "GET", "/v1/audit-log", ""); len(m["entries"].([]any)) != 0 {
			t.Fatalf("another account sees it: %v", m)
		}
	})
}
