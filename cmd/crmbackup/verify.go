package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/crmbackup/crmbackup/internal/backup"
)

func runVerify(_ context.Context, args []string, stdout io.Writer) error {
	fs := flags("verify")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: crmbackup verify FILE.zip\n\nChecks every file of a backup ZIP against its manifest.json: present, size, SHA-256 and row count; objects without records have no file; nothing else is in the ZIP.")
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	rep, err := verifyFile(fs.Arg(0))
	if err != nil {
		return err
	}
	if !printReport(stdout, rep, nil) {
		return fmt.Errorf("%s does not match its manifest", fs.Arg(0))
	}
	fmt.Fprintf(stdout, "\n%s matches its manifest.\n", fs.Arg(0))
	return nil
}

// verifyFile checks a ZIP on disk, reading it by ranges.
func verifyFile(path string) (*backup.VerifyReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	rep, err := backup.Verify(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", path, err)
	}
	return rep, nil
}

// printReport prints one row per object; source, when given, adds the
// count the CRM itself holds. It reports whether every row checked out.
func printReport(w io.Writer, rep *backup.VerifyReport, source map[string]int) bool {
	ok := rep.OK()
	m := rep.Manifest
	fmt.Fprintf(w, "Backup %s of account %s (portal %d), completed %s\n\n", m.BackupID, m.AccountID, m.PortalID, m.CompletedAt.Format("2006-01-02 15:04:05 MST"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "object\tfile\trows\tbytes\tcheck"
	if source != nil {
		header = "object\tfile\trows\tin CRM\tbytes\tcheck"
	}
	fmt.Fprintln(tw, header)
	for _, o := range rep.Objects {
		check := "ok"
		if !o.OK {
			check = "FAILED: " + o.Problem
		}
		file := o.File
		if file == "" {
			file = "(no records, no file)"
		}
		if source == nil {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", o.Name, file, o.Rows, o.Bytes, check)
			continue
		}
		crm := "?"
		if n, ok := source[o.Name]; ok {
			crm = fmt.Sprint(n)
			if int64(n) != o.Rows && o.OK {
				ok = false
				check = fmt.Sprintf("FAILED: %d rows, the CRM has %d", o.Rows, n)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\n", o.Name, file, o.Rows, crm, o.Bytes, check)
	}
	tw.Flush()
	return ok
}
