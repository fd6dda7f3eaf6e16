// Package audit is the account's audit log: who did what, when, from
// where, and how it ended. Every action that changes an account's data or
// settings, or hands out its data, writes an entry, and so does every
// refused attempt that matters. Entries are written in the same
// transaction as the change they record wherever the store allows it.
package audit

import (
	"context"
	"time"

	"github.com/crmbackup/crmbackup/internal/listing"
)

// Actions.
const (
	BackupCreated    = "backup.created"    // a manual or scheduled backup was queued
	BackupRefused    = "backup.refused"    // a manual backup was refused (quota)
	BackupSkipped    = "backup.skipped"    // a scheduled run did not run (quota)
	BackupDownloaded = "backup.downloaded" // a download link was handed out
	ScheduleUpdated  = "schedule.updated"  // the schedule changed (old → new)
	ScheduleDisabled = "schedule.disabled" // the schedule was switched off by the system
	RestorePlanned   = "restore.planned"
	RestoreStarted   = "restore.started"
	RestoreRefused   = "restore.refused" // an execute was refused (two-factor, a restore running)
	RestoreCompleted = "restore.completed"
	RestoreFailed    = "restore.failed"
	// ImportErrorsDownloaded: a link to an import's error file (CRM values
	// HubSpot refused) was handed out.
	ImportErrorsDownloaded = "import.errors_downloaded"
	// What the stack's operators did (`crmbackup accounts`, `admins`).
	AccountAdded             = "account.added"
	AccountTierChanged       = "account.tier_changed"
	AccountCredentialRotated = "account.credential_rotated"
	AccountRemoved           = "account.removed"
	AdminAdded               = "admin.added" // details.override: HubSpot does not list them as a Super Admin
	AdminRemoved             = "admin.removed"
)

// Actions lists every action, for filters and their validation.
var Actions = []string{BackupCreated, BackupRefused, BackupSkipped, BackupDownloaded, ScheduleUpdated, ScheduleDisabled,
	RestorePlanned, RestoreStarted, RestoreRefused, RestoreCompleted, RestoreFailed, ImportErrorsDownloaded,
	AccountAdded, AccountTierChanged, AccountCredentialRotated, AccountRemoved, AdminAdded, AdminRemoved}

// Outcomes.
const (
	Succeeded = "succeeded"
	Refused   = "refused"
	Failed    = "failed"
)

// Entry is one line of an account's audit log.
type Entry struct {
	AccountID string    `json:"accountId"`
	ID        string    `json:"id"` // a ULID of At
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"` // the caller's subject, or "schedule" / "system"
	Action    string    `json:"action"`
	Outcome   string    `json:"outcome"`
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"userAgent,omitempty"`
	// Details say what the action was about: ids, counts, old and new
	// settings, the reason of a refusal. Never CRM values or credentials.
	Details map[string]any `json:"details,omitempty"`
}

// Actor is who acts, as a request shows them.
type Actor struct {
	Subject   string
	IP        string
	UserAgent string
}

// System actors: a schedule's run, and the system itself (a schedule
// switched off because the account is no longer Enterprise).
var (
	Schedule = Actor{Subject: "schedule"}
	System   = Actor{Subject: "system"}
)

// New is an entry of account by actor at t; id is its ULID.
func New(account, id string, at time.Time, who Actor, action, outcome string, details map[string]any) *Entry {
	return &Entry{AccountID: account, ID: id, At: at, Actor: who.Subject, IP: who.IP, UserAgent: clip(who.UserAgent, 256),
		Action: action, Outcome: outcome, Details: details}
}

// clip keeps at most n bytes of s, whole characters.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s[:n])
	return string(r[:len(r)-1])
}

// Query asks for a page of the audit log, optionally of one action.
type Query struct {
	listing.Query
	Action string
}

// Log reads an account's audit log, a page at a time, newest first. Every
// store adapter implements it beside its domain ports.
type Log interface {
	AuditLog(ctx context.Context, accountID string, q Query) (listing.Page[*Entry], error)
}
