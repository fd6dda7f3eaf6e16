// Package emulator is a HubSpot-compatible CRM server for local runs and
// tests: the v3 object, property, schema, conversation-thread and users
// endpoints crmbackup uses, with HubSpot's paths, response shapes, page and
// batch limits, error bodies, bearer-token check and rolling rate limit.
//
// Its data is deterministic from (seed, size per object type) — records are
// computed on read, so a portal of millions costs no memory until written —
// or loaded from a JSON fixture (see docs/emulator.md). Knobs inject latency,
// 5xx answers and dropped connections, and counters say what it served.
package emulator

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Server. The zero value serves an empty portal with the
// token DefaultToken, unlimited and fault-free.
type Options struct {
	Token    string // bearer token the server accepts (default DefaultToken)
	PortalID int64  // default DefaultPortalID
	Seed     int64
	// Sizes is the number of generated records per object type name
	// (contacts, companies, deals, tickets, products, calls, tasks, vehicles,
	// conversations). Ignored when Fixture is set.
	Sizes map[string]int
	// ExtraProperties adds that many custom text properties to an object
	// type (by name): real portals have 300–900 contact properties.
	ExtraProperties map[string]int
	Fixture         *Fixture

	Latency time.Duration // added to every request
	// RateLimit is the number of requests per RateWindow (default 10 s)
	// before 429s; 0 is unlimited. DailyLimit likewise per server lifetime.
	RateLimit  int
	RateWindow time.Duration
	DailyLimit int
	// SearchRateLimit is the search endpoint's own limit per second
	// (default DefaultSearchRate; negative: none). Search requests do not
	// count toward RateLimit, as HubSpot documents, but toward DailyLimit.
	SearchRateLimit int
	// SearchLag is how far the search index trails writes (default
	// DefaultSearchLag; negative: not at all).
	SearchLag time.Duration
	// OmitRetryAfter leaves Retry-After off 429s (HubSpot often does).
	OmitRetryAfter bool
	ErrorRate      float64 // share of requests answered with a 5xx
	DropRate       float64 // share of requests whose connection is dropped
	MaxURLLength   int     // longer request URIs (path and query) get 414 (default 16,200, as HubSpot's API)
	// NotEnterprise serves a Starter or Professional portal: no custom
	// objects (the schemas endpoint refuses, 403) and no Sensitive Data, as
	// HubSpot has them on Enterprise only. Sizes of custom objects are then
	// ignored.
	NotEnterprise bool
	// Scopes are the credential's scopes (see scopes.go); nil grants every
	// scope.
	Scopes []string
	// ValidationRules are the portal's admin-configured rules on property
	// values, checked on every write (see ValidationRule).
	ValidationRules []ValidationRule
	// Users are added to the portal's seeded users (see users.go); one with
	// a seeded user's e-mail address replaces that user.
	Users  []User
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultToken    = "emulator-token"
	DefaultPortalID = 12345678
)

// Server is the emulated portal. It is an http.Handler.
type Server struct {
	token         string
	portalID      int64
	notEnterprise bool
	scopes        []string
	maxURL        int
	log           *slog.Logger

	mu       sync.RWMutex // guards the data below
	types    []*objectType
	byKey    map[string]*objectType // name, type id, fully qualified name
	threads  []thread
	threadID map[int64]int
	users    []User // in id order

	knobs   sync.Mutex // guards the knobs and faults below
	latency time.Duration
	errRate float64
	drop    float64
	faults  *rand.Rand

	limit     *window
	searchLag time.Duration
	mux       *http.ServeMux
	stats     counters
	corrID    atomic.Uint64
}

// New returns a server for opts.
func New(opts Options) (*Server, error) {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.PortalID == 0 {
		opts.PortalID = DefaultPortalID
	}
	if opts.MaxURLLength <= 0 {
		opts.MaxURLLength = 16_200
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case opts.SearchRateLimit == 0:
		opts.SearchRateLimit = DefaultSearchRate
	case opts.SearchRateLimit < 0:
		opts.SearchRateLimit = 0
	}
	switch {
	case opts.SearchLag == 0:
		opts.SearchLag = DefaultSearchLag
	case opts.SearchLag < 0:
		opts.SearchLag = 0
	}
	if opts.ErrorRate < 0 || opts.ErrorRate > 1 || opts.DropRate < 0 || opts.DropRate > 1 {
		return nil, fmt.Errorf("emulator: error and drop rates must be between 0 and 1")
	}
	s := &Server{
		token:         opts.Token,
		portalID:      opts.PortalID,
		notEnterprise: opts.NotEnterprise,
		scopes:        opts.Scopes,
		maxURL:        opts.MaxURLLength,
		log:           opts.Logger,
		byKey:         map[string]*objectType{},
		threadID:      map[int64]int{},
		latency:       opts.Latency,
		errRate:       opts.ErrorRate,
		drop:          opts.DropRate,
		faults:        rand.New(rand.NewPCG(uint64(opts.Seed), 0xFA0175)),
		limit:         newWindow(opts.RateLimit, opts.RateWindow, opts.DailyLimit, opts.SearchRateLimit, !opts.OmitRetryAfter),
		searchLag:     opts.SearchLag,
		stats:         counters{routes: map[string]*atomic.Int64{}},
	}
	var err error
	if opts.Fixture != nil {
		err = s.loadFixture(opts.Fixture)
	} else {
		err = s.generate(opts.Seed, opts.Sizes, opts.ExtraProperties)
	}
	if err != nil {
		return nil, err
	}
	if err := s.addRules(opts.ValidationRules); err != nil {
		return nil, err
	}
	if s.users, err = newUsers(opts.Users); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

func (s *Server) addType(t *objectType) error {
	for _, k := range []string{t.name, t.id, t.fqn} {
		if k == "" {
			continue
		}
		if _, dup := s.byKey[k]; dup {
			return fmt.Errorf("emulator: object type %q defined twice", k)
		}
		s.byKey[k] = t
	}
	s.types = append(s.types, t)
	return nil
}

// generate builds the deterministic portal.
func (s *Server) generate(seed int64, sizes, extra map[string]int) error {
	known := map[string]bool{conversationsName: true}
	for k, spec := range objectSpecs {
		if spec.custom && s.notEnterprise {
			known[spec.name] = true // no custom objects below Enterprise: their sizes are ignored
			continue
		}
		if s.notEnterprise {
			// Sensitive Data is an Enterprise feature: below it, no
			// property holds any.
			spec.props = slices.DeleteFunc(slices.Clone(spec.props), func(p string) bool {
				return parsePropSpec(p).sensitivity != "non_sensitive"
			})
		}
		if n := extra[spec.name]; n > 0 {
			spec.props = slices.Clone(spec.props)
			for i := range n {
				spec.props = append(spec.props, fmt.Sprintf("custom_extra_field_%03d|Extra field %d|string|text|industry|", i+1, i+1))
			}
		}
		t := newObjectType(spec, s.portalID)
		t.gen = newGenerator(seed, t)
		t.genBase = int64(k+1) * 10_000_000_000
		t.genN = sizes[t.name]
		t.nextID = t.genBase + int64(t.genN) + 1
		if err := s.addType(t); err != nil {
			return err
		}
		known[t.name] = true
	}
	for name, n := range sizes {
		if !known[name] {
			return fmt.Errorf("emulator: unknown object type %q in sizes", name)
		}
		if n < 0 {
			return fmt.Errorf("emulator: negative size %d for %s", n, name)
		}
	}
	const threadBase = 90_000_000_000
	for i := 1; i <= sizes[conversationsName]; i++ {
		id := threadBase + int64(i)
		s.threadID[id] = len(s.threads)
		s.threads = append(s.threads, thread{id: id, fields: threadFields(seed, i, id)})
	}
	return nil
}

// SetFaults changes the share of 5xx answers and dropped connections.
func (s *Server) SetFaults(errorRate, dropRate float64) {
	s.knobs.Lock()
	defer s.knobs.Unlock()
	s.errRate, s.drop = errorRate, dropRate
}

// SetLatency changes the latency added to every request.
func (s *Server) SetLatency(d time.Duration) {
	s.knobs.Lock()
	defer s.knobs.Unlock()
	s.latency = d
}

// SetRateLimit changes the requests allowed per window (0: unlimited).
func (s *Server) SetRateLimit(n int) { s.limit.setLimit(n) }

// fault decides what happens to one request: "", "drop" or "error".
func (s *Server) fault() (string, time.Duration) {
	s.knobs.Lock()
	defer s.knobs.Unlock()
	x := s.faults.Float64()
	switch {
	case x < s.drop:
		return "drop", s.latency
	case x < s.drop+s.errRate:
		return "error", s.latency
	}
	return "", s.latency
}

// ServeHTTP answers one request as HubSpot would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_emulator/") {
		s.mux.ServeHTTP(w, r)
		return
	}
	s.stats.requests.Add(1)
	fault, latency := s.fault()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		s.stats.unauthorized.Add(1)
		s.writeError(w, http.StatusUnauthorized, "INVALID_AUTHENTICATION",
			"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview", nil)
		return
	}
	var verdict verdict
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/search") {
		verdict = s.limit.arriveSearch(time.Now()) // search answers carry no rate-limit headers
	} else {
		verdict = s.limit.arrive(time.Now())
		verdict.setHeaders(w.Header(), s.limit)
	}
	if !verdict.ok {
		s.stats.rateLimited.Add(1)
		s.writeRateLimited(w, verdict)
		return
	}
	switch fault {
	case "drop":
		s.stats.dropped.Add(1)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // HTTP/2: abort the stream instead
	case "error":
		s.stats.injected.Add(1)
		codes := []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
		code := codes[int(s.stats.injected.Load())%len(codes)]
		s.writeError(w, code, "INTERNAL_ERROR", "internal error (injected by the emulator)", nil)
		return
	}
	if len(r.RequestURI) > s.maxURL {
		s.stats.uriTooLong.Add(1)
		s.writeError(w, http.StatusRequestURITooLong, "URI_TOO_LONG", "Request-URI Too Long", nil)
		return
	}
	s.stats.served.Add(1)
	s.mux.ServeHTTP(w, r)
}

// counters are the request counters (see Stats).
type counters struct {
	requests, unauthorized, rateLimited, injected, dropped, served, missingScopes, uriTooLong atomic.Int64
	routesMu                                                                                  sync.Mutex
	routes                                                                                    map[string]*atomic.Int64
}

func (c *counters) route(pattern string) {
	c.routesMu.Lock()
	n, ok := c.routes[pattern]
	if !ok {
		n = new(atomic.Int64)
		c.routes[pattern] = n
	}
	c.routesMu.Unlock()
	n.Add(1)
}

// Stats are the server's counters since start.
type Stats struct {
	Requests          int64            `json:"requests"`          // every request to a HubSpot path
	Unauthorized      int64            `json:"unauthorized"`      // answered 401
	RateLimited       int64            `json:"rateLimited"`       // answered 429
	InjectedErrors    int64            `json:"injectedErrors"`    // answered an injected 5xx
	Dropped           int64            `json:"dropped"`           // connection dropped
	MissingScopes     int64            `json:"missingScopes"`     // refused: the credential lacks a scope
	URITooLong        int64            `json:"uriTooLong"`        // answered 414
	Served            int64            `json:"served"`            // reached an endpoint
	MaxInWindow       int              `json:"maxInWindow"`       // most authenticated requests seen in any rate window (search's apart)
	SearchMaxInSecond int              `json:"searchMaxInSecond"` // most search requests seen in any second
	RateLimit         int              `json:"rateLimit"`         // current limit per window (0: none)
	Routes            map[string]int64 `json:"routes"`            // served per route pattern
	Records           map[string]int   `json:"records"`           // live records per object type (and conversations)
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Requests:       s.stats.requests.Load(),
		Unauthorized:   s.stats.unauthorized.Load(),
		RateLimited:    s.stats.rateLimited.Load(),
		InjectedErrors: s.stats.injected.Load(),
		Dropped:        s.stats.dropped.Load(),
		MissingScopes:  s.stats.missingScopes.Load(),
		URITooLong:     s.stats.uriTooLong.Load(),
		Served:         s.stats.served.Load(),
		Routes:         map[string]int64{},
		Records:        s.Counts(),
	}
	st.MaxInWindow, st.RateLimit = s.limit.peak()
	st.SearchMaxInSecond = s.limit.searchPeak()
	s.stats.routesMu.Lock()
	for k, v := range s.stats.routes {
		st.Routes[k] = v.Load()
	}
	s.stats.routesMu.Unlock()
	return st
}

// Counts returns the number of live (unarchived) records per object type
// name, conversations included.
func (s *Server) Counts() map[string]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]int{conversationsName: len(s.threads)}
	for _, t := range s.types {
		out[t.name] = t.count(false)
	}
	return out
}

// window is HubSpot's rolling rate limit: at most limit requests in any
// window of size, plus a daily cap. It also records the most requests seen
// in any window, accepted or not, to show that a client kept its budget.
type window struct {
	mu         sync.Mutex
	limit      int
	size       time.Duration
	daily      int
	dailyUsed  int
	retryAfter bool
	accepted   []time.Time
	arrivals   []time.Time
	maxSeen    int
	// search's own limit per second, and what it saw
	searchLimit    int
	searchAccepted []time.Time
	searchArrivals []time.Time
	searchMax      int
}

func newWindow(limit int, size time.Duration, daily, searchLimit int, retryAfter bool) *window {
	return &window{limit: limit, size: size, daily: daily, searchLimit: searchLimit, retryAfter: retryAfter}
}

func (w *window) searchPeak() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.searchMax
}

// arriveSearch admits a search request: search's own rolling second, and
// the daily cap.
func (w *window) arriveSearch(now time.Time) verdict {
	w.mu.Lock()
	defer w.mu.Unlock()
	cutoff := now.Add(-time.Second)
	w.searchArrivals = append(prune(w.searchArrivals, cutoff), now)
	w.searchMax = max(w.searchMax, len(w.searchArrivals))
	w.searchAccepted = prune(w.searchAccepted, cutoff)
	if w.daily > 0 && w.dailyUsed >= w.daily {
		return verdict{policy: "DAILY", dailyLeft: 0, retryAfter: 24 * time.Hour}
	}
	if w.searchLimit > 0 && len(w.searchAccepted) >= w.searchLimit {
		wait := w.searchAccepted[len(w.searchAccepted)-w.searchLimit].Add(time.Second).Sub(now)
		return verdict{policy: "SECONDLY", retryAfter: wait}
	}
	w.searchAccepted = append(w.searchAccepted, now)
	w.dailyUsed++
	return verdict{ok: true, remaining: -1, dailyLeft: -1}
}

func (w *window) setLimit(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.limit = n
}

func (w *window) peak() (int, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.maxSeen, w.limit
}

type verdict struct {
	ok         bool
	policy     string
	remaining  int
	dailyLeft  int
	retryAfter time.Duration
}

func prune(ts []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(cutoff) {
		i++
	}
	return ts[i:]
}

func (w *window) arrive(now time.Time) verdict {
	w.mu.Lock()
	defer w.mu.Unlock()
	cutoff := now.Add(-w.size)
	w.arrivals = append(prune(w.arrivals, cutoff), now)
	w.maxSeen = max(w.maxSeen, len(w.arrivals))
	w.accepted = prune(w.accepted, cutoff)

	v := verdict{ok: true, remaining: -1, dailyLeft: -1}
	if w.daily > 0 {
		if w.dailyUsed >= w.daily {
			return verdict{policy: "DAILY", dailyLeft: 0, retryAfter: 24 * time.Hour}
		}
		v.dailyLeft = w.daily - w.dailyUsed - 1
	}
	if w.limit > 0 && len(w.accepted) >= w.limit {
		// Free again when the oldest request in the window leaves it.
		wait := w.accepted[len(w.accepted)-w.limit].Add(w.size).Sub(now)
		return verdict{policy: "TEN_SECONDLY_ROLLING", remaining: 0, dailyLeft: v.dailyLeft + 1, retryAfter: wait}
	}
	w.accepted = append(w.accepted, now)
	w.dailyUsed++
	if w.limit > 0 {
		v.remaining = w.limit - len(w.accepted)
	}
	return v
}

// setHeaders writes HubSpot's X-HubSpot-RateLimit-* headers.
func (v verdict) setHeaders(h http.Header, w *window) {
	w.mu.Lock()
	limit, size, daily := w.limit, w.size, w.daily
	w.mu.Unlock()
	if limit > 0 {
		h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(size.Milliseconds(), 10))
		h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(limit))
		h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(max(v.remaining, 0)))
	}
	if daily > 0 {
		h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(daily))
		h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(max(v.dailyLeft, 0)))
	}
}

func (s *Server) writeRateLimited(w http.ResponseWriter, v verdict) {
	if s.limit.retryAfter && v.policy != "DAILY" {
		secs := int((v.retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	msg := "You have reached your ten_secondly_rolling limit."
	switch v.policy {
	case "DAILY":
		msg = "You have reached your daily limit."
	case "SECONDLY":
		msg = "You have reached your secondly limit."
	}
	s.writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"status":        "error",
		"message":       msg,
		"errorType":     "RATE_LIMIT",
		"correlationId": s.correlationID(),
		"policyName":    v.policy,
		"groupName":     "publicapi:private-app:" + strconv.FormatInt(s.portalID, 10),
	})
}
