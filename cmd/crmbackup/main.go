// Command crmbackup runs crmbackup on this machine.
//
//	crmbackup demo            # the main job: a real backup on the local stack, downloaded and verified
//	crmbackup local           # the local stack, serving until Ctrl-C (API, emulator, DynamoDB Local, S3 stand-in)
//	crmbackup verify FILE.zip # check a backup ZIP against its manifest
//	crmbackup token           # a dev token for the API of `crmbackup local`
//
// `crmbackup local` and `demo` back up a real portal instead of the emulator
// when HUBSPOT_TOKEN (a private-app token) is set; HUBSPOT_BASE_URL defaults
// to https://api.hubapi.com.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// errUsage marks a command line mistake (exit status 2).
var errUsage = errors.New("usage")

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string, stdout io.Writer) error
}

var commands = []command{
	{"demo", "[flags]", "back up a seeded CRM emulator through the local stack, download and verify the ZIP", runDemo},
	{"local", "[flags]", "run the local stack until Ctrl-C and print how to call it", runLocal},
	{"verify", "FILE.zip", "check a backup ZIP against its manifest (sizes, SHA-256, row counts)", runVerify},
	{"token", "[flags]", "print a dev token for the API of `crmbackup local`", runToken},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	interrupted := ctx.Err() != nil // before stop, which cancels ctx
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2)
	case interrupted:
		fmt.Fprintln(os.Stderr, "crmbackup: interrupted; everything started was stopped")
		os.Exit(130)
	default:
		fmt.Fprintln(os.Stderr, "crmbackup:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(os.Stderr)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout)
		}
	}
	fmt.Fprintf(os.Stderr, "crmbackup: unknown command %q\n", args[0])
	usage(os.Stderr)
	return errUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: crmbackup <command> [arguments]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-7s %-9s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w, "\n`crmbackup <command> -h` lists a command's flags.")
}

// flags returns a command's flag set; parse reports -h and mistakes as errUsage.
func flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("crmbackup "+name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return errUsage
	}
	return nil
}

// logger writes the stack's own logs to a file, keeping the terminal for
// what the user asked to see.
func logger(path string) (*slog.Logger, func(), error) {
	if path == "" || path == "-" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})), func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open log file: %w", err)
	}
	return slog.New(slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})), func() { f.Close() }, nil
}
