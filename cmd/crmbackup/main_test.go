package main

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemo runs the README's main job, smaller: a backup through the local
// stack's API, downloaded, verified against the manifest and the emulator.
// It then checks the verify command on the file and on a tampered copy.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole local stack")
	}
	dir := t.TempDir()
	var out bytes.Buffer
	err := run(context.Background(), []string{"demo", "-dir", filepath.Join(dir, "stack"), "-out", filepath.Join(dir, "backups"),
		"-records", "1500", "-rate-limit", "0", "-latency", "0"}, &out)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{"202 Accepted", "COMPLETED", "every object holds as many records as the CRM", "vehicles_2-",
		"excluded: days_to_close", "403 reauthentication_required", `import "Data restore - Deal"`,
		"equal the backup again; the 3 deleted deals were reported missing", "restore.completed by admin@acme.example"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	zips, _ := filepath.Glob(filepath.Join(dir, "backups", "*.zip"))
	if len(zips) != 1 {
		t.Fatalf("downloaded %v, want one ZIP", zips)
	}
	if st, _ := os.Stat(zips[0]); st.Mode().Perm() != 0o600 {
		t.Errorf("the backup file is %v: it holds sensitive data, want 0600", st.Mode().Perm())
	}

	out.Reset()
	if err := run(context.Background(), []string{"verify", zips[0]}, &out); err != nil || !strings.Contains(out.String(), "matches its manifest") {
		t.Errorf("verify of the downloaded file: %v\n%s", err, out.String())
	}

	tampered := filepath.Join(dir, "tampered.zip")
	tamper(t, zips[0], tampered, "deals.csv")
	out.Reset()
	err = run(context.Background(), []string{"verify", tampered}, &out)
	if err == nil || !strings.Contains(out.String(), "FAILED") {
		t.Errorf("verify of a tampered file: %v\n%s", err, out.String())
	}
}

// tamper copies a ZIP changing one byte of one file.
func tamper(t *testing.T, src, dst, name string) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, zf := range zr.File {
		r, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		if zf.Name == name {
			i := bytes.IndexByte(b, '\n') + 3
			b[i] ^= 1
		}
		w, _ := zw.Create(zf.Name)
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestUsage(t *testing.T) {
	tests := [][]string{{}, {"nope"}, {"verify"}, {"demo", "-no-such-flag"}}
	for _, args := range tests {
		if err := run(context.Background(), args, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	if err := run(context.Background(), []string{"verify", filepath.Join(t.TempDir(), "missing.zip")}, io.Discard); err == nil || errors.Is(err, errUsage) {
		t.Errorf("verify of a missing file: %v", err)
	}
}

// TestCommandLineMistakesUpFront: bad flags and stray arguments are refused
// before anything starts; a second run on the same folder says who holds it.
func TestCommandLineMistakesUpFront(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string // in the error; "" for a usage error
	}{
		{[]string{"demo", "-dir", dir + "/a", "-records", "0"}, "-records 0"},
		{[]string{"demo", "-dir", dir + "/a", "-records", "-5"}, "-records -5"},
		{[]string{"local", "-dir", dir + "/b", "-latency", "-1s"}, "-latency"},
		{[]string{"demo", "-dir", dir + "/a", "extra"}, ""},
		{[]string{"local", "-dir", dir + "/b", "-tier", "gold"}, "-tier"},
	} {
		err := run(context.Background(), tt.args, io.Discard)
		if tt.want == "" && !errors.Is(err, errUsage) || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%v: %v, want %q", tt.args, err, tt.want)
		}
	}
	if _, err := os.Stat(dir + "/a"); err == nil {
		t.Error("a refused demo created its folder")
	}
	if err := run(context.Background(), []string{"--help"}, io.Discard); err != nil {
		t.Errorf("--help: %v", err)
	}
	unlock, err := lockDir(dir + "/c")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := lockDir(dir + "/c"); err == nil || !strings.Contains(err.Error(), "another crmbackup (pid") {
		t.Fatalf("a second lock: %v", err)
	}
	// The lock is the folder -dir names, not the flag's default.
	if err := run(context.Background(), []string{"demo", "-dir", dir + "/c"}, io.Discard); err == nil || !strings.Contains(err.Error(), "another crmbackup (pid") {
		t.Fatalf("a demo on a held folder: %v", err)
	}
}
