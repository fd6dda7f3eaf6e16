package reliability

import (
	"context"
	"errors"
	"io"
	"iter"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/testenv"
)

// errCrash is what every operation returns once the process "died".
var errCrash = errors.New("crash")

// crasher kills the process at its n-th operation: that one (before or
// after it took effect) and every later one fail, until the step is run
// again.
type crasher struct {
	mu    sync.Mutex
	n     int  // operations left before the crash; <0: no crash
	after bool // the crashing operation takes effect first
	dead  bool
	ops   int // operations seen, all runs
	hits  int // crashes
}

func (c *crasher) arm(n int, after bool) {
	c.mu.Lock()
	c.n, c.after, c.dead = n, after, false
	c.mu.Unlock()
}

// op runs f unless the process is dead; the armed operation crashes it.
func (c *crasher) op(f func() error) error {
	c.mu.Lock()
	c.ops++
	if c.dead {
		c.mu.Unlock()
		return errCrash
	}
	crash := c.n == 0
	if c.n >= 0 {
		c.n--
	}
	if crash {
		c.dead = true
		c.hits++
	}
	after := c.after
	c.mu.Unlock()
	if !crash {
		return f()
	}
	if after {
		f()
	}
	return errCrash
}

// store is the metadata store with crashes on every write.
type store struct {
	testenv.Store
	c *crasher
}

func (s store) CreateBackup(ctx context.Context, b *backup.Backup, w time.Duration, e *audit.Entry) error {
	return s.c.op(func() error { return s.Store.CreateBackup(ctx, b, w, e) })
}
func (s store) UpdateBackup(ctx context.Context, b *backup.Backup, from ...backup.Status) error {
	return s.c.op(func() error { return s.Store.UpdateBackup(ctx, b, from...) })
}
func (s store) SetProgress(ctx context.Context, a, id, o string, rows int64) error {
	return s.c.op(func() error { return s.Store.SetProgress(ctx, a, id, o, rows) })
}
func (s store) FailBackup(ctx context.Context, b *backup.Backup) error {
	return s.c.op(func() error { return s.Store.FailBackup(ctx, b) })
}
func (s store) AddNotification(ctx context.Context, n *backup.Notification) (published bool, err error) {
	err = s.c.op(func() error { var e error; published, e = s.Store.AddNotification(ctx, n); return e })
	return published, err
}
func (s store) UpdatePlan(ctx context.Context, p *restore.Plan, from ...restore.PlanStatus) error {
	return s.c.op(func() error { return s.Store.UpdatePlan(ctx, p, from...) })
}
func (s store) SetImportProgress(ctx context.Context, a, id string, rows int64, t *restore.Tally) error {
	return s.c.op(func() error { return s.Store.SetImportProgress(ctx, a, id, rows, t) })
}
func (s store) FinishImport(ctx context.Context, im *restore.Import, e *audit.Entry) error {
	return s.c.op(func() error { return s.Store.FinishImport(ctx, im, e) })
}
func (s store) ReleaseLock(ctx context.Context, a, id string) error {
	return s.c.op(func() error { return s.Store.ReleaseLock(ctx, a, id) })
}

// blobs is the file store with crashes on every write and read.
type blobs struct {
	backup.Blobs
	c *crasher
}

func (b blobs) Put(ctx context.Context, key string, body []byte) error {
	return b.c.op(func() error { return b.Blobs.Put(ctx, key, body) })
}
func (b blobs) Get(ctx context.Context, key string) (rc io.ReadCloser, err error) {
	err = b.c.op(func() error { var e error; rc, e = b.Blobs.Get(ctx, key); return e })
	return rc, err
}
func (b blobs) Delete(ctx context.Context, keys ...string) error {
	return b.c.op(func() error { return b.Blobs.Delete(ctx, keys...) })
}
func (b blobs) Create(ctx context.Context, key string) (backup.Upload, error) {
	var up backup.Upload
	err := b.c.op(func() error { var e error; up, e = b.Blobs.Create(ctx, key); return e })
	if err != nil {
		return nil, err
	}
	return upload{up, b.c}, nil
}

type upload struct {
	backup.Upload
	c *crasher
}

func (u upload) Write(p []byte) (n int, err error) {
	err = u.c.op(func() error { var e error; n, e = u.Upload.Write(p); return e })
	return n, err
}
func (u upload) Close() error { return u.c.op(u.Upload.Close) }

// crm is the portal with crashes on every write (HubSpot wrote, the
// answer was lost: the dangerous one) and read.
type crm struct {
	restore.CRM
	c *crasher
}

func (m crm) BatchUpdate(ctx context.Context, t string, in []hubspot.UpdateInput) (res *hubspot.BatchResult, err error) {
	err = m.c.op(func() error { var e error; res, e = m.CRM.BatchUpdate(ctx, t, in); return e })
	return res, err
}
func (m crm) BatchRead(ctx context.Context, t string, ids, props []string, archived bool) (res *hubspot.BatchResult, err error) {
	err = m.c.op(func() error { var e error; res, e = m.CRM.BatchRead(ctx, t, ids, props, archived); return e })
	return res, err
}

type connector struct{ m crm }

func (k connector) RestoreCRM(context.Context, *backup.Account) (restore.CRM, error) { return k.m, nil }

// backupCRM reads pages through the crasher too.
type backupCRM struct {
	*hubspot.Client
	c *crasher
}

func (b backupCRM) Pages(ctx context.Context, t string, o hubspot.ListOptions) iter.Seq2[*hubspot.Page, error] {
	return func(yield func(*hubspot.Page, error) bool) {
		for p, err := range b.Client.Pages(ctx, t, o) {
			if cerr := b.c.op(func() error { return err }); cerr != nil {
				yield(nil, cerr)
				return
			}
			if !yield(p, nil) {
				return
			}
		}
	}
}

type backupConnector struct{ b backupCRM }

func (k backupConnector) CRM(context.Context, *backup.Account) (backup.CRM, error) { return k.b, nil }

// trials is how many crash points each test tries: a few in `make test`,
// RELIABILITY_TRIALS in `make reliability`.
func trials(t *testing.T, short int) int {
	if v, err := strconv.Atoi(os.Getenv("RELIABILITY_TRIALS")); err == nil && v > 0 {
		return v
	}
	return short
}

// retry runs a step until it gets through without crashing, re-arming the
// crasher (at most crashes times per step) as Step Functions retries it.
func retry[T any](t *testing.T, c *crasher, rng *rand.Rand, crashes *int, span int, step func() (T, error)) T {
	t.Helper()
	for range 50 {
		out, err := step()
		if err == nil {
			return out
		}
		if !errors.Is(err, errCrash) {
			t.Fatalf("a step failed for another reason: %v", err)
		}
		if *crashes > 0 {
			*crashes--
			c.arm(rng.IntN(span), rng.IntN(2) == 0)
		} else {
			c.arm(-1, false)
		}
	}
	t.Fatal("a step never got through")
	var zero T
	return zero
}

var auditActor = audit.Actor{Subject: "admin@acme.example"}

var bothAcks = restore.Acknowledgements{DataChange: true, Irreversible: true}

func freshAdmin() *auth.Caller {
	return &auth.Caller{Subject: "admin@acme.example", AccountID: "acme", Role: auth.SuperAdminRole, AMR: []string{"mfa"}, AuthTime: clock}
}
