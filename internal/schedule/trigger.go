package schedule

import "context"

// Trigger is what fires an account's schedule: a cron expression in a time
// zone (EventBridge Scheduler's cron syntax: minutes hours day-of-month
// month day-of-week year), derived from the Schedule that is the truth.
type Trigger struct {
	AccountID string
	// Expression is a schedule expression: "cron(0 2 ? * MON *)".
	Expression string
	// Timezone is an IANA zone name the expression is read in.
	Timezone string
}

// Triggers keeps the derived triggers (EventBridge Scheduler on AWS; the
// local stack fires schedules itself and needs none).
type Triggers interface {
	// Put creates the account's trigger, or replaces it: a trigger that
	// went missing is created again.
	Put(ctx context.Context, t Trigger) error
	// Delete removes the account's trigger; none is not an error.
	Delete(ctx context.Context, accountID string) error
}
