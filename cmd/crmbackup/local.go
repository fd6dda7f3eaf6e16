package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/localstack"
)

// runLocal runs the local stack until Ctrl-C. State (backups, files, the
// dev token key) persists in -dir between runs.
func runLocal(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flags("local")
	var (
		dir     = fs.String("dir", defaultLocalDir, "the stack's data (S3 files, DynamoDB, dev token key), kept between runs")
		addr    = fs.String("addr", "127.0.0.1:8080", "the API's address")
		logFile = fs.String("log", "-", "the stack's logs (- for stderr)")
		reset   = fs.Bool("reset", false, "start from an empty data folder: backups, quota, schedule and dev token key are gone")
		stack   = addStackFlags(fs)
	)
	unlock, err := begin("local", fs, args, stack, dir)
	if err != nil {
		return err
	}
	defer unlock()
	if *reset {
		if err := os.RemoveAll(*dir); err != nil {
			return fmt.Errorf("reset %s: %w", *dir, err)
		}
	}
	log, closeLog, err := logger(*logFile)
	if err != nil {
		return err
	}
	defer closeLog()
	cfg, _, err := stack.config(*dir, log)
	if err != nil {
		return err
	}
	cfg.APIAddr = *addr
	st, err := localstack.Start(ctx, cfg)
	if err != nil {
		return fmt.Errorf("start the local stack: %w", err)
	}
	defer st.Close()
	token, err := st.Token("admin@acme.example", auth.SuperAdminRole, true)
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(*dir)
	fmt.Fprintf(stdout, "crmbackup is running locally (data in %s).\n\n", abs)
	fmt.Fprintf(stdout, "  console   %s\n", st.ConsoleURL)
	fmt.Fprintf(stdout, "  API       %s\n", st.APIURL)
	if st.EmulatorURL == "" {
		fmt.Fprintf(stdout, "  HubSpot   %s: backups read it, restores write into it\n", stack.describe(true))
	}
	if st.EmulatorURL != "" {
		fmt.Fprintf(stdout, "  HubSpot   %s (the CRM emulator; token %q; counters at /_emulator/stats)\n", st.EmulatorURL, emulator.DefaultToken)
	}
	fmt.Fprintf(stdout, "  account   %s (%s)\n\n", st.Account.ID, st.Account.Tier)
	fmt.Fprintf(stdout, "The data (backups, the quota, the schedule) is kept in %s between runs: the quota of one backup every %s\n"+
		"counts across restarts; `make local ARGS=-reset` starts afresh.\n\n", *dir, window(st.Account.Tier.QuotaWindow()))
	cli, local := self(), ""
	if filepath.Clean(*dir) != filepath.Clean(defaultLocalDir) {
		local = " --local " + *dir
	}
	fmt.Fprintf(stdout, "With the CLI, in another terminal (`%s --help` lists every command):\n\n", cli)
	fmt.Fprintf(stdout, "  %s login%s                      # as %s, with two-factor now\n", cli, local, localstack.DefaultAdmin)
	fmt.Fprintf(stdout, "  %s backups create --watch%s\n", cli, local)
	fmt.Fprintf(stdout, "  %s backups download ID%s\n", cli, local)
	fmt.Fprintf(stdout, "  %s restore plan ID --object deals --properties dealname,amount%s\n", cli, local)
	fmt.Fprintf(stdout, "  %s accounts list%s; %s admins list%s\n\n", cli, local, cli, local)
	fmt.Fprintf(stdout, "Or with curl, a super admin token (valid 1 h; its two-factor sign-in counts as fresh for restores for 5 minutes;\n"+
		"another with `%s token -dir %s`):\n\n  export TOKEN=%s\n\n", cli, *dir, token)
	fmt.Fprintf(stdout, "  curl -s -X POST -H \"Authorization: Bearer $TOKEN\" %s/v1/backups\n", st.APIURL)
	fmt.Fprintf(stdout, "  curl -s -H \"Authorization: Bearer $TOKEN\" %s/v1/backups\n", st.APIURL)
	fmt.Fprintf(stdout, "  curl -sL -o backup.zip -H \"Authorization: Bearer $TOKEN\" %s/v1/backups/ID/download\n", st.APIURL)
	fmt.Fprintf(stdout, "  curl -s -X PUT -H \"Authorization: Bearer $TOKEN\" -d '{\"enabled\":true,\"frequency\":\"daily\"}' %s/v1/backup-schedule\n\n", st.APIURL)
	fmt.Fprintf(stdout, "Ctrl-C stops everything.\n\n")
	// The schedule, now and whenever it changes (the stack runs it itself).
	shown := ""
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		if cur := st.Schedule(ctx); cur != shown && ctx.Err() == nil {
			fmt.Fprintf(stdout, "  schedule  %s\n", cur)
			shown = cur
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(os.Stderr, "\nstopping…")
			return nil
		case <-t.C:
		}
	}
}

// aliasFlag makes name another name of the flag of, for the commands
// with Go flags (token's -dir is every other command's --local).
func aliasFlag(fs *flag.FlagSet, name, of string) bool {
	fs.Var(fs.Lookup(of).Value, name, "the same as -"+of)
	return true
}

// defaultLocalDir is the local stack's data folder unless told.
const defaultLocalDir = ".local/stack"

// self is how to run this command again as typed in the user's shell:
// the binary's path (bin/crmbackup from the Makefile), or `go run` when it
// is one of go run's temporary builds.
func self() string {
	exe := os.Args[0]
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "go run ./cmd/crmbackup"
	}
	if abs, err := filepath.Abs(exe); err == nil {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, abs); err == nil && !strings.HasPrefix(rel, "..") {
				return rel
			}
		}
	}
	return exe
}

// runToken mints a dev token with the key `crmbackup local` keeps in -dir.
func runToken(_ context.Context, args []string, stdout io.Writer) error {
	fs := flags("token")
	var (
		dir     = fs.String("dir", defaultLocalDir, "the local stack's data folder (holds the dev token key)")
		_       = aliasFlag(fs, "local", "dir")
		account = fs.String("account", "acme", "account id claim")
		subject = fs.String("sub", "admin@acme.example", "subject claim")
		role    = fs.String("role", auth.SuperAdminRole, "role claim")
		mfa     = fs.Bool("mfa", true, "two-factor authentication just now (amr has mfa, auth_time now)")
		sso     = fs.Bool("sso", false, "signed in with SSO (amr is sso)")
		ttl     = fs.Duration("ttl", time.Hour, "lifetime")
	)
	if err := parse(fs, args); err != nil {
		return err
	}
	secret, err := os.ReadFile(filepath.Join(*dir, "dev-secret"))
	if err != nil {
		return fmt.Errorf("no dev token key in %s: start `crmbackup local -dir %s` once first (%w)", *dir, *dir, err)
	}
	tok, err := localstack.DevTokens(secret).Sign(auth.DevClaims{Subject: *subject, AccountID: *account, Role: *role, MFA: *mfa, SSO: *sso, TTL: *ttl})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// window is a quota window for people: "24 hours", "7 days".
func window(d time.Duration) string {
	if d >= 48*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return fmt.Sprintf("%d hours", d/time.Hour)
}
