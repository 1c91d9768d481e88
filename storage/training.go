package storage

import (
	"context"
	"encoding/json"
)

// LabelledText is an order's words with the category it was finally handled
// under.
type LabelledText struct {
	Text     string
	Category string
}

// TrainingSet returns up to limit recent orders that carry a category, for
// the dispatch classifier to learn from the platform's own history. Orders
// that were returned are included with the category they ended under, so
// that wrong first routing does not teach the model.
func (s *Store) TrainingSet(ctx context.Context, limit int) ([]LabelledText, error) {
	rows, err := s.DB.Query(ctx, `SELECT doc, category_code FROM tickets WHERE category_code <> '' AND state <> 'merged'
		ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LabelledText
	for rows.Next() {
		var doc, cat string
		if err := rows.Scan(&doc, &cat); err != nil {
			return nil, err
		}
		var t struct{ Title, Content string }
		if json.Unmarshal([]byte(doc), &t) == nil {
			out = append(out, LabelledText{Text: t.Title + " " + t.Content, Category: cat})
		}
	}
	return out, rows.Err()
}
