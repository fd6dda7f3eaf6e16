// Package api is crmbackup's HTTP API (/v1): the same http.Handler behind
// API Gateway (through the api Lambda) and on localhost (the local stack).
// Every route needs a super admin of the caller's own account; errors are
// JSON {error: {code, message, details}}.
package api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/listing"
	"github.com/crmbackup/crmbackup/internal/restore"
)

// Authenticator finds the caller of a request.
type Authenticator interface {
	Authenticate(r *http.Request) (*auth.Caller, error)
}

// Backups is what the API needs of the backup service.
type Backups interface {
	Create(ctx context.Context, accountID string, who audit.Actor) (*backup.Backup, error)
	Get(ctx context.Context, accountID, id string) (*backup.Backup, error)
	List(ctx context.Context, accountID string, q listing.Query) (listing.Page[*backup.Backup], error)
	DownloadURL(ctx context.Context, accountID, id string, who audit.Actor) (string, error)
	Quota(ctx context.Context, accountID string) (*backup.Quota, error)
	AccountInfo(ctx context.Context, accountID string) (*backup.AccountView, error)
}

// AuditLog reads the audit log.
type AuditLog = audit.Log

// Server is the API. A service left nil answers its routes with a 500
// (a Server may serve without some of them, in tests).
type Server struct {
	Auth          Authenticator
	Backups       Backups
	Restores      Restores
	Schedules     Schedules
	Notifications backup.Inbox
	Audit         AuditLog
	Log           *slog.Logger
	Now           func() time.Time
	// OriginSecret is the value the console's CloudFront distribution
	// sends in OriginHeader on every request it passes on ("" when there
	// is none, locally, or when the api could not read it at cold start):
	// only a request that carries it has its viewer's address taken from
	// CloudFront-Viewer-Address (see clientIP); without it, none has.
	OriginSecret string
}

// OriginHeader is the origin custom header the console's distribution adds
// to the requests it passes on to the API, with OriginSecret as its value.
const OriginHeader = "X-Crmbackup-Origin-Secret"

// viewerAddressHeader is CloudFront's "<viewer IP>:<port>" of the request.
const viewerAddressHeader = "CloudFront-Viewer-Address"

// Routes lists the API's routes ("METHOD /path" with {param}s): the CDK
// stack creates one API Gateway route, with the authorizer, for each.
func Routes() []string {
	r := &routes{mux: http.NewServeMux()}
	(&Server{}).register(r)
	return r.patterns
}

// routes registers handlers, every one behind authentication.
type routes struct {
	mux      *http.ServeMux
	patterns []string
}

// handle registers a route that takes no query parameters: any is a 400.
func (r *routes) handle(pattern string, h http.HandlerFunc) {
	r.handleQuery(pattern, func(w http.ResponseWriter, req *http.Request) {
		if req.URL.RawQuery != "" {
			body := errorBody{}
			body.Error.Code, body.Error.Message = apperr.Invalid, pattern+" takes no query parameters"
			writeJSON(w, http.StatusBadRequest, body)
			return
		}
		h(w, req)
	})
}

// handleQuery registers a route that reads its own query parameters (a list).
func (r *routes) handleQuery(pattern string, h http.HandlerFunc) {
	r.mux.HandleFunc(pattern, h)
	r.patterns = append(r.patterns, pattern)
}

func (s *Server) register(r *routes) {
	r.handle("POST /v1/backups", s.authed(s.createBackup))
	r.handleQuery("GET /v1/backups", s.authed(list(lister[*backup.Backup]{name: "backups", fetch: s.backups}, s.view)))
	r.handle("GET /v1/backups/{id}", s.authed(s.getBackup))
	r.handle("GET /v1/backups/{id}/download", s.authed(redirect(s.downloadURL)))
	r.handle("GET /v1/backup-quota", s.authed(s.quota))
	r.handle("GET /v1/account", s.authed(s.account))
	s.scheduleRoutes(r)
	s.notificationRoutes(r)
	s.restoreRoutes(r)
	r.handleQuery("GET /v1/audit-log", s.authed(list(lister[*audit.Entry]{name: "entries", fetch: s.auditLog, filter: "action", filterValues: audit.Actions}, same[*audit.Entry])))
}

// Handler returns the API's handler.
func (s *Server) Handler() http.Handler {
	r := &routes{mux: http.NewServeMux()}
	s.register(r)
	mux := r.mux
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A path that needs cleaning (//v1/…, /v1/x/../y, a trailing
		// slash) names no route: a JSON 404, not the mux's redirect.
		if r.URL.Path != path.Clean(r.URL.Path) {
			body := errorBody{}
			body.Error.Code, body.Error.Message = apperr.NotFound, fmt.Sprintf("no route %s %s", r.Method, clip(r.URL.Path, 200))
			writeJSON(w, http.StatusNotFound, body)
			return
		}
		if _, pattern := mux.Handler(r); pattern == "" {
			s.noRoute(w, r, mux)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// noRoute answers what the mux has no route for with the mux's status (404,
// or 405 with its Allow header) and a JSON error body.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request, mux *http.ServeMux) {
	rec := &statusOnly{header: http.Header{}, code: http.StatusOK}
	mux.ServeHTTP(rec, r)
	allow := rec.header.Get("Allow")
	if allow != "" {
		w.Header().Set("Allow", allow)
	}
	body := errorBody{}
	body.Error.Code, body.Error.Message = apperr.NotFound, fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)
	if rec.code == http.StatusMethodNotAllowed {
		body.Error.Code, body.Error.Message = apperr.Invalid, fmt.Sprintf("%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow)
	}
	writeJSON(w, rec.code, body)
}

// statusOnly keeps the status and headers a handler writes, not its body.
type statusOnly struct {
	header http.Header
	code   int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(code int)        { s.code = code }

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, c *auth.Caller, accountID string) error

// authed authenticates the caller and requires a super admin of an account.
func (s *Server) authed(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.Auth.Authenticate(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		account, err := c.RequireSuperAdmin()
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		// For the audit log.
		c.IP, c.UserAgent = s.clientIP(r), r.UserAgent()
		// Every id crmbackup gives out is a ULID: anything else names
		// nothing (and could not be a key of the store: too long, say).
		if id := r.PathValue("id"); id != "" && !backup.ValidID(id) {
			s.writeError(w, r, apperr.New(apperr.NotFound, "no such id %q", clip(id, 40)))
			return
		}
		if err := h(w, r, c, account); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// clientIP is the address of the request's client, for the audit log. API
// Gateway puts the TCP peer it saw in RemoteAddr (not a forwarded header),
// which for the console's calls is a CloudFront edge: the viewer's address
// is then CloudFront's CloudFront-Viewer-Address, trusted only on a request
// that carries the distribution's secret origin header (anyone may call the
// HTTP API's own URL, with any header). Otherwise, or when that header is
// not one address, the peer's.
func (s *Server) clientIP(r *http.Request) string {
	if s.OriginSecret != "" && s.fromDistribution(r) {
		if v := r.Header.Values(viewerAddressHeader); len(v) == 1 {
			if ip, ok := viewerIP(v[0]); ok {
				return ip
			}
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// fromDistribution reports whether r carries the distribution's secret
// (compared in constant time: the answer must not tell how much of a guess
// was right).
func (s *Server) fromDistribution(r *http.Request) bool {
	v := r.Header.Values(OriginHeader)
	return len(v) == 1 && subtle.ConstantTimeCompare([]byte(v[0]), []byte(s.OriginSecret)) == 1
}

// viewerIP is the address of CloudFront-Viewer-Address: "198.51.100.10:46532",
// or an IPv6 address and port without brackets ("2001:db8::1:46532"; with
// brackets too).
func viewerIP(v string) (string, bool) {
	i := strings.LastIndexByte(v, ':')
	if i < 0 {
		return "", false
	}
	if _, err := strconv.ParseUint(v[i+1:], 10, 16); err != nil {
		return "", false
	}
	addr, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(v[:i], "["), "]"))
	if err != nil || addr.Zone() != "" {
		return "", false
	}
	return addr.Unmap().String(), true
}

// clip quotes at most n bytes of what a caller sent, whole characters.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s[:n])
	return string(r[:len(r)-1]) + "…"
}

// ErrorCodes are the codes the API's JSON errors carry (apperr's): the
// console has words for each in every language (a test there checks it),
// so that it shows the server's English message only for a code it does
// not know.
var ErrorCodes = []string{
	apperr.Invalid, apperr.Unauthorized, apperr.Forbidden, apperr.Reauth, apperr.NeedsTier,
	apperr.NotFound, apperr.Conflict, apperr.Gone, apperr.QuotaUsed, apperr.Internal,
}

// status maps application error codes to HTTP: the one place it happens.
func status(code string) int {
	switch code {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.Unauthorized:
		return http.StatusUnauthorized
	case apperr.Forbidden, apperr.Reauth, apperr.NeedsTier:
		return http.StatusForbidden
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Gone:
		return http.StatusGone
	case apperr.QuotaUsed:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Details map[string]any `json:"details,omitempty"`
	} `json:"error"`
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var body errorBody
	var ae *apperr.Error
	if errors.As(err, &ae) {
		body.Error.Code, body.Error.Message, body.Error.Details = ae.Code, ae.Message, ae.Details
	} else {
		// Internals stay in the logs.
		body.Error.Code, body.Error.Message = apperr.Internal, "internal error"
	}
	st := status(body.Error.Code)
	if st >= 500 {
		s.log().ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	if st == http.StatusTooManyRequests {
		var next time.Time
		switch v := body.Error.Details["nextAllowedAt"].(type) {
		case time.Time:
			next = v
		case string:
			next, _ = time.Parse(time.RFC3339, v)
		}
		if !next.IsZero() {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(next.Sub(s.now()).Seconds()))))
		}
	}
	if st == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="crmbackup"`)
	}
	writeJSON(w, st, body)
}

func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// decode reads a JSON body strictly: one object, no unknown fields, right
// types. An empty body decodes as {}.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil {
		return apperr.New(apperr.Invalid, "reading the body: %v", err)
	}
	if len(body) > 1<<20 {
		return apperr.New(apperr.Invalid, "the body is larger than 1 MiB")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	// Names match exactly (no case folding), a name given twice and an
	// unknown name are refused, and nothing may follow the one value: a
	// body means one thing only (DESIGN §11).
	var one jsontext.Value
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	if err := jsonv2.UnmarshalDecode(dec, &one); err != nil {
		return apperr.New(apperr.Invalid, "invalid JSON body: %s", clip(strings.TrimPrefix(err.Error(), "jsontext: "), 200))
	}
	if dec.PeekKind() != 0 {
		return apperr.New(apperr.Invalid, "invalid JSON body: more than one value")
	}
	err = jsonv2.Unmarshal(one, v, jsonv2.RejectUnknownMembers(true))
	var serr *jsonv2.SemanticError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &serr) && errors.Is(serr.Err, jsonv2.ErrUnknownName):
		return apperr.New(apperr.Invalid, "invalid JSON body: unknown field %q (names are case-sensitive)", clip(string(serr.JSONPointer.LastToken()), 40))
	}
	return apperr.New(apperr.Invalid, "invalid JSON body: %s", clip(strings.TrimPrefix(err.Error(), "json: "), 200))
}

// backupView is a backup as the API shows it.
type backupView struct {
	*backup.Backup
	Expired     bool   `json:"expired"`
	DownloadURL string `json:"downloadUrl,omitempty"`
}

func (s *Server) view(b *backup.Backup) backupView {
	v := backupView{Backup: b, Expired: b.Expired(s.now())}
	if b.Status == backup.Completed && !v.Expired {
		v.DownloadURL = "/v1/backups/" + b.ID + "/download"
	}
	return v
}

type createRequest struct{}

func (s *Server) createBackup(w http.ResponseWriter, r *http.Request, c *auth.Caller, account string) error {
	var req createRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	b, err := s.Backups.Create(r.Context(), account, c.Actor())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/backups/"+b.ID)
	writeJSON(w, http.StatusAccepted, s.view(b))
	return nil
}

// redirect is the handler of a download route: 302 to the short-lived URL
// the domain gives for the {id} of the caller's account.
func redirect(fetch func(ctx context.Context, account, id string, who audit.Actor) (string, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *auth.Caller, account string) error {
		url, err := fetch(r.Context(), account, r.PathValue("id"), c.Actor())
		if err != nil {
			return err
		}
		// A browser's script cannot read a redirect's Location: asked for
		// JSON, the URL comes as the answer (200).
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			writeJSON(w, http.StatusOK, map[string]string{"url": url})
			return nil
		}
		w.Header().Set("Location", url)
		writeJSON(w, http.StatusFound, map[string]string{"url": url})
		return nil
	}
}

// account is the caller's account: id, name, portal, tier.
func (s *Server) account(w http.ResponseWriter, r *http.Request, _ *auth.Caller, account string) error {
	a, err := s.Backups.AccountInfo(r.Context(), account)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// quota is when the account's next manual backup is allowed.
func (s *Server) quota(w http.ResponseWriter, r *http.Request, _ *auth.Caller, account string) error {
	q, err := s.Backups.Quota(r.Context(), account)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, q)
	return nil
}

func (s *Server) getBackup(w http.ResponseWriter, r *http.Request, c *auth.Caller, account string) error {
	b, err := s.Backups.Get(r.Context(), account, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.view(b))
	return nil
}

// The domain calls the routes make (the services are read when a request
// comes: a Server may serve without some of them).
func (s *Server) backups(ctx context.Context, account string, q listing.Query, _ string) (listing.Page[*backup.Backup], error) {
	return s.Backups.List(ctx, account, q)
}

func (s *Server) downloadURL(ctx context.Context, account, id string, who audit.Actor) (string, error) {
	return s.Backups.DownloadURL(ctx, account, id, who)
}

func (s *Server) imports(ctx context.Context, account string, q listing.Query, _ string) (listing.Page[*restore.Import], error) {
	return s.Restores.Imports(ctx, account, q)
}

func (s *Server) errorsURL(ctx context.Context, account, id string, who audit.Actor) (string, error) {
	return s.Restores.ErrorsURL(ctx, account, id, who)
}

func (s *Server) auditLog(ctx context.Context, account string, q listing.Query, action string) (listing.Page[*audit.Entry], error) {
	return s.Audit.AuditLog(ctx, account, audit.Query{Query: q, Action: action})
}

func same[T any](v T) T { return v }

// BearerTokens authenticates requests by verifying their bearer dev token.
type BearerTokens struct{ Tokens *auth.DevTokens }

// Authenticate implements Authenticator.
func (b BearerTokens) Authenticate(r *http.Request) (*auth.Caller, error) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		return nil, apperr.New(apperr.Unauthorized, "an Authorization: Bearer token is required")
	}
	return b.Tokens.Verify(token)
}

// GatewayClaims authenticates requests whose JWT API Gateway's authorizer
// already verified: it reads the claims the authorizer passed on.
type GatewayClaims struct{ Names auth.ClaimNames }

// Authenticate implements Authenticator.
func (g GatewayClaims) Authenticate(r *http.Request) (*auth.Caller, error) {
	ctx, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || ctx.Authorizer == nil || ctx.Authorizer.JWT == nil {
		return nil, apperr.New(apperr.Unauthorized, "no verified token")
	}
	claims := make(map[string]any, len(ctx.Authorizer.JWT.Claims))
	for k, v := range ctx.Authorizer.JWT.Claims {
		claims[k] = v
	}
	return auth.FromClaims(claims, g.Names)
}
