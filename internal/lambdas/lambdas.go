// Package lambdas is the one table of crmbackup's Lambda functions: their
// names (a folder of functions/ each), which state machine's tasks call them,
// how they are sized, and what each may touch. The CDK app builds the
// functions and their grants from it, the local stack registers one handler
// per name, and the state machines' ${XFunctionArn} placeholders name them;
// tests check that all of these agree with the table.
//
// It imports only the standard library (and blobkey), so the CDK app can use
// it without compiling the AWS SDK.
package lambdas

import (
	"github.com/crmbackup/crmbackup/internal/awswire/env"
	"github.com/crmbackup/crmbackup/internal/blobkey"
)

// Function names.
const (
	API      = "api"
	Create   = "create"
	Discover = "discover"
	Export   = "export"
	Zip      = "zip"
	Finalize = "finalize"
	Notify   = "notify"
	Restore  = "restore"
	Ended    = "ended"
)

// State machine names (their definitions are internal/workflow/asl/<name>.asl.json).
const (
	BackupMachine  = "backup"
	RestoreMachine = "restore"
)

// Function is one Lambda.
type Function struct {
	Name        string
	Description string
	// Machine is the state machine whose tasks call the function ("" when
	// none does: the api function serves HTTP, create serves schedules).
	Machine    string
	MemoryMB   int
	TimeoutSec int
	Access     Access
}

// Access is what one function may do, read off what its code calls.
type Access struct {
	Table  []string       // DynamoDB actions on the table
	Read   []blobkey.Kind // files it reads (or presigns a download of)
	Write  []blobkey.Kind // … writes (single PUTs and multipart uploads)
	Delete []blobkey.Kind // … deletes
	// List are the key prefixes it lists (IAM s3:prefix patterns).
	List []string
	// Secrets: reads the accounts' HubSpot credentials and calls HubSpot,
	// pacing itself with the other callers of the portal through the
	// table's shared request slots (so it needs Table's UpdateItem).
	Secrets bool
	Start   []string // state machines it starts
	// Describe are the state machines whose executions it reads (their input).
	Describe []string
	Publish  bool // publishes notifications
	// Schedules is what it may do to the accounts' EventBridge Scheduler
	// schedules (in the stack's group only).
	Schedules ScheduleAccess
}

// ScheduleAccess is a function's access to the schedule group.
type ScheduleAccess string

// Schedule accesses.
const (
	// ScheduleManage creates, updates and deletes schedules, and
	// passes the scheduler's role to EventBridge Scheduler (the api: a PUT
	// of an account's schedule derives its trigger).
	ScheduleManage ScheduleAccess = "manage"
	// ScheduleRemove deletes schedules (create: a run that finds its
	// account no longer Enterprise, or its schedule off, removes the trigger).
	ScheduleRemove ScheduleAccess = "remove"
)

// Files reports whether the function touches the bucket at all.
func (a Access) Files() bool { return len(a.Read)+len(a.Write)+len(a.Delete)+len(a.List) > 0 }

var (
	tableRead  = []string{"dynamodb:GetItem", "dynamodb:Query"}
	tableWrite = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
)

func plus(a []string, b ...string) []string { return append(append([]string{}, a...), b...) }

// All is every function. Exports and restores stream (flat memory) but are
// CPU-bound on JSON and deflate; more memory buys more CPU. The zip step
// copies chunks the exports compressed: it is I/O-bound and needs no more
// than a share of a vCPU. Long steps stop early and checkpoint
// (EXPORT_MARGIN_SECONDS before the timeout).
var All = []Function{
	{Name: API, Description: "HTTP API (/v1) behind API Gateway", MemoryMB: 512, TimeoutSec: 29,
		Access: Access{Table: plus(tableRead, "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:TransactWriteItems"),
			Read: []blobkey.Kind{blobkey.KindZIP, blobkey.KindErrorFile}, Secrets: true, Start: []string{BackupMachine, RestoreMachine},
			Schedules: ScheduleManage}},
	{Name: Create, Description: "Scheduled backups (EventBridge Scheduler target)", MemoryMB: 256, TimeoutSec: 60,
		Access: Access{Table: plus(tableWrite, "dynamodb:TransactWriteItems"), Start: []string{BackupMachine}, Publish: true,
			Schedules: ScheduleRemove}},
	{Name: Discover, Description: "Backup: discover the portal's objects and properties", Machine: BackupMachine, MemoryMB: 512, TimeoutSec: 300,
		Access: Access{Table: tableWrite, Write: []blobkey.Kind{blobkey.KindDiscovery}, Secrets: true}},
	{Name: Export, Description: "Backup: export one object in checkpointed chunks", Machine: BackupMachine, MemoryMB: 1024, TimeoutSec: 900,
		Access: Access{Table: tableWrite, Read: []blobkey.Kind{blobkey.KindDiscovery, blobkey.KindChunk}, Write: []blobkey.Kind{blobkey.KindChunk},
			Secrets: true}},
	{Name: Zip, Description: "Backup: copy the compressed chunks into the ZIP", Machine: BackupMachine, MemoryMB: 1024, TimeoutSec: 900,
		Access: Access{Table: tableWrite, Read: []blobkey.Kind{blobkey.KindDiscovery, blobkey.KindChunk}, Write: []blobkey.Kind{blobkey.KindZIP}}},
	{Name: Finalize, Description: "Backup: record the outcome, refund the quota on failure", Machine: BackupMachine, MemoryMB: 256, TimeoutSec: 300,
		Access: Access{Table: tableWrite, Delete: []blobkey.Kind{blobkey.KindDiscovery, blobkey.KindChunk}, List: []string{blobkey.Work + "*"}}},
	{Name: Notify, Description: "Backup: notify the admins", Machine: BackupMachine, MemoryMB: 256, TimeoutSec: 60,
		Access: Access{Table: []string{"dynamodb:GetItem", "dynamodb:PutItem"}, Publish: true}},
	{Name: Restore, Description: "Restore: plan and execute in checkpointed chunks, finish", Machine: RestoreMachine, MemoryMB: 1024, TimeoutSec: 900,
		Access: Access{Table: plus(tableWrite, "dynamodb:DeleteItem", "dynamodb:TransactWriteItems"),
			Read:   []blobkey.Kind{blobkey.KindZIP, blobkey.KindErrorChunk, blobkey.KindJournal},
			Write:  []blobkey.Kind{blobkey.KindErrorChunk, blobkey.KindErrorFile, blobkey.KindJournal},
			Delete: []blobkey.Kind{blobkey.KindErrorChunk, blobkey.KindJournal},
			List:   []string{blobkey.Work + "*/imports/*"}, Secrets: true, Publish: true}},
	// Step Functions runs no Catch when an execution times out or is
	// stopped; an EventBridge rule on the machines' status changes
	// (TIMED_OUT, ABORTED, FAILED) invokes this function, which ends the
	// backup or the import as the Catch would have.
	{Name: Ended, Description: "Ends a backup or restore whose execution timed out, was stopped or failed", MemoryMB: 256, TimeoutSec: 300,
		Access: Access{Table: plus(tableWrite, "dynamodb:DeleteItem", "dynamodb:TransactWriteItems"),
			Read: []blobkey.Kind{blobkey.KindErrorChunk}, Write: []blobkey.Kind{blobkey.KindErrorFile},
			Delete: []blobkey.Kind{blobkey.KindDiscovery, blobkey.KindChunk, blobkey.KindErrorChunk, blobkey.KindJournal},
			List:   []string{blobkey.Work + "*"}, Publish: true, Describe: []string{BackupMachine, RestoreMachine}}},
}

// Names lists every function's name, in the table's order.
func Names() []string {
	out := make([]string, len(All))
	for i, f := range All {
		out[i] = f.Name
	}
	return out
}

// Get returns a function by name.
func Get(name string) (Function, bool) {
	for _, f := range All {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// Of lists the functions whose tasks a state machine calls, in the table's order.
func Of(machine string) []string {
	var out []string
	for _, f := range All {
		if f.Machine == machine {
			out = append(out, f.Name)
		}
	}
	return out
}

// Settings are the environment variables a function must be given, read
// off its access: the stack sets them, and the function refuses to start
// without them.
func (f Function) Settings() []string {
	a := f.Access
	var out []string
	if len(a.Table) > 0 {
		out = append(out, env.Table)
	}
	if a.Files() {
		out = append(out, env.Bucket)
	}
	for _, m := range a.Start {
		out = append(out, MachineSetting(m))
	}
	if a.Publish {
		out = append(out, env.Topic)
	}
	if a.Secrets {
		out = append(out, env.SecretPrefix)
	}
	switch a.Schedules {
	case ScheduleManage:
		out = append(out, env.ScheduleGroup, env.ScheduleTarget, env.SchedulerRole, env.ScheduleDeadLetter)
	case ScheduleRemove:
		out = append(out, env.ScheduleGroup)
	}
	return out
}

// MachineSetting is the variable that holds a state machine's ARN.
func MachineSetting(machine string) string {
	if machine == RestoreMachine {
		return env.RestoreMachine
	}
	return env.StateMachine
}
