// Package env names the environment variables the stack sets on the
// functions and awswire reads. It imports nothing, so the CDK app can use
// the names without compiling the AWS SDK.
package env

// The variables. A function gets only those it needs.
const (
	Table          = "TABLE_NAME"
	Bucket         = "BUCKET_NAME"
	StateMachine   = "BACKUP_STATE_MACHINE_ARN"
	RestoreMachine = "RESTORE_STATE_MACHINE_ARN"
	MFAWindowSec   = "MFA_MAX_AGE_SECONDS" // how fresh a two-factor sign-in must be to restore
	Topic          = "NOTIFICATION_TOPIC_ARN"
	HubSpotBaseURL = "HUBSPOT_BASE_URL"
	// SecretPrefix is the name prefix of the accounts' credentials in
	// Secrets Manager: the only references a function accepts.
	SecretPrefix  = "HUBSPOT_SECRET_PREFIX"
	AppURL        = "APP_URL" // links in notifications
	ClaimAccount  = "CLAIM_ACCOUNT"
	ClaimRole     = "CLAIM_ROLE"
	ClaimAMR      = "CLAIM_AMR"
	ClaimAuthTime = "CLAIM_AUTH_TIME"
	// ClaimSSO names the claim that marks a single sign-on ("identities":
	// Cognito's federated sign-ins; "-": the issuer marks none; unset: the
	// dev tokens' amr "sso"), ClaimSSOValues its values that do
	// (comma-separated), SSOMaxAgeSec how old such a session may be to
	// restore.
	ClaimSSO        = "CLAIM_SSO"
	ClaimSSOValues  = "CLAIM_SSO_VALUES"
	SSOMaxAgeSec    = "SSO_MAX_AGE_SECONDS"
	MFAAlways       = "MFA_ALWAYS" // "true": the issuer requires two-factor on every sign-in
	ExportMarginSec = "EXPORT_MARGIN_SECONDS"
	// ScheduleGroup is the EventBridge Scheduler group of the accounts'
	// recurring backups; ScheduleTarget the function a schedule invokes
	// (create) and SchedulerRole the role Scheduler assumes to invoke it.
	ScheduleGroup  = "SCHEDULE_GROUP"
	ScheduleTarget = "SCHEDULE_TARGET_ARN"
	SchedulerRole  = "SCHEDULER_ROLE_ARN"
	// ScheduleDeadLetter is the SQS queue a schedule's undeliverable runs go to.
	ScheduleDeadLetter = "SCHEDULE_DLQ_ARN"
	// OriginSecret is the ARN of the Secrets Manager secret whose value the
	// console's CloudFront distribution adds to every request it passes on
	// to the API (api.OriginHeader): the api reads the value at cold start
	// and trusts CloudFront's viewer address only on a request that has it.
	// Unset (locally, in tests), no forwarded address is trusted.
	OriginSecret = "ORIGIN_SECRET_ARN"
)
