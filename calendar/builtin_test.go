package calendar

import (
	"strings"
	"testing"

	"github.com/hotline12345/hotline"
)

func TestParseYear(t *testing.T) {
	text := `# 2027 (example)
2027-01-01 off 元旦
2027-02-05~2027-02-07 休 春节
2027-02-08..2027-02-11 off 春节
2027-02-14 班
2027-02-20 work 调休`
	off, on, err := ParseYear(2027, text)
	if err != nil {
		t.Fatal(err)
	}
	if len(off) != 8 || len(on) != 2 {
		t.Fatalf("off %d, on %d: %v %v", len(off), len(on), off, on)
	}
	if off[1] != (HolidayDay{d("2027-02-05"), "春节"}) || off[7] != (HolidayDay{d("2027-02-11"), "春节"}) || on[0] != d("2027-02-14") {
		t.Fatalf("parsed %v %v", off, on)
	}
	if _, _, err := ParseYear(2027, "2027-01-01 off"); err != nil {
		t.Errorf("a day off without a name: %v", err)
	}

	bad := []struct{ name, text, mentions string }{
		{"empty", "", ""},
		{"only comments", "# nothing\n\n", ""},
		{"only make-up days", "2027-02-06 work", ""},
		{"bad month", "2027-13-01 off x", "第1行"},
		{"bad day", "2027-02-29 off x", "第1行"},
		{"other year", "2026-01-01 off 不在该年", "2026-01-01"},
		{"range leaves the year", "2027-12-31~2028-01-02 off 元旦", "第1行"},
		{"range backwards", "2027-02-11~2027-02-05 off 春节", "第1行"},
		{"half a range", "2027-02-05~ off 春节", "第1行"},
		{"unknown kind", "2027-01-01 maybe", "第1行"},
		{"no kind", "2027-01-01", "第1行"},
		{"both off and on", "2027-01-01 off a\n2027-01-01 work", "第2行"},
		{"given twice", "2027-01-01 off a\n\n2027-01-01 off b", "第3行"},
		{"range overlaps a day", "2027-02-08 off a\n2027-02-05~2027-02-11 off 春节", "第2行"},
		{"long line", strings.Repeat("x", 70000), ""},
	}
	for _, tc := range bad {
		_, _, err := ParseYear(2027, tc.text)
		if hotline.ErrorCode(err) != hotline.EINVALID {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if zh, _ := hotline.ErrorMessages(err); !strings.Contains(zh, tc.mentions) {
			t.Errorf("%s: %q does not mention %q", tc.name, zh, tc.mentions)
		}
	}
}

// YearText writes what ParseYear reads: every built-in year survives the
// round trip day by day.
func TestYearTextRoundTrip(t *testing.T) {
	c := Default()
	if got := c.YearText(2026); !strings.Contains(got, "2026-02-15~2026-02-23 off 春节\n") || !strings.Contains(got, "2026-02-14 work 调休上班\n") {
		t.Fatalf("YearText(2026):\n%s", got)
	}
	if got := c.YearText(2030); got != "" {
		t.Fatalf("unloaded year: %q", got)
	}
	for y := FirstBuiltinYear; y <= LastBuiltinYear; y++ {
		off, on, err := ParseYear(y, c.YearText(y))
		if err != nil {
			t.Fatalf("%d: %v", y, err)
		}
		fresh := New(nil)
		if err := fresh.LoadYear(y, off, on); err != nil {
			t.Fatal(err)
		}
		want, got := c.Year(y), fresh.Year(y)
		for i := range want {
			if want[i] != got[i] {
				t.Errorf("%d: %+v after the round trip, want %+v", y, got[i], want[i])
			}
		}
	}
}

func FuzzParseYear(f *testing.F) {
	f.Add("2027-01-01 off 元旦\n2027-02-05~2027-02-11 off 春节\n2027-02-14 work")
	f.Add("2027-02-05..2027-02-05 休 x")
	f.Add("2027-12-31~2027-01-01 off x")
	f.Fuzz(func(t *testing.T, text string) {
		off, on, err := ParseYear(2027, text)
		if err != nil {
			if hotline.ErrorCode(err) != hotline.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		if err := New(nil).LoadYear(2027, off, on); err != nil {
			t.Fatalf("ParseYear accepted what LoadYear refuses: %v", err)
		}
	})
}
