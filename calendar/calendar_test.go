package calendar

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hotline12345/hotline"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func d(s string) Date {
	v, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

// Every published day off and make-up day of 2025 and 2026 (DOMAIN.md §5),
// written out date by date, and every other day of both years on the
// weekend rule.
func TestPublishedYears(t *testing.T) {
	off := []string{
		"2025-01-01", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-02-01", "2025-02-02", "2025-02-03", "2025-02-04",
		"2025-04-04", "2025-04-05", "2025-04-06", "2025-05-01", "2025-05-02", "2025-05-03", "2025-05-04", "2025-05-05",
		"2025-05-31", "2025-06-01", "2025-06-02", "2025-10-01", "2025-10-02", "2025-10-03", "2025-10-04", "2025-10-05",
		"2025-10-06", "2025-10-07", "2025-10-08",
		"2026-01-01", "2026-01-02", "2026-01-03", "2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19",
		"2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23", "2026-04-04", "2026-04-05", "2026-04-06",
		"2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05", "2026-06-19", "2026-06-20", "2026-06-21",
		"2026-09-25", "2026-09-26", "2026-09-27", "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05",
		"2026-10-06", "2026-10-07",
	}
	on := []string{"2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
		"2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"}
	c := Default()
	isOff := map[Date]bool{}
	for _, s := range off {
		i := c.Day(d(s))
		if i.Working || i.Kind != Holiday || !i.Known || i.Name == "" {
			t.Errorf("%s: %+v, want a named holiday", s, i)
		}
		if w, known := c.IsWorkingDay(d(s)); w || !known {
			t.Errorf("IsWorkingDay(%s) = %v, %v", s, w, known)
		}
		isOff[d(s)] = true
	}
	isOn := map[Date]bool{}
	for _, s := range on {
		i := c.Day(d(s))
		if !i.Working || i.Kind != Makeup || i.Name != MakeupName {
			t.Errorf("%s: %+v, want a make-up working day", s, i)
		}
		if wd := i.Date.Weekday(); wd != time.Saturday && wd != time.Sunday {
			t.Errorf("%s is a make-up day on a %s", s, wd)
		}
		isOn[d(s)] = true
	}
	for y := 2025; y <= 2026; y++ {
		days := c.Year(y)
		if len(days) != 365 {
			t.Fatalf("%d has %d days", y, len(days))
		}
		for _, i := range days {
			if isOff[i.Date] || isOn[i.Date] {
				continue
			}
			wd := i.Date.Weekday()
			want, kind := true, Workday
			if wd == time.Saturday || wd == time.Sunday {
				want, kind = false, Weekend
			}
			if i.Working != want || i.Kind != kind || !i.Known {
				t.Errorf("%s (%s): %+v, want %s", i.Date, wd, i, kind)
			}
		}
	}
}

// Spot checks of the built-in history: 2001 from the State Council notice
// (lunar-go starts on 2001-12-29), and years from lunar-go including the
// 2020 Spring Festival extension.
func TestBuiltinHistory(t *testing.T) {
	c := Default()
	cases := []struct {
		day  string
		kind Kind
	}{
		{"2001-01-01", Holiday}, {"2001-01-20", Makeup}, {"2001-01-21", Makeup}, {"2001-01-24", Holiday},
		{"2001-01-30", Holiday}, {"2001-01-31", Workday}, {"2001-04-28", Makeup}, {"2001-05-07", Holiday},
		{"2001-05-08", Workday}, {"2001-09-29", Makeup}, {"2001-09-30", Makeup}, {"2001-10-01", Holiday},
		{"2001-10-07", Holiday}, {"2001-12-29", Makeup}, {"2001-12-30", Makeup}, {"2002-01-03", Holiday},
		{"2015-09-03", Holiday}, // 抗战胜利日
		{"2020-01-31", Holiday}, {"2020-02-02", Holiday}, {"2020-02-03", Workday},
		{"2024-02-04", Makeup}, {"2024-02-10", Holiday}, {"2024-02-17", Holiday}, {"2024-02-18", Makeup},
		{"2024-02-19", Workday}, {"2024-02-24", Weekend},
	}
	for _, tc := range cases {
		if i := c.Day(d(tc.day)); i.Kind != tc.kind || !i.Known {
			t.Errorf("%s: %+v, want %s", tc.day, i, tc.kind)
		}
	}
	var want []int
	for y := FirstBuiltinYear; y <= LastBuiltinYear; y++ {
		want = append(want, y)
	}
	if got := c.LoadedYears(); !slices.Equal(got, want) {
		t.Errorf("LoadedYears = %v", got)
	}
	for _, s := range []string{"2000-12-29", "2027-01-01", "2027-01-02"} {
		i := c.Day(d(s))
		if i.Known {
			t.Errorf("%s is known", s)
		}
		if want := i.Date.Weekday() != time.Saturday && i.Date.Weekday() != time.Sunday; i.Working != want {
			t.Errorf("%s: %+v does not follow the weekend rule", s, i)
		}
	}
}

func TestRegionAndOverride(t *testing.T) {
	c := Default()
	if err := c.AddRegionDay("530100", d("2026-11-19"), "民族节日"); err != nil {
		t.Fatal(err)
	}
	r := c.Region("530100")
	if w, known := r.IsWorkingDay(d("2026-11-19")); w || !known {
		t.Fatal("region day is working in the region")
	}
	if i := r.Day(d("2026-11-19")); i.Kind != RegionOff || i.Name != "民族节日" {
		t.Fatalf("region day: %+v", i)
	}
	if w, _ := c.IsWorkingDay(d("2026-11-19")); !w {
		t.Fatal("region day leaked into the national calendar")
	}
	if w, _ := c.Region("110000").IsWorkingDay(d("2026-11-19")); !w {
		t.Fatal("region day leaked into another region")
	}
	got, _ := r.Add(at("2026-11-18T16:04:00+08:00"), Span{4, WorkingHours})
	if want := at("2026-11-20T11:04:00+08:00"); !got.Equal(want) {
		t.Fatalf("region 4wh: %s want %s", got, want)
	}
	got, _ = r.Add(at("2026-11-18T16:04:00+08:00"), Span{5, WorkingDays})
	if want := at("2026-11-26T17:30:00+08:00"); !got.Equal(want) {
		t.Fatalf("region 5wd: %s want %s", got, want)
	}
	// The region's day does not move national deadlines.
	got, _ = c.Add(at("2026-11-18T16:04:00+08:00"), Span{5, WorkingDays})
	if want := at("2026-11-25T17:30:00+08:00"); !got.Equal(want) {
		t.Fatalf("national 5wd: %s want %s", got, want)
	}

	if err := c.SetOverride(d("2026-11-21"), true, "防汛值班"); err != nil {
		t.Fatal(err)
	}
	if i := c.Day(d("2026-11-21")); !i.Working || i.Kind != OverrideWork || i.Name != "防汛值班" {
		t.Fatalf("override: %+v", i)
	}
	c.SetOverride(d("2026-11-20"), false, "停电")
	got, _ = c.Add(at("2026-11-19T17:00:00+08:00"), Span{1, WorkingHours})
	if want := at("2026-11-21T09:00:00+08:00"); !got.Equal(want) {
		t.Fatalf("overrides: %s want %s", got, want)
	}
	// An override wins over a region day, a holiday and an unloaded year.
	c.SetOverride(d("2026-11-19"), true, "照常上班")
	if w, _ := r.IsWorkingDay(d("2026-11-19")); !w {
		t.Fatal("override lost to the region day")
	}
	c.SetOverride(d("2026-10-02"), true, "应急")
	if i := c.Day(d("2026-10-02")); !i.Working || i.Kind != OverrideWork {
		t.Fatalf("override of a holiday: %+v", i)
	}
	c.SetOverride(d("2030-06-03"), false, "远期")
	if w, known := c.IsWorkingDay(d("2030-06-03")); w || known {
		t.Fatalf("override in an unloaded year: working=%v known=%v", w, known)
	}
	if w, known := c.IsWorkingDay(d("2030-06-04")); !w || known {
		t.Fatalf("day after it: working=%v known=%v", w, known)
	}
	c.ClearOverride(d("2026-11-20"))
	if w, _ := c.IsWorkingDay(d("2026-11-20")); !w {
		t.Fatal("cleared override still applies")
	}
	c.ClearOverride(d("2026-11-19"))
	c.RemoveRegionDay("530100", d("2026-11-19"))
	if w, _ := r.IsWorkingDay(d("2026-11-19")); !w {
		t.Fatal("removed region day still applies")
	}
	if err := c.AddRegionDay("", d("2026-11-19"), "x"); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Errorf("region \"\": %v", err)
	}
	if err := c.SetOverride(Date{2026, 2, 30}, true, "x"); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Errorf("override of 2026-02-30: %v", err)
	}
}

func TestLoadYear(t *testing.T) {
	c := New(nil)
	if len(c.LoadedYears()) != 0 {
		t.Fatal("New has years")
	}
	bad := []struct {
		name string
		off  []HolidayDay
		on   []Date
	}{
		{"outside the year", []HolidayDay{{d("2026-01-01"), "元旦"}}, nil},
		{"make-up outside", []HolidayDay{{d("2027-01-01"), "元旦"}}, []Date{d("2026-12-26")}},
		{"not a date", []HolidayDay{{Date{2027, 2, 29}, "x"}}, nil},
		{"both", []HolidayDay{{d("2027-02-06"), "春节"}}, []Date{d("2027-02-06")}},
	}
	for _, tc := range bad {
		if err := c.LoadYear(2027, tc.off, tc.on); hotline.ErrorCode(err) != hotline.EINVALID {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if len(c.LoadedYears()) != 0 {
		t.Fatal("a failed load marked the year loaded")
	}
	if err := c.LoadYear(2027, []HolidayDay{{d("2027-01-01"), "元旦"}, {d("2027-02-08"), "春节"}}, []Date{d("2027-02-06")}); err != nil {
		t.Fatal(err)
	}
	// Loading again replaces the year.
	if err := c.LoadYear(2027, []HolidayDay{{d("2027-01-01"), "元旦"}}, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		day  string
		kind Kind
	}{{"2027-01-01", Holiday}, {"2027-02-08", Workday}, {"2027-02-06", Weekend}} {
		if i := c.Day(d(tc.day)); i.Kind != tc.kind || !i.Known {
			t.Errorf("after reload %s: %+v, want %s", tc.day, i, tc.kind)
		}
	}
	if got := c.LoadedYears(); !slices.Equal(got, []int{2027}) {
		t.Fatalf("LoadedYears = %v", got)
	}
	// A calendar and its region views share data.
	r := c.Region("530100")
	c.LoadYear(2028, []HolidayDay{{d("2028-01-03"), "元旦"}}, nil)
	if w, known := r.IsWorkingDay(d("2028-01-03")); w || !known {
		t.Fatal("a region view does not see a year loaded after it was made")
	}
}

func TestHours(t *testing.T) {
	good := []struct {
		in   string
		want []Period
	}{
		{"08:30-12:00,13:30-17:30", DefaultHours},
		{" 9:00-17:00 ", []Period{{540, 1020}}},
		{"00:00-24:00", []Period{{0, 1440}}},
	}
	for _, tc := range good {
		got, err := ParseHours(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseHours(%q) = %v, %v", tc.in, got, err)
		}
	}
	for _, s := range []string{"", "9-17", "09:00-08:00", "08:00-12:00,11:00-14:00", "08:00-12:00,12:00-14:00",
		"13:00-17:00,08:00-12:00", "08:60-09:00", "08:00-24:01", "-1:00-02:00", "08:00"} {
		if _, err := ParseHours(s); hotline.ErrorCode(err) != hotline.EINVALID {
			t.Errorf("ParseHours(%q) = %v", s, err)
		}
	}
	if got := DefaultHours[1].String(); got != "13:30-17:30" {
		t.Errorf("Period.String = %q", got)
	}

	c := Default()
	nine, _ := ParseHours("09:00-17:00")
	if err := c.SetHours(nine); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Hours(), nine) {
		t.Fatalf("Hours = %v", c.Hours())
	}
	cases := []struct{ from, span, want string }{
		{"2026-11-18T16:04:00+08:00", "5wd", "2026-11-25T17:00:00+08:00"},
		{"2026-11-18T16:04:00+08:00", "4wh", "2026-11-19T12:04:00+08:00"},
		{"2026-11-18T12:00:00+08:00", "5wh", "2026-11-18T17:00:00+08:00"},
	}
	for _, tc := range cases {
		got, _ := c.Add(at(tc.from), mustSpan(tc.span))
		if !got.Equal(at(tc.want)) {
			t.Errorf("9–17: %s + %s = %s, want %s", tc.from, tc.span, got, tc.want)
		}
	}
	if err := c.SetHours(nil); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Errorf("SetHours(nil) = %v", err)
	}
	if !slices.Equal(Default().Hours(), DefaultHours) {
		t.Error("SetHours leaked into another calendar")
	}
	defer func() {
		if recover() == nil {
			t.Error("New with overlapping hours did not panic")
		}
	}()
	New([]Period{{600, 700}, {650, 800}})
}

// Readers never see a half-built calendar while administrators write
// (run with -race).
func TestConcurrentUse(t *testing.T) {
	c := Default()
	start := at("2026-12-28T10:00:00+08:00")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			r := c.Region("530100")
			for i := range 300 {
				due, _ := r.Add(start, Span{1 + i%10, WorkingDays})
				if due.Before(start) {
					t.Errorf("goroutine %d: due %s before start", g, due)
					return
				}
				r.Year(2027)
				r.WorkingDuration(start, due)
			}
		})
	}
	for i := range 50 {
		c.LoadYear(2027, []HolidayDay{{Date{2027, 1, 1}, "元旦"}}, nil)
		c.SetOverride(Date{2026, 12, 29}, i%2 == 0, "值班")
		c.AddRegionDay("530100", Date{2026, 12, 30}, "节日")
		c.RemoveRegionDay("530100", Date{2026, 12, 30})
	}
	wg.Wait()
}
