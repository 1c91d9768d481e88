// Package textfold maps runes to the form Chinese text is compared in by
// search and duplicate detection.
package textfold

import "unicode"

// Rune maps one rune to its comparison form: full-width ASCII to
// half-width, letters lowercased, Han characters and digits kept,
// everything else 0 (a separator). It maps rune to rune, so positions in
// folded text are positions in the original.
func Rune(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E {
		r -= 0xFEE0
	}
	switch {
	case unicode.Is(unicode.Han, r), unicode.IsDigit(r):
		return r
	case unicode.IsLetter(r):
		return unicode.ToLower(r)
	}
	return 0
}
