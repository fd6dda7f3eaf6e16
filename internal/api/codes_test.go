package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/crmbackup/crmbackup/internal/apperr"
)

// ErrorCodes lists every code apperr declares (read from its source, so a
// new code cannot be left out), and each has its own HTTP status.
func TestErrorCodesAreApperrs(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../apperr/apperr.go", nil, 0)
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
			for _, v := range spec.(*ast.ValueSpec).Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					declared = append(declared, s)
				}
			}
		}
	}
	got := slices.Sorted(slices.Values(ErrorCodes))
	slices.Sort(declared)
	if len(declared) == 0 || !slices.Equal(got, declared) {
		t.Fatalf("ErrorCodes %v, apperr declares %v", got, declared)
	}
	for _, code := range ErrorCodes {
		if st := status(code); (st == http.StatusInternalServerError) != (code == apperr.Internal) {
			t.Errorf("%s: HTTP %d", code, st)
		}
	}
}
