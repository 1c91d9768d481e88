package ticket

import (
	"strings"
	"time"

	"github.com/hotline12345/hotline/calendar"
)

// activeLimit returns the policy span behind the order's active clock.
func (t *Ticket) activeLimit(l Limits) string {
	switch t.State {
	case Registered:
		return l.Dispatch
	case Dispatched:
		if t.ActiveDue().Equal(t.SignDue) {
			return l.Sign
		}
		return l.Reply
	case Processing, ReplyPending:
		return l.Reply
	case RevisitPending:
		return l.Revisit
	}
	return ""
}

// yellowAt computes when the active clock turns yellow, counted from start:
// one working day (7.5 working hours) or 20 % of the limit before due,
// whichever is shorter (DOMAIN.md §5). Natural-time clocks use 20 % of
// natural time.
func yellowAt(t *Ticket, env Env, start time.Time) time.Time {
	due := t.ActiveDue()
	if due.IsZero() {
		return time.Time{}
	}
	if !due.After(start) {
		return due
	}
	span := t.activeLimit(env.Policy.For(t.Type, t.Urgency, t.CategoryCode))
	if strings.HasSuffix(span, "wd") || strings.HasSuffix(span, "wh") {
		total := env.Calendar.WorkingDuration(start, due)
		window := min(total/5, 450*time.Minute)
		w, _ := env.Calendar.Add(start, calendar.Span{N: int((total - window) / time.Minute), Unit: calendar.WorkingMinutes})
		return w
	}
	return due.Add(-due.Sub(start) / 5)
}

// WarningAt returns the order's warning level at now: red when the active
// clock (or a supervision deadline) has run out, yellow inside the warning
// window, none otherwise.
func (t *Ticket) WarningAt(now time.Time) string {
	due := t.ActiveDue()
	if t.Supervision != nil && t.State.Open() && now.After(t.Supervision.Due) {
		return WarnRed
	}
	switch {
	case due.IsZero():
		return WarnNone
	case now.After(due):
		return WarnRed
	case !t.WarnAt.IsZero() && !now.Before(t.WarnAt):
		return WarnYellow
	}
	return WarnNone
}
