package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/hotline12345/hotline/database"
)

// DispatchQuality measures smart dispatch for the orders registered in one
// month (or in the whole period, Month ""): how often the category model's
// first suggestion was the category the call-taker chose, how often the
// dispatcher sent the order to the proposed unit, and how often the first
// dispatch was right (the order never came back as wrongly sent).
type DispatchQuality struct {
	Month string `json:"month"`

	Registered        int     `json:"registered"`
	CategorySuggested int     `json:"category_suggested"` // registered with a model suggestion and a chosen category
	CategoryAgreed    int     `json:"category_agreed"`    // the chosen category lies under the first suggestion
	CategoryAccuracy  float64 `json:"category_accuracy"`

	Dispatched     int     `json:"dispatched"`
	UnitSuggested  int     `json:"unit_suggested"` // first dispatches with a proposed unit
	UnitAccepted   int     `json:"unit_accepted"`  // sent to the proposed unit
	UnitAcceptance float64 `json:"unit_acceptance"`
	// SuggestionRight: first dispatches to the proposed unit that stayed
	// there — the suggestion's own accuracy.
	SuggestionRight    int     `json:"suggestion_right"`
	SuggestionAccuracy float64 `json:"suggestion_accuracy"`

	FirstDispatchRight    int     `json:"first_dispatch_right"` // dispatched and never returned
	FirstDispatchAccuracy float64 `json:"first_dispatch_accuracy"`
}

// DispatchQualityByMonth returns one row per month of [from, to) (China
// time) and a last row, Month "", for the whole period.
func (s *Store) DispatchQualityByMonth(ctx context.Context, from, to time.Time) ([]DispatchQuality, error) {
	rows, err := s.DB.Query(ctx, `SELECT CAST(((created_at + 28800000) / 86400000) AS TEXT) AS k, COUNT(*),
		SUM(CASE WHEN suggested_category <> '' AND category_code <> '' THEN 1 ELSE 0 END),
		SUM(CASE WHEN suggested_category <> '' AND SUBSTR(category_code, 1, LENGTH(suggested_category)) = suggested_category THEN 1 ELSE 0 END),
		SUM(CASE WHEN first_unit_id <> 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN suggested_unit_id <> 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN suggested_unit_id <> 0 AND first_unit_id = suggested_unit_id THEN 1 ELSE 0 END),
		SUM(CASE WHEN suggested_unit_id <> 0 AND first_unit_id = suggested_unit_id AND (return_count = 0 OR lead_unit_id = first_unit_id) THEN 1 ELSE 0 END),
		SUM(CASE WHEN first_unit_id <> 0 AND (return_count = 0 OR lead_unit_id = first_unit_id) THEN 1 ELSE 0 END)
		FROM tickets WHERE created_at >= ? AND created_at < ? AND state <> 'merged' GROUP BY k ORDER BY k`,
		database.Millis(from), database.Millis(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DispatchQuality
	var total DispatchQuality
	for rows.Next() {
		var r DispatchQuality
		var day int64
		if err := rows.Scan(&r.Month, &r.Registered, &r.CategorySuggested, &r.CategoryAgreed, &r.Dispatched, &r.UnitSuggested,
			&r.UnitAccepted, &r.SuggestionRight, &r.FirstDispatchRight); err != nil {
			return nil, err
		}
		fmt.Sscan(r.Month, &day)
		r.Month = time.Unix(day*86400, 0).UTC().Format("2006-01")
		if n := len(out); n > 0 && out[n-1].Month == r.Month {
			out[n-1].add(r)
		} else {
			out = append(out, r)
		}
		total.add(r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out = append(out, total)
	for i := range out {
		out[i].rates()
	}
	return out, nil
}

func (q *DispatchQuality) add(r DispatchQuality) {
	q.Registered += r.Registered
	q.CategorySuggested += r.CategorySuggested
	q.CategoryAgreed += r.CategoryAgreed
	q.Dispatched += r.Dispatched
	q.UnitSuggested += r.UnitSuggested
	q.UnitAccepted += r.UnitAccepted
	q.SuggestionRight += r.SuggestionRight
	q.FirstDispatchRight += r.FirstDispatchRight
}

func (q *DispatchQuality) rates() {
	q.CategoryAccuracy = ratio(q.CategoryAgreed, q.CategorySuggested)
	q.UnitAcceptance = ratio(q.UnitAccepted, q.UnitSuggested)
	q.SuggestionAccuracy = ratio(q.SuggestionRight, q.UnitSuggested)
	q.FirstDispatchAccuracy = ratio(q.FirstDispatchRight, q.Dispatched)
}
