package calendar

import "time"

// maxWalk bounds every walk over the calendar (25 years of days): more than
// the longest span ParseSpan accepts needs, so a Span built by hand or a
// calendar with every day overridden off cannot loop for long.
const maxWalk = 25 * 366

// Add returns t plus s and whether the result is provisional (some day
// consulted lies in a year that is not loaded). Natural units are plain
// addition and never provisional. N ≤ 0 or an unknown unit returns t; N
// beyond the limits ParseSpan enforces is cut to them.
func (c *Calendar) Add(t time.Time, s Span) (time.Time, bool) {
	n := s.N
	if n <= 0 {
		return t, false
	}
	if limit, ok := spanMax[s.Unit]; ok && n > limit {
		n = limit
	}
	switch s.Unit {
	case Minutes:
		return t.Add(time.Duration(n) * time.Minute), false
	case Hours:
		return t.Add(time.Duration(n) * time.Hour), false
	case Days:
		return t.AddDate(0, 0, n), false
	case WorkingDays:
		return c.AddWorkingDays(t, n)
	case WorkingHours:
		return c.AddWorkingHours(t, time.Duration(n)*time.Hour)
	case WorkingMinutes:
		return c.AddWorkingHours(t, time.Duration(n)*time.Minute)
	}
	return t, false
}

// AddWorkingDays returns close of business of the n-th working day after
// the day of t (China time), and whether that is provisional.
func (c *Calendar) AddWorkingDays(t time.Time, n int) (time.Time, bool) {
	if n <= 0 {
		return t, false
	}
	s := c.snap()
	region := s.regions[c.region]
	day, prov := dayOf(t), false
	for range maxWalk {
		day++
		working, known := s.status(day, region)
		prov = prov || !known
		if working {
			if n--; n == 0 {
				break
			}
		}
	}
	return instant(day, s.close), prov
}

// AddWorkingHours returns t plus d of working time, counting only time
// inside working hours on working days. A start outside working hours
// counts from the next period's start; a span that exactly fills a period
// ends at its end.
func (c *Calendar) AddWorkingHours(t time.Time, d time.Duration) (time.Time, bool) {
	if d <= 0 {
		return t, false
	}
	s := c.snap()
	region := s.regions[c.region]
	day, off := split(t)
	prov := false
	for range maxWalk {
		working, known := s.status(day, region)
		prov = prov || !known
		if working {
			if off == 0 && d > s.full { // a whole day, no need to look at its periods
				d -= s.full
			} else {
				for _, p := range s.periods {
					start := max(p.start, off)
					if start >= p.end {
						continue
					}
					if avail := p.end - start; d > avail {
						d -= avail
					} else {
						return instant(day, start+d), prov
					}
				}
			}
		}
		day, off = day+1, 0
	}
	return instant(day, 0), prov
}

// AddWorkingMinutes adds m minutes of working time (see AddWorkingHours).
func (c *Calendar) AddWorkingMinutes(t time.Time, m int) (time.Time, bool) {
	return c.AddWorkingHours(t, time.Duration(m)*time.Minute)
}

// WorkingDuration is the working time between from and to (0 if to is not
// after from): what a countdown shows as remaining, and what a stopped
// clock has used. For a working-time due computed from a start s,
// WorkingDuration(s, due) is the span added.
func (c *Calendar) WorkingDuration(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	s := c.snap()
	region := s.regions[c.region]
	first, lo := split(from)
	last, hi := split(to)
	var total time.Duration
	for n := first; n <= last; n++ {
		if working, _ := s.status(n, region); !working {
			continue
		}
		a, b := time.Duration(0), 24*time.Hour
		if n == first {
			a = lo
		}
		if n == last {
			b = hi
		}
		if a == 0 && b == 24*time.Hour {
			total += s.full
			continue
		}
		for _, p := range s.periods {
			if x, y := max(p.start, a), min(p.end, b); y > x {
				total += y - x
			}
		}
	}
	return total
}

// Remaining is the working time left from now until due; once overdue it
// is negative and measured in natural time past due, because "overdue by
// 3 days" means calendar days to the citizen waiting.
func (c *Calendar) Remaining(now, due time.Time) time.Duration {
	if now.After(due) {
		return -now.Sub(due)
	}
	return c.WorkingDuration(now, due)
}
