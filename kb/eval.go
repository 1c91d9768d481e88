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
// 314 replies are under 60 characters and 229 of them miss the top five,
// which caps Recall@5 on the full set near 0.92 for any lexical ranker.
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
		query string
		doc   int64
		long  bool
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
		pairs = append(pairs, pair{get("title") + "\n" + get("title") + "\n" + get("detail"), id, utf8.RuneCountInString(reply) >= 60})
	}
	all, sub := &EvalResult{}, &EvalResult{}
	for _, p := range pairs {
		rank := -1
		for i, h := range ix.Search(p.query, 10, Filter{}) {
			if h.ID == p.doc {
				rank = i
				break
			}
		}
		all.add(rank)
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
	e.MRR += 1 / float64(rank+1)
}

func (e *EvalResult) finish() {
	if e.N > 0 {
		n := float64(e.N)
		e.RecallAt1, e.RecallAt5, e.MRR = e.RecallAt1/n, e.RecallAt5/n, e.MRR/n
	}
}
