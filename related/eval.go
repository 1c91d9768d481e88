package related

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// Message is one row of the tipdm hot_messages.csv file: id, title, detail,
// time, likes, dislikes, user.
type Message struct {
	ID, Title, Detail, User string
	At                      time.Time
}

// ReadMessages reads hot_messages.csv.
func ReadMessages(path string) ([]Message, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, need := range []string{"id", "title", "detail", "time", "user"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%s: no %q column", path, need)
		}
	}
	var out []Message
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		at, err := time.Parse("2006-01-02 15:04:05", rec[col["time"]])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: time %q: %w", path, line, rec[col["time"]], err)
		}
		out = append(out, Message{ID: rec[col["id"]], Title: rec[col["title"]], Detail: rec[col["detail"]], User: rec[col["user"]], At: at})
	}
	return out, nil
}

// Judgments are a person's verdicts on pairs: query id → candidate id →
// same matter or not. File format, one pair a line:
//
//	QUERY_ID <tab> CANDIDATE_ID <tab> y|n [<tab> note]
type Judgments map[string]map[string]bool

// ReadJudgments reads a judgments file; # starts a comment.
func ReadJudgments(path string) (Judgments, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	j := Judgments{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		fs := strings.Split(s, "\t")
		if len(fs) < 3 || (fs[2] != "y" && fs[2] != "n") {
			return nil, fmt.Errorf("%s:%d: want QUERY<tab>CANDIDATE<tab>y|n", path, n)
		}
		if j[fs[0]] == nil {
			j[fs[0]] = map[string]bool{}
		}
		j[fs[0]][fs[1]] = fs[2] == "y"
	}
	return j, sc.Err()
}

// Pair is a query and the top suggestion made for it.
type Pair struct {
	Query, Candidate Message
	Score            float64
	Reasons          []Reason
	Judged, Same     bool
}

// HotReport is the outcome of EvalHot.
type HotReport struct {
	Queries   int     `json:"queries"`     // messages posed as new requests
	Suggested int     `json:"suggested"`   // queries that got a top suggestion
	Judged    int     `json:"judged"`      // top suggestions with a verdict
	Correct   int     `json:"correct"`     // judged top suggestions that are the same matter
	Precision float64 `json:"precision"`   // Correct / Judged
	Unjudged  []Pair  `json:"-"`           // top suggestions still to be judged
	Wrong     []Pair  `json:"-"`           // judged not the same matter
	Every     int     `json:"every"`       // one query in Every messages
	WindowDay int     `json:"window_days"` // candidates registered this many days before
}

// EvalHot replays msgs in time order: every every-th message is posed as a
// new request against all messages of the preceding window (standing in
// for the open orders then), with the poster's account as the caller's
// number. The top suggestion is looked up in j.
func EvalHot(msgs []Message, j Judgments, every int, o Options) HotReport {
	o = o.withDefaults()
	o.Limit = 1
	sorted := append([]Message(nil), msgs...)
	sort.SliceStable(sorted, func(a, b int) bool {
		if !sorted[a].At.Equal(sorted[b].At) {
			return sorted[a].At.Before(sorted[b].At)
		}
		return sorted[a].ID < sorted[b].ID
	})
	counts := make([]map[uint64]float64, len(sorted))
	for i, m := range sorted {
		counts[i] = bigrams(m.Title, m.Detail)
	}
	rep := HotReport{Every: every, WindowDay: int(o.Window.Hours() / 24)}
	lo := 0
	for i, q := range sorted {
		for lo < i && q.At.Sub(sorted[lo].At) > o.Window {
			lo++
		}
		if i%every != 0 {
			continue
		}
		rep.Queries++
		cands := make([]Order, 0, i-lo)
		for k, m := range sorted[lo:i] {
			cands = append(cands, Order{Number: m.ID, Title: m.Title, Content: m.Detail, Phone: m.User, At: m.At, counts: counts[lo+k]})
		}
		ms := Rank(Query{Title: q.Title, Content: q.Detail, Phone: q.User, At: q.At}, cands, o)
		if len(ms) == 0 {
			continue
		}
		rep.Suggested++
		var top Message
		for _, m := range sorted[lo:i] {
			if m.ID == ms[0].Number {
				top = m
			}
		}
		p := Pair{Query: q, Candidate: top, Score: ms[0].Score, Reasons: ms[0].Reasons}
		same, ok := j[q.ID][top.ID]
		if !ok {
			same, ok = j[top.ID][q.ID]
		}
		if !ok {
			rep.Unjudged = append(rep.Unjudged, p)
			continue
		}
		p.Judged, p.Same = true, same
		rep.Judged++
		if same {
			rep.Correct++
		} else {
			rep.Wrong = append(rep.Wrong, p)
		}
	}
	if rep.Judged > 0 {
		rep.Precision = float64(rep.Correct) / float64(rep.Judged)
	}
	return rep
}
