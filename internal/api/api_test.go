package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/api"
	"github.com/crmbackup/crmbackup/internal/api/apitest"
	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/listing"
)

var now = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

type fixture struct {
	url    string
	fake   *apitest.Backups
	tokens *auth.DevTokens
}

func setup(t *testing.T) *fixture {
	t.Helper()
	fake := apitest.New(
		&backup.Backup{AccountID: "acme", ID: "01JD2Z6W6Q3V9K8M7N5P4R3S2A", Status: backup.Completed, CompletedAt: now.Add(-time.Hour), ExpiresAt: now.Add(13 * 24 * time.Hour), Key: "backups/acme/01JD2Z6W6Q3V9K8M7N5P4R3S2A.zip"},
		&backup.Backup{AccountID: "acme", ID: "01JD2Z6W6Q3V9K8M7N5P4R3S2B", Status: backup.Running},
		&backup.Backup{AccountID: "acme", ID: "01JD2Z6W6Q3V9K8M7N5P4R3S2C", Status: backup.Completed, CompletedAt: now.Add(-15 * 24 * time.Hour), ExpiresAt: now.Add(-24 * time.Hour), Key: "backups/acme/01JD2Z6W6Q3V9K8M7N5P4R3S2C.zip"},
		&backup.Backup{AccountID: "globex", ID: "01JD2Z6W6Q3V9K8M7N5P4R3S2D", Status: backup.Completed, ExpiresAt: now.Add(time.Hour), Key: "backups/globex/theirs.zip"},
	)
	fake.Now = now
	tokens := &auth.DevTokens{Secret: []byte(strings.Repeat("k", 32)), Issuer: "test", Audience: "crmbackup", Names: auth.DefaultClaims}
	srv := httptest.NewServer((&api.Server{Auth: api.BearerTokens{Tokens: tokens}, Backups: fake, Notifications: noNotifications{}, Now: func() time.Time { return now }}).Handler())
	t.Cleanup(srv.Close)
	return &fixture{url: srv.URL, fake: fake, tokens: tokens}
}

type noNotifications struct{ backup.Inbox }

func (noNotifications) Notifications(context.Context, string, listing.Query) (listing.Page[*backup.Notification], error) {
	return listing.Page[*backup.Notification]{}, nil
}

func (noNotifications) UnreadCount(context.Context, string) (int, error) { return 0, nil }

func (f *fixture) token(t *testing.T, account, role string) string {
	t.Helper()
	tok, err := f.tokens.Sign(auth.DevClaims{Subject: "u1", AccountID: account, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		token      string // "admin", "viewer", "other", "bad", "" (none)
		wantStatus int
		wantCode   string // error code, for 4xx
		wantInBody string
	}{
		{"create", "POST", "/v1/backups", "{}", "admin", 202, "", `"status": "QUEUED"`},
		{"create with empty body", "POST", "/v1/backups", "", "admin", 202, "", `"status": "QUEUED"`},
		{"create with unknown field", "POST", "/v1/backups", `{"objects":["contacts"]}`, "admin", 400, apperr.Invalid, "unknown field"},
		{"create with malformed JSON", "POST", "/v1/backups", `{"`, "admin", 400, apperr.Invalid, "invalid JSON"},
		{"create with two values", "POST", "/v1/backups", `{} {}`, "admin", 400, apperr.Invalid, "more than one value"},
		{"create with an array", "POST", "/v1/backups", `[]`, "admin", 400, apperr.Invalid, "invalid JSON"},
		{"create as viewer", "POST", "/v1/backups", "{}", "viewer", 403, apperr.Forbidden, "super admin"},
		{"create without token", "POST", "/v1/backups", "{}", "", 401, apperr.Unauthorized, "Bearer"},
		{"create with forged token", "POST", "/v1/backups", "{}", "bad", 401, apperr.Unauthorized, "invalid token"},
		{"list", "GET", "/v1/backups", "", "admin", 200, "", `"backups"`},
		{"list with bad limit", "GET", "/v1/backups?limit=1000", "", "admin", 400, apperr.Invalid, "limit"},
		{"list as viewer", "GET", "/v1/backups", "", "viewer", 403, apperr.Forbidden, ""},
		{"get", "GET", "/v1/backups/01JD2Z6W6Q3V9K8M7N5P4R3S2A", "", "admin", 200, "", `"downloadUrl": "/v1/backups/01JD2Z6W6Q3V9K8M7N5P4R3S2A/download"`},
		{"get expired", "GET", "/v1/backups/01JD2Z6W6Q3V9K8M7N5P4R3S2C", "", "admin", 200, "", `"expired": true`},
		{"get unknown", "GET", "/v1/backups/01JD2Z6W6Q3V9K8M7N5P4R3S2E", "", "admin", 404, apperr.NotFound, "01JD2Z6W6Q3V9K8M7N5P4R3S2E"},
		{"get other account's", "GET", "/v1/backups/01JD2Z6W6Q3V9K8M7N5P4R3S2D", "", "admin", 404, apperr.NotFound, ""},
		{"get with an id that is no ULID", "GET", "/v1/backups/not-an-id", "", "admin", 404, apperr.NotFound, "not-an-id"},
		{"get with an id past DynamoDB's key limit", "GET", "/v1/backups/" + strings.Repeat("A", 1100), "", "admin", 404, apperr.NotFound, "AAAA…"},
		{"download with an id that is no ULID", "GET", "/v1/backups/x/download", "", "admin", 404, apperr.NotFound, ""},
		{"no ULID, not signed in", "GET", "/v1/backups/x", "", "", 401, apperr.Unauthorized, ""},
		{"a path that needs cleaning", "GET", "//v1/backups", "", "admin", 404, apperr.NotFound, "no route"},
		{"a path with dot-dot", "POST", "/v1/restore-plans/../execute", "{}", "admin", 404, apperr.NotFound, "no route"},
		{"a trailing slash", "GET", "/v1/backups/", "", "", 404, apperr.NotFound, "no route"},
		{"download", "GET", "/v1/backups/01JD2Z6W6Q3V9K8M7N5P4R3S2A/download", "", "admin", 302, "", `"url"`},
		{"download running", "GET", "/v1/backups/01JD2Z6W6Q3V9K8M7N5P4R3S2B/download", "", "admin", 409, apperr.Conflict, "RUNNING"},
		{"download expired", "GET", "/v1/backups/01JD2Z6W6Q3V9K8M7N5P4R3S2C/download", "", "admin", 410, apperr.Gone, "expired"},
		{"download other account's", "GET", "/v1/backups/01JD2Z6W6Q3V9K8M7N5P4R3S2D/download", "", "admin", 404, apperr.NotFound, ""},
		{"download as viewer", "GET", "/v1/backups/01JD2Z6W6Q3V9K8M7N5P4R3S2A/download", "", "viewer", 403, apperr.Forbidden, ""},
		{"notifications", "GET", "/v1/notifications", "", "admin", 200, "", `"notifications": []`},
		{"unknown route", "GET", "/v1/nothing", "", "admin", 404, apperr.NotFound, "no route"},
		{"wrong method", "DELETE", "/v1/backups/01JD2Z6W6Q3V9K8M7N5P4R3S2A", "", "admin", 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			req, err := http.NewRequest(tt.method, f.url+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			switch tt.token {
			case "admin":
				req.Header.Set("Authorization", "Bearer "+f.token(t, "acme", auth.SuperAdminRole))
			case "viewer":
				req.Header.Set("Authorization", "Bearer "+f.token(t, "acme", "viewer"))
			case "bad":
				other := &auth.DevTokens{Secret: []byte(strings.Repeat("x", 32)), Issuer: "test", Audience: "crmbackup", Names: auth.DefaultClaims}
				tok, _ := other.Sign(auth.DevClaims{Subject: "u1", AccountID: "acme", Role: auth.SuperAdminRole})
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			if !strings.Contains(string(body), tt.wantInBody) {
				t.Errorf("body %s does not contain %q", body, tt.wantInBody)
			}
			if tt.wantCode != "" {
				var e struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != tt.wantCode || e.Error.Message == "" {
					t.Errorf("error body %s: want code %q and a message (%v)", body, tt.wantCode, err)
				}
			}
			if tt.wantStatus == 302 && !strings.HasPrefix(resp.Header.Get("Location"), "https://") {
				t.Errorf("Location %q, want the presigned URL", resp.Header.Get("Location"))
			}
			wantCreated := 0
			if tt.wantStatus == 202 {
				wantCreated = 1
			}
			if len(f.fake.Created) != wantCreated {
				t.Errorf("%d backups created, want %d (bad input must change nothing)", len(f.fake.Created), wantCreated)
			}
		})
	}
}

func TestQuotaUsedIs429WithNextAllowedAt(t *testing.T) {
	f := setup(t)
	next := now.Add(20 * time.Hour)
	f.fake.CreateErr = apperr.New(apperr.QuotaUsed, "one backup per 24 hours").With("nextAllowedAt", next)
	req, _ := http.NewRequest("POST", f.url+"/v1/backups", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+f.token(t, "acme", auth.SuperAdminRole))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error struct {
			Code    string
			Details struct {
				NextAllowedAt time.Time `json:"nextAllowedAt"`
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 429 || e.Error.Code != apperr.QuotaUsed || !e.Error.Details.NextAllowedAt.Equal(next) {
		t.Errorf("status %d, error %+v; want 429 quota_exceeded with nextAllowedAt %v", resp.StatusCode, e.Error, next)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "72000" {
		t.Errorf("Retry-After %q, want 72000 (seconds until nextAllowedAt)", ra)
	}
}

func TestInternalErrorsStayInTheLogs(t *testing.T) {
	f := setup(t)
	f.fake.CreateErr = io.ErrUnexpectedEOF
	req, _ := http.NewRequest("POST", f.url+"/v1/backups", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+f.token(t, "acme", auth.SuperAdminRole))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 500 || strings.Contains(string(body), "unexpected EOF") || !strings.Contains(string(body), "internal error") {
		t.Errorf("status %d body %s: want 500 with a generic message", resp.StatusCode, body)
	}
}

// The quota line's route, and the download routes' JSON form for a
// browser's script (which cannot read a redirect).
func TestQuotaAndDownloadAsJSON(t *testing.T) {
	f := setup(t)
	get := func(path, accept string) (int, string, string) {
		req, _ := http.NewRequest("GET", f.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+f.token(t, "acme", auth.SuperAdminRole))
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(body)
	}
	if code, _, body := get("/v1/backup-quota", ""); code != 200 || !strings.Contains(body, `"allowedNow": true`) || !strings.Contains(body, `"window": "24h0m0s"`) {
		t.Fatalf("quota: %d %s", code, body)
	}
	if code, _, body := get("/v1/account", ""); code != 200 || !strings.Contains(body, `"portalId": 12345678`) || strings.Contains(body, "tokenRef") {
		t.Fatalf("account: %d %s", code, body)
	}
	dl := "/v1/backups/01JD2Z6W6Q3V9K8M7N5P4R3S2A/download"
	if code, loc, body := get(dl, "application/json"); code != 200 || loc != "" || !strings.Contains(body, `"url"`) {
		t.Fatalf("download as JSON: %d %q %s", code, loc, body)
	}
	if code, loc, _ := get(dl, "text/html"); code != 302 || loc == "" {
		t.Fatalf("download for a browser's navigation: %d %q", code, loc)
	}
}
