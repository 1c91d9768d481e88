package calendar

import (
	"fmt"
	"time"

	"github.com/hotline12345/hotline"
)

// China is China Standard Time. China has kept UTC+8 without daylight
// saving since 1991, so a fixed zone is exact and needs no tzdata.
var China = time.FixedZone("CST", 8*3600)

const (
	chinaOffset   = 8 * 3600 // seconds east of UTC
	secondsPerDay = 86400
)

// Date is a civil date in China.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the China-time date of t.
func DateOf(t time.Time) Date { return dateOfDay(dayOf(t)) }

// ParseDate parses 2006-01-02.
func ParseDate(s string) (Date, error) {
	t, err := time.ParseInLocation("2006-01-02", s, China)
	if err != nil {
		return Date{}, hotline.Errorf(hotline.EINVALID, "日期“%s”格式无效（应为YYYY-MM-DD）", "invalid date %q (want YYYY-MM-DD)", s, s)
	}
	return DateOf(t), nil
}

// Valid reports whether d names a real calendar day (2026-02-30 does not).
func (d Date) Valid() bool {
	return d.Month >= time.January && d.Month <= time.December && d.Day >= 1 && d.Day <= 31 &&
		dateOfDay(d.day()) == d
}

// At returns the instant minutes after midnight China time on d.
func (d Date) At(minutes int) time.Time { return instant(d.day(), time.Duration(minutes)*time.Minute) }

// AddDays returns the date n days later (or earlier).
func (d Date) AddDays(n int) Date { return dateOfDay(d.day() + n) }

// Weekday of d.
func (d Date) Weekday() time.Weekday { return weekday(d.day()) }

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.day() < e.day() }

// After reports whether d is later than e.
func (d Date) After(e Date) bool { return d.day() > e.day() }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch a, b := d.day(), e.day(); {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Sub returns the number of days from e to d.
func (d Date) Sub(e Date) int { return d.day() - e.day() }

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// MarshalText writes "2006-01-02"; JSON uses it too, so a Date is a string
// in JSON and can key a JSON object.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "2006-01-02".
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Days are counted as integers (days since 1970-01-01) so that walking the
// calendar costs additions and a table index, not time.Date calls; this is
// what keeps a deadline computation well under a microsecond.

// day returns d as days since 1970-01-01 (proleptic Gregorian; H. Hinnant's
// days_from_civil). Out-of-range days roll over as time.Date would.
func (d Date) day() int {
	y, m := d.Year, int(d.Month)
	if m < 1 || m > 12 { // normalise like time.Date so that garbage never panics
		q := floorDiv(m-1, 12)
		y, m = y+q, m-12*q
	}
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12 // March = 0
	doy := (153*mp+2)/5 + d.Day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// dateOfDay is the inverse of Date.day (civil_from_days).
func dateOfDay(z int) Date {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
		y++
	}
	return Date{y, time.Month(m), d}
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// weekday of day number n (1970-01-01 was a Thursday).
func weekday(n int) time.Weekday {
	w := (n + 4) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

func isWeekend(n int) bool {
	w := weekday(n)
	return w == time.Saturday || w == time.Sunday
}

// dayOf returns the China-time day number of t.
func dayOf(t time.Time) int { return floorDiv(int(t.Unix())+chinaOffset, secondsPerDay) }

// split returns t's China-time day number and its offset since that
// midnight (keeping sub-second precision).
func split(t time.Time) (int, time.Duration) {
	s := int(t.Unix()) + chinaOffset
	n := floorDiv(s, secondsPerDay)
	return n, time.Duration(s-n*secondsPerDay)*time.Second + time.Duration(t.Nanosecond())
}

// instant is the time off after midnight China time of day n.
func instant(n int, off time.Duration) time.Time {
	return time.Unix(int64(n)*secondsPerDay-chinaOffset, 0).Add(off).In(China)
}
