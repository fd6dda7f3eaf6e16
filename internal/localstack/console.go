package localstack

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/console"
)

// root serves the admin console at / and its dev sign-in beside the API,
// on the API's address (one origin: no CORS).
func (s *Stack) root(apiHandler http.Handler) http.Handler {
	ui := console.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case console.Handles(r.URL.Path) && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			ui.ServeHTTP(w, r)
		case r.URL.Path == "/_dev/sign-in":
			s.devSignIn(w, r)
		case r.URL.Path == "/config.json" && r.Method == http.MethodGet:
			// What the deployed stack's config.json says of itself: here, the
			// API on this origin and the dev sign-in.
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.Write([]byte(`{"api":"","signIn":"dev"}`))
		default:
			apiHandler.ServeHTTP(w, r)
		}
	})
}

// signInCode is the local console's sign-in code: without it the dev
// sign-in mints no token, so the page gives nothing to another user or
// program of the machine that reaches the loopback port. It derives from
// the dev token key, so it stays the same across restarts of a data folder.
func signInCode(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("crmbackup console sign-in"))
	return hex.EncodeToString(m.Sum(nil))[:20]
}

// devSignInRequest is what the local console's sign-in page sends.
type devSignInRequest struct {
	Code      string `json:"code"`
	Email     string `json:"email"`
	Account   string `json:"account"`
	Role      string `json:"role"`
	TwoFactor string `json:"twoFactor"` // now, earlier (an hour ago), sso
}

// devSignIn mints a dev token for whoever the page says, so that every
// path (another account, not a super admin, a stale two-factor sign-in,
// SSO) can be tried.
func (s *Stack) devSignIn(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, msg string) {
		body := map[string]any{"code": code, "message": msg}
		if status == http.StatusForbidden {
			// The field the page shows the error next to, as the API's 400s do.
			body["details"] = map[string]string{"field": "code"}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": body})
	}
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, "invalid", "POST the sign-in form")
		return
	}
	var req devSignInRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fail(http.StatusBadRequest, "invalid", "the sign-in form is not valid JSON")
		return
	}
	if subtle.ConstantTimeCompare([]byte(req.Code), []byte(s.signInCode)) != 1 {
		fail(http.StatusForbidden, "forbidden", "wrong sign-in code: open the console from the link `make local` prints")
		return
	}
	if req.Email == "" || req.Account == "" || req.Role == "" {
		fail(http.StatusBadRequest, "invalid", "give an e-mail, an account and a role")
		return
	}
	c := auth.DevClaims{Subject: req.Email, AccountID: req.Account, Role: req.Role, TTL: time.Hour}
	switch req.TwoFactor {
	case "now":
		c.MFA = true
	case "earlier":
		c.MFA, c.AuthTime = true, time.Now().Add(-time.Hour)
	case "sso":
		c.SSO = true
	default:
		fail(http.StatusBadRequest, "invalid", "twoFactor: now, earlier or sso")
		return
	}
	tok, err := s.Tokens.Sign(c)
	if err != nil {
		fail(http.StatusInternalServerError, "internal", "signing the token failed")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]string{"token": tok})
}
