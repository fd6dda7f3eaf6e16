package main

import (
	"cmp"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/localstack"
)

// stackFlags are the flags demo and local share: the emulated portal, the
// account's tier, and a real portal's limit.
type stackFlags struct {
	records     *int
	seed        *int64
	rateLimit   *int
	latency     *time.Duration
	tier        *string
	portalLimit *int
}

// defaultPortalLimit is a real portal's limit unless told: HubSpot's
// smallest (Free and Starter), 100 requests per 10 s.
const defaultPortalLimit = 100

func addStackFlags(fs *flag.FlagSet) *stackFlags {
	portalLimit := defaultPortalLimit
	if v, err := strconv.Atoi(os.Getenv("HUBSPOT_REQUESTS_PER_10S")); err == nil && v > 0 {
		portalLimit = v
	}
	return &stackFlags{
		records:   fs.Int("records", 10000, "records in the emulated portal, spread over every object kind"),
		seed:      fs.Int64("seed", 1, "seed of the emulated portal's data"),
		rateLimit: fs.Int("rate-limit", 190, "emulated HubSpot limit, requests per 10 s (0: none)"),
		latency:   fs.Duration("latency", 20*time.Millisecond, "emulated HubSpot latency per request"),
		tier:      fs.String("tier", string(backup.Enterprise), "the account's HubSpot tier: starter, professional or enterprise (sets the backup quota; below enterprise the emulated portal has no custom objects and no Sensitive Data)"),
		portalLimit: fs.Int("requests-per-10s", portalLimit,
			"a real portal's limit (with HUBSPOT_TOKEN), requests per 10 s: 100 Free/Starter, 190 Professional/Enterprise, 250 with the API limit increase; HUBSPOT_REQUESTS_PER_10S sets the default"),
	}
}

// check refuses values the stack would fail on minutes later.
func (f *stackFlags) check() error {
	switch {
	case *f.records < 1 || *f.records > 10_000_000:
		return fmt.Errorf("-records %d: want 1 to 10,000,000", *f.records)
	case *f.rateLimit < 0:
		return fmt.Errorf("-rate-limit %d: want 0 (no limit) or more", *f.rateLimit)
	case *f.latency < 0:
		return fmt.Errorf("-latency %s: want 0 or more", *f.latency)
	case !backup.Tier(*f.tier).Valid():
		return fmt.Errorf("-tier %q: want starter, professional or enterprise", *f.tier)
	case *f.portalLimit < 1:
		return fmt.Errorf("-requests-per-10s %d: want a positive number", *f.portalLimit)
	}
	return nil
}

// config is the local stack these flags describe, in dir: the emulator, or
// the real portal HUBSPOT_TOKEN reaches (real). The flags were checked
// (begin).
func (f *stackFlags) config(dir string, log *slog.Logger) (cfg localstack.Config, real bool, err error) {
	tier := backup.Tier(*f.tier)
	cfg = localstack.Config{
		Dir: dir,
		Emulator: emulator.Options{Seed: *f.seed, Sizes: emulator.DefaultSizes(*f.records),
			RateLimit: *f.rateLimit, Latency: *f.latency, NotEnterprise: tier != backup.Enterprise},
		Account: backup.Account{ID: "acme", Name: "Acme Inc.", Tier: tier, RequestsPer10s: *f.rateLimit},
		Log:     log,
	}
	if tok := os.Getenv("HUBSPOT_TOKEN"); tok != "" {
		cfg.HubSpotToken = tok
		cfg.HubSpotBaseURL = os.Getenv("HUBSPOT_BASE_URL")
		if cfg.HubSpotBaseURL == "" {
			cfg.HubSpotBaseURL = "https://api.hubapi.com"
		}
		cfg.Account.RequestsPer10s = *f.portalLimit
		cfg.Account.APIVersion = os.Getenv("HUBSPOT_API_VERSION") // empty: the latest dated version
		real = true
	}
	return cfg, real, nil
}

// describe says what HubSpot the stack talks to.
func (f *stackFlags) describe(real bool) string {
	if real {
		return fmt.Sprintf("a real portal through %s, %d requests/10 s, HubSpot API %s", cmp.Or(os.Getenv("HUBSPOT_BASE_URL"), "https://api.hubapi.com"),
			*f.portalLimit, cmp.Or(os.Getenv("HUBSPOT_API_VERSION"), "latest dated version"))
	}
	return fmt.Sprintf("the CRM emulator, %d records (seed %d), %d requests/10 s, %v latency", *f.records, *f.seed, *f.rateLimit, *f.latency)
}
