package emulator

import (
	"net/http"
	"slices"
)

// The HubSpot API the emulator serves: its limits and routes. The handlers
// live by concern: objects.go (list, read), writes.go (create, update,
// archive), batch.go, properties.go (properties and schemas), threads.go,
// users.go; wire.go holds the JSON encoding and error bodies they share.

// Limits HubSpot enforces.
const (
	maxPage        = 100
	maxThreadsPage = 500
	maxBatch       = 100
	defaultPage    = 10
	maxBody        = 8 << 20
)

// routes registers the endpoints; each counts in Stats.Routes.
func (s *Server) routes() {
	s.mux = http.NewServeMux()
	handle := func(pattern string, h http.HandlerFunc) {
		s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			s.stats.route(pattern)
			h(w, r)
		})
	}
	// The same endpoints under v3 and under HubSpot's dated versions
	// (/crm/objects/2026-09/…, /crm/properties/…, /crm-object-schemas/…,
	// /account-info/…), over the same data.
	for _, r := range []struct {
		method, v3, dated string
		h                 http.HandlerFunc
	}{
		{"GET", "/crm/v3/objects/{type}", "/crm/objects/{version}/{type}", s.list},
		{"POST", "/crm/v3/objects/{type}", "/crm/objects/{version}/{type}", s.create},
		{"GET", "/crm/v3/objects/{type}/{id}", "/crm/objects/{version}/{type}/{id}", s.read},
		{"PATCH", "/crm/v3/objects/{type}/{id}", "/crm/objects/{version}/{type}/{id}", s.update},
		{"DELETE", "/crm/v3/objects/{type}/{id}", "/crm/objects/{version}/{type}/{id}", s.archive},
		{"POST", "/crm/v3/objects/{type}/batch/read", "/crm/objects/{version}/{type}/batch/read", s.batchRead},
		{"POST", "/crm/v3/objects/{type}/search", "/crm/objects/{version}/{type}/search", s.search},
		{"POST", "/crm/v3/objects/{type}/batch/update", "/crm/objects/{version}/{type}/batch/update", s.batchUpdate},
		{"POST", "/crm/v3/objects/{type}/batch/archive", "/crm/objects/{version}/{type}/batch/archive", s.batchArchive},
		{"GET", "/crm/v3/properties/{type}", "/crm/properties/{version}/{type}", s.properties},
		{"GET", "/crm/v3/properties/{type}/{name}", "/crm/properties/{version}/{type}/{name}", s.property},
		{"GET", "/crm/v3/schemas", "/crm-object-schemas/{version}/schemas", s.schemas},
		{"GET", "/crm/v3/schemas/{type}", "/crm-object-schemas/{version}/schemas/{type}", s.schema},
		{"GET", "/account-info/v3/details", "/account-info/{version}/details", s.accountDetails},
	} {
		handle(r.method+" "+r.v3, r.h)
		handle(r.method+" "+r.dated, s.dated(r.h))
	}
	// Threads are GA on v3 only (the dated version is a beta).
	handle("GET /conversations/v3/conversations/threads", s.listThreads)
	// Users (Settings → Users) on v3, with or without the trailing slash
	// HubSpot documents, and their dated versions (users.go).
	handle("GET /settings/v3/users/{$}", s.listUsers)
	handle("GET /settings/v3/users", s.listUsers)
	handle("GET /settings/v3/users/{userId}", s.getUser)
	handle("GET /settings/users/{version}", s.usersDated(s.listUsers))
	handle("GET /settings/users/{version}/{userId}", s.usersDated(s.getUser))
	s.mux.HandleFunc("GET /_emulator/stats", func(w http.ResponseWriter, r *http.Request) {
		s.writeJSON(w, http.StatusOK, s.Stats())
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found: "+r.Method+" "+r.URL.Path, nil)
	})
}

// APIVersions are the dated versions the emulator serves, as HubSpot's
// (a version not released is a 404).
var APIVersions = []string{"2026-03", "2026-09"}

// dated serves h under a dated version.
func (s *Server) dated(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(APIVersions, r.PathValue("version")) {
			s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "unknown API version "+r.PathValue("version"), nil)
			return
		}
		h(w, r)
	}
}

// accountDetails answers the account-info endpoint with fixed details.
func (s *Server) accountDetails(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]any{
		"portalId":              s.portalID,
		"accountType":           "STANDARD",
		"timeZone":              "US/Eastern",
		"companyCurrency":       "USD",
		"additionalCurrencies":  []string{},
		"utcOffset":             "-05:00",
		"utcOffsetMilliseconds": -18000000,
		"uiDomain":              "app.hubspot.com",
		"dataHostingLocation":   "na1",
	})
}
