package secrets

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/crmbackup/crmbackup/internal/apperr"
)

// newFiles returns a Files on a folder that does not exist yet, under a
// temporary parent.
func newFiles(t *testing.T) (f Files, dir string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "credentials")
	return Files{Dir: dir}, dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// names lists dir's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %v, want %v", path, got, want)
	}
}

func TestFilesCreateSecret(t *testing.T) {
	parent := t.TempDir()
	t.Chdir(parent)
	f := Files{Dir: "credentials"} // relative: the ref is absolute all the same
	ctx := context.Background()

	ref, err := f.CreateSecret(ctx, "acc-1", testValue)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "credentials")
	path := filepath.Join(dir, "acc-1")
	if ref != "file:"+path {
		t.Errorf("ref %q, want %q", ref, "file:"+path)
	}
	checkMode(t, dir, 0o700)
	checkMode(t, path, 0o600)
	if got := readFile(t, path); got != testValue {
		t.Errorf("file holds %q, want %q", got, testValue)
	}

	ref2, err := f.CreateSecret(ctx, "acc-1", "another value")
	if !apperr.Is(err, apperr.Conflict) || ref2 != "" {
		t.Errorf("second CreateSecret = %q, %v, want a conflict", ref2, err)
	}
	checkNoValue(t, err)
	if got := readFile(t, path); got != testValue {
		t.Errorf("after the conflict the file holds %q, want %q", got, testValue)
	}

	if _, err := f.CreateSecret(ctx, "acc-2", "second"); err != nil {
		t.Fatal(err)
	}
	if got, want := names(t, dir), []string{"acc-1", "acc-2"}; !slices.Equal(got, want) {
		t.Errorf("folder holds %v, want %v", got, want)
	}
}

func TestFilesCreateSecretRefusesIDs(t *testing.T) {
	for _, id := range []string{"", "a/b", `a\b`, "a.b", ".", "..", "../x", "/etc/passwd", `..\x`} {
		t.Run(id, func(t *testing.T) {
			f, dir := newFiles(t)
			ref, err := f.CreateSecret(context.Background(), id, testValue)
			if !apperr.Is(err, apperr.Invalid) || ref != "" {
				t.Errorf("CreateSecret(%q) = %q, %v, want invalid", id, ref, err)
			}
			checkNoValue(t, err)
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the folder was made (%v)", err)
			}
			if got := names(t, filepath.Dir(dir)); len(got) != 0 {
				t.Errorf("the parent holds %v", got)
			}
		})
	}
}

func TestFilesPutSecret(t *testing.T) {
	f, dir := newFiles(t)
	ctx := context.Background()
	ref, err := f.CreateSecret(ctx, "acc-1", testValue)
	if err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(ref, "file:")

	if err := f.PutSecret(ctx, ref, "rotated"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "rotated" {
		t.Errorf("file holds %q, want rotated", got)
	}
	checkMode(t, path, 0o600)
	if got := names(t, dir); !slices.Equal(got, []string{"acc-1"}) {
		t.Errorf("folder holds %v, want only acc-1 (no temporary file left)", got)
	}
}

// TestFilesPutSecretAtomic checks that a reader never sees a half-written
// credential, which a write in place would show.
func TestFilesPutSecretAtomic(t *testing.T) {
	f, _ := newFiles(t)
	ctx := context.Background()
	values := []string{strings.Repeat("a", 1<<20), strings.Repeat("b", 1<<19)}
	ref, err := f.CreateSecret(ctx, "acc-1", values[0])
	if err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(ref, "file:")

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("read during PutSecret: %v", err)
				return
			}
			if s := string(b); s != values[0] && s != values[1] {
				t.Errorf("read a partial credential of %d bytes", len(b))
				return
			}
		}
	})
	for i := range 20 {
		if err := f.PutSecret(ctx, ref, values[(i+1)%2]); err != nil {
			t.Error(err)
			break
		}
	}
	close(done)
	wg.Wait()
}

func TestFilesDeleteSecret(t *testing.T) {
	f, dir := newFiles(t)
	ctx := context.Background()
	ref, err := f.CreateSecret(ctx, "acc-1", testValue)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.CreateSecret(ctx, "acc-2", "kept"); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteSecret(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"acc-2"}) {
		t.Errorf("folder holds %v, want only acc-2", got)
	}
	if err := f.DeleteSecret(ctx, ref); err != nil {
		t.Errorf("deleting a missing file: %v", err)
	}
	// The account can be added again.
	if _, err := f.CreateSecret(ctx, "acc-1", "again"); err != nil {
		t.Errorf("CreateSecret after DeleteSecret: %v", err)
	}
}

func TestFilesRefuseRefsOutsideFolder(t *testing.T) {
	f, dir := newFiles(t)
	ctx := context.Background()
	ref, err := f.CreateSecret(ctx, "acc-1", testValue)
	if err != nil {
		t.Fatal(err)
	}
	parent := filepath.Dir(dir)
	outside := filepath.Join(parent, "outside")
	if err := os.WriteFile(outside, []byte("not a credential"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	nested := filepath.Join(sub, "acc-1")
	if err := os.WriteFile(nested, []byte("nested"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := map[string]string{
		strings.TrimPrefix(ref, "file:"): testValue,
		outside:                          "not a credential",
		nested:                           "nested",
	}

	refs := map[string]string{
		"/etc/passwd":    "file:/etc/passwd",
		"dot-dot":        "file:" + dir + "/../outside",
		"dot-dot inside": "file:" + dir + "/../credentials/../outside",
		"parent":         "file:" + outside,
		"the folder":     "file:" + dir,
		"folder dot":     "file:" + dir + "/.",
		"sub-folder":     "file:" + nested,
		"relative":       "file:credentials/acc-1",
		"no scheme":      strings.TrimPrefix(ref, "file:"),
		"other scheme":   "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x",
		"upper scheme":   "FILE:" + strings.TrimPrefix(ref, "file:"),
		"empty":          "",
	}
	for name, bad := range refs {
		t.Run(name, func(t *testing.T) {
			// Never let a regression write or remove /etc/passwd: check the
			// guard itself first.
			if _, err := f.path(bad); err == nil {
				t.Fatalf("path(%q) accepted", bad)
			}
			if err := f.PutSecret(ctx, bad, "overwritten"); err == nil {
				t.Errorf("PutSecret(%q) accepted", bad)
			} else {
				checkNoValue(t, err)
			}
			if err := f.DeleteSecret(ctx, bad); err == nil {
				t.Errorf("DeleteSecret(%q) accepted", bad)
			}
		})
	}
	for path, want := range before {
		if got := readFile(t, path); got != want {
			t.Errorf("%s holds %q, want %q", path, got, want)
		}
	}
	if got := names(t, dir); !slices.Equal(got, []string{"acc-1", "sub"}) {
		t.Errorf("folder holds %v", got)
	}
	if got := names(t, parent); !slices.Equal(got, []string{"credentials", "outside"}) {
		t.Errorf("parent holds %v", got)
	}
}
