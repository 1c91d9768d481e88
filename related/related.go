// Package related finds open work orders that are probably the same matter
// as a request being registered (并单候选): the same caller, the same place,
// similar text, within a window. It is pure Go and knows nothing of
// storage: the caller hands it the candidates (recent open orders) and gets
// them back ranked, each with the reasons a call-taker can read.
//
// Scoring (weights chosen before evaluation, see EvalHot for the measured
// precision on real messages):
//
//	text   cosine of character-bigram TF-IDF vectors over title (counted
//	       twice) and content; IDF from the candidate set itself, so words
//	       every recent order shares (小区, 问题, 反映) weigh little. When the
//	       addresses share a place, that place's name is cut out of both
//	       texts, so two different matters at one market do not look
//	       alike, and the titles alone are compared too (the better counts).
//	place  the longest common run of the two addresses, after the city and
//	       district prefixes are removed: 4 characters count fully
//	       ("望湖花园"), 3 partly. When both addresses name places and they
//	       share none, the text counts half: the same complaint about
//	       another supermarket is another matter.
//	caller the same telephone number (or the same portal account).
//
//	score = (0.65·text + 0.20·place + 0.15·caller) × (1 − 0.2·age/window)
//
// A candidate is shown when score ≥ MinScore (0.30) and its text or place
// agrees at all: a caller's earlier order about something else is history,
// not a duplicate.
package related

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/hotline12345/hotline/internal/textfold"
)

// Order is a candidate: an open order registered within the window.
type Order struct {
	Number  string    `json:"number"`
	Title   string    `json:"title"`
	Content string    `json:"-"`
	Address string    `json:"address,omitempty"`
	Phone   string    `json:"-"`
	At      time.Time `json:"created_at"`
	State   string    `json:"state"`
	Unit    string    `json:"unit,omitempty"`

	counts map[uint64]float64 // bigram counts, when the caller keeps them between calls
}

// Query is the request being registered.
type Query struct {
	Title, Content, Address, Phone string
	At                             time.Time
	Exclude                        string // the query's own number, when it is already registered
}

// Options tunes the ranking; zero values take the defaults.
type Options struct {
	Window   time.Duration // default 30 days
	MinScore float64       // default 0.30
	Limit    int           // default 5
}

func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = 30 * 24 * time.Hour
	}
	if o.MinScore <= 0 {
		o.MinScore = 0.30
	}
	if o.Limit <= 0 {
		o.Limit = 5
	}
	return o
}

// Reason is one ground for a match, in both languages.
type Reason struct {
	Code string `json:"code"` // caller, place, text, recent
	ZH   string `json:"zh"`
	EN   string `json:"en"`
}

// Match is a ranked candidate.
type Match struct {
	Order
	Score     float64  `json:"score"`
	Text      float64  `json:"text"`
	Place     string   `json:"place,omitempty"`
	SameCalls bool     `json:"same_caller"`
	Reasons   []Reason `json:"reasons"`
}

const (
	wText, wPlace, wCaller = 0.65, 0.20, 0.15
)

// Rank scores cands against q and returns the likely duplicates, best first.
func Rank(q Query, cands []Order, o Options) []Match {
	o = o.withDefaults()
	if q.At.IsZero() {
		q.At = time.Now()
	}
	qv := bigrams(q.Title, q.Content)
	vs := make([]map[uint64]float64, len(cands))
	df := map[uint64]int{}
	for i, c := range cands {
		vs[i] = c.counts
		if vs[i] == nil {
			vs[i] = bigrams(c.Title, c.Content)
		}
		for g := range vs[i] {
			df[g]++
		}
	}
	for g := range qv {
		df[g]++
	}
	n := float64(len(cands) + 1)
	idf := func(g uint64) float64 { return math.Log((n+1)/float64(df[g]+1)) + 1 }
	weigh := func(v map[uint64]float64) (map[uint64]float64, float64) {
		out := make(map[uint64]float64, len(v))
		var norm float64
		for g, tf := range v {
			w := (1 + math.Log(tf)) * idf(g)
			out[g] = w
			norm += w * w
		}
		return out, math.Sqrt(norm)
	}
	qw, qn := weigh(qv)
	qAddr := placeKey(q.Address)
	var out []Match
	for i, c := range cands {
		if c.Number == q.Exclude && c.Number != "" {
			continue
		}
		age := q.At.Sub(c.At)
		if age > o.Window || age < -time.Minute {
			continue
		}
		m := Match{Order: c}
		var place float64
		elsewhere := false // both places known, and they differ
		if cAddr := placeKey(c.Address); qAddr != "" && cAddr != "" {
			if p := commonRun(qAddr, cAddr); len([]rune(p)) >= 3 {
				m.Place = p
				place = math.Min(1, float64(len([]rune(p)))/4)
			} else {
				elsewhere = len([]rune(qAddr)) >= 3 && len([]rune(cAddr)) >= 3
			}
		}
		switch {
		case m.Place != "":
			// The place counts once, as the place: its name is cut out of
			// both texts so that two different matters at one market do
			// not look alike, and the titles, which name the matter most
			// plainly ("积水严重" / "门前积水"), are compared too.
			cut := func(s string) string { return strings.ReplaceAll(s, m.Place, " ") }
			m.Text = math.Max(
				cosine(bigrams(cut(q.Title), cut(q.Content)), bigrams(cut(c.Title), cut(c.Content)), idf),
				cosine(bigrams(cut(q.Title), ""), bigrams(cut(c.Title), ""), idf))
		case qn > 0:
			// Only the query's bigrams contribute to the dot product.
			var dot, norm float64
			for g, tf := range vs[i] {
				w := (1 + math.Log(tf)) * idf(g)
				norm += w * w
				dot += w * qw[g]
			}
			if norm > 0 {
				m.Text = dot / (qn * math.Sqrt(norm))
			}
		}
		m.SameCalls = q.Phone != "" && q.Phone == c.Phone
		if m.Text < 0.15 && place == 0 {
			continue // nothing in common but perhaps the caller
		}
		caller := 0.0
		if m.SameCalls {
			caller = 1
		}
		fresh := 1 - 0.2*math.Max(0, float64(age))/float64(o.Window)
		text := m.Text
		if elsewhere {
			text /= 2 // the same complaint about another place is another matter
		}
		m.Score = (wText*text + wPlace*place + wCaller*caller) * fresh
		if m.Score < o.MinScore {
			continue
		}
		m.Reasons = reasons(m, age)
		out = append(out, m)
	}
	slices.SortStableFunc(out, func(a, b Match) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return b.At.Compare(a.At)
	})
	if len(out) > o.Limit {
		out = out[:o.Limit]
	}
	return out
}

// cosine is the TF-IDF cosine of two bigram counts.
func cosine(a, b map[uint64]float64, idf func(uint64) float64) float64 {
	w := func(tf float64, g uint64) float64 { return (1 + math.Log(tf)) * idf(g) }
	var dot, na, nb float64
	for g, tf := range a {
		x := w(tf, g)
		na += x * x
		if tb, ok := b[g]; ok {
			dot += x * w(tb, g)
		}
	}
	for g, tf := range b {
		x := w(tf, g)
		nb += x * x
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

func reasons(m Match, age time.Duration) []Reason {
	var rs []Reason
	if m.SameCalls {
		rs = append(rs, Reason{"caller", "同一来电号码", "same caller"})
	}
	if m.Place != "" {
		rs = append(rs, Reason{"place", "地点相同：" + m.Place, "same place: " + m.Place})
	}
	if m.Text >= 0.15 {
		pct := int(math.Round(m.Text * 100))
		rs = append(rs, Reason{"text", "内容相似度" + itoa(pct) + "%", "text " + itoa(pct) + "% similar"})
	}
	days := int(age.Hours() / 24)
	if days < 1 {
		rs = append(rs, Reason{"recent", "今天受理", "registered today"})
	} else {
		rs = append(rs, Reason{"recent", itoa(days) + "天前受理", itoa(days) + " days ago"})
	}
	return rs
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// bigrams counts the character bigrams (two runes packed in a uint64) of title (twice) and content, over
// runs of Han characters, letters and digits.
func bigrams(title, content string) map[uint64]float64 {
	v := map[uint64]float64{}
	add := func(s string, w float64) {
		var prev rune
		for _, r := range s {
			r = foldRune(r)
			if r == 0 {
				prev = 0
				continue
			}
			if prev != 0 {
				v[uint64(prev)<<32|uint64(r)] += w
			}
			prev = r
		}
	}
	add(title, 2)
	add(content, 1)
	return v
}

func foldRune(r rune) rune { return textfold.Rune(r) }

// PlaceKey strips the administrative prefix of an address (…省, …市,
// …区/县) and everything that is not a letter, digit or Han character, so
// that "江北区望湖花园3栋" and "望湖花园北门" share "望湖花园".
func PlaceKey(addr string) string { return placeKey(addr) }

func placeKey(addr string) string {
	var b strings.Builder
	for _, r := range addr {
		if f := foldRune(r); f != 0 {
			b.WriteRune(f)
		}
	}
	s := b.String()
	for _, suffix := range []string{"省", "市", "区", "县"} {
		if i := strings.Index(s, suffix); i >= 0 && i <= 4*3 { // a prefix of at most four characters
			s = s[i+len(suffix):]
		}
	}
	return s
}

// commonRun is the longest common substring of a and b (by runes).
func commonRun(a, b string) string {
	ra, rb := []rune(a), []rune(b)
	if len(ra) == 0 || len(rb) == 0 {
		return ""
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	best, end := 0, 0
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			if ra[i-1] == rb[j-1] {
				cur[j] = prev[j-1] + 1
				if cur[j] > best {
					best, end = cur[j], i
				}
			} else {
				cur[j] = 0
			}
		}
		prev, cur = cur, prev
	}
	return string(ra[end-best : end])
}
