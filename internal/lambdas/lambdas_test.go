package lambdas

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crmbackup/crmbackup/internal/workflow/asl"
)

// TestFolders: one folder of functions/ per function of the table, each
// with a main.
func TestFolders(t *testing.T) {
	mains, err := filepath.Glob("../../functions/*/main.go")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, m := range mains {
		dirs = append(dirs, filepath.Base(filepath.Dir(m)))
	}
	want := Names()
	slices.Sort(want)
	slices.Sort(dirs)
	if !slices.Equal(dirs, want) {
		t.Fatalf("functions/ has %v, the table %v", dirs, want)
	}
	for _, d := range dirs {
		src, err := os.ReadFile(filepath.Join("../../functions", d, "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		// Each main wires itself by its own row of the table.
		constant := strings.ToUpper(d[:1]) + d[1:]
		if d == API {
			constant = "API"
		}
		if call := "MustLoad(lambdas." + constant + ")"; !strings.Contains(string(src), call) {
			t.Errorf("functions/%s/main.go does not call %s", d, call)
		}
	}
}

// TestMachines: each state machine's ${XFunctionArn} placeholders name
// exactly the functions the table says its tasks call.
func TestMachines(t *testing.T) {
	var machines []string
	for _, f := range All {
		if f.Machine != "" && !slices.Contains(machines, f.Machine) {
			machines = append(machines, f.Machine)
		}
	}
	slices.Sort(machines)
	known := slices.Clone(asl.Machines)
	slices.Sort(known)
	if !slices.Equal(machines, known) {
		t.Fatalf("the table's machines %v, the definitions' %v", machines, known)
	}
	for _, m := range asl.Machines {
		got, err := asl.Functions(m)
		if err != nil {
			t.Fatal(err)
		}
		want := Of(m)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s calls %v, the table says %v", m, got, want)
		}
	}
}

func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range All {
		if seen[f.Name] {
			t.Errorf("%s twice", f.Name)
		}
		seen[f.Name] = true
		if f.Description == "" || f.MemoryMB < 128 || f.TimeoutSec < 1 || f.TimeoutSec > 900 {
			t.Errorf("%s: %+v", f.Name, f)
		}
		if _, ok := Get(f.Name); !ok {
			t.Errorf("Get(%s)", f.Name)
		}
	}
}

// TestCallersOfHubSpotShareItsSlots: every function that calls HubSpot
// paces itself through the table's shared request slots, so it may update
// the table.
func TestCallersOfHubSpotShareItsSlots(t *testing.T) {
	for _, f := range All {
		if f.Access.Secrets && !slices.Contains(f.Access.Table, "dynamodb:UpdateItem") {
			t.Errorf("%s calls HubSpot but may not update the table (its shared request slots)", f.Name)
		}
	}
}
