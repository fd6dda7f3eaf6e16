// Package scheduler keeps each account's backup trigger as an Amazon
// EventBridge Scheduler schedule. It is the AWS side of schedule.Triggers.
package scheduler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/crmbackup/crmbackup/internal/schedule"
)

// EventBridge keeps each account's trigger as one EventBridge Scheduler
// schedule in the stack's group. The schedule invokes the create Lambda
// with a small JSON event that names the account.
type EventBridge struct {
	// Client talks to EventBridge Scheduler.
	Client *scheduler.Client
	// Group is the name of the schedule group that holds the schedules.
	// It must be set: the schedules belong to the stack's own group.
	Group string
	// TargetARN is the ARN of the create Lambda the schedules invoke.
	TargetARN string
	// RoleARN is the ARN of the role EventBridge Scheduler assumes to
	// invoke the create Lambda.
	RoleARN string
	// DeadLetterARN is the SQS queue where Scheduler puts a run it could
	// not deliver within its retry policy ("": none).
	DeadLetterARN string
}

var _ schedule.Triggers = EventBridge{}

// Retry policy for a schedule's target: EventBridge Scheduler keeps trying
// to invoke the create Lambda for up to an hour, at most three more times.
const (
	maxEventAgeSeconds = 3600
	maxRetryAttempts   = 3
)

// description is the schedule's description. It says what the schedule
// is for and nothing about the account or its CRM data.
const description = "crmbackup scheduled backup trigger"

// scheduledTime is the EventBridge Scheduler context attribute for the time
// an invocation was scheduled for. Scheduler replaces the keyword with the
// time when it invokes the target. AWS documents the value only by an
// example, 2022-03-22T18:59:43Z: an ISO 8601 (RFC 3339) time in UTC, to
// the second, with a Z suffix (see
// https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html).
const scheduledTime = "<aws.scheduler.scheduled-time>"

// scheduledTrigger is the event's trigger: the value of backup.Scheduled,
// which the create Lambda checks for. It is written out here so that this
// adapter depends only on the schedule port.
const scheduledTrigger = "scheduled"

// namePrefix starts every schedule name.
const namePrefix = "account-"

// plainID matches the account ids that can be used in a schedule name as
// they are. Schedule names are 1 to 64 characters of [0-9a-zA-Z-_.], and
// the prefix takes 8 of them.
var plainID = regexp.MustCompile(`^[0-9A-Za-z_.-]{1,56}$`)

// Name is the name of the account's schedule. An id made only of the
// characters schedule names allow, and short enough, is used as it is:
// "account-" followed by the id. Any other id is replaced by the first 32
// hex digits of its SHA-256 hash, so the name is always valid and always
// the same for the same id. (A hashed name could only clash with the name
// of an id that is itself those 32 hex digits, which would take a SHA-256
// preimage to arrange.)
func Name(accountID string) string {
	if plainID.MatchString(accountID) {
		return namePrefix + accountID
	}
	sum := sha256.Sum256([]byte(accountID))
	return namePrefix + hex.EncodeToString(sum[:])[:32]
}

// event is the input the schedule sends the create Lambda.
type event struct {
	AccountID   string `json:"accountId"`
	Trigger     string `json:"trigger"`
	ScheduledAt string `json:"scheduledAt"`
}

// definition is everything a schedule is made of, except its name and
// group, which are sent alongside it.
type definition struct {
	expression string
	timezone   string
	target     *types.Target
}

// Put creates the account's schedule, or replaces it.
//
// It tries UpdateSchedule first, which is what almost every call needs.
// UpdateSchedule replaces the whole schedule: AWS documents that it uses
// every value in the request, empty ones included, so an optional field
// left out is reset to its default (see
// https://docs.aws.amazon.com/scheduler/latest/APIReference/API_UpdateSchedule.html).
// Put therefore always sends the full definition. If the schedule does not
// exist (the first Put, or it was deleted by hand), Put creates it with
// the same definition; if a concurrent Put created it in the meantime, Put
// updates it once more.
func (e EventBridge) Put(ctx context.Context, t schedule.Trigger) error {
	d, err := e.definition(t)
	if err != nil {
		return err
	}
	name := Name(t.AccountID)

	var notFound *types.ResourceNotFoundException
	switch err := e.update(ctx, name, d); {
	case err == nil:
		return nil
	case !errors.As(err, &notFound):
		return fmt.Errorf("scheduler: update schedule for account %s: %w", t.AccountID, err)
	}

	var conflict *types.ConflictException
	switch err := e.create(ctx, name, d); {
	case err == nil:
		return nil
	case !errors.As(err, &conflict):
		return fmt.Errorf("scheduler: create schedule for account %s: %w", t.AccountID, err)
	}

	if err := e.update(ctx, name, d); err != nil {
		return fmt.Errorf("scheduler: update schedule for account %s after a concurrent create: %w", t.AccountID, err)
	}
	return nil
}

// Delete removes the account's schedule. A schedule that does not exist is
// not an error.
func (e EventBridge) Delete(ctx context.Context, accountID string) error {
	_, err := e.Client.DeleteSchedule(ctx, &scheduler.DeleteScheduleInput{
		Name:      aws.String(Name(accountID)),
		GroupName: aws.String(e.Group),
	})
	var notFound *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("scheduler: delete schedule for account %s: %w", accountID, err)
	}
	return nil
}

// definition builds the schedule for a trigger.
func (e EventBridge) definition(t schedule.Trigger) (definition, error) {
	input, err := encodeEvent(event{
		AccountID:   t.AccountID,
		Trigger:     scheduledTrigger,
		ScheduledAt: scheduledTime,
	})
	if err != nil {
		return definition{}, fmt.Errorf("scheduler: encode schedule input for account %s: %w", t.AccountID, err)
	}
	d := definition{
		expression: t.Expression,
		timezone:   t.Timezone,
		target: &types.Target{
			Arn:     aws.String(e.TargetARN),
			RoleArn: aws.String(e.RoleARN),
			Input:   aws.String(input),
			RetryPolicy: &types.RetryPolicy{
				MaximumEventAgeInSeconds: aws.Int32(maxEventAgeSeconds),
				MaximumRetryAttempts:     aws.Int32(maxRetryAttempts),
			},
		},
	}
	if e.DeadLetterARN != "" {
		d.target.DeadLetterConfig = &types.DeadLetterConfig{Arn: aws.String(e.DeadLetterARN)}
	}
	return d, nil
}

// encodeEvent writes the event as JSON without HTML escaping. json.Marshal
// would write the < and > of the context attribute as \u003c and \u003e.
// AWS documents the keyword only as written, with its angle brackets, and
// nowhere says that Scheduler decodes escapes before it looks for it, so
// the escaped form could reach the Lambda instead of the time.
func encodeEvent(ev event) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// update sends UpdateSchedule with the full definition. Each call builds a
// new input: the SDK writes a fresh idempotency token into the input it is
// given, and a retried update is a new request, not a replay of the last.
func (e EventBridge) update(ctx context.Context, name string, d definition) error {
	_, err := e.Client.UpdateSchedule(ctx, &scheduler.UpdateScheduleInput{
		Name:                       aws.String(name),
		GroupName:                  aws.String(e.Group),
		ScheduleExpression:         aws.String(d.expression),
		ScheduleExpressionTimezone: aws.String(d.timezone),
		FlexibleTimeWindow:         &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff},
		State:                      types.ScheduleStateEnabled,
		Description:                aws.String(description),
		Target:                     d.target,
	})
	return err
}

// create sends CreateSchedule with the same definition update sends.
func (e EventBridge) create(ctx context.Context, name string, d definition) error {
	_, err := e.Client.CreateSchedule(ctx, &scheduler.CreateScheduleInput{
		Name:                       aws.String(name),
		GroupName:                  aws.String(e.Group),
		ScheduleExpression:         aws.String(d.expression),
		ScheduleExpressionTimezone: aws.String(d.timezone),
		FlexibleTimeWindow:         &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff},
		State:                      types.ScheduleStateEnabled,
		Description:                aws.String(description),
		Target:                     d.target,
	})
	return err
}
