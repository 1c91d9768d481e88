package textfold

import "testing"

func TestRune(t *testing.T) {
	for in, want := range map[rune]rune{'Ａ': 'a', 'b': 'b', '１': '1', '社': '社', '，': 0, ' ': 0, '\u200b': 0} {
		if got := Rune(in); got != want {
			t.Errorf("Rune(%q) = %q, want %q", in, got, want)
		}
	}
}
