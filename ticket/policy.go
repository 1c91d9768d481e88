package ticket

import (
	"strings"

	"github.com/hotline12345/hotline/calendar"
)

// Limits are the time limits of one kind of order. Each is a span such as
// "1wd" (working days), "4wh" (working hours), "2h" (natural hours), "30m".
type Limits struct {
	Dispatch string `json:"dispatch"` // registration → dispatch
	Sign     string `json:"sign"`     // dispatch → sign (签收)
	Contact  string `json:"contact"`  // dispatch → first contact (先行联系)
	Reply    string `json:"reply"`    // dispatch → reply (答复)
	Revisit  string `json:"revisit"`  // reply approved → revisit (回访)
}

// Rule overrides some limits for orders matching it; empty fields match
// anything and empty limits keep the default.
type Rule struct {
	Type           Type    `json:"type,omitempty"`
	Urgency        Urgency `json:"urgency,omitempty"`
	CategoryPrefix string  `json:"category_prefix,omitempty"`
	Limits         Limits  `json:"limits"`
}

// Policy decides the time limits of an order (DOMAIN.md §5). Rules are
// applied in order after the defaults, so later, more specific rules win.
type Policy struct {
	Rules []Rule `json:"rules"`
	// ReturnWindow: a unit may return an order within this span of dispatch;
	// later returns are flagged late (they still need the hotline's approval).
	ReturnWindow string `json:"return_window"`
	// MaxExtensionDays caps the working days all approved extensions add.
	MaxExtensionDays int `json:"max_extension_days"`
	// RevisitAttempts: after this many unreachable attempts the order closes
	// as unreachable.
	RevisitAttempts int `json:"revisit_attempts"`
	// EscalateAfter: reopens (or units passing it on) that make a problem order.
	EscalateAfter int `json:"escalate_after"`
}

// DefaultPolicy returns the national defaults of DOMAIN.md §5.
func DefaultPolicy() Policy {
	return Policy{
		Rules: []Rule{
			{Limits: Limits{Dispatch: "1wd", Sign: "4wh", Contact: "1wd", Reply: "5wd", Revisit: "1wd"}},
			{Type: Consultation, Limits: Limits{Reply: "2wd"}},
			{Type: Report, Limits: Limits{Reply: "15wd"}},
			{Type: Suggestion, Limits: Limits{Reply: "15wd"}},
			{Urgency: Urgent, Limits: Limits{Dispatch: "2h", Reply: "24h"}},
			{Urgency: Critical, Limits: Limits{Dispatch: "1h", Sign: "30m", Contact: "1h", Reply: "2h"}},
		},
		ReturnWindow:     "2wd",
		MaxExtensionDays: 10,
		RevisitAttempts:  3,
		EscalateAfter:    3,
	}
}

// For returns the limits for an order of type ty, urgency u and category code.
func (p Policy) For(ty Type, u Urgency, category string) Limits {
	var l Limits
	for _, r := range p.Rules {
		if r.Type != "" && r.Type != ty || r.Urgency != "" && r.Urgency != u ||
			r.CategoryPrefix != "" && !strings.HasPrefix(category, r.CategoryPrefix) {
			continue
		}
		set(&l.Dispatch, r.Limits.Dispatch)
		set(&l.Sign, r.Limits.Sign)
		set(&l.Contact, r.Limits.Contact)
		set(&l.Reply, r.Limits.Reply)
		set(&l.Revisit, r.Limits.Revisit)
	}
	return l
}

func set(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// Validate checks that every span in the policy parses.
func (p Policy) Validate() error {
	for _, r := range p.Rules {
		for _, s := range []string{r.Limits.Dispatch, r.Limits.Sign, r.Limits.Contact, r.Limits.Reply, r.Limits.Revisit} {
			if s == "" {
				continue
			}
			if _, err := calendar.ParseSpan(s); err != nil {
				return err
			}
		}
	}
	if p.ReturnWindow != "" {
		if _, err := calendar.ParseSpan(p.ReturnWindow); err != nil {
			return err
		}
	}
	return nil
}
