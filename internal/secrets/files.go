package secrets

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/crmbackup/crmbackup/internal/apperr"
)

// Files keeps credentials as files of a folder (the local stack's
// .local/stack/credentials, 0700), one per account (0600); an account's
// reference is "file:<absolute path>", which the connector reads.
type Files struct{ Dir string }

// CreateSecret writes a new account's credential file.
func (f Files) CreateSecret(_ context.Context, accountID, value string) (string, error) {
	if accountID == "" || strings.ContainsAny(accountID, `/\.`) {
		return "", apperr.New(apperr.Invalid, "account id %q cannot name a file", accountID)
	}
	dir, err := filepath.Abs(f.Dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o700); err != nil { // also a folder made wider before
		return "", err
	}
	path := filepath.Join(dir, accountID)
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", apperr.New(apperr.Conflict, "a credential file %s exists already", path)
	}
	if err != nil {
		return "", err
	}
	if _, err := file.WriteString(value); err != nil {
		file.Close()
		os.Remove(path)
		return "", err
	}
	return "file:" + path, file.Close()
}

// PutSecret replaces the credential behind ref, atomically.
func (f Files) PutSecret(_ context.Context, ref, value string) error {
	path, err := f.path(ref)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".credential-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(value); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// DeleteSecret removes the credential file behind ref.
func (f Files) DeleteSecret(_ context.Context, ref string) error {
	path, err := f.path(ref)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// path is the file ref names, which must be in the folder: never a file
// elsewhere on the machine.
func (f Files) path(ref string) (string, error) {
	dir, err := filepath.Abs(f.Dir)
	if err != nil {
		return "", err
	}
	path, ok := strings.CutPrefix(ref, "file:")
	if !ok || filepath.Dir(filepath.Clean(path)) != dir {
		return "", fmt.Errorf("credential %q is not a file of %s", ref, dir)
	}
	return filepath.Clean(path), nil
}

// DiscardSecret removes the credential file behind ref.
func (f Files) DiscardSecret(ctx context.Context, ref string) error { return f.DeleteSecret(ctx, ref) }
