package classify

import (
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-ego/gse"
)

// The training messages of the public data set were word-segmented and
// stop-word filtered at source (的, 了, 我们, 没有 … are gone) and re-joined,
// while live messages are raw. A classifier that sees 的 in 4.8 % of a raw
// message's tokens and in 0.0 % of its training text wastes its features on
// the mismatch, so every text — training and live — goes through the same
// analysis: segment into words, drop stop words, and then take character
// n-grams over what is left, joined as the source joined it.
//
// Segmentation uses gse's embedded word list with its IDF weights as costs
// (a cheapest-path segmentation, as jieba does with word frequencies) and
// gse's embedded stop-word list, which covers 95 % of what the source
// removed. It does not load gse's full segmenter: that takes seconds and
// hundreds of megabytes, and its segmentation ran at ~70 k characters a
// second here, too slow for a 5 ms prediction on a long message.

type lexicon struct {
	cost   map[string]float32 // word → IDF, used as its cost in segmentation
	stop   map[string]bool
	maxLen int     // longest word, in runes
	oov    float32 // cost of a single character not in the list
}

var (
	lexOnce sync.Once
	lex     *lexicon
)

// theLexicon parses gse's embedded IDF list once per process (~0.1 s).
func theLexicon() *lexicon {
	lexOnce.Do(func() {
		l := &lexicon{cost: make(map[string]float32, 280_000), stop: map[string]bool{}, maxLen: 6}
		var maxIDF float32
		for line := range strings.Lines(gse.ZhIdf) {
			word, num, ok := strings.Cut(strings.TrimSpace(line), " ")
			if !ok {
				continue
			}
			n := utf8.RuneCountInString(word)
			if n == 0 || n > l.maxLen {
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(num), 32)
			if err != nil {
				continue
			}
			word = strings.ToLower(word)
			if old, dup := l.cost[word]; !dup || float32(v) < old {
				l.cost[word] = float32(v)
			}
			maxIDF = max(maxIDF, float32(v))
		}
		l.oov = maxIDF + 2
		var s gse.Segmenter
		s.SkipLog = true
		_ = s.LoadStopEmbed() // only parses the embedded stop list; cannot fail
		for w := range s.StopWordMap {
			l.stop[strings.ToLower(w)] = true
		}
		lex = l
	})
	return lex
}

// runeClass sorts normalised runes into the runs that segmentation sees.
const (
	classNone = iota
	classHan
	classLatin
	classDigit
)

func classOf(r rune) int {
	switch {
	case unicode.Is(unicode.Han, r):
		return classHan
	case r < 0x80 && (r >= 'a' && r <= 'z'):
		return classLatin
	case unicode.IsDigit(r):
		return classDigit
	case unicode.IsLetter(r):
		return classLatin // Greek, Cyrillic, accented Latin … kept as words
	}
	return classNone
}

// fold maps full-width ASCII to half-width and lowercases.
func fold(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E {
		r -= 0xFEE0
	} else if r == 0x3000 {
		r = ' '
	}
	return unicode.ToLower(r)
}

// Normalize folds full-width forms to half-width and lowercases, drops
// whitespace, punctuation and symbols, and collapses each run of digits to
// one "0". It is what the model's character features are taken over, before
// stop words are removed.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	prevDigit := false
	for _, r := range s {
		r = fold(r)
		switch classOf(r) {
		case classDigit:
			if !prevDigit {
				b.WriteByte('0')
			}
			prevDigit = true
			continue
		case classHan, classLatin:
			b.WriteRune(r)
		}
		prevDigit = false
	}
	return b.String()
}

// tokens segments text into words, in order, without stop words, digit runs
// collapsed to "0" (or dropped when dropDigits).
func tokens(text string, dropDigits bool) []string {
	l := theLexicon()
	var out []string
	var run strings.Builder
	runClass := classNone
	flush := func() {
		if run.Len() == 0 {
			return
		}
		s := run.String()
		run.Reset()
		switch runClass {
		case classHan:
			out = l.segment(s, out)
		case classDigit:
			if !dropDigits {
				out = append(out, "0")
			}
		default:
			if !l.stop[s] {
				out = append(out, s)
			}
		}
	}
	for _, r := range text {
		r = fold(r)
		c := classOf(r)
		if c != runClass {
			flush()
			runClass = c
		}
		if c != classNone {
			run.WriteRune(r)
		}
	}
	flush()
	return out
}

// segment appends the non-stop words of a run of Han characters: the
// segmentation with the least total cost (sum of the words' IDF), found by
// dynamic programming over the run.
func (l *lexicon) segment(s string, out []string) []string {
	// Byte offsets of rune starts, plus len(s).
	pos := make([]int, 0, len(s)/3+1)
	for i := range s {
		pos = append(pos, i)
	}
	n := len(pos)
	pos = append(pos, len(s))
	best := make([]float32, n+1)
	from := make([]int, n+1)
	for i := 1; i <= n; i++ {
		best[i] = -1
		for j := max(0, i-l.maxLen); j < i; j++ {
			c, ok := l.cost[s[pos[j]:pos[i]]]
			if !ok {
				if i-j > 1 {
					continue
				}
				c = l.oov
			}
			if v := best[j] + c; best[i] < 0 || v < best[i] {
				best[i], from[i] = v, j
			}
		}
	}
	start := len(out)
	for i := n; i > 0; i = from[i] {
		w := s[pos[from[i]]:pos[i]]
		if !l.stop[w] {
			out = append(out, w)
		}
	}
	// Reverse the words appended (they were collected back to front).
	for a, b := start, len(out)-1; a < b; a, b = a+1, b-1 {
		out[a], out[b] = out[b], out[a]
	}
	return out
}
