package emulator

import "net/http"

// The HubSpot API the emulator serves: its limits and routes. The handlers
// live by concern: objects.go (list, read), writes.go (create, update,
// archive), batch.go, properties.go (properties and schemas), threads.go;
// wire.go holds the JSON encoding and error bodies they share.

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
	handle("GET /crm/v3/objects/{type}", s.list)
	handle("POST /crm/v3/objects/{type}", s.create)
	handle("GET /crm/v3/objects/{type}/{id}", s.read)
	handle("PATCH /crm/v3/objects/{type}/{id}", s.update)
	handle("DELETE /crm/v3/objects/{type}/{id}", s.archive)
	handle("POST /crm/v3/objects/{type}/batch/read", s.batchRead)
	handle("POST /crm/v3/objects/{type}/batch/update", s.batchUpdate)
	handle("POST /crm/v3/objects/{type}/batch/archive", s.batchArchive)
	handle("GET /crm/v3/properties/{type}", s.properties)
	handle("GET /crm/v3/properties/{type}/{name}", s.property)
	handle("GET /crm/v3/schemas", s.schemas)
	handle("GET /crm/v3/schemas/{type}", s.schema)
	handle("GET /conversations/v3/conversations/threads", s.listThreads)
	handle("GET /account-info/v3/details", s.accountDetails)
	s.mux.HandleFunc("GET /_emulator/stats", func(w http.ResponseWriter, r *http.Request) {
		s.writeJSON(w, http.StatusOK, s.Stats())
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found: "+r.Method+" "+r.URL.Path, nil)
	})
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
