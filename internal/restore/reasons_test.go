package restore_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/restore"
)

// ReasonCodes lists every Reason… constant of the package (read from its
// source, so that a new reason cannot be left out of the console's
// catalogue, which a test of internal/console checks against ReasonCodes).
func TestReasonCodesAreDeclared(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "restore.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			for i, name := range v.Names {
				if !strings.HasPrefix(name.Name, "Reason") || i >= len(v.Values) {
					continue
				}
				if lit, ok := v.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					declared = append(declared, s)
				}
			}
		}
	}
	got := slices.Sorted(slices.Values(restore.ReasonCodes))
	slices.Sort(declared)
	if len(declared) == 0 || !slices.Equal(got, declared) {
		t.Fatalf("ReasonCodes %v, restore.go declares %v", got, declared)
	}
}

// A refused object says why in its error's details too.
func TestRestorableGivesTheReasonCode(t *testing.T) {
	err := restore.Restorable(&backup.ManifestObject{Name: backup.Conversations})
	var e *apperr.Error
	if !apperr.Is(err, apperr.Invalid) || !errors.As(err, &e) || e.Details["reasonCode"] != restore.ReasonConversations {
		t.Fatalf("conversations: %v", err)
	}
	if err := restore.Restorable(&backup.ManifestObject{Name: "deals"}); err != nil {
		t.Fatalf("deals: %v", err)
	}
}
