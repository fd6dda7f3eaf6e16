// Command crmemu runs the HubSpot-compatible CRM emulator on localhost.
//
//	crmemu -records 10000 -seed 1            # a generated portal
//	crmemu -fixture portal.json              # a portal from a fixture file
//	crmemu -rate-limit 100 -error-rate 0.2   # HubSpot's limits and flaky answers
//
// With -summary it walks the portal through crmbackup's own HubSpot client
// and prints what it serves; -exit stops after that summary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "crmemu:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		addr       = flag.String("addr", "127.0.0.1:8089", "listen address (loopback by default)")
		token      = flag.String("token", emulator.DefaultToken, "bearer token the emulator accepts")
		portal     = flag.Int64("portal", emulator.DefaultPortalID, "portal id")
		seed       = flag.Int64("seed", 1, "seed of the generated data")
		records    = flag.Int("records", 10000, "total generated records, spread over all object types")
		sizes      = flag.String("sizes", "", "records per type instead of -records, e.g. contacts=20000,deals=500")
		fixture    = flag.String("fixture", "", "load this JSON fixture instead of generating data")
		latency    = flag.Duration("latency", 0, "latency added to every request")
		rateLimit  = flag.Int("rate-limit", 0, "requests per 10 s before 429 (0: unlimited)")
		dailyLimit = flag.Int("daily-limit", 0, "requests per day before 429 DAILY (0: unlimited)")
		errorRate  = flag.Float64("error-rate", 0, "share of requests answered with a 5xx")
		dropRate   = flag.Float64("drop-rate", 0, "share of requests whose connection is dropped")
		summary    = flag.Bool("summary", false, "print what the emulator serves, read through crmbackup's client")
		exit       = flag.Bool("exit", false, "exit after -summary instead of serving")
	)
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	opts := emulator.Options{
		Token: *token, PortalID: *portal, Seed: *seed,
		Latency: *latency, RateLimit: *rateLimit, DailyLimit: *dailyLimit,
		ErrorRate: *errorRate, DropRate: *dropRate, Logger: log,
	}
	switch {
	case *fixture != "":
		fx, err := emulator.LoadFixture(*fixture)
		if err != nil {
			return err
		}
		opts.Fixture = fx
	case *sizes != "":
		m, err := parseSizes(*sizes)
		if err != nil {
			return err
		}
		opts.Sizes = m
	default:
		opts.Sizes = emulator.DefaultSizes(*records)
	}
	srv, err := emulator.New(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	httpSrv := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go httpSrv.Serve(ln)
	base := "http://" + ln.Addr().String()
	fmt.Printf("HubSpot CRM emulator serving portal %d at %s (token %q)\n", *portal, base, *token)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *summary {
		if err := printSummary(ctx, base, *token); err != nil {
			return err
		}
	}
	if !*exit {
		fmt.Printf("\nTry: curl -H 'Authorization: Bearer %s' '%s/crm/v3/objects/contacts?limit=2&properties=email,firstname'\n", *token, base)
		fmt.Printf("Counters: curl %s/_emulator/stats\nCtrl-C stops.\n", base)
		<-ctx.Done()
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func parseSizes(s string) (map[string]int, error) {
	out := map[string]int{}
	for part := range strings.SplitSeq(s, ",") {
		name, n, ok := strings.Cut(strings.TrimSpace(part), "=")
		v, err := strconv.Atoi(n)
		if !ok || err != nil || v < 0 {
			return nil, fmt.Errorf("-sizes: %q is not type=count", part)
		}
		out[name] = v
	}
	return out, nil
}

// printSummary reads the portal back through the HubSpot client: account,
// object types with property and record counts, conversations.
func printSummary(ctx context.Context, base, token string) error {
	c, err := hubspot.New(hubspot.Config{BaseURL: base, Token: token, RequestsPer10s: 100000})
	if err != nil {
		return err
	}
	acct, err := c.AccountDetails(ctx)
	if err != nil {
		return err
	}
	schemas, err := c.Schemas(ctx)
	if err != nil {
		return err
	}
	type row struct{ id, name, label string }
	rows := []row{{"0-1", "contacts", "Contacts"}, {"0-2", "companies", "Companies"}, {"0-3", "deals", "Deals"},
		{"0-5", "tickets", "Tickets"}, {"0-7", "products", "Products"}, {"0-48", "calls", "Calls"}, {"0-27", "tasks", "Tasks"}}
	for _, s := range schemas {
		rows = append(rows, row{s.ObjectTypeID, s.Name, s.Labels.Plural + " (custom)"})
	}
	fmt.Printf("\nPortal %d (%s, %s)\n\n", acct.PortalID, acct.AccountType, acct.TimeZone)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "object\ttype id\trecords\tproperties\tread-only\tsensitive\t")
	for _, r := range rows {
		props, err := c.Properties(ctx, r.id)
		if err != nil {
			return err
		}
		ro := slices.DeleteFunc(slices.Clone(props), hubspot.Property.Writable)
		sens := slices.DeleteFunc(slices.Clone(props), func(p hubspot.Property) bool { return p.DataSensitivity == hubspot.NonSensitive })
		n := 0
		for page, err := range c.Pages(ctx, r.id, hubspot.ListOptions{Properties: []string{"hs_object_id"}}) {
			if err != nil {
				return err
			}
			n += len(page.Objects)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t\n", r.label, r.id, n, len(props), len(ro), len(sens))
	}
	threads := 0
	for page, err := range c.ThreadPages(ctx, hubspot.ListOptions{}) {
		if err != nil {
			return err
		}
		threads += len(page.Objects)
	}
	fmt.Fprintf(tw, "Conversations\tthreads\t%d\t-\t-\t-\t\n", threads)
	return tw.Flush()
}
