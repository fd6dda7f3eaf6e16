package emulator

import (
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// epoch is when generated portals start creating records.
var epoch = time.Date(2023, 1, 2, 9, 0, 0, 0, time.UTC)

// Tricky values: everything a CSV writer or reader gets wrong. They are
// returned byte for byte, as HubSpot would return them.
var trickyValues = []string{
	`Müller, "Hans" & Söhne`,
	"line one\nline two\r\nline three",
	`=HYPERLINK("http://example.com","click")`,
	"+1 (555) 010-7788",
	"-42 degrees",
	"@SUM(A1:A9)",
	"emoji 🚀🎉 and ZWJ 👩‍💻",
	"日本語のテキスト、カンマ付き",
	"שלום עולם",
	"tab\tseparated\tvalue",
	"  leading and trailing spaces  ",
	`back\slash and "double" 'single' quotes`,
	"zero\u200bwidth space",
	`"`,
	",",
	"naïve café – “curly” — dash…",
	"a;b;c",
	"\ttab-first",
	"ends with newline\n",
	"Ω≈ç√∫˜µ≤≥÷",
}

var (
	firstNames = []string{"Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Edsger", "Radia", "José", "Zoë", "Søren", "Aiko", "Chidi", "Łukasz", "Émilie", "Mateo", "Priya", "Olúwáṣeun"}
	lastNames  = []string{"Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen", "Dijkstra", "Perlman", "García", "O'Brien", "Kierkegaard", "Tanaka", "Okafor", "Wałęsa", "Dubois", "Fernández", "Raman", "Adébáyọ̀"}
	companies  = []string{"Acme Corp", "Globex", "Initech", "Umbrella, Inc.", "Hooli", "Stark Industries", "Wayne Enterprises", "Soylent \"Green\" Co", "Tyrell", "Cyberdyne Systems", "Müller & Söhne GmbH", "株式会社テスト"}
	domains    = []string{"acme.example", "globex.example", "initech.example", "umbrella.example", "hooli.example", "stark.example", "wayne.example", "tyrell.example"}
	cities     = []string{"Boston", "Dublin", "Berlin", "São Paulo", "Tōkyō", "Zürich", "Kraków", "Lagos", "Austin", "Montréal"}
	states     = []string{"MA", "Leinster", "Berlin", "SP", "Tokyo", "ZH", "Małopolskie", "Lagos", "TX", "QC"}
	countries  = []string{"United States", "Ireland", "Germany", "Brazil", "Japan", "Switzerland", "Poland", "Nigeria", "Canada"}
	jobTitles  = []string{"CEO", "CTO", "VP, Sales", "Head of \"Growth\"", "Engineer", "Office Manager", "Data Scientist", "Account Executive"}
	industries = []string{"Software", "Finance", "Healthcare", "Retail", "Manufacturing", "Education"}
	words      = []string{"renewal", "upgrade", "pilot", "expansion", "migration", "onboarding", "audit", "integration", "support", "training", "license", "rollout"}
	products   = []string{"Starter Plan", "Pro Plan", "Enterprise Plan", "Onboarding Package", "Premium Support", "API Add-on", "Training Day", "Data Migration"}
	models     = []string{"XC40", "Corolla", "Focus", "Octavia", "C4", "Model 3", "V60", "Yaris"}
	colors     = []string{"black", "white", "silver", "rouge écarlate", "midnight blue", "graphite"}
	timezones  = []string{"america_slash_new_york", "europe_slash_dublin", "europe_slash_berlin", "asia_slash_tokyo"}
	notes      = []string{
		"Called about the %s.\nFollow up next week.",
		"Asked for a quote, \"ASAP\", for the %s; budget approved, pending legal.",
		"Meeting notes:\n- %s\n- pricing\n- next steps: send contract",
		"Customer said: 'the %s is great' 👍",
		"%s blocked by IT, will retry in Q3.",
	}
)

// generator makes the deterministic records of one object type.
type generator struct {
	seed uint64
	salt uint64
	t    *objectType
}

func newGenerator(seed int64, t *objectType) *generator {
	h := fnv.New64a()
	h.Write([]byte(t.name))
	return &generator{seed: uint64(seed), salt: h.Sum64(), t: t}
}

// fill writes record i's values (aligned with t.props) into vals and returns
// its create and update times. The same (seed, type, i) always gives the same
// record. The values are substrings of one string: a record costs a few
// allocations, not one per value.
func (g *generator) fill(i int, id int64, vals []string) (created, updated time.Time) {
	rng := rand.New(rand.NewPCG(g.seed, g.salt^uint64(i)*0x9E3779B97F4A7C15))
	created = epoch.Add(time.Duration(i)*37*time.Minute + time.Duration(rng.IntN(3600))*time.Second).Truncate(time.Millisecond)
	updated = created.Add(time.Duration(rng.IntN(90*24*3600)) * time.Second)
	r := recordGen{rng: rng, i: i, id: id, created: created, updated: updated}
	r.person = rng.IntN(len(firstNames) * len(lastNames))
	var arena [4 << 10]byte
	var ends [128]int
	b, end := arena[:0], ends[:0]
	for _, p := range g.t.props {
		b = r.appendValue(b, p)
		end = append(end, len(b))
	}
	text, start := string(b), 0
	for k, e := range end {
		vals[k] = text[start:e]
		start = e
	}
	return created, updated
}

// recordGen is what the values of one generated record draw on.
type recordGen struct {
	rng              *rand.Rand
	i                int
	id               int64
	person           int
	created, updated time.Time
}

func (r *recordGen) pick(xs []string) string { return xs[r.rng.IntN(len(xs))] }

// itoa appends lo+IntN(n).
func (r *recordGen) itoa(b []byte, lo, n int) []byte {
	return strconv.AppendInt(b, int64(lo+r.rng.IntN(n)), 10)
}

// appendValue appends the value of property p (nothing for an empty one).
func (r *recordGen) appendValue(b []byte, p *property) []byte {
	if p.spec.alwaysEmpty {
		return b
	}
	rng := r.rng
	if !p.spec.required && rng.IntN(100) < 18 {
		return b
	}
	first, last := firstNames[r.person%len(firstNames)], lastNames[r.person/len(firstNames)]
	switch p.gen {
	case genID:
		return strconv.AppendInt(b, r.id, 10)
	case genCreated:
		return appendISOMillis(b, r.created)
	case genModified:
		return appendISOMillis(b, r.updated)
	case genFirst:
		return append(b, first...)
	case genLast:
		return append(b, last...)
	case genEmail:
		// Unique per record, as HubSpot requires of contact emails.
		b = appendLowerASCII(b, first)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(r.i), 10)
		b = append(b, '@')
		return append(b, r.pick(domains)...)
	case genPhone:
		return r.itoa(append(b, "+1 555 "...), 1000000, 8999999)
	case genCompany:
		return append(b, r.pick(companies)...)
	case genDomain:
		return append(b, r.pick(domains)...)
	case genURL:
		b = append(append(b, "https://www."...), r.pick(domains)...)
		b = r.itoa(append(b, "/p/"...), 0, 1000)
		return append(b, "?utm_source=a&utm_medium=b"...)
	case genJobTitle:
		return append(b, r.pick(jobTitles)...)
	case genStreet:
		b = r.itoa(b, 1, 999)
		b = append(append(b, ' '), r.pick(lastNames)...)
		return r.itoa(append(b, " Street, Apt. "...), 0, 40)
	case genCity:
		return append(b, r.pick(cities)...)
	case genState:
		return append(b, r.pick(states)...)
	case genZip:
		return r.itoa(b, 10000, 89999)
	case genCountry:
		return append(b, r.pick(countries)...)
	case genIndustry:
		return append(b, r.pick(industries)...)
	case genEnum:
		return append(b, r.pick(p.spec.options)...)
	case genMulti:
		start := len(b)
		for _, o := range p.spec.options {
			if rng.IntN(3) == 0 {
				if len(b) > start {
					b = append(b, ';')
				}
				b = append(b, o...)
			}
		}
		if len(b) == start {
			b = append(b, p.spec.options[0]...)
		}
		return b
	case genOwner:
		return r.itoa(b, 50000, 12)
	case genBool:
		return strconv.AppendBool(b, rng.IntN(2) == 0)
	case genInt:
		return r.itoa(b, p.lo, p.hi-p.lo+1)
	case genMoney:
		b = r.itoa(b, 0, 250000)
		return r.itoa(append(b, '.'), 10, 90)
	case genPct:
		return strconv.AppendFloat(b, float64(rng.IntN(101))/100, 'f', -1, 64)
	case genDate, genDOB:
		years := 0
		if p.gen == genDOB {
			years = 20 + rng.IntN(45)
		}
		return epoch.AddDate(-years, 0, rng.IntN(700)).AppendFormat(b, time.DateOnly)
	case genDatetime:
		return appendISOMillis(b, r.created.Add(time.Duration(rng.IntN(200*24*3600))*time.Second))
	case genMillis:
		return strconv.AppendInt(b, r.created.Add(time.Duration(rng.IntN(30*24))*time.Hour).UnixMilli(), 10)
	case genNote:
		note := r.pick(notes)
		before, after, _ := strings.Cut(note, "%s")
		return append(append(append(b, before...), r.pick(words)...), after...)
	case genTricky:
		return append(b, trickyValues[rng.IntN(len(trickyValues))]...)
	case genSubject:
		b = append(b, strings.ToUpper(r.pick(words)[:1])...)
		b = append(b, r.pick(words)[1:]...)
		return append(append(b, " for "...), r.pick(companies)...)
	case genDealName:
		b = append(b, r.pick(companies)...)
		return append(append(b, " – "...), r.pick(words)...)
	case genProduct:
		return append(b, r.pick(products)...)
	case genSKU:
		return strconv.AppendInt(append(b, "SKU-"...), r.id, 36)
	case genTerm:
		return append(r.itoa(append(b, 'P'), 1, 24), 'M')
	case genHandle:
		b = appendLowerASCII(append(b, '@'), first)
		return r.itoa(b, 0, 100)
	case genSalutation:
		return append(b, salutations[rng.IntN(len(salutations))]...)
	case genSSN:
		b = r.itoa(b, 100, 800)
		b = r.itoa(append(b, '-'), 10, 89)
		return r.itoa(append(b, '-'), 1000, 8999)
	case genPassport:
		return r.itoa(append(b, 'P'), 10000000, 89999999)
	case genTaxID:
		return r.itoa(append(b, "EU"...), 100000000, 899999999)
	case genIBAN:
		b = r.itoa(append(b, "DE89 3704 0044 "...), 1000, 8999)
		b = r.itoa(append(b, ' '), 1000, 8999)
		return append(b, " 00"...)
	case genLegacy:
		return strconv.AppendInt(append(b, "L-"...), r.id, 10)
	case genTZ:
		return append(b, r.pick(timezones)...)
	case genVIN:
		return strconv.AppendInt(append(b, "VIN"...), r.id, 10)
	case genModel:
		return append(b, r.pick(models)...)
	case genColor:
		return append(b, r.pick(colors)...)
	case genPlate:
		b = append(b, strings.ToUpper(r.pick(words)[:2])...)
		return r.itoa(append(b, '-'), 100, 899)
	}
	return append(b, r.pick(words)...)
}

var salutations = []string{"Mr.", "Ms.", "Mx.", "Dr.", "Prof."}

// genKind is a property's value generator, parsed once from its spec.
type genKind int

const (
	genWord genKind = iota // the default: one of words
	genID
	genCreated
	genModified
	genFirst
	genLast
	genEmail
	genPhone
	genCompany
	genDomain
	genURL
	genJobTitle
	genStreet
	genCity
	genState
	genZip
	genCountry
	genIndustry
	genEnum
	genMulti
	genOwner
	genBool
	genInt
	genMoney
	genPct
	genDate
	genDOB
	genDatetime
	genMillis
	genNote
	genTricky
	genSubject
	genDealName
	genProduct
	genSKU
	genTerm
	genHandle
	genSalutation
	genSSN
	genPassport
	genTaxID
	genIBAN
	genLegacy
	genTZ
	genVIN
	genModel
	genColor
	genPlate
)

var genKinds = map[string]genKind{
	"id": genID, "created": genCreated, "modified": genModified, "first": genFirst, "last": genLast,
	"email": genEmail, "phone": genPhone, "company": genCompany, "domain": genDomain, "url": genURL,
	"jobtitle": genJobTitle, "street": genStreet, "city": genCity, "state": genState, "zip": genZip,
	"country": genCountry, "industry": genIndustry, "enum": genEnum, "multi": genMulti, "owner": genOwner,
	"bool": genBool, "int": genInt, "money": genMoney, "pct": genPct, "date": genDate, "dob": genDOB,
	"datetime": genDatetime, "millis": genMillis, "note": genNote, "tricky": genTricky, "subject": genSubject,
	"dealname": genDealName, "product": genProduct, "sku": genSKU, "term": genTerm, "handle": genHandle,
	"salutation": genSalutation, "ssn": genSSN, "passport": genPassport, "taxid": genTaxID, "iban": genIBAN,
	"legacy": genLegacy, "tz": genTZ, "vin": genVIN, "model": genModel, "color": genColor, "plate": genPlate,
}

// parseGen parses a spec's generator, "name" or "name:arg" ("int:lo:hi").
func parseGen(spec string) (kind genKind, lo, hi int) {
	name, arg, _ := strings.Cut(spec, ":")
	kind = genKinds[name] // unknown: genWord
	lo, hi = 0, 100
	if a, b, ok := strings.Cut(arg, ":"); ok {
		lo, _ = strconv.Atoi(a)
		hi, _ = strconv.Atoi(b)
	}
	return kind, lo, hi
}

// isoMillis is HubSpot's form of a time: UTC, milliseconds, Z.
const isoMillisLayout = "2006-01-02T15:04:05.000Z"

func isoMillis(t time.Time) string {
	var b [len(isoMillisLayout)]byte
	return string(appendISOMillis(b[:0], t))
}

// appendISOMillis appends t in isoMillisLayout. Every generated record has
// several such times: this is about five times as fast as AppendFormat.
func appendISOMillis(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, isoMillisLayout)
	}
	b = appendDigits(b, year, 4)
	b = appendDigits(append(b, '-'), int(month), 2)
	b = appendDigits(append(b, '-'), day, 2)
	b = appendDigits(append(b, 'T'), hour, 2)
	b = appendDigits(append(b, ':'), minute, 2)
	b = appendDigits(append(b, ':'), sec, 2)
	b = appendDigits(append(b, '.'), t.Nanosecond()/1e6, 3)
	return append(b, 'Z')
}

// appendDigits appends n (≥ 0) zero-padded to width digits.
func appendDigits(b []byte, n, width int) []byte {
	var d [4]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, d[:width]...)
}

// appendLowerASCII appends s lower-cased, without its non-ASCII letters and
// apostrophes.
func appendLowerASCII(b []byte, s string) []byte {
	for _, r := range s {
		if r < 128 && r != '\'' {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b = append(b, byte(r))
		}
	}
	return b
}

// threadFields generates conversation thread i: the Conversations API's
// fields, not all of them strings.
func threadFields(seed int64, i int, id int64) []field {
	rng := rand.New(rand.NewPCG(uint64(seed), 0xC0417E55^uint64(i)*0x9E3779B97F4A7C15))
	created := epoch.Add(time.Duration(i)*53*time.Minute + time.Duration(rng.IntN(600))*time.Second)
	latest := created.Add(time.Duration(rng.IntN(72*3600)) * time.Second)
	closed := rng.IntN(3) != 0
	status := "OPEN"
	closedAt := rawNull
	if closed {
		status = "CLOSED"
		closedAt = rawString(isoMillis(latest.Add(time.Hour)))
	}
	assigned := rawNull
	if rng.IntN(4) != 0 {
		assigned = rawString("A-" + strconv.Itoa(50000+rng.IntN(12)))
	}
	fields := []field{
		{"id", rawString(strconv.FormatInt(id, 10))},
		{"createdAt", rawString(isoMillis(created))},
		{"status", rawString(status)},
		{"closedAt", closedAt},
		{"latestMessageTimestamp", rawString(isoMillis(latest))},
		{"latestMessageReceivedTimestamp", rawString(isoMillis(latest.Add(-time.Duration(rng.IntN(600)) * time.Second)))},
		{"spam", rawBool(rng.IntN(20) == 0)},
		{"inboxId", rawString(strconv.Itoa(147000 + rng.IntN(3)))},
		{"associatedContactId", rawString(strconv.Itoa(10000000001 + rng.IntN(1000)))},
		{"assignedTo", assigned},
		{"originalChannelId", rawString(strconv.Itoa(1000 + rng.IntN(3)))},
		{"originalChannelAccountId", rawString(strconv.Itoa(20000 + rng.IntN(5)))},
		{"archived", rawBool(false)},
	}
	// Fields HubSpot sends only for some threads: a reply sent, a ticket
	// the thread is associated with (a nested object).
	if rng.IntN(3) == 0 {
		fields = append(fields, field{"latestMessageSentTimestamp", rawString(isoMillis(latest.Add(-time.Minute)))})
	}
	if i%17 == 5 {
		fields = append(fields, field{"threadAssociations", jsontext.Value(`{"associatedTicketId":"` + strconv.Itoa(50000000001+i) + `"}`)})
	}
	// HubSpot omits a field without a value rather than sending null.
	return slices.DeleteFunc(fields, func(f field) bool { return string(f.value) == "null" })
}
