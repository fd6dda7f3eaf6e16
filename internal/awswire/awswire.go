// Package awswire builds a Lambda's dependencies on AWS from its
// environment, once per cold start: the only place that knows the
// environment variables the CDK stack sets.
package awswire

import (
	"context"
	"fmt"
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
	"github.com/crmbackup/crmbackup/internal/s3store"
	"github.com/crmbackup/crmbackup/internal/workflow"
)

// Environment variables the stack sets. A function gets only those it needs.
const (
	EnvTable           = "TABLE_NAME"
	EnvBucket          = "BUCKET_NAME"
	EnvStateMachine    = "BACKUP_STATE_MACHINE_ARN"
	EnvTopic           = "NOTIFICATION_TOPIC_ARN"
	EnvHubSpotBaseURL  = "HUBSPOT_BASE_URL"
	EnvAppURL          = "APP_URL" // links in notifications
	EnvClaimAccount    = "CLAIM_ACCOUNT"
	EnvClaimRole       = "CLAIM_ROLE"
	EnvClaimAMR        = "CLAIM_AMR"
	EnvClaimAuthTime   = "CLAIM_AUTH_TIME"
	EnvExportMarginSec = "EXPORT_MARGIN_SECONDS"
	// EnvBudgetShares is how many containers call one portal at once (the
	// backup state machine's Map concurrency): each takes that share of
	// the portal's rate limit.
	EnvBudgetShares = "HUBSPOT_BUDGET_SHARES"
)

// Logger is the JSON logger every function uses.
func Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// Wiring is what a function may use; fields whose configuration is absent
// stay nil, so a function without a permission has no client for it.
type Wiring struct {
	Log     *slog.Logger
	Service *backup.Service
	Steps   *workflow.Steps
	Store   *dynamo.Store
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
	if t := os.Getenv(EnvTable); t != "" {
		w.Store = dynamo.New(dynamodb.NewFromConfig(cfg), t)
		svc.Store = w.Store
	}
	if b := os.Getenv(EnvBucket); b != "" {
		svc.Blobs = s3store.New(s3.NewFromConfig(cfg), b)
	}
	if arn := os.Getenv(EnvStateMachine); arn != "" {
		svc.Runner = workflow.SFNRunner{Client: sfn.NewFromConfig(cfg), StateMachineARN: arn}
	}
	if arn := os.Getenv(EnvTopic); arn != "" {
		svc.Publisher = notify.SNS{Client: sns.NewFromConfig(cfg), TopicARN: arn}
	}
	svc.CRMs = &connector.Connector{
		BaseURL: os.Getenv(EnvHubSpotBaseURL),
		Secrets: connector.SecretsManager{Client: secretsmanager.NewFromConfig(cfg)},
		Log:     log,
	}
	if v := os.Getenv(EnvBudgetShares); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s=%q: want a positive integer", EnvBudgetShares, v)
		}
		svc.CRMs.(*connector.Connector).Shares = n
	}
	if app := strings.TrimRight(os.Getenv(EnvAppURL), "/"); app != "" {
		svc.Link = func(_, id string) string { return app + "/v1/backups/" + id }
	}
	w.Service = svc
	w.Steps = &workflow.Steps{Svc: svc}
	if s := os.Getenv(EnvExportMarginSec); s != "" {
		var sec int
		if _, err := fmt.Sscan(s, &sec); err == nil {
			w.Steps.Margin = time.Duration(sec) * time.Second
		}
	}
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
	for env, dst := range map[string]*string{EnvClaimAccount: &n.Account, EnvClaimRole: &n.Role, EnvClaimAMR: &n.AMR, EnvClaimAuthTime: &n.AuthTime} {
		if v := os.Getenv(env); v != "" {
			*dst = v
		}
	}
	return n
}

// API returns the HTTP API as it runs behind API Gateway's JWT authorizer.
func (w *Wiring) API() *api.Server {
	return &api.Server{Auth: api.GatewayClaims{Names: ClaimNames()}, Backups: w.Service, Notifications: w.Store, Log: w.Log}
}
