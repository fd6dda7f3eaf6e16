package console_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/console"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/localstack"
)

// managedLogin is a stand-in for Cognito's managed login on the console's
// origin: /oauth2/authorize sends the browser back with a code, and
// /oauth2/token gives the ID token only for the verifier of the
// challenge the authorize request carried (PKCE, S256).
type managedLogin struct {
	mu        sync.Mutex
	challenge map[string]string // code → code_challenge
	authorize []url.Values
	tokens    int
	logouts   int
	mint      func() (string, error)
	t         *testing.T
}

func (m *managedLogin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch r.URL.Path {
	case "/oauth2/authorize":
		q := r.URL.Query()
		m.authorize = append(m.authorize, q)
		if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("client_id") != "console-client" {
			http.Error(w, "bad authorize request", 400)
			return
		}
		code := fmt.Sprintf("code-%d", len(m.authorize))
		m.challenge[code] = q.Get("code_challenge")
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	case "/oauth2/token":
		r.ParseForm()
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		want, ok := m.challenge[r.Form.Get("code")]
		delete(m.challenge, r.Form.Get("code")) // a code works once
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != want || r.Form.Get("grant_type") != "authorization_code" {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
			return
		}
		m.tokens++
		tok, err := m.mint()
		if err != nil {
			m.t.Error(err)
		}
		json.NewEncoder(w).Encode(map[string]any{"id_token": tok, "access_token": "a", "token_type": "Bearer", "expires_in": 3600})
	case "/logout":
		m.logouts++
		if r.URL.Query().Get("client_id") != "console-client" {
			http.Error(w, "bad logout", 400)
			return
		}
		http.Redirect(w, r, r.URL.Query().Get("logout_uri"), http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

// TestConsoleSignsInWithPKCE: the deployed console's sign-in, the
// authorization code flow with PKCE, in a browser: the code is exchanged
// with the verifier of its challenge, the token is used on the API, and a
// restore's fresh sign-in asks the login page for one (prompt=login).
func TestConsoleSignsInWithPKCE(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local stack and a browser")
	}
	if !console.Built() {
		t.Skip("the console is not built: make console")
	}
	st, err := localstack.Start(context.Background(), localstack.Config{Dir: filepath.Join(t.TempDir(), "stack"),
		Emulator: emulator.Options{Seed: 3, Sizes: emulator.DefaultSizes(100)},
		Account:  backup.Account{ID: "acme", Name: "Acme Inc.", Tier: backup.Enterprise, RequestsPer10s: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	signIns := 0
	login := &managedLogin{challenge: map[string]string{}, t: t, mint: func() (string, error) {
		// Cognito's ID token of a super admin (the local API checks the
		// dev signature instead of Cognito's keys): the first sign-in's
		// two-factor an hour old, the next ones now.
		signIns++
		at := time.Now()
		if signIns == 1 {
			at = at.Add(-time.Hour)
		}
		return st.Tokens.Sign(auth.DevClaims{Subject: "ana@acme.example", AccountID: "acme", Role: auth.SuperAdminRole, MFA: true, AuthTime: at, TTL: time.Hour})
	}}
	apiURL, _ := url.Parse(st.APIURL)
	gw := &gateway{next: httputil.NewSingleHostReverseProxy(apiURL), canned: map[string]cannedAnswer{}}
	ui := console.Handler()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.Handle("/oauth2/", login)
	mux.Handle("/logout", login)
	mux.Handle("/v1/", gw)
	mux.HandleFunc("/config.json", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"api": "", "signIn": "cognito", "authDomain": srv.URL, "clientId": "console-client", "redirectUri": srv.URL + "/"})
	})
	mux.Handle("/", ui)

	pics := screenshots(t)
	ctx := browserFor(t, t.TempDir())
	do(t, ctx, pics, "pkce sign-in",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.Click(xpath(`//button[text()="Sign in"]`)),
		chromedp.WaitVisible(css(`[data-testid=quota]`)),
	)
	if login.tokens != 1 || len(login.authorize) != 1 || login.authorize[0].Get("prompt") != "" || login.authorize[0].Get("redirect_uri") != srv.URL+"/" {
		t.Fatalf("authorize %v, %d tokens", login.authorize, login.tokens)
	}
	// The code and state are gone from the address bar, the verifier from storage.
	loc, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search + "|" + (sessionStorage.getItem("crmbackup.pkce.verifier") ?? "")`))
	if loc != "|" {
		t.Fatalf("after sign-in: %q", loc)
	}
	// A restore with that sign-in: the console asks the login page for a
	// new one (prompt=login), and comes back signed in afresh.
	do(t, ctx, pics, "backup",
		chromedp.Click(xpath(`//button[text()="Create backup"]`)),
		chromedp.Click(xpath(`//div[@role="dialog"]//button[text()="Create"]`)),
		chromedp.WaitVisible(css(`tr[data-status=COMPLETED]`)),
		chromedp.Click(xpath(`//tr[@data-status="COMPLETED"]//button[text()="Restore"]`)),
		chromedp.WaitVisible(css(`input[name=object][value=deals]`)),
		chromedp.Click(css(`input[name=object][value=deals]`)),
		chromedp.Click(xpath(`//button[text()="Next"]`)),
		chromedp.WaitVisible(css(`input[name=property][value=dealname]`)),
		chromedp.Click(css(`input[name=property][value=dealname]`)),
		chromedp.Click(xpath(`//button[text()="Review"]`)),
		chromedp.WaitVisible(css(`input[name=ackChange]`)),
	)
	planID, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=review]').dataset.plan`))
	if err != nil || planID == "" {
		t.Fatalf("no plan under review (%v)", err)
	}
	do(t, ctx, pics, "stale restore",
		chromedp.Click(css(`input[name=ackChange]`)),
		chromedp.Click(css(`input[name=ackUndo]`)),
		chromedp.Click(xpath(`//button[text()="Restore data"]`)),
		chromedp.WaitVisible(xpath(`//button[text()="Sign in again with two-factor"]`)),
	)
	// Back from the login page, the same plan is under review again, the
	// boxes unticked; then it runs.
	do(t, ctx, pics, "fresh sign-in",
		chromedp.Click(xpath(`//button[text()="Sign in again with two-factor"]`)),
		chromedp.WaitVisible(css(`[data-testid=review]`)),
		chromedp.WaitVisible(css(`input[name=ackChange]`)),
	)
	if len(login.authorize) != 2 || login.authorize[1].Get("prompt") != "login" || login.tokens != 2 {
		t.Fatalf("the fresh sign-in: authorize %v, %d tokens", login.authorize, login.tokens)
	}
	again, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=review]').dataset.plan + "|" + document.querySelector('input[name=ackChange]').checked`))
	if again != planID+"|false" {
		t.Fatalf("after the fresh sign-in the review is %q, want plan %s with the boxes unticked", again, planID)
	}
	do(t, ctx, pics, "restore after the fresh sign-in",
		chromedp.Click(css(`input[name=ackChange]`)),
		chromedp.Click(css(`input[name=ackUndo]`)),
		chromedp.Click(xpath(`//button[text()="Restore data"]`)),
		chromedp.WaitVisible(css(`tr[data-import][data-status=COMPLETED]`)),
	)

	// A field the API names that has a group of controls: the error is
	// next to the group, and the radio that takes the focus is described
	// by it too.
	gw.answer("PUT /v1/backup-schedule", http.StatusBadRequest, "application/json",
		`{"error":{"code":"invalid","message":"frequency must be weekly, biweekly or daily","details":{"field":"frequency"}}}`)
	do(t, ctx, pics, "frequency refused",
		chromedp.Click(xpath(`//nav/a[text()="Backup and restore"]`)),
		chromedp.WaitVisible(css(`[data-testid=quota]`)),
		chromedp.Click(xpath(`//button[text()="Schedule backup"]`)),
		chromedp.WaitVisible(css(`input[name=enabled]`)),
		chromedp.Click(css(`input[name=enabled]`)),
		chromedp.Click(css(`input[name=frequency][value=weekly]`)),
		chromedp.Click(xpath(`//button[text()="Save"]`)),
		chromedp.WaitVisible(css(`#frequency-error`)),
		focused(`input[name=frequency]`),
	)
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll('input[name=frequency]')].map(r => r.getAttribute('aria-describedby')).join(',')`)); err != nil || got != "frequency-error,frequency-error,frequency-error" {
		t.Errorf("the radios' aria-describedby: %q (%v)", got, err)
	}
	if got := attr(t, ctx, `fieldset:has(input[name=frequency])`, "aria-invalid"); got != "true" {
		t.Errorf("the frequency's group: aria-invalid %q", got)
	}
	// A field that has no control on screen (the day, for a daily
	// schedule): the form's error line says it, naming the field.
	gw.answer("PUT /v1/backup-schedule", http.StatusBadRequest, "application/json",
		`{"error":{"code":"invalid","message":"dayOfWeek is not a day","details":{"field":"dayOfWeek"}}}`)
	do(t, ctx, pics, "day refused on a daily schedule",
		chromedp.Click(css(`input[name=frequency][value=daily]`)),
		chromedp.WaitNotPresent(css(`#frequency-error`)),
		chromedp.Click(xpath(`//button[text()="Save"]`)),
		chromedp.WaitVisible(css(`[role=dialog] p.error[role=alert]`)),
	)
	if msg := text(t, ctx, `[role=dialog] p.error[role=alert]`); msg != "Day of the week: Choose a day of the week." {
		t.Errorf("the error of a field not on screen: %q", msg)
	}
	do(t, ctx, pics, "schedule closes", chromedp.KeyEvent("\x1b"), chromedp.WaitNotPresent(css(`[role=dialog]`)))

	// API Gateway's and CloudFront's own answers carry no code: the
	// console words them from the status, in the admin's language.
	gw.answer("GET /v1/backups", http.StatusTooManyRequests, "application/json", `{"message":"Too Many Requests"}`)
	do(t, ctx, pics, "throttled",
		setField(`select[name=lang]`, "it", "change"),
		// the alert's words, not only the alert: the page may still show an earlier one
		chromedp.WaitVisible(xpath(`//main//p[@role="alert" and contains(., "troppe richieste")]`)),
	)
	if msg := text(t, ctx, `main p.error[role=alert]`); msg != "L'API di crmbackup sta ricevendo troppe richieste in questo momento: attendi qualche secondo e riprova." {
		t.Errorf("a 429 without a code, in Italian: %q", msg)
	}
	gw.answer("GET /v1/imports", http.StatusBadGateway, "text/html", `<html><body><h1>502 Bad Gateway</h1>Generated by cloudfront (CloudFront)</body></html>`)
	do(t, ctx, pics, "unavailable",
		chromedp.Click(xpath(`//nav/a[text()="Importazioni"]`)),
		chromedp.WaitVisible(xpath(`//main//p[@role="alert" and contains(., "non è disponibile")]`)),
	)
	if msg := text(t, ctx, `main p.error[role=alert]`); !strings.HasPrefix(msg, "L'API di crmbackup non è disponibile in questo momento") {
		t.Errorf("CloudFront's 502 page, in Italian: %q", msg)
	}
	do(t, ctx, pics, "english again", setField(`select[name=lang]`, "en", "change"), chromedp.WaitVisible(xpath(`//h1[text()="Imports"]`)))

	// The login page's refusal (the admin cancelled) is said in words.
	do(t, ctx, pics, "login refused",
		chromedp.Navigate(srv.URL+"/?error=access_denied&error_description=the+sign-in+was+cancelled"),
		chromedp.WaitVisible(xpath(`//p[contains(., "the sign-in was cancelled")]`)),
	)

	// A code replayed (the back button) is refused, and says so.
	do(t, ctx, pics, "replay",
		chromedp.Navigate(srv.URL+"/?code=code-1&state=x"),
		chromedp.WaitVisible(css(`.error`)),
	)
	if login.tokens != 2 {
		t.Fatalf("a replayed code got a token")
	}
	// Sign out goes through the login page's logout (its session ends too).
	do(t, ctx, pics, "sign out",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.Click(xpath(`//button[text()="Sign in"]`)),
		chromedp.WaitVisible(css(`[data-testid=quota]`)),
		chromedp.Click(xpath(`//button[text()="Sign out"]`)),
		chromedp.WaitVisible(xpath(`//button[text()="Sign in"]`)),
	)
	if login.logouts != 1 {
		t.Fatalf("%d logouts at the login page", login.logouts)
	}
}

// gateway stands in for API Gateway and CloudFront in front of the API:
// it passes requests on, but answers a request it was told to once with
// what they send themselves (a throttling 429, an HTML 502, no error code).
type gateway struct {
	next   http.Handler
	mu     sync.Mutex
	canned map[string]cannedAnswer // "METHOD /path" → the next answer
}

type cannedAnswer struct {
	status      int
	contentType string
	body        string
}

// answer makes the next request of route (its method and path) get status
// and body instead of the API's answer.
func (g *gateway) answer(route string, status int, contentType, body string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.canned[route] = cannedAnswer{status, contentType, body}
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	a, ok := g.canned[r.Method+" "+r.URL.Path]
	delete(g.canned, r.Method+" "+r.URL.Path)
	g.mu.Unlock()
	if !ok {
		g.next.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	w.WriteHeader(a.status)
	w.Write([]byte(a.body))
}
