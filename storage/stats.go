package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/calendar"
	"github.com/hotline12345/hotline/database"
)

// OrderStats are the order-side measures of DOMAIN.md §6 for one group
// (a unit, a month, a category, a channel, or everything).
type OrderStats struct {
	Key           string `json:"key"`
	Name          string `json:"name,omitempty"`
	Total         int    `json:"total"` // registered in the period
	Intake        int    `json:"answered_at_intake"`
	Dispatched    int    `json:"dispatched"`
	Contacted     int    `json:"contacted"`
	Replied       int    `json:"replied"`
	RepliedOnTime int    `json:"replied_on_time"`
	Closed        int    `json:"closed"`
	Open          int    `json:"open"`    // 积压件
	Overdue       int    `json:"overdue"` // 超期件 (open and past due now)
	Returned      int    `json:"returned"`
	Redispatched  int    `json:"redispatched"`
	Reopened      int    `json:"reopened"`
	Extended      int    `json:"extended"`
	Revisited     int    `json:"revisited"` // reached at revisit and rated
	Solved        int    `json:"solved"`
	Satisfied     int    `json:"satisfied"` // 非常满意 + 满意 + 基本满意

	FCRRate          float64 `json:"fcr_rate"`          // 直接答复率 = intake ÷ total
	ResponseRate     float64 `json:"response_rate"`     // 响应率 = contacted ÷ dispatched
	OnTimeRate       float64 `json:"on_time_rate"`      // 按时办结率 = replied on time ÷ replied
	CloseRate        float64 `json:"close_rate"`        // 办结率 = closed ÷ total
	ReturnRate       float64 `json:"return_rate"`       // 退单率 = returned ÷ dispatched
	RedispatchRate   float64 `json:"redispatch_rate"`   // 二次派单率
	ReopenRate       float64 `json:"reopen_rate"`       // 重办率 = reopened ÷ replied
	ExtensionRate    float64 `json:"extension_rate"`    // 延期率
	RevisitRate      float64 `json:"revisit_rate"`      // 回访率 = revisited ÷ replied
	SolvedRate       float64 `json:"solved_rate"`       // 解决率 = solved ÷ revisited
	SatisfactionRate float64 `json:"satisfaction_rate"` // 满意率 = satisfied ÷ revisited
	// ThreeRates is Beijing's 三率 score: 响应率, 解决率, 满意率 weighted 30/35/35.
	ThreeRates float64 `json:"three_rates"`
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// OrderStats computes the measures for orders registered in [from, to),
// grouped by "" (all), "unit" (lead unit), "month", "category" (first
// level) or "channel".
func (s *Store) OrderStats(ctx context.Context, from, to time.Time, by string) ([]OrderStats, error) {
	var key string
	switch by {
	case "":
		key = "''"
	case "unit":
		key = "CAST(lead_unit_id AS TEXT)"
	case "category":
		key = "SUBSTR(category_code, 1, 2)"
	case "channel":
		key = "channel"
	case "month":
		key = "CAST(((created_at + 28800000) / 86400000) AS TEXT)" // China day number; folded to months below
	default:
		return nil, hotline.Errorf(hotline.EINVALID, "分组方式须为unit、month、category或channel", "by must be unit, month, category or channel")
	}
	now := database.Millis(s.now())
	q := fmt.Sprintf(`SELECT %s AS k, COUNT(*),
		SUM(fcr), SUM(CASE WHEN dispatch_count > 0 THEN 1 ELSE 0 END), SUM(contacted),
		SUM(CASE WHEN replied_at IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN replied_at IS NOT NULL AND replied_late = 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN state = 'closed' THEN 1 ELSE 0 END),
		SUM(CASE WHEN state NOT IN ('closed', 'merged', 'withdrawn') THEN 1 ELSE 0 END),
		SUM(CASE WHEN state NOT IN ('closed', 'merged', 'withdrawn') AND active_due < ? THEN 1 ELSE 0 END),
		SUM(CASE WHEN return_count > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN dispatch_count > 1 THEN 1 ELSE 0 END),
		SUM(CASE WHEN reopen_count > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN extended_days > 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN satisfaction > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN solved = 1 THEN 1 ELSE 0 END),
		SUM(CASE WHEN satisfaction >= 3 THEN 1 ELSE 0 END)
		FROM tickets WHERE created_at >= ? AND created_at < ? AND state <> 'merged' GROUP BY k ORDER BY k`, key)
	rows, err := s.DB.Query(ctx, q, now, database.Millis(from), database.Millis(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	groups := map[string]*OrderStats{}
	var order []string
	for rows.Next() {
		var r OrderStats
		if err := rows.Scan(&r.Key, &r.Total, &r.Intake, &r.Dispatched, &r.Contacted, &r.Replied, &r.RepliedOnTime, &r.Closed,
			&r.Open, &r.Overdue, &r.Returned, &r.Redispatched, &r.Reopened, &r.Extended, &r.Revisited, &r.Solved, &r.Satisfied); err != nil {
			return nil, err
		}
		if by == "month" {
			var day int64
			fmt.Sscan(r.Key, &day)
			r.Key = time.Unix(day*86400, 0).UTC().Format("2006-01")
		}
		g, ok := groups[r.Key]
		if !ok {
			g = &OrderStats{Key: r.Key}
			groups[r.Key] = g
			order = append(order, r.Key)
		}
		g.add(r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]OrderStats, 0, len(order))
	for _, k := range order {
		g := groups[k]
		g.rates()
		out = append(out, *g)
	}
	return out, nil
}

func (g *OrderStats) add(r OrderStats) {
	g.Total += r.Total
	g.Intake += r.Intake
	g.Dispatched += r.Dispatched
	g.Contacted += r.Contacted
	g.Replied += r.Replied
	g.RepliedOnTime += r.RepliedOnTime
	g.Closed += r.Closed
	g.Open += r.Open
	g.Overdue += r.Overdue
	g.Returned += r.Returned
	g.Redispatched += r.Redispatched
	g.Reopened += r.Reopened
	g.Extended += r.Extended
	g.Revisited += r.Revisited
	g.Solved += r.Solved
	g.Satisfied += r.Satisfied
}

func (g *OrderStats) rates() {
	g.FCRRate = ratio(g.Intake, g.Total)
	g.ResponseRate = ratio(g.Contacted, g.Dispatched)
	g.OnTimeRate = ratio(g.RepliedOnTime, g.Replied)
	g.CloseRate = ratio(g.Closed, g.Total)
	g.ReturnRate = ratio(g.Returned, g.Dispatched)
	g.RedispatchRate = ratio(g.Redispatched, g.Dispatched)
	g.ReopenRate = ratio(g.Reopened, g.Replied)
	g.ExtensionRate = ratio(g.Extended, g.Dispatched)
	g.RevisitRate = ratio(g.Revisited, g.Replied)
	g.SolvedRate = ratio(g.Solved, g.Revisited)
	g.SatisfactionRate = ratio(g.Satisfied, g.Revisited)
	g.ThreeRates = 0.30*g.ResponseRate + 0.35*g.SolvedRate + 0.35*g.SatisfactionRate
}

// spanOf parses a span known to be valid.
func spanOf(s string) calendar.Span {
	sp, err := calendar.ParseSpan(s)
	if err != nil {
		panic(err)
	}
	return sp
}
