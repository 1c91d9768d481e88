// Package kb is the knowledge base (知识库): articles with their lifecycle
// (draft → review → published → expired/withdrawn) and append-only version
// history, units proposing and editors approving (共建共享), and a Chinese
// full-text search over them.
//
// Search segments text two ways at once — dictionary words from gse (so
// "社会保险" is one term) and overlapping character bigrams (so unknown
// place names and new terms still match) — expands synonyms at query time
// (社保 ≈ 社会保险, editable), and ranks by TF-IDF cosine over a title field
// (counted three times) and the body, raised by how often an article
// actually resolved calls (1 + 0.1·ln(1+uses)). Cosine beat BM25 on the
// real replies evaluation (see EvalReplies); the numbers are in eval.go.
//
// The index lives in memory; the database is the truth. Open builds the
// index from kb_articles; every node folds in rows whose updated_at moved
// (its own writes at once, other nodes' before a search when the last check
// is older than Service.Interval), so several nodes on one PostgreSQL
// converge within Interval. Reindex rebuilds it from scratch.
package kb

import (
	"container/heap"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/go-ego/gse"

	"github.com/hotline12345/hotline/internal/textfold"
)

var (
	segOnce sync.Once
	seg     gse.Segmenter
	segErr  error
)

// segmenter loads gse's embedded dictionary once per process (it takes
// seconds); every index shares it.
func segmenter() (*gse.Segmenter, error) {
	segOnce.Do(func() { seg, segErr = gse.NewEmbed("zh") })
	return &seg, segErr
}

// fold maps one rune to its search form (see textfold.Rune); positions in
// folded text are positions in the original (the highlighter relies on it).
func fold(r rune) rune { return textfold.Rune(r) }

// normalize folds text and turns separators into spaces.
func normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if f := fold(r); f != 0 {
			b.WriteRune(f)
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// Tokens returns the search terms of text: "w:" dictionary words of two or
// more characters and "b:" character bigrams (the character itself for a
// one-character run).
func Tokens(text string) []string {
	norm := normalize(text)
	var out []string
	if s, err := segmenter(); err == nil {
		for _, w := range s.Cut(norm, true) {
			w = strings.TrimSpace(w)
			if len([]rune(w)) >= 2 && !stopWords[w] {
				out = append(out, "w:"+w)
			}
		}
	}
	for _, run := range strings.Fields(norm) {
		rs := []rune(run)
		if len(rs) == 1 {
			out = append(out, "b:"+run)
			continue
		}
		for i := 0; i+1 < len(rs); i++ {
			out = append(out, "b:"+string(rs[i:i+2]))
		}
	}
	return out
}

// stopWords are words so common in citizens' messages and official replies
// that they carry no topic. IDF already discounts them; dropping them keeps
// highlights on the words that matter.
var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`我们 你们 他们 您好 你好 谢谢 感谢 问题 情况 反映 关于 进行 相关 工作 已经 目前 现在 没有 可以 如何 什么 这个 那个 一个 还是 但是 因为 所以 如果 希望 请问 尊敬 领导 网友 留言 答复 回复 调查 核实 如下 收悉 支持 信任 平台 栏目 书记 市长`) {
		stopWords[w] = true
	}
}

// Doc is what the index holds of an article.
type Doc struct {
	ID       int64
	Title    string
	Body     string
	Public   bool
	Category string
	UnitID   int64
	// Effective and Expires bound when the article may be shown (Unix
	// milliseconds, 0 = unbounded); checked at query time so that an
	// article drops out the moment it expires, before any job marks it.
	Effective, Expires int64
	Uses               int // calls it resolved (ranking boost)
}

// posting: a document and its log-scaled term frequency (1 + ln tf, a
// title occurrence counting wTitle), precomputed so that scoring a posting
// is one multiply-add.
type posting struct {
	doc int32
	lw  float32
}

// Index is an in-memory inverted index. Writes replace whole documents;
// searches run concurrently under a read lock.
type Index struct {
	mu       sync.RWMutex
	docs     []Doc
	alive    []bool
	byID     map[int64]int32
	post     map[string][]posting
	n        int                 // live documents
	dead     int                 // dead slots still referenced by postings
	synonyms map[string][]string // word → equivalent words
	// norms are the documents' TF-IDF vector lengths; nil after bulk
	// loading, recomputed lazily. A Put between full recomputations scores
	// its own norm with the IDF of the moment; after n/10 such drifts the
	// whole table is recomputed.
	norms []float64
	drift int
	pool  sync.Pool // *[]float32 score accumulators
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{byID: map[int64]int32{}, post: map[string][]posting{}, synonyms: map[string][]string{}}
}

// Scoring weights: a title match counts wTitle body matches; whole words
// and bigrams weigh the same (1.5 for words lost 0.4 points of Recall@1).
const (
	wTitle = 3.0
	wBody  = 1.0
	// postingBudget bounds the work of one search: a long query (a pasted
	// complaint) over a large index keeps its most weighty terms until
	// their postings add up to this many. Small indexes use every term
	// (capping to 128 terms cost 0.8 points of Recall@1 on the replies
	// evaluation); at 100,000 articles it keeps p95 under 20 ms.
	postingBudget = 1_000_000
)

// Put adds or replaces a document.
func (ix *Index) Put(d Doc) {
	tt, bt := Tokens(d.Title), Tokens(d.Body)
	counts := make(map[string]float64, len(tt)+len(bt))
	for _, t := range tt {
		counts[t] += wTitle
	}
	for _, t := range bt {
		counts[t] += wBody
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if old, ok := ix.byID[d.ID]; ok {
		ix.removeLocked(old)
	}
	i := int32(len(ix.docs))
	ix.docs = append(ix.docs, d)
	ix.alive = append(ix.alive, true)
	ix.byID[d.ID] = i
	ix.n++
	var norm float64
	for t, tf := range counts {
		p := posting{doc: i, lw: float32(1 + math.Log(tf))}
		ix.post[t] = append(ix.post[t], p)
		if ix.norms != nil {
			w := float64(p.lw) * ix.idf(len(ix.post[t]))
			norm += w * w
		}
	}
	if ix.norms != nil {
		ix.norms = append(ix.norms, math.Sqrt(norm))
		ix.drift++
		if ix.drift > ix.n/10+10 {
			ix.norms = nil
		}
	}
	if ix.dead > ix.n/4+100 {
		ix.compactLocked()
	}
}

func (ix *Index) idf(df int) float64 {
	return math.Log(float64(ix.n+1)/float64(df+1)) + 1
}

// ensureNormsLocked computes every document's vector length.
func (ix *Index) ensureNormsLocked() {
	if ix.norms != nil {
		return
	}
	norms := make([]float64, len(ix.docs))
	for _, ps := range ix.post {
		idf := ix.idf(len(ps))
		for _, p := range ps {
			w := float64(p.lw) * idf
			norms[p.doc] += w * w
		}
	}
	for i := range norms {
		norms[i] = math.Sqrt(norms[i])
	}
	ix.norms, ix.drift = norms, 0
}

// Remove drops a document.
func (ix *Index) Remove(id int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if i, ok := ix.byID[id]; ok {
		ix.removeLocked(i)
	}
}

// removeLocked marks a slot dead; its postings are skipped until the next
// compaction drops them.
func (ix *Index) removeLocked(i int32) {
	if !ix.alive[i] {
		return
	}
	ix.alive[i] = false
	delete(ix.byID, ix.docs[i].ID)
	ix.docs[i] = Doc{ID: ix.docs[i].ID} // release the text
	ix.n--
	ix.dead++
}

// compactLocked renumbers live documents and drops dead postings, so that
// an index edited for months does not grow without bound.
func (ix *Index) compactLocked() {
	remap := make([]int32, len(ix.docs))
	docs := make([]Doc, 0, ix.n)
	for i, d := range ix.docs {
		remap[i] = -1
		if ix.alive[i] {
			remap[i] = int32(len(docs))
			ix.byID[d.ID] = int32(len(docs))
			docs = append(docs, d)
		}
	}
	for t, ps := range ix.post {
		out := ps[:0]
		for _, p := range ps {
			if r := remap[p.doc]; r >= 0 {
				p.doc = r
				out = append(out, p)
			}
		}
		if len(out) == 0 {
			delete(ix.post, t)
		} else {
			ix.post[t] = out
		}
	}
	ix.docs = docs
	ix.alive = make([]bool, len(docs))
	for i := range ix.alive {
		ix.alive[i] = true
	}
	ix.dead, ix.norms = 0, nil
}

// SetSynonyms replaces the synonym groups; each group's words stand for one
// another at query time (社保 ≈ 社会保险).
func (ix *Index) SetSynonyms(groups [][]string) {
	m := map[string][]string{}
	for _, g := range groups {
		for _, w := range g {
			for _, o := range g {
				if o != w {
					m[normalizeWord(w)] = append(m[normalizeWord(w)], o)
				}
			}
		}
	}
	ix.mu.Lock()
	ix.synonyms = m
	ix.mu.Unlock()
}

func normalizeWord(w string) string { return strings.ReplaceAll(normalize(w), " ", "") }

// Len is the number of live documents.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.n
}

// Filter narrows a search.
type Filter struct {
	PublicOnly bool
	Category   string // prefix: "05" matches "0501"
	UnitID     int64
	Now        int64 // Unix ms; 0 skips the effective/expiry check
}

func (f *Filter) allows(d *Doc) bool {
	return (!f.PublicOnly || d.Public) && (f.Category == "" || strings.HasPrefix(d.Category, f.Category)) &&
		(f.UnitID == 0 || d.UnitID == f.UnitID) &&
		(f.Now == 0 || (d.Effective == 0 || f.Now >= d.Effective) && (d.Expires == 0 || f.Now < d.Expires))
}

// Hit is a ranked result.
type Hit struct {
	ID    int64
	Score float64
	// Terms are the query's words (with synonyms), longest first, for
	// highlighting; not every one need occur in this document.
	Terms []string
}

type qterm struct {
	post []posting
	w    float64 // query weight × idf
	idf  float64
}

// Search returns the best k documents for query.
func (ix *Index) Search(query string, k int, f Filter) []Hit {
	qt := Tokens(query)
	ix.mu.RLock()
	if ix.norms == nil {
		ix.mu.RUnlock()
		ix.mu.Lock()
		ix.ensureNormsLocked()
		ix.mu.Unlock()
		ix.mu.RLock()
	}
	defer ix.mu.RUnlock()
	if ix.n == 0 || len(qt) == 0 || k <= 0 {
		return nil
	}
	qf := map[string]float64{}
	var words []string
	for _, t := range qt {
		qf[t]++
		if strings.HasPrefix(t, "w:") {
			if qf[t] == 1 {
				words = append(words, t[2:])
			}
			for _, s := range ix.synonyms[t[2:]] {
				sw := "w:" + normalizeWord(s)
				if qf[sw] == 0 {
					words = append(words, sw[2:])
				}
				qf[sw] += 0.8
				// Multi-word synonyms (基本医疗保险) also match as their parts.
				for _, st := range Tokens(s) {
					if st != sw && strings.HasPrefix(st, "w:") {
						qf[st] += 0.4
					}
				}
			}
		}
	}
	terms := make([]qterm, 0, len(qf))
	var qnorm float64
	for t, n := range qf {
		ps := ix.post[t]
		if len(ps) == 0 {
			continue
		}
		idf := ix.idf(len(ps))
		w := (1 + math.Log(max(n, 1))) * idf
		if n < 1 {
			w = n * idf // synonym-only terms count less than typed ones
		}
		qnorm += w * w
		terms = append(terms, qterm{ps, w, idf})
	}
	sort.Slice(terms, func(a, b int) bool { return terms[a].w > terms[b].w })
	for i, work := 0, 0; i < len(terms); i++ {
		if work += len(terms[i].post); work > postingBudget && i > 0 {
			terms = terms[:i]
			break
		}
	}
	if len(terms) == 0 {
		return nil
	}
	acc := ix.scores()
	defer ix.pool.Put(acc)
	sc := *acc
	var touched []int32
	for _, t := range terms {
		qw := float32(t.w * t.idf)
		for _, p := range t.post {
			if sc[p.doc] == 0 {
				touched = append(touched, p.doc)
			}
			sc[p.doc] += qw * p.lw
		}
	}
	qn := math.Sqrt(qnorm)
	h := make(hitHeap, 0, k)
	for _, i := range touched {
		s := float64(sc[i])
		sc[i] = 0
		d := &ix.docs[i]
		if !ix.alive[i] || !f.allows(d) || ix.norms[i] == 0 {
			continue
		}
		s /= ix.norms[i] * qn
		// Articles that resolved many calls rank a little higher.
		s *= 1 + 0.1*math.Log1p(float64(d.Uses))
		if len(h) < k {
			heap.Push(&h, Hit{ID: d.ID, Score: s})
		} else if better(Hit{ID: d.ID, Score: s}, h[0]) {
			h[0] = Hit{ID: d.ID, Score: s}
			heap.Fix(&h, 0)
		}
	}
	hits := []Hit(h)
	sort.Slice(hits, func(a, b int) bool { return better(hits[a], hits[b]) })
	sort.Slice(words, func(a, b int) bool { return len(words[a]) > len(words[b]) })
	for i := range hits {
		hits[i].Terms = words
	}
	return hits
}

// scores returns a zeroed accumulator with a slot per document.
func (ix *Index) scores() *[]float32 {
	p, _ := ix.pool.Get().(*[]float32)
	if p == nil || len(*p) < len(ix.docs) {
		s := make([]float32, len(ix.docs)+len(ix.docs)/8+16)
		return &s
	}
	return p
}

func better(a, b Hit) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.ID < b.ID
}

// hitHeap keeps the best k hits with the worst on top.
type hitHeap []Hit

func (h hitHeap) Len() int           { return len(h) }
func (h hitHeap) Less(i, j int) bool { return better(h[j], h[i]) }
func (h hitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)        { *h = append(*h, x.(Hit)) }
func (h *hitHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
