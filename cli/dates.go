package cli

import (
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/calendar"
)

// dayRange turns --from/--to days (YYYY-MM-DD, China time, both included)
// into [start, end); without --to the range ends now, without --from it
// starts back days before the end.
func dayRange(from, to string, back int) (time.Time, time.Time, error) {
	parse := func(s string, def time.Time) (time.Time, error) {
		if s == "" {
			return def, nil
		}
		t, err := time.ParseInLocation("2006-01-02", s, calendar.China)
		if err != nil {
			return t, hotline.Errorf(hotline.EINVALID, "日期格式应为YYYY-MM-DD", "dates are YYYY-MM-DD")
		}
		return t, nil
	}
	end, err := parse(to, time.Now())
	if err != nil {
		return end, end, err
	}
	if to != "" {
		end = end.AddDate(0, 0, 1)
	}
	start, err := parse(from, end.AddDate(0, 0, -back))
	if err != nil {
		return start, end, err
	}
	if !start.Before(end) {
		return start, end, hotline.Errorf(hotline.EINVALID, "起始日期须早于结束日期", "--from must come before --to")
	}
	return start, end, nil
}
