package backup

import "testing"

func TestRecordsAndBytesForPeople(t *testing.T) {
	for _, tt := range []struct {
		objs []ObjectSummary
		want string
	}{
		{nil, "0 records"},
		{[]ObjectSummary{{Name: "contacts", Rows: 1}}, "1 record (contacts 1)"},
		{[]ObjectSummary{{Name: "contacts", Rows: 1234567}, {Name: "deals", Rows: 34}, {Name: "products"}, {Name: "tasks"}},
			"1,234,601 records (contacts 1,234,567, deals 34; no products, no tasks)"},
	} {
		if got := Records(tt.objs); got != tt.want {
			t.Errorf("Records(%v) = %q, want %q", tt.objs, got, tt.want)
		}
	}
	for n, want := range map[int64]string{0: "0 bytes", 999: "999 bytes", 4_200_000: "4.2 MB", 1_300_000_000: "1.3 GB", 15_000: "15.0 kB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
