package emulator

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// property is a property definition as the properties API returns it.
type property struct {
	spec   propSpec
	index  int    // position in objectType.props and record.vals
	key    []byte // the name as a JSON object key: "name":
	gen    genKind
	lo, hi int     // genInt's range
	rules  []*rule // the portal's validation rules on it
}

// objectType is one CRM object type of the emulated portal with its records.
type objectType struct {
	id, name, fqn    string
	singular, plural string
	custom           bool
	primary          string // custom objects' primaryDisplayProperty

	props    []*property
	byName   map[string]*property
	always   []*property // returned whatever is asked
	defaults []*property // returned when nothing is asked

	// Generated records have ids genBase+1 … genBase+genN and are computed
	// on read; only written, archived, created or fixture records are kept.
	gen     *generator
	genBase int64
	genN    int
	mat     map[int64]*record
	extra   []int64 // sorted ids of kept records outside the generated range
	nextID  int64
	// unique indexes value → id per unique property, built on first need.
	unique map[int]map[string]int64
}

// record is a kept record. vals is aligned with objectType.props; "" is empty.
type record struct {
	id               int64
	vals             []string
	created, updated time.Time
	archived         bool
	archivedAt       time.Time
}

func newObjectType(ts typeSpec, portalID int64) *objectType {
	t := &objectType{
		id: ts.id, name: ts.name, singular: ts.singular, plural: ts.plural, custom: ts.custom,
		byName: map[string]*property{},
		mat:    map[int64]*record{},
	}
	if ts.custom {
		t.fqn = "p" + strconv.FormatInt(portalID, 10) + "_" + ts.name
	}
	specs := append([]string{common[0]}, ts.props...)
	specs = append(specs, common[1:]...)
	for _, s := range specs {
		t.addProperty(parsePropSpec(s))
	}
	for _, n := range ts.always {
		t.always = append(t.always, t.byName[n])
	}
	for _, n := range ts.defaults {
		t.defaults = append(t.defaults, t.byName[n])
	}
	if ts.custom && len(ts.defaults) > 3 {
		t.primary = ts.defaults[3]
	}
	return t
}

func (t *objectType) addProperty(s propSpec) *property {
	if p, ok := t.byName[s.name]; ok {
		return p
	}
	p := &property{spec: s, index: len(t.props), key: append(appendString(nil, s.name), ':')}
	p.gen, p.lo, p.hi = parseGen(s.gen)
	t.props = append(t.props, p)
	t.byName[s.name] = p
	return p
}

// get returns record id (nil when it does not exist), generating it when it
// was never written. The returned record must not be modified unless it is
// kept (see keep).
func (t *objectType) get(id int64) *record {
	if r, ok := t.mat[id]; ok {
		return r
	}
	if i := id - t.genBase; t.gen != nil && i >= 1 && i <= int64(t.genN) {
		r := &record{id: id, vals: make([]string, len(t.props))}
		r.created, r.updated = t.gen.fill(int(i), id, r.vals)
		return r
	}
	return nil
}

// keep makes r (from get) a kept record so it can be changed.
func (t *objectType) keep(r *record) *record {
	if k, ok := t.mat[r.id]; ok {
		return k
	}
	t.mat[r.id] = r
	if i := r.id - t.genBase; t.gen == nil || i < 1 || i > int64(t.genN) {
		j, _ := slices.BinarySearch(t.extra, r.id)
		t.extra = slices.Insert(t.extra, j, r.id)
	}
	if r.id >= t.nextID {
		t.nextID = r.id + 1
	}
	return r
}

// value returns the value of property p of r.
func (r *record) value(p *property) string {
	if p.index < len(r.vals) {
		return r.vals[p.index]
	}
	return ""
}

func (r *record) set(p *property, v string) {
	for len(r.vals) <= p.index {
		r.vals = append(r.vals, "")
	}
	r.vals[p.index] = v
}

// scan calls fn for records with id ≥ from, in id order, that are archived
// (or not, as asked), until fn returns false.
func (t *objectType) scan(from int64, archived bool, fn func(*record) bool) {
	if archived {
		// Archived records are always kept: walk the kept ones only.
		ids := make([]int64, 0, len(t.mat))
		for id, r := range t.mat {
			if r.archived && id >= from {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			if !fn(t.mat[id]) {
				return
			}
		}
		return
	}
	t.walk(from, math.MaxInt64, false, fn)
}

// scanDown calls fn for the live records with id ≤ to, in descending id
// order, until fn returns false.
func (t *objectType) scanDown(to int64, fn func(*record) bool) {
	t.walk(math.MinInt64, to, true, fn)
}

// walk calls fn for the live records with lo ≤ id ≤ hi, in id order (or
// descending), until fn returns false: the generated range merged with
// the sorted extra ids.
func (t *objectType) walk(lo, hi int64, desc bool, fn func(*record) bool) {
	gLo, gHi := max(lo, t.genBase+1), min(hi, t.genBase+int64(t.genN))
	if t.gen == nil {
		gLo, gHi = 1, 0
	}
	xLo := sort.Search(len(t.extra), func(i int) bool { return t.extra[i] >= lo })
	xHi := sort.Search(len(t.extra), func(i int) bool { return t.extra[i] > hi }) - 1
	g, x, step := gLo, xLo, int64(1)
	if desc {
		g, x, step = gHi, xHi, -1
	}
	for (gLo <= g && g <= gHi) || (xLo <= x && x <= xHi) {
		var id int64
		gen := gLo <= g && g <= gHi
		if gen && (x < xLo || x > xHi || (g < t.extra[x]) != desc) {
			id, g = g, g+step
		} else {
			id, x = t.extra[x], x+int(step)
		}
		r := t.get(id)
		if r == nil || r.archived {
			continue
		}
		if !fn(r) {
			return
		}
	}
}

// count returns the number of live (or archived) records.
func (t *objectType) count(archived bool) int {
	n := 0
	for _, r := range t.mat {
		if r.archived {
			n++
		}
	}
	if archived {
		return n
	}
	live := len(t.extra) - n
	if t.gen != nil {
		live += t.genN
	}
	return live
}

// uniqueIndex returns value → id for unique property p, building it once.
func (t *objectType) uniqueIndex(p *property) map[string]int64 {
	if idx, ok := t.unique[p.index]; ok {
		return idx
	}
	if t.unique == nil {
		t.unique = map[int]map[string]int64{}
	}
	idx := map[string]int64{}
	t.scan(0, false, func(r *record) bool {
		if v := r.value(p); v != "" {
			idx[v] = r.id
		}
		return true
	})
	t.unique[p.index] = idx
	return idx
}

// field is one top-level field of a conversation thread, kept as raw JSON
// because threads are not CRM objects and their values are typed.
type field struct {
	name  string
	value jsontext.Value
}

type thread struct {
	id     int64
	fields []field
}

var rawNull = jsontext.Value("null")

func rawString(s string) jsontext.Value {
	v, _ := jsontext.AppendQuote(nil, s)
	return v
}

func rawBool(b bool) jsontext.Value { return jsontext.Value(strconv.FormatBool(b)) }
