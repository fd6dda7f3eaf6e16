package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/operator"
)

// Directory is the local stack's list of admins, its stand-in for the
// deployed stack's user pool: a JSON file of the data folder (0600).
// `crmbackup admins` writes it, and `crmbackup login` signs in only the
// admins it lists (with a dev token carrying their account and role).
type Directory struct{ Path string }

// DirectoryFile is the directory's file in a data folder.
func DirectoryFile(dir string) string { return filepath.Join(dir, "admins.json") }

var _ operator.Directory = Directory{}

// CreateAdmin adds an admin (apperr.Conflict if the e-mail has one).
func (d Directory) CreateAdmin(_ context.Context, a operator.Admin) (*operator.Admin, error) {
	var added *operator.Admin
	err := d.update(func(list []operator.Admin) ([]operator.Admin, error) {
		if i := index(list, a.Email); i >= 0 {
			return nil, apperr.New(apperr.Conflict, "%s is an admin already (of account %s)", a.Email, list[i].AccountID)
		}
		a.Status, a.Enabled = "CONFIRMED", true
		if a.Created.IsZero() {
			a.Created = time.Now().UTC().Truncate(time.Second)
		}
		added = &a
		return append(list, a), nil
	})
	return added, err
}

// Admins lists every admin, by e-mail.
func (d Directory) Admins(context.Context) ([]operator.Admin, error) {
	return d.read()
}

// Admin returns one admin (apperr.NotFound if none).
func (d Directory) Admin(email string) (*operator.Admin, error) {
	list, err := d.read()
	if err != nil {
		return nil, err
	}
	if i := index(list, email); i >= 0 {
		return &list[i], nil
	}
	return nil, apperr.New(apperr.NotFound, "%s is not an admin of the local stack (`crmbackup admins add` adds one)", email)
}

// DeleteAdmin removes an admin (apperr.NotFound if none).
func (d Directory) DeleteAdmin(_ context.Context, email string) error {
	return d.update(func(list []operator.Admin) ([]operator.Admin, error) {
		i := index(list, email)
		if i < 0 {
			return nil, apperr.New(apperr.NotFound, "no admin %s", email)
		}
		return slices.Delete(list, i, i+1), nil
	})
}

// seed adds an admin unless the directory has one of that e-mail.
func (d Directory) seed(a operator.Admin) error {
	_, err := d.CreateAdmin(context.Background(), a)
	if apperr.Is(err, apperr.Conflict) {
		return nil
	}
	return err
}

func index(list []operator.Admin, email string) int {
	return slices.IndexFunc(list, func(a operator.Admin) bool { return strings.EqualFold(a.Email, email) })
}

func (d Directory) read() ([]operator.Admin, error) {
	raw, err := os.ReadFile(d.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return []operator.Admin{}, nil
	}
	if err != nil {
		return nil, err
	}
	var list []operator.Admin
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", d.Path, err)
	}
	return list, nil
}

// update changes the file under an exclusive lock, atomically.
func (d Directory) update(change func([]operator.Admin) ([]operator.Admin, error)) error {
	if err := os.MkdirAll(filepath.Dir(d.Path), 0o700); err != nil {
		return err
	}
	lock, err := os.OpenFile(d.Path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	list, err := d.read()
	if err != nil {
		return err
	}
	list, err = change(list)
	if err != nil {
		return err
	}
	slices.SortFunc(list, func(a, b operator.Admin) int { return strings.Compare(a.Email, b.Email) })
	raw, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	tmp := d.Path + ".new"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, d.Path)
}

// Endpoints are where a running local stack listens, written to its data
// folder while it runs, for `crmbackup` commands given --local DIR.
type Endpoints struct {
	API      string `json:"api"`
	DynamoDB string `json:"dynamodb"`
	HubSpot  string `json:"hubspot"`
	Emulator bool   `json:"emulator"`
	PID      int    `json:"pid"`
}

func endpointsFile(dir string) string { return filepath.Join(dir, "endpoints.json") }

func writeEndpoints(dir string, e Endpoints) (remove func(), err error) {
	raw, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, err
	}
	path := endpointsFile(dir)
	if err := os.WriteFile(path+".new", raw, 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(path+".new", path); err != nil {
		return nil, err
	}
	return func() { os.Remove(path) }, nil
}

// ReadEndpoints returns the endpoints of the local stack running on dir.
func ReadEndpoints(dir string) (*Endpoints, error) {
	raw, err := os.ReadFile(endpointsFile(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no local stack is running on %s: start one with `make local` (or `crmbackup local --dir %s`), or give --stack NAME for a deployed one", dir, dir)
	}
	if err != nil {
		return nil, err
	}
	var e Endpoints
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("%s: %w", endpointsFile(dir), err)
	}
	if e.PID > 0 && syscall.Kill(e.PID, 0) != nil && !errors.Is(syscall.Kill(e.PID, 0), syscall.EPERM) {
		return nil, fmt.Errorf("the local stack of %s (pid %d) is no longer running: start it again with `make local`", dir, e.PID)
	}
	return &e, nil
}

// DynamoKey is the access key of the local stack's DynamoDB Local data in
// dir.
func DynamoKey(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "dynamodb-key"))
	if err != nil {
		return "", fmt.Errorf("the local stack's DynamoDB key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
