package callcenter

import (
	"sort"
	"time"
)

// Stats are the call measures of one group.
type Stats struct {
	Key            string  `json:"key"`
	Offered        int     `json:"offered"`
	Answered       int     `json:"answered"`
	AnsweredIn15s  int     `json:"answered_in_15s"`
	Abandoned      int     `json:"abandoned"`
	Callbacks      int     `json:"callbacks"`
	Transferred    int     `json:"transferred"`
	Rated          int     `json:"rated"`
	Satisfied      int     `json:"satisfied"` // pressed 4 or 5
	RepeatCalls    int     `json:"repeat_calls"`
	ConnectionRate float64 `json:"connection_rate"`  // 接通率 = answered by a person ÷ offered
	Rate15s        float64 `json:"answer_15s_rate"`  // 15秒接通率 = answered within 15 s ÷ answered
	ASA            float64 `json:"asa_seconds"`      // 平均应答时长
	AbandonRate    float64 `json:"abandon_rate"`     // 放弃率
	AHT            float64 `json:"aht_seconds"`      // 平均处理时长 = talk + hold + wrap-up per answered call
	AvgTalk        float64 `json:"avg_talk_seconds"` // 平均通话时长
	AvgMenu        float64 `json:"avg_menu_seconds"` // time in greeting/menu per offered call
	Satisfaction   float64 `json:"ivr_satisfaction"` // IVR 满意率
	RepeatRate     float64 `json:"repeat_caller_rate"`
}

// Grouping of statistics.
const (
	ByAll   = ""
	ByHour  = "hour"
	ByDay   = "day"
	ByQueue = "queue"
	ByAgent = "agent"
)

// Compute groups calls and computes the measures. A repeat call is one from
// a number that already called within repeatWindow before.
func Compute(calls []Call, by string, repeatWindow time.Duration) []Stats {
	return computeWithPrior(calls, by, repeatWindow, nil)
}

// computeWithPrior is Compute knowing each caller's last call before the
// period.
func computeWithPrior(calls []Call, by string, repeatWindow time.Duration, prior map[string]time.Time) []Stats {
	sorted := append([]Call(nil), calls...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ArrivedAt.Before(sorted[j].ArrivedAt) })
	last := map[string]time.Time{}
	for k, v := range prior {
		last[k] = v
	}
	groups := map[string]*Stats{}
	sums := map[string]*[4]float64{} // wait, handle and talk of answered; menu of all
	china := time.FixedZone("CST", 8*3600)
	for _, c := range sorted {
		key := ""
		switch by {
		case ByHour:
			key = c.ArrivedAt.In(china).Format("15")
		case ByDay:
			key = c.ArrivedAt.In(china).Format("2006-01-02")
		case ByQueue:
			key = c.Queue
		case ByAgent:
			key = c.Agent
		}
		g := groups[key]
		if g == nil {
			g = &Stats{Key: key}
			groups[key] = g
			sums[key] = &[4]float64{}
		}
		g.Offered++
		sums[key][3] += float64(c.MenuSeconds)
		if prev, ok := last[c.Caller]; ok && c.ArrivedAt.Sub(prev) <= repeatWindow {
			g.RepeatCalls++
		}
		last[c.Caller] = c.ArrivedAt
		switch c.State {
		case Abandoned:
			g.Abandoned++
		case Callback:
			g.Callbacks++
		}
		if c.AnsweredAt != nil {
			g.Answered++
			if c.WaitSeconds <= 15 {
				g.AnsweredIn15s++
			}
			sums[key][0] += float64(c.WaitSeconds)
			sums[key][1] += float64(c.TalkSeconds + c.HoldSeconds + c.WrapSeconds)
			sums[key][2] += float64(c.TalkSeconds)
		}
		if c.State == Transferred {
			g.Transferred++
		}
		if c.Satisfaction > 0 {
			g.Rated++
			if c.Satisfaction >= 4 {
				g.Satisfied++
			}
		}
	}
	out := make([]Stats, 0, len(groups))
	for k, g := range groups {
		r := func(a, b int) float64 {
			if b == 0 {
				return 0
			}
			return float64(a) / float64(b)
		}
		g.ConnectionRate = r(g.Answered, g.Offered)
		g.Rate15s = r(g.AnsweredIn15s, g.Answered)
		g.AbandonRate = r(g.Abandoned, g.Offered)
		g.Satisfaction = r(g.Satisfied, g.Rated)
		g.RepeatRate = r(g.RepeatCalls, g.Offered)
		if g.Answered > 0 {
			g.ASA = sums[k][0] / float64(g.Answered)
			g.AHT = sums[k][1] / float64(g.Answered)
			g.AvgTalk = sums[k][2] / float64(g.Answered)
		}
		g.AvgMenu = sums[k][3] / float64(g.Offered)
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
