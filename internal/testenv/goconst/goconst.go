// Package goconst reads the string constants a Go file declares, for tests
// that keep a list (an API's error codes, a catalogue's keys) equal to the
// constants behind it, so that a new constant cannot be left out.
package goconst

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Strings returns the values of the string constants that file declares
// under a name starting with prefix ("" for all of them).
func Strings(t testing.TB, file, prefix string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			for i, name := range v.Names {
				if !strings.HasPrefix(name.Name, prefix) || i >= len(v.Values) {
					continue
				}
				if lit, ok := v.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// Same fails t unless list holds the values of the string constants that
// file declares under prefix, no more and no fewer (in any order); name
// says what list is.
func Same(t testing.TB, name string, list []string, file, prefix string) {
	t.Helper()
	declared := slices.Sorted(slices.Values(Strings(t, file, prefix)))
	if got := slices.Sorted(slices.Values(list)); len(declared) == 0 || !slices.Equal(got, declared) {
		t.Fatalf("%s %v, %s declares %v", name, got, file, declared)
	}
}
