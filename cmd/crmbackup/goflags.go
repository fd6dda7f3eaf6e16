package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"text/tabwriter"
)

// flags returns the Go flag set of demo, local, verify and token; parse
// reports -h (exit 0) and mistakes (exit 2).
func flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("crmbackup "+name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	return fs
}

// errHelp: a command's help was asked for and shown (exit status 0).
var errHelp = errors.New("help shown")

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	return nil
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }
