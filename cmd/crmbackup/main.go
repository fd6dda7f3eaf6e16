// Command crmbackup is the one tool of crmbackup's operators and admins,
// on this machine and against a deployed stack:
//
//	crmbackup demo                      # the main job: a real backup on the local stack, downloaded and verified
//	crmbackup local                     # the local stack, serving until Ctrl-C
//	crmbackup accounts add --id acme …  # operators: the HubSpot accounts a stack backs up
//	crmbackup admins add --account …    # operators: the portals' Super Admins who use it
//	crmbackup login                     # admins: sign in (two-factor), then
//	crmbackup backups | schedule | restore | imports | audit | notifications
//
// Every command takes --stack NAME (a deployed stack, found through its
// CloudFormation outputs) or works on the local stack of --local DIR
// (default .local/stack). `crmbackup help` and `--help` on every command
// say the rest; exit codes are listed by `crmbackup help exit-codes`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/crmbackup/crmbackup/internal/apperr"
)

// Exit codes, for scripts (`crmbackup help exit-codes`).
const (
	exitOK          = 0
	exitFailed      = 1 // the operation failed (a backup FAILED, HubSpot unreachable, …)
	exitUsage       = 2 // a mistake on the command line
	exitAuth        = 3 // not signed in, the session expired, or a fresh two-factor sign-in is needed
	exitRefused     = 4 // refused: not allowed, a conflict, the quota, bad input
	exitNotFound    = 5 // no such backup, plan, import, account or admin
	exitInterrupted = 130
)

const exitCodesHelp = `Exit codes of every crmbackup command:

  0    success
  1    the operation failed (a backup or restore FAILED, HubSpot or AWS unreachable, …)
  2    a mistake on the command line (unknown command or flag, missing argument)
  3    not signed in, the session expired, or a fresh two-factor sign-in is needed: crmbackup login
  4    refused: not allowed for you, a conflict (a restore running, an account that exists),
       the backup quota, input the API or HubSpot refused
  5    not found: no such backup, plan, import, account or admin
  130  interrupted (Ctrl-C); everything started was stopped
`

// errUsage marks a command line mistake (exit status 2).
var errUsage = errors.New("usage")

// io of a run: the terminal, or a test's buffers.
type stdio struct {
	in       io.Reader
	out, err io.Writer
	// terminal: stdin is a terminal (prompts may be asked).
	terminal bool
	// bars: stderr is a terminal (progress bars are drawn).
	bars bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := runWith(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, terminal: term.IsTerminal(int(os.Stdin.Fd())), bars: term.IsTerminal(int(os.Stderr.Fd()))})
	interrupted := ctx.Err() != nil // before stop, which cancels ctx
	stop()
	code := exitCode(err)
	switch {
	case err == nil:
	case errors.Is(err, errUsage), errors.Is(err, errHelp):
	case interrupted:
		fmt.Fprintln(os.Stderr, "crmbackup: interrupted; everything started was stopped")
		code = exitInterrupted
	default:
		fmt.Fprintln(os.Stderr, "crmbackup:", err)
	}
	os.Exit(code)
}

// run is a run with the process's stdin and stderr (the tests' entry).
func run(ctx context.Context, args []string, stdout io.Writer) error {
	return runWith(ctx, args, stdio{in: os.Stdin, out: stdout, err: os.Stderr})
}

func runWith(ctx context.Context, args []string, io stdio) error {
	root := newRoot(io)
	root.SetArgs(goStyleFlags(args))
	root.SetContext(ctx)
	c, err := root.ExecuteC()
	// Cobra's own refusals (a required flag not given) are usage errors.
	if err != nil && strings.HasPrefix(err.Error(), "required flag") {
		fmt.Fprintf(io.err, "%s: %v\n(`%s --help` lists its flags)\n", c.CommandPath(), err, c.CommandPath())
		return errUsage
	}
	return err
}

// exitCode is the documented exit status of an error.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if errors.Is(err, errUsage) {
		return exitUsage
	}
	var ae *apiError
	if errors.As(err, &ae) {
		switch {
		case ae.Status == 401 || ae.Body.Error.Code == apperr.Reauth:
			return exitAuth
		case ae.Status == 404 || ae.Status == 410:
			return exitNotFound
		case ae.Status >= 400 && ae.Status < 500:
			return exitRefused
		}
		return exitFailed
	}
	if errors.Is(err, errSignIn) {
		return exitAuth
	}
	switch apperr.Code(err) {
	case apperr.Unauthorized, apperr.Reauth:
		return exitAuth
	case apperr.NotFound, apperr.Gone:
		return exitNotFound
	case apperr.Invalid, apperr.Forbidden, apperr.Conflict, apperr.QuotaUsed, apperr.NeedsTier:
		return exitRefused
	}
	return exitFailed
}

func newRoot(io stdio) *cobra.Command {
	root := &cobra.Command{
		Use:   "crmbackup",
		Short: "Back up and restore HubSpot CRM data, on this machine or on your AWS stack",
		Long: `crmbackup backs up every record and property value of a HubSpot portal into a ZIP of CSV files,
and restores chosen properties of one object from a backup.

Operators add the HubSpot accounts a stack backs up (accounts) and the portals' Super Admins who
use it (admins). Admins sign in (login) and then create and download backups, set the schedule,
plan and run restores and read the audit log.

Every command works on the local stack of --local DIR (started by "crmbackup local"), or on a
deployed stack with --stack NAME (CRMBACKUP_STACK), found through its CloudFormation outputs in
the AWS account and region of your AWS credentials (--region, AWS_REGION).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			c.SetOut(c.ErrOrStderr())
			c.Help()
			return errUsage
		},
	}
	root.SetIn(io.in)
	root.SetOut(io.out)
	root.SetErr(io.err)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		fmt.Fprintf(io.err, "%s: %v\n(`%s --help` lists its flags)\n", c.CommandPath(), err, c.CommandPath())
		return errUsage
	})
	addTargetFlags(root)
	root.AddCommand(
		stackCommand("demo", "Back up a seeded CRM emulator through the local stack, download, verify and restore from it", runDemo),
		stackCommand("local", "Run the local stack until Ctrl-C and print how to use it", runLocal),
		stackCommand("verify", "Check a backup ZIP against its manifest (sizes, SHA-256, row counts): verify FILE.zip", runVerify),
		stackCommand("token", "Print a dev token for the API of `crmbackup local` (for curl)", runToken),
		accountsCommand(io), adminsCommand(io), loginCommand(io), logoutCommand(io),
		backupsCommand(io), scheduleCommand(io), restoreCommand(io), importsCommand(io), auditCommand(io), notificationsCommand(io),
		&cobra.Command{Use: "exit-codes", Short: "The exit codes of every command", Run: func(c *cobra.Command, _ []string) {
			fmt.Fprint(c.OutOrStdout(), exitCodesHelp)
		}},
	)
	for _, c := range root.Commands() {
		if c.Args == nil {
			c.Args = usageArgs(cobra.NoArgs)
		}
	}
	return root
}

// stackCommand wraps a command that parses its own flags with Go's flag
// package (demo, local, verify, token: their flags predate this CLI).
func stackCommand(name, short string, fn func(ctx context.Context, args []string, stdout io.Writer) error) *cobra.Command {
	return &cobra.Command{
		Use: name, Short: short, DisableFlagParsing: true, Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return fn(c.Context(), args, c.OutOrStdout())
		},
	}
}

// usageArgs makes an argument check's failure a usage error.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := check(c, args); err != nil {
			fmt.Fprintf(c.ErrOrStderr(), "%s: %v\n(`%s --help` says what it takes)\n", c.CommandPath(), err, c.CommandPath())
			return errUsage
		}
		return nil
	}
}

// goStyleFlags accepts the single-dash long flags of Go's flag package
// (`-records 500`, `-reset`) that the README and Makefile have always used:
// -name becomes --name. No command has combinable one-letter flags.
func goStyleFlags(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if goFlag.MatchString(a) {
			a = "-" + a
		}
		out = append(out, a)
	}
	return out
}

var goFlag = regexp.MustCompile(`^-[a-z][a-z0-9-]+(=.*)?$`)

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
