// Package calendar is the Chinese working-time calendar every work-order
// deadline runs on: working days (weekends off, public holidays off, 调休
// make-up days on), working hours (08:30–12:00 and 13:30–17:30 by default),
// region-specific days off, and administrators' overrides. It is pure Go
// with no I/O; storage persists what administrators load and replays it.
//
// # Counting rule
//
// This matches real hotline data (DOMAIN.md §5). N working days from an
// instant t end at close of business of the N-th working day after the day
// of t, whatever the time of t; from a non-working day the first working
// day after it is day 1. N working hours count only time inside working
// hours; a start outside them counts from the next period's start, and a
// span that exactly fills a period ends at that period's end (12:00, not
// 13:30). Dispatched Wed 16:04 + 4 working hours = Thu 11:04; + 5 working
// days = next Wed 17:30. Natural units (h, d, m) are plain addition.
// All day arithmetic happens in China time whatever the zone of the input.
//
// # Which day is what
//
// For a date, the first of these that applies decides: an administrator's
// override (working or off, with a note); the region's own day off (for a
// Region view); the national holiday or 调休 make-up working day of a
// loaded year; otherwise the weekend rule.
//
// # Unloaded years
//
// The State Council publishes each year's holidays in November of the year
// before. A computation that consults a day in a year that is not loaded
// falls back to the weekend rule and reports provisional = true, so callers
// can flag the deadline, warn the administrators, and recompute it once
// LoadYear has run.
//
// # Concurrency and speed
//
// A Calendar is shared by every request and changed rarely (an
// administrator loads a year or marks a day), so it is copy-on-write:
// readers take an immutable snapshot with one atomic load and never lock;
// writers serialise on a mutex, rebuild the snapshot and publish it. The
// snapshot flattens national days, overrides and the weekend rule into one
// byte per day indexed by day number, so walking the calendar costs an
// addition and a slice index per day.
package calendar

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline12345/hotline"
)

// Period is a span of working time within a day, in minutes after midnight.
type Period struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

func (p Period) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", p.Start/60, p.Start%60, p.End/60, p.End%60)
}

// DefaultHours are 08:30–12:00 and 13:30–17:30.
var DefaultHours = []Period{{8*60 + 30, 12 * 60}, {13*60 + 30, 17*60 + 30}}

// CheckHours reports whether ps can be a day's working hours: at least one
// period, each inside the day and not empty, in order and not overlapping.
func CheckHours(ps []Period) error {
	if len(ps) == 0 {
		return hotline.Errorf(hotline.EINVALID, "至少需要一个工作时段", "at least one working period is required")
	}
	prev := 0
	for i, p := range ps {
		if p.Start < prev || p.End <= p.Start || p.End > 24*60 {
			return hotline.Errorf(hotline.EINVALID, "工作时段%s无效（须在当天内、按时间先后且互不重叠）",
				"working period %s is invalid (must lie within the day, in order, without overlap)", p, p)
		}
		if i > 0 && p.Start == prev {
			// Adjacent periods would make "exactly fills a period" ambiguous; one period says it.
			return hotline.Errorf(hotline.EINVALID, "工作时段%s与上一时段相连，请合并", "working period %s touches the previous one; merge them", p, p)
		}
		prev = p.End
	}
	return nil
}

// ParseHours parses working hours written "08:30-12:00,13:30-17:30".
func ParseHours(s string) ([]Period, error) {
	bad := hotline.Errorf(hotline.EINVALID, "工作时间“%s”格式无效（如08:30-12:00,13:30-17:30）",
		"invalid working hours %q (e.g. 08:30-12:00,13:30-17:30)", s, s)
	var ps []Period
	for part := range strings.SplitSeq(s, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return nil, bad
		}
		a, okA := clock(from)
		b, okB := clock(to)
		if !okA || !okB {
			return nil, bad
		}
		ps = append(ps, Period{a, b})
	}
	if err := CheckHours(ps); err != nil {
		return nil, err
	}
	return ps, nil
}

// clock parses "hh:mm" (24:00 allowed as the end of the day).
func clock(s string) (int, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) == 0 || len(h) > 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, false
	}
	return hh*60 + mm, true
}

// Kind of a day.
type Kind string

const (
	Workday      Kind = "workday"
	Weekend      Kind = "weekend"
	Holiday      Kind = "holiday"       // national public holiday (off)
	Makeup       Kind = "makeup"        // 调休 make-up working day (on)
	RegionOff    Kind = "region_off"    // a region's own day off
	OverrideOff  Kind = "override_off"  // an administrator marked it off
	OverrideWork Kind = "override_work" // an administrator marked it working
)

// DayInfo describes one date.
type DayInfo struct {
	Date    Date   `json:"date"`
	Kind    Kind   `json:"kind"`
	Working bool   `json:"working"`
	Name    string `json:"name,omitempty"`
	Known   bool   `json:"known"` // false: the year is not loaded, weekend rule applied
}

// HolidayDay is a day off with its festival's name.
type HolidayDay struct {
	Date Date   `json:"date"`
	Name string `json:"name"`
}

// MakeupName names every 调休 make-up working day.
const MakeupName = "调休上班"

type entry struct {
	working bool
	name    string
}

// source is what administrators change. A published source is never
// modified: writers clone the maps they change.
type source struct {
	hours     []Period
	national  map[int]entry // by day number; only days of loaded years
	years     map[int]bool
	overrides map[int]entry
	regions   map[string]map[int]string
}

// per-day flags in snapshot.flags
const (
	fWorking uint8 = 1 << iota
	fKnown
	fOverride
)

// snapshot is an immutable, read-optimised view of a source.
type snapshot struct {
	source
	periods []window      // hours as offsets from midnight
	close   time.Duration // close of business: end of the last period
	full    time.Duration // working time in a whole working day
	base    int           // day number of flags[0]
	flags   []uint8       // national days, overrides and the weekend rule, one byte a day
	loaded  []int         // sorted years
}

type window struct{ start, end time.Duration }

func build(src source) *snapshot {
	s := &snapshot{source: src}
	for _, p := range src.hours {
		w := window{time.Duration(p.Start) * time.Minute, time.Duration(p.End) * time.Minute}
		s.periods = append(s.periods, w)
		s.full += w.end - w.start
	}
	s.close = s.periods[len(s.periods)-1].end
	lo, hi := 0, -1
	widen := func(y int) {
		if hi < lo {
			lo, hi = y, y
		}
		lo, hi = min(lo, y), max(hi, y)
	}
	for y := range src.years {
		widen(y)
		s.loaded = append(s.loaded, y)
	}
	slices.Sort(s.loaded)
	for n := range src.overrides {
		widen(dateOfDay(n).Year)
	}
	if hi < lo {
		return s
	}
	s.base = Date{lo, time.January, 1}.day()
	s.flags = make([]uint8, Date{hi + 1, time.January, 1}.day()-s.base)
	for y := lo; y <= hi; y++ {
		var known uint8
		if src.years[y] {
			known = fKnown
		}
		from, to := Date{y, time.January, 1}.day(), Date{y + 1, time.January, 1}.day()
		for n := from; n < to; n++ {
			f := known
			if !isWeekend(n) {
				f |= fWorking
			}
			s.flags[n-s.base] = f
		}
	}
	set := func(n int, e entry, extra uint8) {
		f := s.flags[n-s.base]&^fWorking | extra
		if e.working {
			f |= fWorking
		}
		s.flags[n-s.base] = f
	}
	for n, e := range src.national {
		set(n, e, 0)
	}
	for n, e := range src.overrides { // after national: overrides win
		set(n, e, fOverride)
	}
	return s
}

// status answers the only question arithmetic asks of a day. region is the
// region's day-off set, nil for the national calendar.
func (s *snapshot) status(n int, region map[int]string) (working, known bool) {
	var f uint8
	if i := n - s.base; i >= 0 && i < len(s.flags) {
		f = s.flags[i]
	} else if !isWeekend(n) {
		f = fWorking
	}
	if region != nil && f&fOverride == 0 {
		if _, off := region[n]; off {
			return false, f&fKnown != 0
		}
	}
	return f&fWorking != 0, f&fKnown != 0
}

type shared struct {
	mu  sync.Mutex // serialises writers
	cur atomic.Pointer[snapshot]
}

// Calendar answers working-time questions, for the whole country or, via
// Region, for one region with its extra days off. All views of a calendar
// share its data: a year loaded through one is seen by all.
type Calendar struct {
	sh     *shared
	region string
}

// New returns an empty calendar (no year loaded) with working hours hours
// (DefaultHours if nil). It panics if hours fail CheckHours: hours from
// configuration or administrators go through ParseHours or SetHours, which
// return errors instead.
func New(hours []Period) *Calendar {
	if hours == nil {
		hours = DefaultHours
	}
	if err := CheckHours(hours); err != nil {
		panic(err)
	}
	c := &Calendar{sh: &shared{}}
	c.sh.cur.Store(build(source{hours: slices.Clone(hours), national: map[int]entry{}, years: map[int]bool{},
		overrides: map[int]entry{}, regions: map[string]map[int]string{}}))
	return c
}

func (c *Calendar) snap() *snapshot { return c.sh.cur.Load() }

// update applies f to a copy of the current source and publishes the
// result. f must clone any map it changes.
func (c *Calendar) update(f func(src *source) error) error {
	c.sh.mu.Lock()
	defer c.sh.mu.Unlock()
	src := c.snap().source
	if err := f(&src); err != nil {
		return err
	}
	c.sh.cur.Store(build(src))
	return nil
}

// Region returns a view of c that also treats region's extra days as off.
// Region("") is the national calendar.
func (c *Calendar) Region(region string) *Calendar { return &Calendar{sh: c.sh, region: region} }

// RegionCode is the region this view is for ("" for national).
func (c *Calendar) RegionCode() string { return c.region }

// Hours returns the working periods of a day.
func (c *Calendar) Hours() []Period { return slices.Clone(c.snap().hours) }

// SetHours changes the working periods of every day.
func (c *Calendar) SetHours(hours []Period) error {
	if err := CheckHours(hours); err != nil {
		return err
	}
	return c.update(func(src *source) error {
		src.hours = slices.Clone(hours)
		return nil
	})
}

// LoadYear sets a year's national holidays and make-up working days,
// replacing what the calendar had for that year, and marks the year loaded.
// Every date must be a real date in year, and none may be both off and on.
func (c *Calendar) LoadYear(year int, off []HolidayDay, on []Date) error {
	if err := checkYear(year, off, on); err != nil {
		return err
	}
	return c.update(func(src *source) error {
		src.national, src.years = maps.Clone(src.national), maps.Clone(src.years)
		setYear(src, year, off, on)
		return nil
	})
}

func checkYear(year int, off []HolidayDay, on []Date) error {
	if year < 1 || year > 9999 {
		return hotline.Errorf(hotline.EINVALID, "年份%d无效", "invalid year %d", year, year)
	}
	seen := map[Date]bool{}
	check := func(d Date) error {
		if !d.Valid() {
			return hotline.Errorf(hotline.EINVALID, "日期%s无效", "invalid date %s", d, d)
		}
		if d.Year != year {
			return hotline.Errorf(hotline.EINVALID, "日期%s不在%d年", "date %s is not in %d", d, year, d, year)
		}
		return nil
	}
	for _, h := range off {
		if err := check(h.Date); err != nil {
			return err
		}
		seen[h.Date] = true
	}
	for _, d := range on {
		if err := check(d); err != nil {
			return err
		}
		if seen[d] {
			return hotline.Errorf(hotline.EINVALID, "日期%s既是假日又是调休上班日", "date %s is both a holiday and a make-up working day", d, d)
		}
	}
	return nil
}

// setYear writes a checked year into src, whose maps the caller owns.
func setYear(src *source, year int, off []HolidayDay, on []Date) {
	from, to := Date{year, time.January, 1}.day(), Date{year + 1, time.January, 1}.day()
	for n := range src.national {
		if n >= from && n < to {
			delete(src.national, n)
		}
	}
	for _, h := range off {
		src.national[h.Date.day()] = entry{working: false, name: h.Name}
	}
	for _, d := range on {
		src.national[d.day()] = entry{working: true, name: MakeupName}
	}
	src.years[year] = true
}

// LoadedYears lists the years whose national days are known, in order.
func (c *Calendar) LoadedYears() []int { return slices.Clone(c.snap().loaded) }

// SetOverride marks d working or off, taking precedence over everything.
func (c *Calendar) SetOverride(d Date, working bool, note string) error {
	if !d.Valid() {
		return hotline.Errorf(hotline.EINVALID, "日期%s无效", "invalid date %s", d, d)
	}
	return c.update(func(src *source) error {
		src.overrides = maps.Clone(src.overrides)
		src.overrides[d.day()] = entry{working: working, name: note}
		return nil
	})
}

// ClearOverride removes an override.
func (c *Calendar) ClearOverride(d Date) {
	c.update(func(src *source) error {
		src.overrides = maps.Clone(src.overrides)
		delete(src.overrides, d.day())
		return nil
	})
}

// AddRegionDay marks d off in region (e.g. a minority festival).
func (c *Calendar) AddRegionDay(region string, d Date, name string) error {
	if region == "" || !d.Valid() {
		return hotline.Errorf(hotline.EINVALID, "区域或日期无效", "invalid region or date")
	}
	return c.update(func(src *source) error {
		src.regions = maps.Clone(src.regions)
		days := maps.Clone(src.regions[region])
		if days == nil {
			days = map[int]string{}
		}
		days[d.day()] = name
		src.regions[region] = days
		return nil
	})
}

// RemoveRegionDay undoes AddRegionDay.
func (c *Calendar) RemoveRegionDay(region string, d Date) {
	c.update(func(src *source) error {
		src.regions = maps.Clone(src.regions)
		days := maps.Clone(src.regions[region])
		delete(days, d.day())
		if len(days) == 0 {
			delete(src.regions, region)
		} else {
			src.regions[region] = days
		}
		return nil
	})
}

// Day describes d.
func (c *Calendar) Day(d Date) DayInfo { return c.snap().info(d, c.region) }

func (s *snapshot) info(d Date, region string) DayInfo {
	n := d.day()
	info := DayInfo{Date: d, Known: s.years[d.Year]}
	if e, ok := s.overrides[n]; ok {
		info.Working, info.Name, info.Kind = e.working, e.name, OverrideOff
		if e.working {
			info.Kind = OverrideWork
		}
		return info
	}
	if name, ok := s.regions[region][n]; ok && region != "" {
		info.Kind, info.Name = RegionOff, name
		return info
	}
	if e, ok := s.national[n]; ok {
		info.Working, info.Name, info.Kind = e.working, e.name, Holiday
		if e.working {
			info.Kind = Makeup
		}
		return info
	}
	if isWeekend(n) {
		info.Kind = Weekend
		return info
	}
	info.Kind, info.Working = Workday, true
	return info
}

// IsWorkingDay reports whether d is a working day and whether its year is
// loaded (known); an unknown year uses the weekend rule.
func (c *Calendar) IsWorkingDay(d Date) (working, known bool) {
	s := c.snap()
	return s.status(d.day(), s.regions[c.region])
}

// Year lists every day of year y, for a year view.
func (c *Calendar) Year(y int) []DayInfo {
	s := c.snap()
	from, to := Date{y, time.January, 1}.day(), Date{y + 1, time.January, 1}.day()
	out := make([]DayInfo, 0, to-from)
	for n := from; n < to; n++ {
		out = append(out, s.info(dateOfDay(n), c.region))
	}
	return out
}
