// Package awswire builds a Lambda's dependencies on AWS from its
// environment, once per cold start: the only place that reads the
// environment variables the CDK stack sets (their names are in package env).
// A function is wired from its row of the function table (package lambdas):
// what it may touch is what it needs configured, and a setting it needs that
// is missing or unparsable fails the cold start with a message naming it,
// instead of a nil client or an empty ARN at the first request.
package awswire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	awsscheduler "github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/crmbackup/crmbackup/internal/api"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/awswire/env"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/connector"
	"github.com/crmbackup/crmbackup/internal/dynamo"
	"github.com/crmbackup/crmbackup/internal/hubspot"
	"github.com/crmbackup/crmbackup/internal/lambdas"
	"github.com/crmbackup/crmbackup/internal/notify"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/s3store"
	"github.com/crmbackup/crmbackup/internal/schedule"
	"github.com/crmbackup/crmbackup/internal/scheduler"
	"github.com/crmbackup/crmbackup/internal/secrets"
	"github.com/crmbackup/crmbackup/internal/workflow"
)

// Logger is the JSON logger every function uses.
func Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// Wiring is what one function may use; what its row of the function table
// does not grant stays unset.
type Wiring struct {
	Function     lambdas.Function
	Log          *slog.Logger
	Service      *backup.Service
	Steps        *workflow.Steps
	Restore      *restore.Service
	RestoreSteps *workflow.RestoreSteps
	Schedules    *schedule.Service
	Store        *dynamo.Store // nil without table access
	Claims       auth.ClaimNames
	// originSecretARN names the console distribution's origin secret
	// (env.OriginSecret; "" for none), originSecret is its value, read by
	// Load: the API trusts CloudFront's viewer address on the requests that
	// carry it. Never logged.
	originSecretARN, originSecret string
}

// secretReader reads a secret's value (secrets.Manager).
type secretReader interface {
	SecretString(ctx context.Context, arn string) (string, error)
}

// Load builds the wiring of function name from its environment (getenv;
// os.Getenv in a Lambda).
func Load(ctx context.Context, name string, getenv func(string) string) (*Wiring, error) {
	fn, ok := lambdas.Get(name)
	if !ok {
		return nil, fmt.Errorf("no function %q in the function table", name)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	w, err := load(fn, cfg, getenv)
	if err != nil {
		return nil, err
	}
	w.readOriginSecret(ctx, secrets.Manager{Client: secretsmanager.NewFromConfig(cfg)})
	return w, nil
}

// readOriginSecret reads the console distribution's origin secret, once
// per cold start (the value changes only with a deployment, which starts
// new containers). A function that cannot read it, or reads an empty one,
// still starts (the CLI calls the API's own URL and needs no secret): it
// logs a warning that names the secret, never a value, and the API then
// trusts no viewer address (the audit log records the connection's
// address, a CloudFront edge for the console's calls) until a cold start
// reads it.
func (w *Wiring) readOriginSecret(ctx context.Context, sm secretReader) {
	if w.originSecretARN == "" {
		return
	}
	v, err := sm.SecretString(ctx, w.originSecretARN)
	if err == nil && v == "" {
		err = errors.New("the secret is empty")
	}
	if err != nil {
		w.Log.WarnContext(ctx, "the console's origin secret cannot be used: the audit log records the connection's address, never a viewer's",
			"function", w.Function.Name, "setting", env.OriginSecret, "secret", w.originSecretARN, "error", err.Error())
		return
	}
	w.originSecret = v
}

func load(fn lambdas.Function, cfg aws.Config, getenv func(string) string) (*Wiring, error) {
	log := Logger()
	set := &settings{get: getenv}
	a := fn.Access
	w := &Wiring{Function: fn, Log: log}
	svc := &backup.Service{Log: log}
	rs := &restore.Service{Log: log}
	sched := &schedule.Service{Backups: svc, Zones: svc, Log: log}

	if len(a.Table) > 0 {
		w.Store = dynamo.New(dynamodb.NewFromConfig(cfg), set.required(env.Table))
		svc.Store, rs.Store, sched.Store = w.Store, w.Store, w.Store
	}
	if a.Files() {
		blobs := s3store.New(s3.NewFromConfig(cfg), set.required(env.Bucket))
		svc.Blobs, rs.Blobs = blobs, blobs
	}
	if len(a.Start) > 0 {
		runner := workflow.SFNRunner{Client: sfn.NewFromConfig(cfg)}
		for _, m := range a.Start {
			switch m {
			case lambdas.BackupMachine:
				runner.BackupARN = set.arn(env.StateMachine)
			case lambdas.RestoreMachine:
				runner.RestoreARN = set.arn(env.RestoreMachine)
			}
		}
		svc.Runner, rs.Runner = runner, runner
	}
	if a.Publish {
		pub := notify.SNS{Client: sns.NewFromConfig(cfg), TopicARN: set.arn(env.Topic)}
		svc.Publisher, rs.Publisher, sched.Publisher = pub, pub, pub
	}
	if a.Secrets {
		conn := &connector.Connector{
			BaseURL:      set.url(env.HubSpotBaseURL),
			Secrets:      secrets.Manager{Client: secretsmanager.NewFromConfig(cfg)},
			SecretPrefix: set.required(env.SecretPrefix),
			Log:          log,
		}
		if w.Store != nil {
			// the portal's limit, shared with the other containers calling it
			store := w.Store
			conn.Slots = func(accountID, limit string) hubspot.Slots { return store.Slots(accountID, limit) }
		}
		svc.CRMs, rs.CRMs = conn, conn
	}
	if sec := set.positive(env.MFAWindowSec, false); sec > 0 {
		rs.MFAWindow = time.Duration(sec) * time.Second
	}
	switch a.Schedules {
	case lambdas.ScheduleManage:
		sched.Triggers = scheduler.EventBridge{Client: awsscheduler.NewFromConfig(cfg), Group: set.required(env.ScheduleGroup),
			TargetARN: set.arn(env.ScheduleTarget), RoleARN: set.arn(env.SchedulerRole), DeadLetterARN: set.arn(env.ScheduleDeadLetter)}
	case lambdas.ScheduleRemove:
		sched.Triggers = scheduler.EventBridge{Client: awsscheduler.NewFromConfig(cfg), Group: set.required(env.ScheduleGroup)}
	}
	if app := strings.TrimRight(set.url(env.AppURL), "/"); app != "" {
		svc.Link = func(_, id string) string { return ConsoleLink(app, "backups", id) }
		rs.Link = func(_, id string) string { return ConsoleLink(app, "imports", id) }
		sched.Link = svc.Link
	}
	var budget workflow.Budget
	if v := getenv(env.ExportMarginSec); v != "" {
		// Room for a batch's writes after the deadline (WriteGrace) and
		// for the checkpoint, and for one page or batch before it.
		lo, hi := int(restore.WriteGrace/time.Second)+15, fn.TimeoutSec-int(backup.FirstPageTime/time.Second)
		sec, err := strconv.Atoi(v)
		if err != nil || sec < lo || sec > hi {
			set.fail("%s=%q: want a whole number of seconds from %d to %d (the function's timeout less a first page's time)", env.ExportMarginSec, v, lo, hi)
		}
		budget.Margin = time.Duration(sec) * time.Second
	}
	w.Claims = auth.DefaultClaims
	for name, dst := range map[string]*string{env.ClaimAccount: &w.Claims.Account, env.ClaimRole: &w.Claims.Role,
		env.ClaimAMR: &w.Claims.AMR, env.ClaimAuthTime: &w.Claims.AuthTime} {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	w.Claims.MFAAlways = set.boolean(env.MFAAlways)
	if v := getenv(env.ClaimSSO); v == "-" { // the issuer marks no SSO
		w.Claims.SSO, w.Claims.SSOValues = "", nil
	} else if v != "" {
		w.Claims.SSO, w.Claims.SSOValues = v, nil
		for _, s := range strings.Split(getenv(env.ClaimSSOValues), ",") {
			if s = strings.TrimSpace(s); s != "" {
				w.Claims.SSOValues = append(w.Claims.SSOValues, s)
			}
		}
		if v != auth.IdentitiesClaim && len(w.Claims.SSOValues) == 0 {
			set.fail("%s=%q needs %s: the values that mark a single sign-on", env.ClaimSSO, v, env.ClaimSSOValues)
		}
	}
	if sec := set.positive(env.SSOMaxAgeSec, false); sec > 0 {
		rs.SSOMaxAge = time.Duration(sec) * time.Second
	}
	if getenv(env.OriginSecret) != "" {
		w.originSecretARN = set.arn(env.OriginSecret)
	}
	if err := set.err(); err != nil {
		return nil, fmt.Errorf("function %s: %w", fn.Name, err)
	}
	w.Service, w.Restore, w.Schedules = svc, rs, sched
	w.Steps = &workflow.Steps{Svc: svc, Schedules: sched, Budget: budget}
	if len(a.Describe) > 0 {
		w.Steps.DescribeExecution = workflow.SFNRunner{Client: sfn.NewFromConfig(cfg)}.ExecutionInput
	}
	w.RestoreSteps = &workflow.RestoreSteps{Svc: rs, Budget: budget}
	return w, nil
}

// MustLoad is Load for function name's main, from the process's
// environment: it exits on error (the Lambda runtime reports an init
// failure, and the log names the setting).
func MustLoad(name string) *Wiring {
	w, err := Load(context.Background(), name, os.Getenv)
	if err != nil {
		Logger().Error("init", "error", err)
		os.Exit(1)
	}
	return w
}

// Handler is the function's handler, for lambda.Start.
func (w *Wiring) Handler() any {
	h, ok := workflow.Handlers(w.Steps, w.RestoreSteps)[w.Function.Name]
	if !ok {
		panic("awswire: function " + w.Function.Name + " has no step handler")
	}
	return h
}

// API returns the HTTP API as it runs behind API Gateway's JWT authorizer.
func (w *Wiring) API() *api.Server {
	return &api.Server{Auth: api.GatewayClaims{Names: w.Claims}, Backups: w.Service, Restores: w.Restore, Schedules: w.Schedules,
		Notifications: w.Store, Audit: w.Store, Log: w.Log, OriginSecret: w.originSecret}
}

// ConsoleLink is the admin console's page of a backup or an import (kind
// "backups" or "imports"), or of all of them when id is "", for the links
// in notifications.
func ConsoleLink(app, kind, id string) string {
	if id == "" {
		return app + "/#/" + kind
	}
	return app + "/#/" + kind + "/" + id
}

// settings reads the environment, collecting every problem.
type settings struct {
	get  func(string) string
	errs []error
}

func (s *settings) fail(format string, args ...any) {
	s.errs = append(s.errs, fmt.Errorf(format, args...))
}

func (s *settings) err() error { return errors.Join(s.errs...) }

func (s *settings) required(name string) string {
	v := s.get(name)
	if v == "" {
		s.fail("%s is not set", name)
	}
	return v
}

func (s *settings) arn(name string) string {
	v := s.required(name)
	if v != "" && !strings.HasPrefix(v, "arn:") {
		s.fail("%s=%q: want an ARN", name, v)
	}
	return v
}

// positive reads a whole number ≥ 1 (0 when unset and not required).
func (s *settings) positive(name string, required bool) int {
	v := s.get(name)
	if v == "" {
		if required {
			s.fail("%s is not set", name)
		}
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		s.fail("%s=%q: want a whole number of at least 1", name, v)
	}
	return n
}

func (s *settings) url(name string) string {
	v := s.get(name)
	if v == "" {
		return ""
	}
	if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		s.fail("%s=%q: want an absolute http(s) URL", name, v)
	}
	return v
}

func (s *settings) boolean(name string) bool {
	switch v := s.get(name); v {
	case "", "false":
		return false
	case "true":
		return true
	default:
		s.fail("%s=%q: want true or false", name, v)
		return false
	}
}
