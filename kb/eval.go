package kb

import (
	"encoding/csv"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/hotline12345/hotline"
)

// EvalResult is a retrieval evaluation.
type EvalResult struct {
	N         int     `json:"n"`
	RecallAt1 float64 `json:"recall_at_1"`
	RecallAt5 float64 `json:"recall_at_5"`
	MRR       float64 `json:"mrr"`
	// RecallAt10 and RecallAt100 show how deep the misses lie: a message
	// whose reply is not in the top 100 has over a hundred articles that
	// share more of its words than its own reply does.
	RecallAt10  float64 `json:"recall_at_10"`
	RecallAt100 float64 `json:"recall_at_100"`
	// LowOverlap counts the messages whose reply shares fewer than two
	// distinctive words (dictionary words found in under 5% of the
	// articles) with the message, and LowOverlapMissed those of them whose
	// reply is not in the top five: answers such as "对于您的建议，市交通运输局
	// 将派遣工作人员现场勘察" to "对A市917路和220路停靠站点的一点建议", which
	// only an understanding of meaning could pair.
	LowOverlap       int `json:"low_overlap,omitempty"`
	LowOverlapMissed int `json:"low_overlap_missed,omitempty"`
	// Substantive is the same measure over the messages whose reply is an
	// answer (60 characters or more); shorter replies are acknowledgements
	// and forwarding notices ("网友：您好！留言已收悉", "已转县交通局办理")
	// that no text search can tell apart.
	Substantive *EvalResult `json:"substantive,omitempty"`
}

// EvalReplies measures the search engine on real messages: it indexes each
// distinct official reply of a CSV (columns title, detail, reply) as an
// article, queries with each citizen message (title twice, then detail:
// the title states the matter) and reports how often the message's own
// reply ranks first, in the top five, and the mean reciprocal rank.
//
// Identical replies are one article (23 texts serve 88 messages), as a
// knowledge base would hold them. No title is derived: using the phrases a
// reply quotes (反映“……”) as a boosted title lowered Recall@1 from 0.663 to
// 0.647. Measured on tipdm2020/replies.csv (2,816 messages):
//
//	TF-IDF cosine, gse words + bigrams (this engine)  R@1 0.663  R@5 0.811  MRR 0.730
//	  replies ≥ 60 characters (2,502)                 R@1 0.726  R@5 0.879  MRR 0.795
//	BM25 k1=1.2 b=0.9, same terms                     R@1 0.653  R@5 0.780  MRR 0.711
//	query likelihood, Dirichlet μ=800                 R@1 0.653  R@5 0.785  MRR 0.715
//	reciprocal-rank fusion of the three               R@1 0.667  R@5 0.803  MRR 0.730
//	+ char trigrams / 4-grams; dropping digit grams   no gain (0.639–0.660 R@1)
//	pivoted length normalisation, idf², top-K query terms, df cut-offs   all lower
//
//	learned re-ranking of the top 60 (pairwise logistic over cosine,
//	  title-only and detail-only cosine, BM25, title coverage, longest
//	  common substring, length, rank; 5-fold cross-validated)  R@1 0.664  R@5 0.813
//	query expansion by term associations learned from the other
//	  folds' message→reply pairs (5-fold)                      R@1 0.651  R@5 0.803
//
// Why the target (R@1 0.75, R@5 0.90) stays out of reach of word
// matching: 314 replies are under 60 characters and 229 of them miss the
// top five; 10.4% of the messages do not find their reply in the top 100
// (RecallAt100 0.896; 9.4% are outside the top 200 under both cosine and
// BM25); and 531 replies (18.9%) share fewer than two distinctive words
// with their message, 408 of which miss the top five (LowOverlapMissed) —
// more than the 282 misses a Recall@5 of 0.90 allows.
func EvalReplies(path string) (*EvalResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, hotline.Errorf(hotline.EINVALID, "无法打开文件：%v", "cannot open file: %v", err, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	head, err := r.Read()
	if err != nil {
		return nil, hotline.Errorf(hotline.EINVALID, "CSV为空", "CSV is empty")
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimPrefix(strings.TrimSpace(h), "\ufeff"))] = i
	}
	for _, c := range []string{"title", "detail", "reply"} {
		if _, ok := col[c]; !ok {
			return nil, hotline.Errorf(hotline.EINVALID, "CSV缺少%s列", "CSV has no %s column", c, c)
		}
	}
	type pair struct {
		query, reply string
		doc          int64
		long         bool
	}
	var pairs []pair
	ids := map[string]int64{}
	ix := NewIndex()
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, hotline.Errorf(hotline.EINVALID, "CSV格式错误", "malformed CSV")
		}
		get := func(c string) string {
			if i := col[c]; i < len(rec) {
				return rec[i]
			}
			return ""
		}
		reply := strings.TrimSpace(get("reply"))
		if reply == "" {
			continue
		}
		id, ok := ids[reply]
		if !ok {
			id = int64(len(ids) + 1)
			ids[reply] = id
			ix.Put(Doc{ID: id, Body: reply, Public: true})
		}
		pairs = append(pairs, pair{get("title") + "\n" + get("title") + "\n" + get("detail"), reply, id, utf8.RuneCountInString(reply) >= 60})
	}
	all, sub := &EvalResult{}, &EvalResult{}
	for _, p := range pairs {
		rank := -1
		for i, h := range ix.Search(p.query, 100, Filter{}) {
			if h.ID == p.doc {
				rank = i
				break
			}
		}
		all.add(rank)
		if ix.distinctiveShared(p.query, p.reply) < 2 {
			all.LowOverlap++
			if rank < 0 || rank >= 5 {
				all.LowOverlapMissed++
			}
		}
		if p.long {
			sub.add(rank)
		}
	}
	all.finish()
	sub.finish()
	all.Substantive = sub
	return all, nil
}

func (e *EvalResult) add(rank int) {
	e.N++
	if rank < 0 {
		return
	}
	if rank == 0 {
		e.RecallAt1++
	}
	if rank < 5 {
		e.RecallAt5++
	}
	if rank < 10 {
		e.RecallAt10++
	}
	e.RecallAt100++
	e.MRR += 1 / float64(rank+1)
}

func (e *EvalResult) finish() {
	if e.N > 0 {
		n := float64(e.N)
		e.RecallAt1, e.RecallAt5, e.MRR = e.RecallAt1/n, e.RecallAt5/n, e.MRR/n
		e.RecallAt10, e.RecallAt100 = e.RecallAt10/n, e.RecallAt100/n
	}
}

// distinctiveShared counts the dictionary words of query that also occur in
// reply and in under 5% of the indexed articles.
func (ix *Index) distinctiveShared(query, reply string) int {
	in := map[string]bool{}
	for _, t := range Tokens(reply) {
		in[t] = true
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	seen := map[string]bool{}
	n := 0
	for _, t := range Tokens(query) {
		if strings.HasPrefix(t, "w:") && in[t] && !seen[t] && float64(len(ix.post[t])) < 0.05*float64(ix.n) {
			seen[t] = true
			n++
		}
	}
	return n
}
