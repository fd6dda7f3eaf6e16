package emulator

import (
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
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
// record.
func (g *generator) fill(i int, id int64, vals []string) (created, updated time.Time) {
	rng := rand.New(rand.NewPCG(g.seed, g.salt^uint64(i)*0x9E3779B97F4A7C15))
	created = epoch.Add(time.Duration(i)*37*time.Minute + time.Duration(rng.IntN(3600))*time.Second).Truncate(time.Millisecond)
	updated = created.Add(time.Duration(rng.IntN(90*24*3600)) * time.Second)
	person := rng.IntN(len(firstNames) * len(lastNames))
	for k, p := range g.t.props {
		vals[k] = g.value(rng, p, i, id, person, created, updated)
	}
	return created, updated
}

func (g *generator) value(rng *rand.Rand, p *property, i int, id int64, person int, created, updated time.Time) string {
	if p.spec.alwaysEmpty {
		return ""
	}
	if !p.spec.required && rng.IntN(100) < 18 {
		return ""
	}
	first, last := firstNames[person%len(firstNames)], lastNames[person/len(firstNames)]
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	gen, arg := p.spec.gen, ""
	if j := strings.IndexByte(gen, ':'); j >= 0 {
		gen, arg = gen[:j], gen[j+1:]
	}
	switch gen {
	case "id":
		return strconv.FormatInt(id, 10)
	case "created":
		return isoMillis(created)
	case "modified":
		return isoMillis(updated)
	case "first":
		return first
	case "last":
		return last
	case "email":
		// Unique per record, as HubSpot requires of contact emails.
		return strings.ToLower(asciiOnly(first)) + "." + strconv.Itoa(i) + "@" + pick(domains)
	case "phone":
		return "+1 555 " + strconv.Itoa(1000000+rng.IntN(8999999))
	case "company":
		return pick(companies)
	case "domain":
		return pick(domains)
	case "url":
		return "https://www." + pick(domains) + "/p/" + strconv.Itoa(rng.IntN(1000)) + "?utm_source=a&utm_medium=b"
	case "jobtitle":
		return pick(jobTitles)
	case "street":
		return strconv.Itoa(1+rng.IntN(999)) + " " + pick(lastNames) + " Street, Apt. " + strconv.Itoa(rng.IntN(40))
	case "city":
		return pick(cities)
	case "state":
		return pick(states)
	case "zip":
		return strconv.Itoa(10000 + rng.IntN(89999))
	case "country":
		return pick(countries)
	case "industry":
		return pick(industries)
	case "enum":
		return pick(p.spec.options)
	case "multi":
		var chosen []string
		for _, o := range p.spec.options {
			if rng.IntN(3) == 0 {
				chosen = append(chosen, o)
			}
		}
		if len(chosen) == 0 {
			chosen = append(chosen, p.spec.options[0])
		}
		return strings.Join(chosen, ";")
	case "owner":
		return strconv.Itoa(50000 + rng.IntN(12))
	case "bool":
		return strconv.FormatBool(rng.IntN(2) == 0)
	case "int":
		lo, hi := 0, 100
		if a, b, ok := strings.Cut(arg, ":"); ok {
			lo, _ = strconv.Atoi(a)
			hi, _ = strconv.Atoi(b)
		}
		return strconv.Itoa(lo + rng.IntN(hi-lo+1))
	case "money":
		return strconv.Itoa(rng.IntN(250000)) + "." + strconv.Itoa(10+rng.IntN(90))
	case "pct":
		return strconv.FormatFloat(float64(rng.IntN(101))/100, 'f', -1, 64)
	case "date", "dob":
		years := 0
		if gen == "dob" {
			years = 20 + rng.IntN(45)
		}
		return epoch.AddDate(-years, 0, rng.IntN(700)).Format(time.DateOnly)
	case "datetime":
		return isoMillis(created.Add(time.Duration(rng.IntN(200*24*3600)) * time.Second))
	case "millis":
		return strconv.FormatInt(created.Add(time.Duration(rng.IntN(30*24))*time.Hour).UnixMilli(), 10)
	case "note":
		return strings.Replace(pick(notes), "%s", pick(words), 1)
	case "tricky":
		return trickyValues[rng.IntN(len(trickyValues))]
	case "subject":
		return strings.ToUpper(pick(words)[:1]) + pick(words)[1:] + " for " + pick(companies)
	case "dealname":
		return pick(companies) + " – " + pick(words)
	case "product":
		return pick(products)
	case "sku":
		return "SKU-" + strconv.FormatInt(id, 36)
	case "term":
		return "P" + strconv.Itoa(1+rng.IntN(24)) + "M"
	case "handle":
		return "@" + strings.ToLower(asciiOnly(first)) + strconv.Itoa(rng.IntN(100))
	case "salutation":
		return []string{"Mr.", "Ms.", "Mx.", "Dr.", "Prof."}[rng.IntN(5)]
	case "ssn":
		return strconv.Itoa(100+rng.IntN(800)) + "-" + strconv.Itoa(10+rng.IntN(89)) + "-" + strconv.Itoa(1000+rng.IntN(8999))
	case "passport":
		return "P" + strconv.Itoa(10000000+rng.IntN(89999999))
	case "taxid":
		return "EU" + strconv.Itoa(100000000+rng.IntN(899999999))
	case "iban":
		return "DE89 3704 0044 " + strconv.Itoa(1000+rng.IntN(8999)) + " " + strconv.Itoa(1000+rng.IntN(8999)) + " 00"
	case "legacy":
		return "L-" + strconv.FormatInt(id, 10)
	case "tz":
		return pick(timezones)
	case "vin":
		return "VIN" + strconv.FormatInt(id, 10)
	case "model":
		return pick(models)
	case "color":
		return pick(colors)
	case "plate":
		return strings.ToUpper(pick(words)[:2]) + "-" + strconv.Itoa(100+rng.IntN(899))
	}
	return pick(words)
}

// isoMillis is HubSpot's form of a time: UTC, milliseconds, Z.
const isoMillisLayout = "2006-01-02T15:04:05.000Z"

func isoMillis(t time.Time) string { return t.UTC().Format(isoMillisLayout) }

func asciiOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && r != '\'' {
			b.WriteRune(r)
		}
	}
	return b.String()
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
	return []field{
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
}
