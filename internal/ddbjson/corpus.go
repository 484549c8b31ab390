package ddbjson

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CorpusKey is the partition key attribute of HostileCorpus items; the
// tables they go into have a hash key of that name and no sort key.
const CorpusKey = "pk"

// CorpusMaxItemSize is the DynamoDB size (attribute name bytes plus value
// bytes) the largest corpus items stay just under: 399 KiB, DynamoDB's limit
// being 400 KiB.
const CorpusMaxItemSize = 399 * 1024

// HostileCorpus returns HostileCorpusFor(TypeS).
func HostileCorpus() []map[string]types.AttributeValue { return HostileCorpusFor(TypeS) }

// HostileCorpusFor returns items that exercise every corner of DynamoDB JSON
// cairn must carry unchanged, keyed by CorpusKey of keyType (TypeS, TypeN or
// TypeB; it panics on anything else), every key distinct and the key values
// hostile themselves. It covers every type; numbers with 38 significant
// digits, the largest and smallest magnitudes, negatives and all spellings
// of zero; empty S and B outside keys; strings with quotes, backslashes,
// control characters, U+2028/U+2029 and astral characters; hostile
// attribute names (dots, brackets, quotes, unicode, a 65535-byte name);
// M and L nested MaxDepth deep; empty M and L; 4000 attributes in one item;
// and items just under the 400 KB size limit. Each call returns fresh values.
func HostileCorpusFor(keyType string) []map[string]types.AttributeValue {
	var items []map[string]types.AttributeValue
	add := func(attrs map[string]types.AttributeValue) {
		attrs[CorpusKey] = corpusKey(keyType, len(items))
		items = append(items, attrs)
	}

	// Every type, plainly.
	add(map[string]types.AttributeValue{
		"s": &types.AttributeValueMemberS{Value: "hello"}, "n": &types.AttributeValueMemberN{Value: "42"},
		"b":    &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 0xfe, 0xff}},
		"ss":   &types.AttributeValueMemberSS{Value: []string{"a", "b", "c"}},
		"ns":   &types.AttributeValueMemberNS{Value: []string{"1", "2", "3"}},
		"bs":   &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}, {0, 0}}},
		"m":    &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": &types.AttributeValueMemberS{Value: "y"}}},
		"l":    &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberN{Value: "1"}, &types.AttributeValueMemberS{Value: "two"}}},
		"null": &types.AttributeValueMemberNULL{Value: true},
		"t":    &types.AttributeValueMemberBOOL{Value: true}, "f": &types.AttributeValueMemberBOOL{Value: false},
	})
	// Empty values where DynamoDB allows them.
	add(map[string]types.AttributeValue{
		"s_empty": &types.AttributeValueMemberS{Value: ""},
		"b_empty": &types.AttributeValueMemberB{Value: []byte{}},
		"m_empty": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
		"l_empty": &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
		"m_with_empties": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"s": &types.AttributeValueMemberS{Value: ""}, "b": &types.AttributeValueMemberB{Value: []byte{}},
		}},
	})
	// Numbers.
	nums := map[string]types.AttributeValue{}
	for k, n := range corpusNumbers {
		nums[fmt.Sprintf("n%02d", k)] = &types.AttributeValueMemberN{Value: n}
	}
	nums["ns_edge"] = &types.AttributeValueMemberNS{Value: []string{
		"99999999999999999999999999999999999999", "-99999999999999999999999999999999999999",
		"1E+125", "-1E+125", "1E-130", "-1E-130", "0", "0.1", "1.5"}}
	add(nums)
	// Strings.
	strs := map[string]types.AttributeValue{}
	for k, s := range corpusStrings {
		strs[fmt.Sprintf("s%02d", k)] = &types.AttributeValueMemberS{Value: s}
	}
	strs["ss_hostile"] = &types.AttributeValueMemberSS{Value: append([]string(nil), corpusStrings[1:]...)}
	add(strs)
	// Binaries.
	all := make([]byte, 256)
	for k := range all {
		all[k] = byte(k)
	}
	add(map[string]types.AttributeValue{
		"b_all": &types.AttributeValueMemberB{Value: all},
		"b_1":   &types.AttributeValueMemberB{Value: []byte{0xff}}, "b_2": &types.AttributeValueMemberB{Value: []byte{0xff, 0xfe}},
		"b_3":  &types.AttributeValueMemberB{Value: []byte{0, 0, 0}},
		"bs_x": &types.AttributeValueMemberBS{Value: [][]byte{{0}, {0, 0}, {0xff}, []byte("\"\\"), all[:100]}},
	})
	// Hostile attribute names.
	names := map[string]types.AttributeValue{}
	for k, name := range corpusNames {
		names[name] = &types.AttributeValueMemberN{Value: strconv.Itoa(k)}
	}
	names["long"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		strings.Repeat("n", 65535): &types.AttributeValueMemberS{Value: "name of 65535 bytes"},
	}}
	add(names)
	add(map[string]types.AttributeValue{strings.Repeat("é", 65535/2): &types.AttributeValueMemberBOOL{Value: true}})
	// Everything inside M and L, and sets inside both.
	mixed := func() types.AttributeValue {
		return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"s": &types.AttributeValueMemberS{Value: "\"\u2028\U0001F600"}, "n": &types.AttributeValueMemberN{Value: "-0.00"},
			"b":  &types.AttributeValueMemberB{Value: []byte{7}},
			"ss": &types.AttributeValueMemberSS{Value: []string{"z", "a"}}, "ns": &types.AttributeValueMemberNS{Value: []string{"10", "9"}},
			"bs": &types.AttributeValueMemberBS{Value: [][]byte{{9}, {8}}},
			"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberNULL{Value: true}, &types.AttributeValueMemberBOOL{Value: false},
				&types.AttributeValueMemberL{Value: []types.AttributeValue{}},
				&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
			}},
		}}
	}
	add(map[string]types.AttributeValue{
		"m": mixed(), "l": &types.AttributeValueMemberL{Value: []types.AttributeValue{mixed(), mixed(), &types.AttributeValueMemberS{Value: ""}}},
	})
	// Nesting to the limit: M, L and alternating.
	for _, kind := range []string{"M", "L", "ML"} {
		var v types.AttributeValue = &types.AttributeValueMemberS{Value: "bottom"}
		for d := MaxDepth; d >= 1; d-- {
			if kind == "M" || kind == "ML" && d%2 == 1 {
				v = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"d" + strconv.Itoa(d): v}}
			} else {
				v = &types.AttributeValueMemberL{Value: []types.AttributeValue{v}}
			}
		}
		add(map[string]types.AttributeValue{"deep_" + kind: v})
	}
	// Many attributes.
	many := map[string]types.AttributeValue{}
	for k := range 4000 {
		many[fmt.Sprintf("a%04d", k)] = &types.AttributeValueMemberN{Value: strconv.Itoa(k * 7919)}
	}
	add(many)
	// Items just under the size limit: a string, a binary, a string set and a
	// list of many strings, leaving room for any corpus key (at most 1031 bytes).
	rng := rand.New(rand.NewPCG(1, 2))
	room := CorpusMaxItemSize - 1100
	add(map[string]types.AttributeValue{"big": &types.AttributeValueMemberS{Value: corpusText(rng, room-3)}})
	bigBin := make([]byte, room-3)
	for k := range bigBin {
		bigBin[k] = byte(rng.Uint32())
	}
	add(map[string]types.AttributeValue{"bin": &types.AttributeValueMemberB{Value: bigBin}})
	var ss []string
	for k := 0; k < room/1000-1; k++ {
		ss = append(ss, fmt.Sprintf("%04d", k)+corpusText(rng, 996))
	}
	add(map[string]types.AttributeValue{"ss": &types.AttributeValueMemberSS{Value: ss}})
	var l []types.AttributeValue
	for k := 0; k < room/100-1; k++ {
		l = append(l, &types.AttributeValueMemberS{Value: corpusText(rng, 96)})
	}
	add(map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{Value: l}})
	return items
}

// corpusKey returns the key of item k: hostile values first, then unique
// plain ones.
func corpusKey(keyType string, k int) types.AttributeValue {
	switch keyType {
	case TypeS:
		return &types.AttributeValueMemberS{Value: corpusStrings[1+k%(len(corpusStrings)-1)] + "#" + strconv.Itoa(k)}
	case TypeN:
		if k < len(corpusKeyNumbers) {
			return &types.AttributeValueMemberN{Value: corpusKeyNumbers[k]}
		}
		return &types.AttributeValueMemberN{Value: strconv.Itoa(1000000000 + k)}
	case TypeB:
		b := []byte{0xff, 0, '"', '\\', 0x80}
		b = b[:1+k%len(b)]
		return &types.AttributeValueMemberB{Value: binary.BigEndian.AppendUint32(b, uint32(k))}
	}
	panic("ddbjson: HostileCorpusFor: key type must be S, N or B, not " + strconv.Quote(keyType))
}

// corpusNumbers are N values, several spellings of the same value among them.
var corpusNumbers = []string{
	"0", "-0", "0.0", "0E+10", "00", "1", "-1", "1.50", "1.5", "15E-1", "1E2", "100", "1e2", "100.000",
	"99999999999999999999999999999999999999", "-99999999999999999999999999999999999999",
	"9.9999999999999999999999999999999999999E+125", "-9.9999999999999999999999999999999999999E+125",
	"1E+125", "-1E+125", "1E-130", "-1E-130", "1.0000000000000000000000000000000000001E-93",
	"12345678901234567890123456789012345678", "0.12345678901234567890123456789012345678",
	"-0.000000000000000000000000000000000001", "3.14159265358979323846264338327950288",
	"1000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
}

// corpusKeyNumbers are N key values, all distinct as numbers.
var corpusKeyNumbers = []string{
	"0", "-1", "1.5", "99999999999999999999999999999999999999", "-99999999999999999999999999999999999999",
	"1E+125", "-1E+125", "1E-130", "-1E-130", "9.9999999999999999999999999999999999999E+125",
	"0.12345678901234567890123456789012345678", "-3.14159265358979323846264338327950288",
}

// corpusStrings are S values that need care in JSON; all but the first are
// distinct, non-empty set members.
var corpusStrings = []string{
	"",
	`quote " and 'single'`,
	`back\slash \\ \u0041 \n`,
	"controls \x00\x01\x07\b\f\n\r\t\x1b\x1f\x7f end",
	"line\u2028para\u2029sep",
	"astral \U0001F600\U0001D11E\U0001F004\U00010348",
	"日本語 עברית العربية \ufeffBOM e\u0301 \uFFFD \uFFFF",
	"</script><!-- & -->",
	" leading and trailing spaces ",
	"/slash/",
	"\x00",
	strings.Repeat("x", 1024),
}

// corpusNames are attribute names that need care in paths and JSON.
var corpusNames = []string{
	"a.b", "[0]", "a[1].c", `"quoted"`, `back\slash`, "line\u2028sep", "\U0001F600", " ", "#name", ":value",
	"ctrl\x01\x1f", "tab\there", "new\nline", "ünïcödé", "0", "-", "名前",
}

// corpusText returns n bytes of random printable text sprinkled with
// characters JSON must escape and multi-byte UTF-8.
func corpusText(rng *rand.Rand, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?-_"
	var b strings.Builder
	b.Grow(n)
	for b.Len() < n {
		switch r := rng.IntN(200); {
		case r == 0 && n-b.Len() >= 1:
			b.WriteByte("\"\\\n\t\x00"[rng.IntN(5)])
		case r == 1 && n-b.Len() >= 4:
			b.WriteString("\U0001F600")
		case r == 2 && n-b.Len() >= 3:
			b.WriteString("\u2028")
		default:
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
	}
	s := b.String()
	if !utf8.ValidString(s) {
		panic("corpusText: invalid UTF-8")
	}
	return s
}

// RandomItems returns n raw DynamoDB JSON items of about payloadBytes bytes
// each (at least about 100), with a unique string partition key "pk" and a
// random, incompressible printable payload in "payload", for benchmarks and
// load tests. The same rng state gives the same items.
func RandomItems(rng *rand.Rand, n, payloadBytes int) [][]byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
	items := make([][]byte, n)
	for k := range items {
		b := make([]byte, 0, payloadBytes+16)
		b = append(b, `{"pk":{"S":"`...)
		b = fmt.Appendf(b, "%016x-%d", rng.Uint64(), k)
		b = append(b, `"},"n":{"N":"`...)
		b = strconv.AppendInt(b, rng.Int64N(1e12)-5e11, 10)
		b = append(b, `"},"ok":{"BOOL":`...)
		b = strconv.AppendBool(b, rng.IntN(2) == 0)
		b = append(b, `},"tags":{"SS":["red","green"]},"payload":{"S":"`...)
		for m := payloadBytes - len(b) - 4; m > 0; {
			r := rng.Uint64()
			for j := 0; j < 10 && m > 0; j++ {
				b = append(b, alphabet[r&63])
				r >>= 6
				m--
			}
		}
		items[k] = append(b, `"}}`...)
	}
	return items
}

// Vocabularies of OrderItems.
var (
	orderFirst = []string{"Alice", "Bruno", "Chen", "Dana", "Emeka", "Fatima", "Giulia", "Hiro", "Inès", "Jonas", "Kofi",
		"Lena", "Mateo", "Nora", "Omar", "Priya", "Quentin", "Rosa", "Søren", "Tariq", "Uma", "Viktor", "Wen", "Yusuf", "Zoë"}
	orderLast = []string{"Martin", "Schmidt", "García", "Nakamura", "Okafor", "Rossi", "Dubois", "Kowalski", "Silva",
		"Andersson", "Haddad", "Patel", "Nguyen", "Fischer", "Moreau", "Costa", "Novak", "Jensen", "Ivanova", "Murphy"}
	orderCities = []struct{ city, country, currency string }{
		{"Paris", "FR", "EUR"}, {"Berlin", "DE", "EUR"}, {"Madrid", "ES", "EUR"}, {"Milan", "IT", "EUR"},
		{"London", "GB", "GBP"}, {"Dublin", "IE", "EUR"}, {"Seattle", "US", "USD"}, {"Austin", "US", "USD"},
		{"Toronto", "CA", "CAD"}, {"Osaka", "JP", "JPY"}, {"Lagos", "NG", "NGN"}, {"Warsaw", "PL", "PLN"},
	}
	orderStreets = []string{"Main Street", "Rue de la Paix", "Hauptstraße", "Calle Mayor", "Via Roma", "High Street",
		"Maple Avenue", "Station Road", "Church Lane", "Park Avenue"}
	orderStatuses = []string{"PENDING", "PAID", "PACKED", "SHIPPED", "DELIVERED", "DELIVERED", "DELIVERED", "CANCELLED", "RETURNED"}
	orderTiers    = []string{"standard", "standard", "standard", "silver", "gold", "platinum"}
	orderAdj      = []string{"stainless steel", "organic cotton", "wireless", "recycled", "waterproof", "ceramic", "bamboo",
		"leather", "compact", "ergonomic", "insulated", "vintage"}
	orderNouns = []string{"water bottle", "t-shirt", "headphones", "notebook", "backpack", "coffee mug", "cutting board",
		"wallet", "desk lamp", "office chair", "lunch box", "sunglasses"}
	orderTags  = []string{"gift", "express", "fragile", "b2b", "marketplace", "promo", "first-order", "subscription"}
	orderNotes = []string{
		"Please leave the parcel with the neighbour if nobody is home.",
		"Ring twice, the bell is broken.",
		"Deliver after 5 pm on weekdays.",
		`Gift for a birthday: \"do not include the invoice\".`,
		"Call before delivery.",
		"",
	}
)

// OrderItems returns n raw DynamoDB JSON items that look like an online
// shop's orders: a unique string partition key "pk", about 20 attributes
// with nested maps (customer, address), a list of 1-5 order lines, a string
// set, numbers, booleans, timestamps and text drawn from small vocabularies
// (a little of it non-ASCII or escaped), about 1 KB per item. Unlike
// RandomItems they compress the way real tables do (zstd to about a seventh)
// and cost more to parse per byte; benchmarks report both. The same rng
// state gives the same items.
func OrderItems(rng *rand.Rand, n int) [][]byte {
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	stamp := func(b []byte, name string, ms int64) []byte {
		b = append(b, `"`+name+`":{"S":"`...)
		b = epoch.Add(time.Duration(ms)*time.Millisecond).AppendFormat(b, "2006-01-02T15:04:05.000Z")
		return append(b, `"},`...)
	}
	items := make([][]byte, n)
	for k := range items {
		b := make([]byte, 0, 1536)
		b = fmt.Appendf(b, `{"pk":{"S":"ORDER#%08x-%06d"},"customerId":{"S":"CUST#%08x"},`, rng.Uint32(), k, rng.Uint32())
		created := rng.Int64N(300 * 86400 * 1000)
		b = stamp(b, "createdAt", created)
		b = stamp(b, "updatedAt", created+rng.Int64N(5*86400*1000))
		c := orderCities[rng.IntN(len(orderCities))]
		first, last := pick(orderFirst), pick(orderLast)
		b = fmt.Appendf(b, `"status":{"S":"%s"},"customer":{"M":{"name":{"S":"%s %s"},"email":{"S":"%s.%s%d@example.com"},`+
			`"tier":{"S":"%s"},"marketingOptIn":{"BOOL":%t}}},`,
			pick(orderStatuses), first, last, strings.ToLower(first), strings.ToLower(last), rng.IntN(100),
			pick(orderTiers), rng.IntN(3) == 0)
		b = fmt.Appendf(b, `"shippingAddress":{"M":{"line1":{"S":"%d %s"},"city":{"S":"%s"},"postalCode":{"S":"%05d"},`+
			`"country":{"S":"%s"}}},"lines":{"L":[`,
			1+rng.IntN(200), pick(orderStreets), c.city, rng.IntN(100000), c.country)
		var total int64
		for i, lines := 0, 1+rng.IntN(5); i < lines; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			qty, cents := 1+rng.Int64N(3), 199+rng.Int64N(20000)
			total += qty * cents
			b = fmt.Appendf(b, `{"M":{"sku":{"S":"SKU-%06d"},"title":{"S":"%s %s"},"quantity":{"N":"%d"},"unitPrice":{"N":"%d.%02d"}}}`,
				rng.IntN(50000), pick(orderAdj), pick(orderNouns), qty, cents/100, cents%100)
		}
		t1 := rng.IntN(len(orderTags))
		t2 := (t1 + 1 + rng.IntN(len(orderTags)-1)) % len(orderTags)
		b = fmt.Appendf(b, `]},"total":{"N":"%d.%02d"},"currency":{"S":"%s"},"paymentId":{"S":"pay_%016x"},`+
			`"tags":{"SS":["%s","%s"]},"giftWrap":{"BOOL":%t},"note":{"S":"%s"}}`,
			total/100, total%100, c.currency, rng.Uint64(), orderTags[t1], orderTags[t2], rng.IntN(5) == 0, pick(orderNotes))
		items[k] = b
	}
	return items
}
