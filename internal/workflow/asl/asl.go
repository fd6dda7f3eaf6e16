// Package asl holds the state machine definitions (Amazon States Language,
// embedded) and reads what the stack and the runners need from them. It
// imports only the standard library, so the CDK app can use it without
// compiling the AWS SDK.
package asl

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

//go:embed *.asl.json
var files embed.FS

// The error names crmbackup's functions fail with (the errorType of their
// Lambda errors). The definitions' Retry and Catch match on these names, so
// they are constants here, checked against every Task by the tests, and the
// functions set them explicitly (workflow.Failure), never from a Go type's
// name.
const (
	// ErrorTransient is a failure worth retrying: the Task's Retry tries again.
	ErrorTransient = "Transient"
	// ErrorPermanent is a failure retrying cannot fix: straight to the Catch.
	ErrorPermanent = "Permanent"
)

// Machines are the state machines' names (their files are <name>.asl.json).
var Machines = []string{"backup", "restore"}

// Definition returns a state machine's ASL with every ${XFunctionArn}
// replaced by arn(x) (x is the lowercased X: discover, export, …).
func Definition(machine string, arn func(function string) string) ([]byte, error) {
	raw, err := Raw(machine)
	if err != nil {
		return nil, err
	}
	return placeholder.ReplaceAllFunc(raw, func(m []byte) []byte {
		return []byte(arn(strings.ToLower(string(placeholder.FindSubmatch(m)[1]))))
	}), nil
}

// Raw returns a state machine's ASL as written, with placeholders.
func Raw(machine string) ([]byte, error) {
	raw, err := files.ReadFile(machine + ".asl.json")
	if err != nil {
		return nil, fmt.Errorf("state machine %q: %w", machine, err)
	}
	return raw, nil
}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z]+)FunctionArn\}`)

// Functions lists the functions a state machine's tasks call, sorted.
func Functions(machine string) ([]string, error) {
	raw, err := Raw(machine)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range placeholder.FindAllSubmatch(raw, -1) {
		out = append(out, strings.ToLower(string(m[1])))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// ExportConcurrency is how many objects the backup state machine exports at
// once (its Map state's MaxConcurrency): on AWS, how many containers share
// a portal's rate budget.
func ExportConcurrency() (int, error) {
	raw, err := Raw("backup")
	if err != nil {
		return 0, err
	}
	var def struct {
		States map[string]struct {
			Type           string
			MaxConcurrency int
		}
	}
	if err := json.Unmarshal(raw, &def); err != nil {
		return 0, fmt.Errorf("backup state machine: %w", err)
	}
	st, ok := def.States["ExportObjects"]
	if !ok || st.Type != "Map" || st.MaxConcurrency < 1 {
		return 0, errors.New("backup state machine: no ExportObjects Map state with a MaxConcurrency")
	}
	return st.MaxConcurrency, nil
}
