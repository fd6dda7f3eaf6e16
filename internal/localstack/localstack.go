// Package localstack brings up the whole of crmbackup on one machine: the
// CRM emulator (or a real portal), DynamoDB Local, the S3 stand-in, the
// local Step Functions runner calling the same step handlers as the Lambdas,
// and the HTTP API with locally signed dev tokens. Only endpoints differ
// from AWS; the handler code and the SDK calls are the same.
package localstack

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crmbackup/crmbackup/internal/api"
	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/connector"
	"github.com/crmbackup/crmbackup/internal/dynamo"
	"github.com/crmbackup/crmbackup/internal/dynamo/dynamolocal"
	"github.com/crmbackup/crmbackup/internal/emulator"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/listing"
	"github.com/crmbackup/crmbackup/internal/notify"
	"github.com/crmbackup/crmbackup/internal/operator"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/s3store"
	"github.com/crmbackup/crmbackup/internal/s3store/s3local"
	"github.com/crmbackup/crmbackup/internal/schedule"
	"github.com/crmbackup/crmbackup/internal/secrets"
	"github.com/crmbackup/crmbackup/internal/workflow"
)

// Config configures the stack. The zero value runs in memory with a small
// generated portal on free loopback ports.
type Config struct {
	// Dir keeps S3 files and DynamoDB data on disk; "" keeps them in memory.
	Dir string
	// APIAddr is the API's address (default 127.0.0.1:0, a free port).
	APIAddr string
	// HubSpotBaseURL and HubSpotToken point at a real portal; without them
	// the emulator runs with Emulator's options.
	HubSpotBaseURL string
	HubSpotToken   string
	Emulator       emulator.Options
	// Account is the registered account (default "acme", Enterprise).
	Account backup.Account
	// DevSecret signs dev tokens (default: random, or Dir/dev-secret).
	DevSecret []byte
	// RetryInterval replaces the state machine's retry pauses (default 200 ms).
	RetryInterval time.Duration
	// ExportRun bounds one export invocation (default 20 s): locally, the
	// checkpoint loop runs as on Lambda, just with a shorter budget.
	ExportRun time.Duration
	// Now is the stack's clock (default: the system's); tests move it and
	// call RunSchedules.
	Now func() time.Time
	// ScheduleTick is how often the stack runs due schedules (default 30
	// s; negative: never by itself, only through RunSchedules).
	ScheduleTick time.Duration
	Log          *slog.Logger
}

// DefaultAdmin is the local stack's first admin, a Super Admin of its
// account (the emulator's portal lists them as one).
const DefaultAdmin = "admin@acme.example"

// Bucket and Table are the local resource names.
const (
	Bucket = "crmbackup-backups"
	Table  = "crmbackup"
)

// Stack is a running local system.
type Stack struct {
	APIURL string
	// ConsoleURL opens the admin console's sign-in page with the stack's
	// sign-in code (served on the API's address).
	ConsoleURL  string
	signInCode  string
	EmulatorURL string // "" with a real portal
	Emulator    *emulator.Server
	Tokens      *auth.DevTokens
	Service     *backup.Service
	Restore     *restore.Service
	Schedules   *schedule.Service
	Store       *dynamo.Store
	Account     backup.Account
	Runner      *workflow.LocalRunner
	closers     []func()
}

// Start brings the stack up; Close takes it down.
func Start(ctx context.Context, cfg Config) (s *Stack, err error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s = &Stack{}
	started := s // s itself is nil on the error returns
	defer func() {
		if err != nil {
			started.Close()
		}
	}()

	// HubSpot: the emulator unless a real portal is configured.
	conn := &connector.Connector{Log: log, Local: map[string]string{}}
	acct := cfg.Account
	if acct.ID == "" {
		acct = backup.Account{ID: "acme", Name: "Acme Inc.", Tier: backup.Enterprise}
	}
	if cfg.HubSpotBaseURL != "" || cfg.HubSpotToken != "" {
		conn.BaseURL = cfg.HubSpotBaseURL
		conn.Local["portal"] = cfg.HubSpotToken
		acct.TokenRef = "local:portal"
	} else {
		if s.Emulator, err = emulator.New(cfg.Emulator); err != nil {
			return nil, err
		}
		url, closeFn, err := serve("127.0.0.1:0", s.Emulator)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, closeFn)
		s.EmulatorURL, conn.BaseURL = url, url
		tok := cfg.Emulator.Token
		if tok == "" {
			tok = emulator.DefaultToken
		}
		conn.Local["emulator"] = tok
		acct.TokenRef = "local:emulator"
		if acct.PortalID == 0 {
			acct.PortalID = emulator.DefaultPortalID
			if cfg.Emulator.PortalID != 0 {
				acct.PortalID = cfg.Emulator.PortalID
			}
		}
	}
	if cfg.Dir != "" {
		// On disk, the credential is a file of the data folder (0600), as
		// `crmbackup accounts add` keeps those it adds: the operator's
		// commands read it back for their checks.
		token := conn.Local[strings.TrimPrefix(acct.TokenRef, "local:")]
		ref, err := credentialFile(cfg.Dir, acct.ID, token)
		if err != nil {
			return nil, fmt.Errorf("the account's credential: %w", err)
		}
		acct.TokenRef = ref
	}
	s.Account = acct

	// S3 stand-in and DynamoDB Local.
	s3backend, dbPath := s3local.Memory, ""
	if cfg.Dir != "" {
		s3backend, dbPath = s3local.Disk(filepath.Join(cfg.Dir, "s3")), filepath.Join(cfg.Dir, "dynamodb")
	}
	s3srv, err := s3local.Start(s3backend, Bucket)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s3srv.Close)
	ddbKey, err := dynamoKey(cfg.Dir, dbPath)
	if err != nil {
		return nil, err
	}
	ddb, err := dynamolocal.Start(ctx, dynamolocal.Options{DBPath: dbPath, AccessKey: ddbKey})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { ddb.Close() })
	db := ddb.Client()
	if err := dynamo.CreateTable(ctx, db, Table); err != nil {
		return nil, err
	}
	store := dynamo.New(db, Table)
	// as on AWS, every caller of the portal paces itself through the table
	conn.Slots = func(accountID, limit string) hubspot.Slots { return store.Slots(accountID, limit) }
	if err := store.PutAccount(ctx, &acct); err != nil {
		return nil, err
	}
	blobs := s3store.New(s3srv.Client(), Bucket)

	// The workflow: handlers behind a local invoke endpoint, the runner.
	s.Runner = &workflow.LocalRunner{Log: log, RetryInterval: cfg.RetryInterval}
	if s.Runner.RetryInterval == 0 {
		s.Runner.RetryInterval = 200 * time.Millisecond
	}
	if s.Runner.NodeModules, err = workflow.FindNodeModules(); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.Runner.Close)
	s.Store = store
	s.Service = &backup.Service{
		Store: store, Blobs: blobs, CRMs: conn, Runner: s.Runner, Publisher: notify.Log{Logger: log}, Log: log, Now: cfg.Now,
	}
	if s.Emulator != nil {
		// The top range of a large object waits for search's index to
		// catch up: the emulator's lag is known, HubSpot's is "a few moments".
		s.Service.SearchCatchUp = 2 * cmp.Or(max(cfg.Emulator.SearchLag, 0), emulator.DefaultSearchLag)
	}
	// No triggers: the stack runs due schedules itself (RunSchedules).
	s.Schedules = &schedule.Service{Store: store, Backups: s.Service, Zones: s.Service, Publisher: notify.Log{Logger: log}, Log: log, Now: cfg.Now}
	steps := &workflow.Steps{Svc: s.Service, Schedules: s.Schedules, Budget: workflow.Budget{MaxRun: cfg.ExportRun}}
	if steps.MaxRun == 0 {
		steps.MaxRun = 20 * time.Second
	}
	s.Restore = &restore.Service{Store: store, Blobs: blobs, CRMs: conn, Runner: s.Runner, Publisher: notify.Log{Logger: log}, Log: log, Now: cfg.Now}
	restoreSteps := &workflow.RestoreSteps{Svc: s.Restore, Budget: steps.Budget}
	// What EventBridge's rule on the machines' status changes does on AWS.
	s.Runner.Ended = (&workflow.Ends{Backups: s.Service, Restores: s.Restore}).Ended
	invoker := workflow.NewInvoker(log, workflow.Handlers(steps, restoreSteps))
	invokeMux := http.NewServeMux()
	invokeMux.Handle("POST /invoke/{function}", invoker)
	invokeURL, closeInvoke, err := serve("127.0.0.1:0", invokeMux)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, closeInvoke)
	s.Runner.InvokeURL = invokeURL + "/invoke"

	// The API.
	secret, err := devSecret(cfg)
	if err != nil {
		return nil, err
	}
	s.Tokens = DevTokens(secret)
	apiSrv := &api.Server{Auth: api.BearerTokens{Tokens: s.Tokens}, Backups: s.Service, Restores: s.Restore, Schedules: s.Schedules,
		Notifications: store, Audit: store, Log: log, Now: cfg.Now}
	addr := cfg.APIAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	s.signInCode = signInCode(secret)
	apiURL, closeAPI, err := serve(addr, s.root(apiSrv.Handler()))
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, closeAPI)
	s.APIURL = apiURL
	s.ConsoleURL = apiURL + "/#/sign-in?code=" + s.signInCode
	s.Service.Link = func(_, id string) string { return strings.TrimSuffix(apiURL+"/v1/backups/"+id, "/") }
	s.Restore.Link = func(_, id string) string { return apiURL + "/v1/imports/" + id }
	s.Schedules.Link = s.Service.Link

	if cfg.Dir != "" {
		// Who may sign in locally (`crmbackup login`): the account's admin
		// first, then whoever `crmbackup admins add` adds.
		if err := (Directory{Path: DirectoryFile(cfg.Dir)}).seed(operator.Admin{Email: DefaultAdmin, AccountID: acct.ID, Role: auth.SuperAdminRole}); err != nil {
			return nil, fmt.Errorf("the local admins: %w", err)
		}
		remove, err := writeEndpoints(cfg.Dir, Endpoints{API: apiURL, DynamoDB: ddb.Endpoint, HubSpot: conn.BaseURL, Emulator: s.Emulator != nil, PID: os.Getpid()})
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, remove)
	}

	bg, stop := context.WithCancel(context.Background())
	s.closers = append(s.closers, stop)
	go s.sweep(bg, store, blobs, log)
	if cfg.ScheduleTick >= 0 {
		go s.tick(bg, cmp.Or(cfg.ScheduleTick, 30*time.Second), log)
	}
	return s, nil
}

// RunSchedules runs the account's schedule if a run is due on the stack's
// clock: the local stand-in for EventBridge Scheduler (see
// schedule.Service.RunDue). The stack calls it every ScheduleTick.
func (s *Stack) RunSchedules(ctx context.Context) error {
	ids, err := s.accountIDs(ctx)
	if err != nil {
		return err
	}
	return s.Schedules.RunDue(ctx, ids)
}

// accountIDs are the stack's accounts: the one it starts with and those
// `crmbackup accounts add` added.
func (s *Stack) accountIDs(ctx context.Context) ([]string, error) {
	list, err := s.Store.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(list))
	for _, a := range list {
		ids = append(ids, a.ID)
	}
	return ids, nil
}

func (s *Stack) tick(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.RunSchedules(ctx); err != nil && ctx.Err() == nil {
			log.Warn("scheduled backups", "error", err)
		}
	}
}

// Schedule describes the account's schedule and its next run, for people.
func (s *Stack) Schedule(ctx context.Context) string {
	if s.Account.Tier != backup.Enterprise {
		return "none (recurring backups are an Enterprise feature; the account is " + string(s.Account.Tier) + ")"
	}
	sch, err := s.Store.Schedule(ctx, s.Account.ID)
	switch {
	case apperr.Is(err, apperr.NotFound):
		return "off (set one with PUT /v1/backup-schedule)"
	case err != nil:
		return "unknown (" + err.Error() + ")"
	case !sch.Enabled:
		return "off (" + cmp.Or(sch.DisabledReason, "switched off by "+sch.UpdatedBy) + ")"
	}
	now := time.Now()
	if s.Service.Now != nil {
		now = s.Service.Now()
	}
	return sch.Describe() + ", next run " + sch.Next(now).Local().Format("Mon 2 Jan 2006 15:04 MST")
}

// DevTokens are the local stack's dev tokens signed with secret.
func DevTokens(secret []byte) *auth.DevTokens {
	return &auth.DevTokens{Secret: secret, Issuer: "crmbackup-local", Audience: "crmbackup", Names: auth.DefaultClaims}
}

// devSecret is the dev token key: given, kept in Dir, or random.
func devSecret(cfg Config) ([]byte, error) {
	if len(cfg.DevSecret) > 0 {
		return cfg.DevSecret, nil
	}
	if cfg.Dir == "" {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	}
	path := filepath.Join(cfg.Dir, "dev-secret")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	return b, os.WriteFile(path, b, 0o600)
}

// CredentialsDir is the folder of a data folder that holds the accounts'
// credentials.
func CredentialsDir(dir string) string { return filepath.Join(dir, "credentials") }

// credentialFile writes an account's credential into the data folder and
// returns its reference.
func credentialFile(dir, accountID, token string) (string, error) {
	f := secrets.Files{Dir: CredentialsDir(dir)}
	ref, err := f.CreateSecret(context.Background(), accountID, token)
	if apperr.Is(err, apperr.Conflict) {
		abs, aerr := filepath.Abs(filepath.Join(CredentialsDir(dir), accountID))
		if aerr != nil {
			return "", aerr
		}
		ref = "file:" + abs
		err = f.PutSecret(context.Background(), ref, token)
	}
	return ref, err
}

// dynamoKey is the access key the stack's DynamoDB Local database is kept
// under: random, and kept in Dir (0600) when the data is. A folder of an
// earlier version, whose database was kept under the fixed key "local",
// has its database moved to a new key.
func dynamoKey(dir, dbPath string) (string, error) {
	if dir == "" {
		return "", nil // in memory: a random key per run
	}
	// The database's file name holds the key: the folders are the user's.
	for _, d := range []string{dir, dbPath} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", err
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return "", err
		}
	}
	path := filepath.Join(dir, "dynamodb-key")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 20 {
		return strings.TrimSpace(string(b)), nil
	}
	key := dynamolocal.RandomKey()
	if err := os.MkdirAll(dbPath, 0o700); err != nil {
		return "", err
	}
	// The key first (whole, or not at all), then the database under it:
	// a crash in between leaves the database where the next start looks.
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(key+"\n"), 0o600); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", err
	}
	legacy := filepath.Join(dbPath, "local_us-east-1.db")
	if _, err := os.Stat(legacy); err == nil {
		if err := os.Rename(legacy, filepath.Join(dbPath, key+"_us-east-1.db")); err != nil {
			return "", fmt.Errorf("move the database to its new key: %w", err)
		}
	}
	return key, nil
}

// sweep deletes expired backups' files: S3's lifecycle rule does it on AWS;
// the stand-in has none, and the API already answers 410 for them.
func (s *Stack) sweep(ctx context.Context, store *dynamo.Store, blobs *s3store.Store, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		// Expired backups are the oldest: the first page, oldest first;
		// those of removed accounts too (nothing else deletes them here).
		ids, err := store.AccountIDs(ctx)
		for _, id := range ids {
			var list listing.Page[*backup.Backup]
			if list, err = store.Backups(ctx, id, listing.Query{Limit: listing.MaxLimit, Oldest: true}); err != nil {
				break
			}
			for _, b := range list.Items {
				if b.Expired(time.Now()) && b.Key != "" {
					if err := blobs.Delete(ctx, b.Key); err == nil {
						log.Info("expired backup removed", "backupId", b.ID)
					}
				}
			}
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("expiry sweep", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Token mints a dev token for the stack's account.
func (s *Stack) Token(subject, role string, mfa bool) (string, error) {
	return s.Tokens.Sign(auth.DevClaims{Subject: subject, AccountID: s.Account.ID, Role: role, MFA: mfa})
}

// Close stops everything the stack started, in reverse order.
func (s *Stack) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// serve runs h on addr and returns its URL and a stop function.
func serve(addr string, h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	// Requests in flight (a step handler's long export) see their context
	// canceled at stop: they checkpoint and return instead of holding it up.
	base, stop := context.WithCancel(context.Background())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return base }}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() {
		stop()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}
