package calendar

import (
	"bufio"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"

	"github.com/hotline12345/hotline"
)

// The years Default knows.
const (
	FirstBuiltinYear = 2001
	LastBuiltinYear  = 2026
)

// year2001 fills the part of 2001 that lunar-go lacks: its table starts on
// 2001-12-29. Source: 国办发明电〔2001〕1号 (春节, 五一, 十一) and the
// one-day 元旦 of the 1999 rules.
var year2001 = struct {
	off []HolidayDay
	on  []Date
}{
	off: concat(
		days(Date{2001, 1, 1}, Date{2001, 1, 1}, "元旦"),
		days(Date{2001, 1, 24}, Date{2001, 1, 30}, "春节"),
		days(Date{2001, 5, 1}, Date{2001, 5, 7}, "劳动节"),
		days(Date{2001, 10, 1}, Date{2001, 10, 7}, "国庆节"),
	),
	on: []Date{{2001, 1, 20}, {2001, 1, 21}, {2001, 4, 28}, {2001, 4, 29}, {2001, 9, 29}, {2001, 9, 30}},
}

func days(from, to Date, name string) []HolidayDay {
	var out []HolidayDay
	for n := from.day(); n <= to.day(); n++ {
		out = append(out, HolidayDay{dateOfDay(n), name})
	}
	return out
}

func concat(parts ...[]HolidayDay) []HolidayDay {
	var out []HolidayDay
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// builtinYear returns a year's national days off and make-up days as
// lunar-go's HolidayUtil has them (the State Council's notices; DOMAIN.md
// §5's 2025 and 2026 lists are checked against it day by day in tests).
func builtinYear(y int) ([]HolidayDay, []Date) {
	var off []HolidayDay
	var on []Date
	if y == 2001 {
		off, on = append(off, year2001.off...), append(on, year2001.on...)
	}
	l := HolidayUtil.GetHolidaysByYear(y)
	for e := l.Front(); e != nil; e = e.Next() {
		h := e.Value.(*HolidayUtil.Holiday)
		d, err := ParseDate(h.GetDay())
		if err != nil || d.Year != y {
			continue
		}
		if h.IsWork() {
			on = append(on, d)
		} else {
			off = append(off, HolidayDay{Date: d, Name: h.GetName()})
		}
	}
	return off, on
}

// builtin is the national data of the built-in years, read from lunar-go
// once; every Default calendar starts from a copy.
var builtin = sync.OnceValue(func() source {
	src := source{national: map[int]entry{}, years: map[int]bool{}}
	for y := FirstBuiltinYear; y <= LastBuiltinYear; y++ {
		off, on := builtinYear(y)
		if err := checkYear(y, off, on); err != nil {
			panic(fmt.Sprintf("calendar: built-in year %d: %v", y, err))
		}
		setYear(&src, y, off, on)
	}
	return src
})

// Default returns a calendar with default working hours and the built-in
// national holidays and make-up days of 2001–2026 (lunar-go's official
// table, 2001 completed from the State Council's notice).
func Default() *Calendar {
	b := builtin()
	c := &Calendar{sh: &shared{}}
	c.sh.cur.Store(build(source{hours: slices.Clone(DefaultHours), national: maps.Clone(b.national), years: maps.Clone(b.years),
		overrides: map[int]entry{}, regions: map[string]map[int]string{}}))
	return c
}

// ParseYear reads a year's national days as an administrator pastes them,
// one day or range a line:
//
//	2027-01-01 off 元旦
//	2027-02-05~2027-02-11 off 春节
//	2027-02-14 work 调休
//
// "休" and "班" may stand for off and work; a range may also be written
// with "..". Blank lines and lines starting with # are ignored. Errors name
// the line: a bad date, a date outside year, a date given twice, or a date
// both off and on. The result is ready for LoadYear.
func ParseYear(year int, text string) ([]HolidayDay, []Date, error) {
	var off []HolidayDay
	var on []Date
	line := map[Date]int{} // where each date was given
	sc := bufio.NewScanner(strings.NewReader(text))
	n := 0
	for sc.Scan() {
		n++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		f := strings.Fields(s)
		if len(f) < 2 {
			return nil, nil, hotline.Errorf(hotline.EINVALID, "第%d行格式应为“日期 off|work 名称”", "line %d: want \"DATE off|work NAME\"", n, n)
		}
		from, to, err := parseRange(f[0])
		if err != nil {
			return nil, nil, hotline.Errorf(hotline.EINVALID, "第%d行：日期“%s”无效", "line %d: invalid date %q", n, f[0], n, f[0])
		}
		if from.Year != year || to.Year != year {
			return nil, nil, hotline.Errorf(hotline.EINVALID, "第%d行：%s不在%d年", "line %d: %s is not in %d", n, f[0], year, n, f[0], year)
		}
		if to.Before(from) {
			return nil, nil, hotline.Errorf(hotline.EINVALID, "第%d行：起始日期晚于结束日期", "line %d: range ends before it starts", n, n)
		}
		var working bool
		switch f[1] {
		case "off", "休":
		case "work", "班":
			working = true
		default:
			return nil, nil, hotline.Errorf(hotline.EINVALID, "第%d行：类型须为off或work", "line %d: kind must be off or work", n, n)
		}
		name := strings.Join(f[2:], " ")
		if name == "" {
			name = "节假日"
		}
		for d := from; !to.Before(d); d = d.AddDays(1) {
			if prev, dup := line[d]; dup {
				return nil, nil, hotline.Errorf(hotline.EINVALID, "第%d行：日期%s已在第%d行给出", "line %d: %s already given on line %d", n, d, prev, n, d, prev)
			}
			line[d] = n
			if working {
				on = append(on, d)
			} else {
				off = append(off, HolidayDay{Date: d, Name: name})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, hotline.Errorf(hotline.EINVALID, "第%d行过长", "line %d too long", n+1, n+1)
	}
	if len(off) == 0 {
		return nil, nil, hotline.Errorf(hotline.EINVALID, "没有任何假日", "no days off given")
	}
	if err := checkYear(year, off, on); err != nil {
		return nil, nil, err
	}
	return off, on, nil
}

func parseRange(s string) (Date, Date, error) {
	a, b, ok := strings.Cut(s, "~")
	if !ok {
		a, b, ok = strings.Cut(s, "..")
	}
	from, err := ParseDate(a)
	if err != nil || !ok {
		return from, from, err
	}
	to, err := ParseDate(b)
	return from, to, err
}

// YearText writes year y's national days in the form ParseYear reads, runs
// of consecutive days off with one name as a range, so an administrator
// can copy a year, edit it and load it back. Overrides and region days are
// not part of it.
func (c *Calendar) YearText(y int) string {
	s := c.snap()
	var b strings.Builder
	from, to := Date{y, time.January, 1}.day(), Date{y + 1, time.January, 1}.day()
	for n := from; n < to; n++ {
		e, ok := s.national[n]
		if !ok {
			continue
		}
		if e.working {
			fmt.Fprintf(&b, "%s work %s\n", dateOfDay(n), e.name)
			continue
		}
		end := n
		for next, ok := s.national[end+1]; ok && !next.working && next.name == e.name && end+1 < to; next, ok = s.national[end+1] {
			end++
		}
		if end == n {
			fmt.Fprintf(&b, "%s off %s\n", dateOfDay(n), e.name)
		} else {
			fmt.Fprintf(&b, "%s~%s off %s\n", dateOfDay(n), dateOfDay(end), e.name)
		}
		n = end
	}
	return b.String()
}
