// Package awswire builds a Lambda's dependencies on AWS from its
// environment, once per cold start: the only place that reads the
// environment variables the CDK stack sets (their names are in package env).
package awswire

import (
	"context"
	"fmt"
	"github.com/crmbackup/crmbackup/internal/awswire/env"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/crmbackup/crmbackup/internal/api"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/connector"
	"github.com/crmbackup/crmbackup/internal/dynamo"
	"github.com/crmbackup/crmbackup/internal/notify"
	"github.com/crmbackup/crmbackup/internal/restore"
	"github.com/crmbackup/crmbackup/internal/s3store"
	"github.com/crmbackup/crmbackup/internal/workflow"
)

// Logger is the JSON logger every function uses.
func Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// Wiring is what a function may use; fields whose configuration is absent
// stay nil, so a function without a permission has no client for it.
type Wiring struct {
	Log          *slog.Logger
	Service      *backup.Service
	Steps        *workflow.Steps
	Restore      *restore.Service
	RestoreSteps *workflow.RestoreSteps
	Store        *dynamo.Store
}

// Load builds the wiring from the environment.
func Load(ctx context.Context) (*Wiring, error) {
	log := Logger()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	w := &Wiring{Log: log}
	svc := &backup.Service{Log: log}
	if t := os.Getenv(env.Table); t != "" {
		w.Store = dynamo.New(dynamodb.NewFromConfig(cfg), t)
		svc.Store = w.Store
	}
	if b := os.Getenv(env.Bucket); b != "" {
		svc.Blobs = s3store.New(s3.NewFromConfig(cfg), b)
	}
	runner := workflow.SFNRunner{Client: sfn.NewFromConfig(cfg), BackupARN: os.Getenv(env.StateMachine), RestoreARN: os.Getenv(env.RestoreMachine)}
	svc.Runner = runner
	if arn := os.Getenv(env.Topic); arn != "" {
		svc.Publisher = notify.SNS{Client: sns.NewFromConfig(cfg), TopicARN: arn}
	}
	conn := &connector.Connector{
		BaseURL: os.Getenv(env.HubSpotBaseURL),
		Secrets: connector.SecretsManager{Client: secretsmanager.NewFromConfig(cfg)},
		Log:     log,
	}
	svc.CRMs = conn
	if v := os.Getenv(env.BudgetShares); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s=%q: want a positive integer", env.BudgetShares, v)
		}
		conn.Shares = n
	}
	rs := &restore.Service{Store: w.Store, Blobs: svc.Blobs, CRMs: conn, Runner: runner, Publisher: svc.Publisher, Log: log}
	if v := os.Getenv(env.MFAWindowSec); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s=%q: want a positive number of seconds", env.MFAWindowSec, v)
		}
		rs.MFAWindow = time.Duration(n) * time.Second
	}
	if app := strings.TrimRight(os.Getenv(env.AppURL), "/"); app != "" {
		svc.Link = func(_, id string) string { return app + "/v1/backups/" + id }
		rs.Link = func(_, id string) string { return app + "/v1/imports/" + id }
	}
	var budget workflow.Budget
	if s := os.Getenv(env.ExportMarginSec); s != "" {
		var sec int
		if _, err := fmt.Sscan(s, &sec); err == nil {
			budget.Margin = time.Duration(sec) * time.Second
		}
	}
	w.Service, w.Restore = svc, rs
	w.Steps = &workflow.Steps{Svc: svc, Budget: budget}
	w.RestoreSteps = &workflow.RestoreSteps{Svc: rs, Budget: budget}
	return w, nil
}

// MustLoad is Load for a function's main: it exits on error (the Lambda
// runtime reports an init failure).
func MustLoad() *Wiring {
	w, err := Load(context.Background())
	if err != nil {
		Logger().Error("init", "error", err)
		os.Exit(1)
	}
	return w
}

// ClaimNames are the configured claim names (defaults when unset).
func ClaimNames() auth.ClaimNames {
	n := auth.DefaultClaims
	for name, dst := range map[string]*string{env.ClaimAccount: &n.Account, env.ClaimRole: &n.Role, env.ClaimAMR: &n.AMR, env.ClaimAuthTime: &n.AuthTime} {
		if v := os.Getenv(name); v != "" {
			*dst = v
		}
	}
	n.MFAAlways = os.Getenv(env.MFAAlways) == "true"
	return n
}

// API returns the HTTP API as it runs behind API Gateway's JWT authorizer.
func (w *Wiring) API() *api.Server {
	return &api.Server{Auth: api.GatewayClaims{Names: ClaimNames()}, Backups: w.Service, Restores: w.Restore, Notifications: w.Store, Log: w.Log}
}
