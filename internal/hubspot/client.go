// Package hubspot is a client for the HubSpot CRM v3 endpoints crmbackup uses:
// object lists (streamed page by page), batch read and update, properties,
// custom object schemas, conversation threads and the portal's users.
//
// Every request goes through one path (Client.do): it waits on the portal's
// shared Budget, retries 429, 5xx and connection failures with jittered
// exponential back-off, and turns other answers into typed errors.
package hubspot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// DefaultBaseURL is HubSpot's public API.
const DefaultBaseURL = "https://api.hubapi.com"

// DefaultMaxURLLength is the longest list URL sent by default. HubSpot
// documents no limit; its API answers 414 past about 16,200 characters
// (measured by others: docs/architecture.md, "Long property lists"), so
// about 750 properties of HubSpot's usual name lengths fit in one list URL,
// which costs one request per 100 records instead of two; the margin
// leaves room for the cursor and the path. A 414 to a shorter URL lowers
// the client's limit to below it (see Pages): a wasted request or a few
// (the chains that start together) per client, which a warm container
// keeps per account.
const DefaultMaxURLLength = 16_000

// MaxBatchInputs is HubSpot's limit of inputs per batch request, and
// MaxPageSize its limit of records per list page.
const (
	MaxBatchInputs = 100
	MaxPageSize    = 100
)

// Config configures a Client. Only Token is required.
type Config struct {
	BaseURL string // default DefaultBaseURL
	Token   string // service key or private-app token; never logged
	// Refresh, if set, is asked for the credential again when HubSpot
	// answers 401 (it was rotated): a different one is used from then on,
	// and the request is sent once more.
	Refresh func(ctx context.Context) (string, error)
	// APIVersion is HubSpot's API version: a dated one (default
	// DefaultAPIVersion) or LegacyAPIVersion.
	APIVersion string
	// Slots, if set, are the portal's request slots shared with the other
	// processes that call it (see Slots); the budget draws on them.
	Slots Slots
	// RequestsPer10s is the portal's budget (default 100, HubSpot's smallest
	// private-app limit). Ignored when Budget is set.
	RequestsPer10s int
	// Budget overrides the process-wide budget chosen by BudgetFor.
	Budget *Budget
	// SearchSlots, if set, are the shared slots of the portal's search
	// limit (see Slots); SearchBudget overrides the process-wide one.
	SearchSlots  Slots
	SearchBudget *Budget
	Retry        RetryPolicy
	// MaxURLLength is the longest list URL the client sends; longer property
	// lists switch to list-ids + batch read. Default DefaultMaxURLLength.
	// A 414 from HubSpot lowers it (see Pages).
	MaxURLLength int
	HTTPClient   *http.Client
	Logger       *slog.Logger
	UserAgent    string
}

// RetryPolicy says how often and how long to retry transient failures.
type RetryPolicy struct {
	// MaxAttempts bounds attempts for 5xx and connection errors (default 6).
	MaxAttempts int
	// MaxRateLimited bounds consecutive 429 answers for one request (default 30);
	// the shared budget slows everyone down, so these are cheap.
	MaxRateLimited int
	MinBackoff     time.Duration // default 200ms
	MaxBackoff     time.Duration // default 20s
	// LockedWait is the least wait after a 423 Locked (default
	// MinLockedWait, HubSpot's documented 2 s).
	LockedWait time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 6
	}
	if p.MaxRateLimited <= 0 {
		p.MaxRateLimited = 30
	}
	if p.LockedWait <= 0 {
		p.LockedWait = MinLockedWait
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = 200 * time.Millisecond
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 20 * time.Second
	}
	return p
}

// Backoff returns the wait before retry number n (1-based): exponential from
// MinBackoff, capped at MaxBackoff, with full jitter in its upper half.
func (p RetryPolicy) Backoff(n int) time.Duration {
	d := p.MinBackoff << min(n-1, 20)
	if d <= 0 || d > p.MaxBackoff {
		d = p.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

// Client talks to one HubSpot portal. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	token     atomic.Pointer[string]
	refresh   func(ctx context.Context) (string, error)
	budget    *Budget
	search    *Budget // the search endpoints' own limit
	dailyMu   sync.Mutex
	daily     int // the daily limit HubSpot last announced (0: none)
	dailyLeft int
	retry     RetryPolicy
	maxURL    int
	tooLong   atomic.Int64 // the length of the shortest list URL (less its cursor) HubSpot answered 414 (0: none)
	http      *http.Client
	log       *slog.Logger
	userAgent string
	paths     paths
}

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.Token == "" {
		return nil, errors.New("hubspot: config: token is required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("hubspot: config: base URL %q is not an absolute URL", cfg.BaseURL)
	}
	ps, err := newPaths(cfg.APIVersion)
	if err != nil {
		return nil, err
	}
	if cfg.RequestsPer10s <= 0 {
		cfg.RequestsPer10s = 100
	}
	if cfg.Budget == nil {
		cfg.Budget = BudgetFor(base.String(), cfg.Token, cfg.RequestsPer10s)
	}
	if cfg.Slots != nil {
		cfg.Budget.Share(cfg.Slots)
	}
	if cfg.SearchBudget == nil {
		cfg.SearchBudget = searchBudgetFor(base.String(), cfg.Token)
	}
	if cfg.SearchSlots != nil {
		cfg.SearchBudget.Share(cfg.SearchSlots)
	}
	if cfg.MaxURLLength <= 0 {
		cfg.MaxURLLength = DefaultMaxURLLength
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "crmbackup"
	}
	c := &Client{
		base:      base,
		refresh:   cfg.Refresh,
		budget:    cfg.Budget,
		search:    cfg.SearchBudget,
		retry:     cfg.Retry.withDefaults(),
		maxURL:    cfg.MaxURLLength,
		http:      cfg.HTTPClient,
		log:       cfg.Logger,
		userAgent: cfg.UserAgent,
		paths:     ps,
	}
	c.SetToken(cfg.Token)
	return c, nil
}

// SetToken makes the client use token from its next request on (a
// rotated credential); the portal's budget stays the client's.
func (c *Client) SetToken(token string) { c.token.Store(&token) }

// Budget returns the rate budget the client draws from.
func (c *Client) Budget() *Budget { return c.budget }

// endpoint is the absolute URL of path with query.
func (c *Client) endpoint(path string, query url.Values) string {
	u := *c.base
	u.Path += path
	u.RawQuery = encodeQuery(query)
	return u.String()
}

// encodeQuery encodes query as url.Values.Encode does, but for the commas
// of its properties parameter: HubSpot takes "a comma-separated list of the
// properties", and each comma escaped would take three characters of the
// URL's length (hundreds of properties: over a thousand characters).
func encodeQuery(query url.Values) string {
	props, ok := query["properties"]
	if !ok || len(props) != 1 {
		return query.Encode()
	}
	rest := maps.Clone(query)
	delete(rest, "properties")
	q := rest.Encode()
	if q != "" {
		q += "&"
	}
	// QueryEscape writes a comma as %2C and nothing else so (a % is %25).
	return q + "properties=" + strings.ReplaceAll(url.QueryEscape(props[0]), "%2C", ",")
}

// do sends one logical request, retrying as the policy says, and decodes a
// 2xx body into out (when out is not nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("hubspot: encode %s %s: %w", method, path, err)
		}
	}
	target := c.endpoint(path, query)
	var failures, limited int
	refreshed := false
	budget := budgetOf(ctx, c.budget)
	for attempt := 1; ; attempt++ {
		if err := budget.Wait(ctx); err != nil {
			return fmt.Errorf("hubspot: %s %s: waiting for rate budget: %w", method, path, err)
		}
		start := time.Now()
		sent := *c.token.Load()
		status, err := c.send(ctx, method, target, body, out, sent)
		c.log.LogAttrs(ctx, slog.LevelDebug, "hubspot request",
			slog.String("method", method), slog.String("path", path), slog.Int("status", status),
			slog.Int("attempt", attempt), slog.Duration("took", time.Since(start)))
		if err == nil {
			budget.Succeeded()
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("hubspot: %s %s: %w", method, path, ctxErr)
		}

		var apiErr *Error
		if errors.As(err, &apiErr) {
			apiErr.Method, apiErr.Path, apiErr.Attempts = method, path, attempt
		}
		switch {
		case apiErr != nil && apiErr.StatusCode == http.StatusTooManyRequests:
			limited++
			if apiErr.Daily() || limited >= c.retry.MaxRateLimited {
				return apiErr
			}
			pause := apiErr.RetryAfter
			if pause <= 0 {
				// No hint: escalate from a tenth of the window, with jitter.
				pause = min(Window/10<<min(budget.strikeCount(), 4), Window)
				pause = pause/2 + rand.N(pause/2+1)
			}
			budget.Throttled(pause)
			c.log.LogAttrs(ctx, slog.LevelInfo, "hubspot rate limited; backing off",
				slog.String("path", path), slog.String("policy", apiErr.Policy), slog.Duration("pause", pause))
			continue
		case apiErr != nil && apiErr.StatusCode == http.StatusUnauthorized && *c.token.Load() != sent && !refreshed:
			refreshed = true
			continue // rotated while this request was out: again, with the new one
		case apiErr != nil && apiErr.StatusCode == http.StatusUnauthorized && c.refresh != nil && !refreshed:
			refreshed = true
			tok, rerr := c.refresh(ctx)
			if rerr != nil || tok == "" || tok == sent {
				return apiErr // the same credential: HubSpot's answer stands
			}
			c.SetToken(tok)
			c.log.LogAttrs(ctx, slog.LevelInfo, "hubspot credential re-read after a 401", slog.String("path", path))
			continue
		case apiErr != nil && retryLater(apiErr.StatusCode):
			// Retried below, after at least HubSpot's documented wait.
		case apiErr != nil && apiErr.StatusCode < 500:
			return apiErr
		case apiErr != nil:
			// 5xx: retried below.
		case !retryableTransportError(err):
			return fmt.Errorf("hubspot: %s %s: %w: %w", method, path, ErrUnreachable, err)
		}
		failures++
		if failures >= c.retry.MaxAttempts {
			if apiErr != nil {
				return apiErr
			}
			return fmt.Errorf("hubspot: %s %s: giving up after %d attempts: %w: %w", method, path, attempt, ErrUnreachable, err)
		}
		wait := c.retry.Backoff(failures)
		if apiErr != nil && retryLater(apiErr.StatusCode) {
			wait = max(wait, apiErr.RetryAfter)
			if apiErr.StatusCode == http.StatusLocked {
				wait = max(wait, c.retry.LockedWait)
			}
			// A wait past the caller's deadline would only end in a
			// timeout: give HubSpot's answer back now, to be retried later.
			if d, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(d) {
				apiErr.OutOfTime = true
				return apiErr
			}
		}
		detail := err.Error()
		if apiErr != nil { // HubSpot's message can quote values: its status and category only
			detail = strconv.Itoa(apiErr.StatusCode) + " " + apiErr.Category
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "hubspot request failed; retrying",
			slog.String("path", path), slog.String("error", detail), slog.Duration("wait", wait))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("hubspot: %s %s: %w", method, path, ctx.Err())
		case <-t.C:
		}
	}
}

// send makes one attempt. It returns the status (0 when none arrived) and an
// *Error, a *RateLimitError or a transport error.
func (c *Client) send(ctx context.Context, method, target string, body []byte, out any, token string) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	// Go's transport sends a request again by itself when a reused
	// connection turns out dead before any answer; each such attempt is a
	// request HubSpot may count, so it is charged to the budget too (the
	// first attempt waited in do). Charged, not waited for: the hook runs
	// inside the transport, where waiting could hold its connection pool.
	attempts := 0
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GetConn: func(string) {
		if attempts++; attempts > 1 {
			budgetOf(ctx, c.budget).Charge()
		}
	}})
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() {
		// Drain a little so the connection can be reused.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		resp.Body.Close()
	}()
	c.observeLimits(resp.Header)

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil {
			return resp.StatusCode, nil
		}
		// HubSpot never repeats a name in an object; checking it costs a
		// sixth of a page's decoding.
		if err := json.UnmarshalRead(resp.Body, out, jsontext.AllowDuplicateNames(true)); err != nil {
			// Usually a body cut short by a dropped connection: worth retrying.
			return resp.StatusCode, &decodeError{err}
		}
		return resp.StatusCode, nil
	}
	return resp.StatusCode, responseError(resp)
}

// DailyLimit is the portal's daily request limit and what is left of it
// today, as HubSpot's last answer announced them (ok false when none did:
// search answers, or a portal without a daily limit).
func (c *Client) DailyLimit() (limit, remaining int, ok bool) {
	c.dailyMu.Lock()
	defer c.dailyMu.Unlock()
	return c.daily, c.dailyLeft, c.daily > 0
}

// observeLimits lowers the budget when HubSpot announces a smaller limit,
// and keeps what it says of the daily limit.
func (c *Client) observeLimits(h http.Header) {
	if d, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Daily")); err == nil && d > 0 {
		if left, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Daily-Remaining")); err == nil {
			c.dailyMu.Lock()
			c.daily, c.dailyLeft = d, left
			c.dailyMu.Unlock()
		}
	}
	maxReq, err1 := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Max"))
	ms, err2 := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))
	if err1 == nil && err2 == nil {
		c.budget.Announced(maxReq, time.Duration(ms)*time.Millisecond)
	}
}

// wireError is HubSpot's standard error body.
type wireError struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	CorrelationID string `json:"correlationId"`
	Category      string `json:"category"`
	ErrorType     string `json:"errorType"`
	PolicyName    string `json:"policyName"`
	Errors        []struct {
		Context struct {
			RequiredGranularScopes []string `json:"requiredGranularScopes"`
			RequiredScopes         []string `json:"requiredScopes"`
		} `json:"context"`
	} `json:"errors"`
}

func responseError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var we wireError
	_ = json.Unmarshal(raw, &we) // a non-JSON body (a proxy's HTML page) still yields an Error
	e := Error{
		StatusCode:    resp.StatusCode,
		Category:      we.Category,
		Message:       we.Message,
		CorrelationID: we.CorrelationID,
	}
	if e.Category == "" {
		e.Category = we.ErrorType
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Policy, e.RetryAfter = we.PolicyName, retryAfter(resp.Header)
	case retryLater(resp.StatusCode):
		e.RetryAfter = retryAfter(resp.Header)
	}
	for _, d := range we.Errors {
		e.Scopes = append(e.Scopes, d.Context.RequiredGranularScopes...)
		e.Scopes = append(e.Scopes, d.Context.RequiredScopes...)
	}
	return &e
}

// retryAfter reads Retry-After (seconds or an HTTP date).
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// retryableTransportError reports failures where the request may not have
// been processed or the answer was lost: worth sending again. Every request
// this client makes is idempotent (reads, and updates to absolute values).
func retryableTransportError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var netErr net.Error
	var decErr *decodeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &netErr):
		return true
	case errors.As(err, &decErr):
		return true
	}
	return false
}

// decodeError is a 2xx answer whose body could not be decoded.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return "decode response: " + e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// BaseURL returns the API base URL the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }
