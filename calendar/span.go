package calendar

import (
	"strconv"
	"strings"

	"github.com/hotline12345/hotline"
)

// Unit of a span.
type Unit string

const (
	WorkingDays    Unit = "wd" // ends at close of business of the N-th working day after the start day
	WorkingHours   Unit = "wh" // counts only minutes inside working hours
	WorkingMinutes Unit = "wm"
	Hours          Unit = "h" // natural time
	Days           Unit = "d"
	Minutes        Unit = "m"
)

// Span is an amount of time such as 5wd, 4wh, 24h.
type Span struct {
	N    int
	Unit Unit
}

func (s Span) String() string { return strconv.Itoa(s.N) + string(s.Unit) }

// MarshalText writes the span as ParseSpan reads it ("5wd"), so a Span is a
// string in JSON and configuration.
func (s Span) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads what ParseSpan reads.
func (s *Span) UnmarshalText(b []byte) error {
	v, err := ParseSpan(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Working reports whether the span counts working time.
func (s Span) Working() bool {
	return s.Unit == WorkingDays || s.Unit == WorkingHours || s.Unit == WorkingMinutes
}

// limits keep arithmetic bounded: ten years in any unit.
var spanMax = map[Unit]int{WorkingDays: 2500, WorkingHours: 20000, WorkingMinutes: 1_200_000, Hours: 87600, Days: 3650, Minutes: 5_256_000}

// ParseSpan parses "5wd", "4wh", "90wm", "24h", "2d", "30m".
func ParseSpan(s string) (Span, error) {
	bad := hotline.Errorf(hotline.EINVALID, "时限“%s”无效（如5wd、4wh、24h、2d、30m）", "invalid span %q (e.g. 5wd, 4wh, 24h, 2d, 30m)", s, s)
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 9 {
		return Span{}, bad
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil {
		return Span{}, bad
	}
	u := Unit(s[i:])
	limit, ok := spanMax[u]
	if !ok {
		return Span{}, bad
	}
	if n > limit {
		return Span{}, hotline.Errorf(hotline.EINVALID, "时限“%s”过长（最多%d%s）", "span %q too long (at most %d%s)", s, limit, u, s, limit, u)
	}
	return Span{N: n, Unit: u}, nil
}
