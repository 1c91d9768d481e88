package calendar

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hotline12345/hotline"
)

// The integer day arithmetic agrees with the time package on every day
// from 1600 to 2400, across the proleptic calendar's leap rules.
func TestDayNumbers(t *testing.T) {
	n := Date{1600, 1, 1}.day()
	for tm := time.Date(1600, 1, 1, 0, 0, 0, 0, China); tm.Year() < 2400; tm = tm.AddDate(0, 0, 1) {
		want := Date{tm.Year(), tm.Month(), tm.Day()}
		if got := dateOfDay(n); got != want {
			t.Fatalf("dateOfDay(%d) = %s, want %s", n, got, want)
		}
		if want.day() != n || want.Weekday() != tm.Weekday() || !want.At(0).Equal(tm) || DateOf(tm) != want {
			t.Fatalf("%s: day %d (want %d), weekday %s", want, want.day(), n, want.Weekday())
		}
		n++
	}
	for _, tc := range []struct {
		t    string
		want Date
	}{
		{"2026-02-13T15:59:59Z", Date{2026, 2, 13}},
		{"2026-02-13T16:00:00Z", Date{2026, 2, 14}}, // midnight in China
		{"1969-12-31T16:00:00Z", Date{1970, 1, 1}},
		{"1969-12-31T15:59:59Z", Date{1969, 12, 31}},
	} {
		if got := DateOf(at(tc.t)); got != tc.want {
			t.Errorf("DateOf(%s) = %s, want %s", tc.t, got, tc.want)
		}
	}
	if got := (Date{2026, 13, 1}).AddDays(0); got != (Date{2027, 1, 1}) {
		t.Errorf("month 13 normalises to %s", got)
	}
}

func TestDate(t *testing.T) {
	a, b := d("2026-02-13"), d("2026-02-24")
	if !a.Before(b) || b.Before(a) || !b.After(a) || a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Error("ordering")
	}
	if b.Sub(a) != 11 || a.AddDays(11) != b || b.AddDays(-11) != a {
		t.Error("day arithmetic")
	}
	if got := a.At(17*60 + 30); !got.Equal(at("2026-02-13T17:30:00+08:00")) {
		t.Errorf("At = %s", got)
	}
	for _, s := range []string{"", "2026-02-30", "2026-2-3", "2026/02/03", "20260203", "2026-02-03x", "x"} {
		if _, err := ParseDate(s); hotline.ErrorCode(err) != hotline.EINVALID {
			t.Errorf("ParseDate(%q) = %v", s, err)
		}
	}
	for _, tc := range []struct {
		d     Date
		valid bool
	}{{Date{2024, 2, 29}, true}, {Date{2026, 2, 29}, false}, {Date{2026, 0, 1}, false}, {Date{2026, 4, 31}, false}, {Date{}, false}} {
		if tc.d.Valid() != tc.valid {
			t.Errorf("%s valid = %v", tc.d, !tc.valid)
		}
	}

	type row struct {
		Day  Date          `json:"day"`
		Days map[Date]bool `json:"days"`
	}
	b1, err := json.Marshal(row{a, map[Date]bool{b: true}})
	if err != nil || string(b1) != `{"day":"2026-02-13","days":{"2026-02-24":true}}` {
		t.Fatalf("marshal: %s %v", b1, err)
	}
	var back row
	if err := json.Unmarshal(b1, &back); err != nil || back.Day != a || !back.Days[b] {
		t.Fatalf("unmarshal: %+v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"day":"2026-02-30"}`), &back); err == nil {
		t.Error("unmarshalled 2026-02-30")
	}
}
