package calendar

import (
	"testing"
	"time"
)

func mustSpan(s string) Span {
	v, err := ParseSpan(s)
	if err != nil {
		panic(err)
	}
	return v
}

func TestCountingRule(t *testing.T) {
	c := Default()
	cases := []struct{ name, from, span, want string }{
		{"DOMAIN §5 example, working hours", "2026-11-18T16:04:00+08:00", "4wh", "2026-11-19T11:04:00+08:00"},
		{"DOMAIN §5 example, working days", "2026-11-18T16:04:00+08:00", "5wd", "2026-11-25T17:30:00+08:00"},
		{"seconds are kept", "2026-11-18T16:04:30+08:00", "4wh", "2026-11-19T11:04:30+08:00"},
		{"time of day does not matter for wd", "2026-11-18T23:59:00+08:00", "1wd", "2026-11-19T17:30:00+08:00"},
		{"before opening, wd", "2026-11-18T00:00:00+08:00", "1wd", "2026-11-19T17:30:00+08:00"},

		// Spring Festival 2026: Fri 2/13; Sat 2/14 make-up (day 1); 2/15–2/23 off;
		// 2/24 Tue (2), 2/25 (3), 2/26 (4), 2/27 Fri (5).
		{"Spring Festival 5wd", "2026-02-13T16:00:00+08:00", "5wd", "2026-02-27T17:30:00+08:00"},
		{"Spring Festival 1wd is the make-up Saturday", "2026-02-13T16:00:00+08:00", "1wd", "2026-02-14T17:30:00+08:00"},
		{"Spring Festival 2wd", "2026-02-13T16:00:00+08:00", "2wd", "2026-02-24T17:30:00+08:00"},
		{"Spring Festival 4wh over the make-up Saturday", "2026-02-13T17:00:00+08:00", "4wh", "2026-02-14T12:00:00+08:00"},
		{"from the make-up Saturday, wh", "2026-02-14T16:00:00+08:00", "4wh", "2026-02-24T11:00:00+08:00"},
		{"from the make-up Saturday, wd", "2026-02-14T10:00:00+08:00", "1wd", "2026-02-24T17:30:00+08:00"},
		{"from inside the holiday", "2026-02-16T10:00:00+08:00", "1wd", "2026-02-24T17:30:00+08:00"},
		{"from inside the holiday, wh", "2026-02-16T10:00:00+08:00", "1wh", "2026-02-24T09:30:00+08:00"},
		{"the Sunday before", "2026-02-08T10:00:00+08:00", "1wd", "2026-02-09T17:30:00+08:00"},
		{"over the second make-up Saturday", "2026-02-27T10:00:00+08:00", "1wd", "2026-02-28T17:30:00+08:00"},
		{"over the second make-up Saturday, 2wd", "2026-02-27T10:00:00+08:00", "2wd", "2026-03-02T17:30:00+08:00"},

		// National Day 2026: 10/1–10/7 off, Sat 10/10 on.
		{"National Day 2wd", "2026-09-30T10:00:00+08:00", "2wd", "2026-10-09T17:30:00+08:00"},
		{"National Day 3wd", "2026-09-30T10:00:00+08:00", "3wd", "2026-10-10T17:30:00+08:00"},
		{"Mid-Autumn then National Day", "2026-09-24T10:00:00+08:00", "3wd", "2026-09-30T17:30:00+08:00"},
		{"New Year 2026 and make-up Sunday", "2025-12-31T10:00:00+08:00", "1wd", "2026-01-04T17:30:00+08:00"},

		// 2025: Sun 1/26 make-up, 1/28–2/4 off, Sat 2/8 make-up; 10/1–10/8 off, Sat 10/11 on.
		{"2025 make-up Sunday", "2025-01-24T10:00:00+08:00", "2wd", "2025-01-27T17:30:00+08:00"},
		{"2025 Spring Festival", "2025-01-27T10:00:00+08:00", "1wd", "2025-02-05T17:30:00+08:00"},
		{"2025 Spring Festival 4wd", "2025-01-27T10:00:00+08:00", "4wd", "2025-02-08T17:30:00+08:00"},
		{"2025 National Day", "2025-09-30T10:00:00+08:00", "1wd", "2025-10-09T17:30:00+08:00"},
		{"2025 National Day 3wd", "2025-09-30T10:00:00+08:00", "3wd", "2025-10-11T17:30:00+08:00"},
		{"2025 Dragon Boat", "2025-05-30T10:00:00+08:00", "1wd", "2025-06-03T17:30:00+08:00"},

		// Starting outside hours: lunch, night, weekend.
		{"lunch", "2026-11-18T12:30:00+08:00", "1wh", "2026-11-18T14:30:00+08:00"},
		{"night", "2026-11-18T20:00:00+08:00", "1wh", "2026-11-19T09:30:00+08:00"},
		{"early morning", "2026-11-18T06:00:00+08:00", "1wh", "2026-11-18T09:30:00+08:00"},
		{"weekend wh", "2026-11-21T10:00:00+08:00", "4wh", "2026-11-23T14:00:00+08:00"},
		{"weekend wd", "2026-11-21T10:00:00+08:00", "1wd", "2026-11-23T17:30:00+08:00"},
		{"Friday evening", "2026-11-20T17:30:00+08:00", "30wm", "2026-11-23T09:00:00+08:00"},
		// Exactly filling a period ends at its end, one minute more crosses lunch.
		{"fills the morning", "2026-11-18T08:30:00+08:00", "210wm", "2026-11-18T12:00:00+08:00"},
		{"one past the morning", "2026-11-18T08:30:00+08:00", "211wm", "2026-11-18T13:31:00+08:00"},
		{"fills the day", "2026-11-18T08:30:00+08:00", "450wm", "2026-11-18T17:30:00+08:00"},
		{"fills two days", "2026-11-18T00:00:00+08:00", "15wh", "2026-11-19T17:30:00+08:00"},
		{"a week of hours", "2026-11-16T08:30:00+08:00", "2250wm", "2026-11-20T17:30:00+08:00"},
		// Natural time ignores the calendar.
		{"natural hours", "2026-10-01T10:00:00+08:00", "2h", "2026-10-01T12:00:00+08:00"},
		{"natural minutes", "2026-10-01T10:00:00+08:00", "30m", "2026-10-01T10:30:00+08:00"},
		{"natural days", "2026-10-01T10:00:00+08:00", "2d", "2026-10-03T10:00:00+08:00"},
		// Input in another zone is counted in China time.
		{"UTC input", "2026-11-18T08:04:00Z", "4wh", "2026-11-19T11:04:00+08:00"},
		{"UTC evening is next morning in China", "2026-11-18T23:00:00Z", "1wd", "2026-11-20T17:30:00+08:00"},
		// Zero adds nothing.
		{"0wd", "2026-11-18T16:04:00+08:00", "0wd", "2026-11-18T16:04:00+08:00"},
		{"0wh", "2026-11-21T10:00:00+08:00", "0wh", "2026-11-21T10:00:00+08:00"},
	}
	for _, tc := range cases {
		got, prov := c.Add(at(tc.from), mustSpan(tc.span))
		if !got.Equal(at(tc.want)) || prov {
			t.Errorf("%s: %s + %s = %s (provisional %v), want %s", tc.name, tc.from, tc.span, got.In(China), prov, tc.want)
		}
		if s := mustSpan(tc.span); s.Working() && s.N > 0 && got.Location() != China {
			t.Errorf("%s: result in %s, want China time", tc.name, got.Location())
		}
	}
	// The methods behind Add, called directly.
	if got, _ := c.AddWorkingHours(at("2026-11-18T16:04:00+08:00"), 4*time.Hour); !got.Equal(at("2026-11-19T11:04:00+08:00")) {
		t.Errorf("AddWorkingHours = %s", got)
	}
	if got, _ := c.AddWorkingHours(at("2026-11-18T16:04:00+08:00"), 90*time.Second); !got.Equal(at("2026-11-18T16:05:30+08:00")) {
		t.Errorf("AddWorkingHours 90s = %s", got)
	}
	if got, _ := c.AddWorkingDays(at("2026-11-18T16:04:00+08:00"), 5); !got.Equal(at("2026-11-25T17:30:00+08:00")) {
		t.Errorf("AddWorkingDays = %s", got)
	}
	if got, _ := c.AddWorkingMinutes(at("2026-11-18T16:04:00+08:00"), 240); !got.Equal(at("2026-11-19T11:04:00+08:00")) {
		t.Errorf("AddWorkingMinutes = %s", got)
	}
}

func TestProvisional(t *testing.T) {
	c := Default()
	cases := []struct {
		name, from, span, want string
		prov                   bool
	}{
		// Weekend rule in 2027: 12/30, 12/31, 1/1 (Fri), 1/4 (Mon), 1/5.
		{"into 2027", "2026-12-29T10:00:00+08:00", "5wd", "2027-01-05T17:30:00+08:00", true},
		{"inside 2026", "2026-12-21T10:00:00+08:00", "5wd", "2026-12-28T17:30:00+08:00", false},
		{"ends on the last day of 2026", "2026-12-30T10:00:00+08:00", "1wd", "2026-12-31T17:30:00+08:00", false},
		{"wh into 2027", "2026-12-31T17:00:00+08:00", "1wh", "2027-01-01T09:00:00+08:00", true},
		{"wh inside 2026", "2026-12-31T16:00:00+08:00", "1wh", "2026-12-31T17:00:00+08:00", false},
		{"starting in 2027", "2027-03-03T10:00:00+08:00", "1wd", "2027-03-04T17:30:00+08:00", true},
		{"starting before 2001", "2000-12-28T10:00:00+08:00", "3wd", "2001-01-03T17:30:00+08:00", true},
		{"natural time never is", "2026-12-31T10:00:00+08:00", "30d", "2027-01-30T10:00:00+08:00", false},
	}
	for _, tc := range cases {
		got, prov := c.Add(at(tc.from), mustSpan(tc.span))
		if !got.Equal(at(tc.want)) || prov != tc.prov {
			t.Errorf("%s: %s provisional=%v, want %s provisional=%v", tc.name, got.In(China), prov, tc.want, tc.prov)
		}
	}
	// Loading 2027 makes it exact: with 1/1 off the due moves a day.
	off, on, err := ParseYear(2027, "2027-01-01 off 元旦\n# comment\n\n2027-02-06 work 调休")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.LoadYear(2027, off, on); err != nil {
		t.Fatal(err)
	}
	got, prov := c.Add(at("2026-12-29T10:00:00+08:00"), Span{5, WorkingDays})
	if want := at("2027-01-06T17:30:00+08:00"); !got.Equal(want) || prov {
		t.Fatalf("after loading 2027: %s provisional=%v, want %s", got, prov, want)
	}
}

func TestWorkingDuration(t *testing.T) {
	c := Default()
	cases := []struct {
		name, from, to string
		want           time.Duration
	}{
		{"DOMAIN example", "2026-11-18T16:04:00+08:00", "2026-11-19T11:04:00+08:00", 4 * time.Hour},
		{"over a weekend", "2026-11-20T17:30:00+08:00", "2026-11-23T08:30:00+08:00", 0},
		{"a working week", "2026-11-16T00:00:00+08:00", "2026-11-21T00:00:00+08:00", 5 * 450 * time.Minute},
		{"backwards", "2026-11-19T00:00:00+08:00", "2026-11-18T00:00:00+08:00", 0},
		{"inside lunch", "2026-11-18T12:10:00+08:00", "2026-11-18T13:20:00+08:00", 0},
		{"across lunch", "2026-11-18T11:00:00+08:00", "2026-11-18T14:00:00+08:00", 90 * time.Minute},
		{"seconds", "2026-11-18T11:00:00+08:00", "2026-11-18T11:00:42+08:00", 42 * time.Second},
		{"Spring Festival", "2026-02-13T16:00:00+08:00", "2026-02-27T17:30:00+08:00", 90*time.Minute + 5*450*time.Minute},
		{"the make-up Saturday", "2026-02-14T00:00:00+08:00", "2026-02-15T00:00:00+08:00", 450 * time.Minute},
		{"UTC", "2026-11-18T08:04:00Z", "2026-11-19T03:04:00Z", 4 * time.Hour},
	}
	for _, tc := range cases {
		if got := c.WorkingDuration(at(tc.from), at(tc.to)); got != tc.want {
			t.Errorf("%s: %s → %s = %s, want %s", tc.name, tc.from, tc.to, got, tc.want)
		}
	}
	// 2026: 261 weekdays, 19 of them holidays, 6 make-up days.
	if got := c.WorkingDuration(at("2026-01-01T00:00:00+08:00"), at("2027-01-01T00:00:00+08:00")); got != 248*450*time.Minute {
		t.Errorf("2026 has %v working days", got/(450*time.Minute))
	}
	if r := c.Remaining(at("2026-11-19T12:00:00+08:00"), at("2026-11-19T11:00:00+08:00")); r != -time.Hour {
		t.Errorf("overdue remaining = %s", r)
	}
	if r := c.Remaining(at("2026-11-18T16:04:00+08:00"), at("2026-11-25T17:30:00+08:00")); r != 86*time.Minute+5*450*time.Minute {
		t.Errorf("remaining = %s", r)
	}
	c.AddRegionDay("530100", d("2026-11-19"), "节日")
	if got := c.Region("530100").WorkingDuration(at("2026-11-19T00:00:00+08:00"), at("2026-11-20T00:00:00+08:00")); got != 0 {
		t.Errorf("region day counted %s", got)
	}
}

func TestAddEdges(t *testing.T) {
	c := Default()
	t0 := at("2026-11-18T16:04:00+08:00")
	for _, s := range []Span{{-5, WorkingDays}, {-1, Hours}, {0, Days}, {5, "fortnights"}, {5, ""}} {
		if got, prov := c.Add(t0, s); !got.Equal(t0) || prov {
			t.Errorf("Add(%v) = %s, %v", s, got, prov)
		}
	}
	// Spans built by hand past ParseSpan's limits are cut, not looped over
	// or overflowed.
	for _, s := range []Span{{1 << 40, WorkingDays}, {1 << 40, WorkingMinutes}, {1 << 40, Hours}, {1 << 40, Minutes}, {1 << 40, Days}} {
		got, _ := c.Add(t0, s)
		limit, _ := c.Add(t0, Span{spanMax[s.Unit], s.Unit})
		if !got.Equal(limit) || !got.After(t0) {
			t.Errorf("Add(%v) = %s, want the limit %s", s, got, limit)
		}
	}
	// A calendar with no working day at all still ends.
	none := New(nil)
	none.update(func(src *source) error {
		src.overrides = map[int]entry{}
		for n := (Date{2026, 1, 1}).day(); n < (Date{2060, 1, 1}).day(); n++ {
			src.overrides[n] = entry{}
		}
		return nil
	})
	if got, _ := none.AddWorkingDays(t0, 1); !got.After(t0) {
		t.Errorf("no working days: %s", got)
	}
	if got, _ := none.AddWorkingHours(t0, time.Hour); !got.After(t0) {
		t.Errorf("no working hours: %s", got)
	}
}

// FuzzAdd checks the invariants callers rely on: no panic, due ≥ start,
// working-time results inside working time, monotonic in N, and
// WorkingDuration undoing working-time addition.
func FuzzAdd(f *testing.F) {
	f.Add(int64(1763452800), "5wd")
	f.Add(int64(1771000000), "4wh")
	f.Add(int64(1770969600), "7wd")
	f.Add(int64(1798732800), "450wm")
	f.Add(int64(0), "30m")
	f.Add(int64(-1), "1wm")
	c := Default()
	c.AddRegionDay("530100", Date{2026, 3, 3}, "节日")
	r := c.Region("530100")
	f.Fuzz(func(t *testing.T, sec int64, span string) {
		s, err := ParseSpan(span)
		if err != nil {
			return
		}
		start := time.Unix(sec%(1<<34), sec%1e9)
		for _, cal := range []*Calendar{c, r} {
			due, prov := cal.Add(start, s)
			if due.Before(start) {
				t.Fatalf("%s + %s = %s is before the start", start, span, due)
			}
			if !s.Working() {
				if prov {
					t.Fatalf("natural %s provisional", span)
				}
				continue
			}
			if s.N == 0 {
				continue
			}
			m := due.In(China).Hour()*60 + due.In(China).Minute()
			inside := false
			for _, p := range DefaultHours {
				inside = inside || m >= p.Start && m <= p.End
			}
			if w, _ := cal.IsWorkingDay(DateOf(due)); !inside || !w {
				t.Fatalf("%s + %s = %s is not inside working time", start, span, due)
			}
			if s.Unit == WorkingDays && m != DefaultHours[1].End {
				t.Fatalf("%s + %s = %s is not close of business", start, span, due)
			}
			if next, _ := cal.Add(start, Span{s.N + 1, s.Unit}); s.N < spanMax[s.Unit] && !next.After(due) {
				t.Fatalf("not increasing: +%d → %s, +%d → %s", s.N, due, s.N+1, next)
			}
			if s.Unit != WorkingDays {
				want := time.Duration(s.N) * time.Minute
				if s.Unit == WorkingHours {
					want *= 60
				}
				if got := cal.WorkingDuration(start, due); got != want {
					t.Fatalf("WorkingDuration(%s, %s) = %s, want %s", start, due, got, want)
				}
			}
		}
	})
}

func BenchmarkAddWorkingDays(b *testing.B) {
	c := Default()
	for _, bc := range []struct {
		name string
		from string
		n    int
	}{
		{"5wd-normal-week", "2026-11-18T16:04:00+08:00", 5},
		{"5wd-spring-festival", "2026-02-13T16:00:00+08:00", 5},
		{"15wd", "2026-11-18T16:04:00+08:00", 15},
	} {
		t0 := at(bc.from)
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				c.AddWorkingDays(t0, bc.n)
			}
		})
	}
}

func BenchmarkAddWorkingHours(b *testing.B) {
	c := Default()
	t0 := at("2026-11-18T16:04:00+08:00")
	b.Run("4wh", func(b *testing.B) {
		for b.Loop() {
			c.AddWorkingHours(t0, 4*time.Hour)
		}
	})
	r := c.Region("530100")
	b.Run("4wh-region", func(b *testing.B) {
		for b.Loop() {
			r.AddWorkingHours(t0, 4*time.Hour)
		}
	})
}

func BenchmarkWorkingDuration(b *testing.B) {
	c := Default()
	from, to := at("2026-02-13T16:00:00+08:00"), at("2026-02-27T17:30:00+08:00")
	for b.Loop() {
		c.WorkingDuration(from, to)
	}
}

func BenchmarkDefault(b *testing.B) {
	Default()
	for b.Loop() {
		Default()
	}
}

// BenchmarkSetOverride is the cost of an administrator's change: rebuilding
// the snapshot.
func BenchmarkSetOverride(b *testing.B) {
	c := Default()
	for b.Loop() {
		c.SetOverride(Date{2026, 11, 21}, true, "值班")
	}
}
