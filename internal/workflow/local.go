package workflow

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/crmbackup/crmbackup/internal/workflow/asl"
)

// Invoker serves a local Lambda-invoke endpoint, POST {prefix}/{function}
// with the event as body: the same handler functions the Lambdas run, with
// Lambda's error shape ({errorType, errorMessage}) on failure.
type Invoker struct {
	handlers map[string]lambda.Handler
	log      *slog.Logger
}

// NewInvoker registers handler functions (any signature lambda.Start takes)
// by function name.
func NewInvoker(log *slog.Logger, funcs map[string]any) *Invoker {
	i := &Invoker{handlers: map[string]lambda.Handler{}, log: log}
	for name, fn := range funcs {
		i.handlers[name] = lambda.NewHandler(fn)
	}
	return i
}

func (i *Invoker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("function")
	h, ok := i.handlers[name]
	if !ok {
		writeInvokeError(w, http.StatusNotFound, "ResourceNotFoundException", "no function "+name)
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, 6<<20)) // Lambda's payload limit
	if err != nil {
		writeInvokeError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
		return
	}
	start := time.Now()
	out, err := h.Invoke(r.Context(), payload)
	if err != nil {
		i.log.WarnContext(r.Context(), "function failed", "function", name, "errorType", ErrorName(err), "error", err, "took", time.Since(start))
		writeInvokeError(w, http.StatusInternalServerError, ErrorName(err), ErrorMessage(err))
		return
	}
	i.log.DebugContext(r.Context(), "function done", "function", name, "took", time.Since(start))
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
}

func writeInvokeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}

// goTypeName names an error as the Lambda runtime does when the handler
// did not: its Go type's name.
func goTypeName(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

//go:embed sfnlocal/runner.cjs
var runnerScript []byte

// LocalRunner runs state machine executions with aws-local-stepfunctions
// (Node), each task calling the Invoker. It implements backup.Runner.
type LocalRunner struct {
	// NodeModules is the folder holding aws-local-stepfunctions.
	NodeModules string
	// InvokeURL is the Invoker's base URL.
	InvokeURL string
	// RetryInterval replaces the definitions' retry pauses (0 keeps them).
	RetryInterval time.Duration
	Log           *slog.Logger
	// Done, if set, is called when an execution ends.
	Done func(name string, r Result)
	// Ended, if set, is called with the Step Functions status change of an
	// execution that failed (not one the runner stopped at Close), as the
	// EventBridge rule on AWS invokes the ended function.
	Ended func(ctx context.Context, ev ExecutionEnd) (*EndResult, error)

	mu      sync.Mutex
	started map[string]bool
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
	script  string
}

// Result is how an execution ended.
type Result struct {
	Status string          `json:"status"` // SUCCEEDED or FAILED
	Output json.RawMessage `json:"output,omitempty"`
	Error  string          `json:"error,omitempty"`
	Cause  string          `json:"cause,omitempty"`
}

// StartBackup starts the backup state machine for a backup, once.
func (r *LocalRunner) StartBackup(ctx context.Context, accountID, backupID string) error {
	return r.Start("backup", backupID, map[string]string{"accountId": accountID, "backupId": backupID})
}

// StartPlan starts computing a restore plan, once.
func (r *LocalRunner) StartPlan(ctx context.Context, accountID, planID string) error {
	return r.Start("restore", planID, restoreInput("plan", accountID, "planId", planID))
}

// StartRestore starts executing an import, once.
func (r *LocalRunner) StartRestore(ctx context.Context, accountID, importID string) error {
	return r.Start("restore", importID, restoreInput("execute", accountID, "importId", importID))
}

// Start runs machine with input as execution name (once per name).
func (r *LocalRunner) Start(machine, name string, input any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started == nil {
		r.started = map[string]bool{}
		r.ctx, r.cancel = context.WithCancel(context.Background())
		f, err := os.CreateTemp("", "crmbackup-sfn-runner-*.cjs")
		if err != nil {
			return err
		}
		if _, err := f.Write(runnerScript); err != nil {
			return err
		}
		f.Close()
		r.script = f.Name()
	}
	if r.started[name] {
		return nil // like Step Functions with the same execution name
	}
	job, err := r.job(machine, input)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(input)
	if err != nil {
		return err
	}
	r.started[name] = true
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		res := r.run(job)
		r.log().Info("execution ended", "machine", machine, "name", name, "status", res.Status, "error", res.Error, "cause", res.Cause)
		if r.Done != nil {
			r.Done(name, res)
		}
		if r.Ended != nil && res.Status != "SUCCEEDED" && r.ctx.Err() == nil {
			ev := ExecutionEnd{Source: "aws.states", DetailType: "Step Functions Execution Status Change"}
			ev.Detail.Name, ev.Detail.Status, ev.Detail.Input = name, res.Status, string(raw)
			ev.Detail.Error, ev.Detail.Cause = &res.Error, &res.Cause
			if _, err := r.Ended(r.ctx, ev); err != nil {
				r.log().Error("ending a failed execution", "machine", machine, "name", name, "error", err)
			}
		}
	}()
	return nil
}

func (r *LocalRunner) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (r *LocalRunner) job(machine string, input any) ([]byte, error) {
	def, err := asl.Definition(machine, LocalARN)
	if err != nil {
		return nil, err
	}
	tasks, err := taskFunctions(def)
	if err != nil {
		return nil, err
	}
	job := map[string]any{
		"definition": json.RawMessage(def), "input": input, "tasks": tasks, "invokeURL": r.InvokeURL,
	}
	if r.RetryInterval > 0 {
		job["retryIntervalMs"] = r.RetryInterval.Milliseconds()
	}
	return json.Marshal(job)
}

// LocalARN is the stand-in ARN of a function in local definitions.
func LocalARN(function string) string {
	return "arn:aws:lambda:us-east-1:000000000000:function:crmbackup-" + function
}

// taskFunctions maps every Task state (nested ones too) to its function.
func taskFunctions(def []byte) (map[string]string, error) {
	var sm struct {
		States map[string]json.RawMessage `json:"States"`
	}
	if err := json.Unmarshal(def, &sm); err != nil {
		return nil, err
	}
	out := map[string]string{}
	var walk func(states map[string]json.RawMessage) error
	walk = func(states map[string]json.RawMessage) error {
		for name, raw := range states {
			var st struct {
				Type          string `json:"Type"`
				Resource      string `json:"Resource"`
				ItemProcessor *struct {
					States map[string]json.RawMessage `json:"States"`
				} `json:"ItemProcessor"`
				Branches []struct {
					States map[string]json.RawMessage `json:"States"`
				} `json:"Branches"`
			}
			if err := json.Unmarshal(raw, &st); err != nil {
				return err
			}
			switch {
			case st.Type == "Task":
				const prefix = "arn:aws:lambda:us-east-1:000000000000:function:crmbackup-"
				if len(st.Resource) <= len(prefix) || st.Resource[:len(prefix)] != prefix {
					return fmt.Errorf("task %s: resource %q is not a local function", name, st.Resource)
				}
				out[name] = st.Resource[len(prefix):]
			case st.ItemProcessor != nil:
				if err := walk(st.ItemProcessor.States); err != nil {
					return err
				}
			}
			for _, b := range st.Branches {
				if err := walk(b.States); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk(sm.States)
}

func (r *LocalRunner) run(job []byte) Result {
	cmd := exec.CommandContext(r.ctx, "node", r.script)
	cmd.Env = append(os.Environ(), "NODE_PATH="+r.NodeModules)
	cmd.Stdin = bytes.NewReader(job)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Result{Status: "FAILED", Error: "Runner", Cause: fmt.Sprintf("%v: %s", err, stderr.String())}
	}
	var res Result
	if err := json.Unmarshal(bytes.TrimSpace(out), &res); err != nil {
		return Result{Status: "FAILED", Error: "Runner", Cause: fmt.Sprintf("runner output %q: %v", out, err)}
	}
	return res
}

// Close stops executions in flight and waits for them.
func (r *LocalRunner) Close() {
	r.mu.Lock()
	if r.cancel != nil {
		r.cancel()
	}
	script := r.script
	r.mu.Unlock()
	r.wg.Wait()
	if script != "" {
		os.Remove(script)
	}
}

// Wait waits for the executions in flight to end.
func (r *LocalRunner) Wait() { r.wg.Wait() }

// FindNodeModules finds node_modules holding aws-local-stepfunctions in the
// working directory or a parent (the repo root).
func FindNodeModules() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		nm := filepath.Join(dir, "node_modules")
		if _, err := os.Stat(filepath.Join(nm, "aws-local-stepfunctions")); err == nil {
			return nm, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("aws-local-stepfunctions not found in node_modules: run `make tools` (npm ci)")
		}
		dir = parent
	}
}
