package classify

import (
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// wordMark prefixes word features in Terms, so that the word 施工 and the
// character bigram 施工 stay two features (normalised text never contains it).
const wordMark = "_"

// analysis is a text reduced to what the features are taken from.
type analysis struct {
	joined string   // kept words re-joined, as the source data joins them
	words  []string // kept words
}

func (o *Options) analyze(text string) analysis {
	var ws []string
	if o.KeepStopWords {
		ws = plainTokens(text, o.DropDigits)
	} else {
		ws = tokens(text, o.DropDigits)
	}
	return analysis{joined: strings.Join(ws, ""), words: ws}
}

// plainTokens splits text into runs without segmentation or stop words
// (the ablation that shows what stop-word removal is worth).
func plainTokens(text string, dropDigits bool) []string {
	var out []string
	for _, f := range strings.Fields(normalizeSpaced(text)) {
		if f == "0" && dropDigits {
			continue
		}
		out = append(out, f)
	}
	return out
}

func normalizeSpaced(s string) string {
	var b strings.Builder
	prev := classNone
	for _, r := range s {
		r = fold(r)
		c := classOf(r)
		if c != prev {
			b.WriteByte(' ')
		}
		switch c {
		case classDigit:
			if prev != classDigit {
				b.WriteByte('0')
			}
		case classHan, classLatin:
			b.WriteRune(r)
		}
		prev = c
	}
	return b.String()
}

// eachGram calls emit with every character 1..n-gram of s (as substrings of
// s, so nothing is allocated), and with every word.
func (o *Options) eachGram(a analysis, char func(string), word func(string)) {
	s := a.joined
	var starts [8]int // byte offsets of the last up-to-n rune starts
	k := 0
	for i, r := range s {
		if k < o.MaxN {
			starts[k] = i
			k++
		} else {
			copy(starts[:], starts[1:k])
			starts[k-1] = i
		}
		end := i + utf8.RuneLen(r)
		for j := 0; j < k; j++ {
			char(s[starts[j]:end])
		}
	}
	if !o.NoWords {
		for _, w := range a.words {
			word(w)
		}
	}
}

type feature struct {
	idx int32
	val float32
}

// vectorize turns counts into sublinear TF × IDF, L2-normalised, sorted by
// index (so dot products and the saved model do not depend on map order).
func vectorize(counts map[int32]float32, idf []float32) []feature {
	v := make([]feature, 0, len(counts))
	var norm float64
	for i, c := range counts {
		w := (1 + float32(math.Log(float64(c)))) * idf[i]
		v = append(v, feature{i, w})
		norm += float64(w) * float64(w)
	}
	if norm > 0 {
		n := float32(1 / math.Sqrt(norm))
		for k := range v {
			v[k].val *= n
		}
	}
	slices.SortFunc(v, func(a, b feature) int { return int(a.idx) - int(b.idx) })
	return v
}
