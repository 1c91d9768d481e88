package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/hotline12345/hotline/database"
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

// dispatchModels stores trained dispatch models so that every node serves
// the same one and a model trained on demand (hotline dispatch train)
// reaches the running nodes.
var dispatchModels = database.Migration{Version: 4, Name: "dispatch models", SQL: `
CREATE TABLE dispatch_models (
	id {{id}},
	trained_at BIGINT NOT NULL,
	examples INTEGER NOT NULL,
	labels INTEGER NOT NULL,
	took_ms BIGINT NOT NULL,
	model {{blob}} NOT NULL
)`}

// StoredModel is a trained dispatch model as kept in the database.
type StoredModel struct {
	ID        int64
	TrainedAt time.Time
	Examples  int
	Labels    int
	Took      time.Duration
	Data      []byte
}

// SaveDispatchModel stores a trained model and keeps the five newest.
func (s *Store) SaveDispatchModel(ctx context.Context, m StoredModel) (int64, error) {
	var id int64
	err := s.DB.Tx(ctx, func(tx *database.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO dispatch_models (trained_at, examples, labels, took_ms, model) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			database.Millis(m.TrainedAt), m.Examples, m.Labels, m.Took.Milliseconds(), m.Data).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM dispatch_models WHERE id <= ?`, id-5)
		return err
	})
	return id, err
}

// LatestDispatchModel returns the newest stored model if its id is above
// after, or nil.
func (s *Store) LatestDispatchModel(ctx context.Context, after int64) (*StoredModel, error) {
	var m StoredModel
	var at, took int64
	err := s.DB.QueryRow(ctx, `SELECT id, trained_at, examples, labels, took_ms, model FROM dispatch_models WHERE id > ? ORDER BY id DESC LIMIT 1`, after).
		Scan(&m.ID, &at, &m.Examples, &m.Labels, &took, &m.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m.TrainedAt, m.Took = time.UnixMilli(at), time.Duration(took)*time.Millisecond
	return &m, nil
}

// NewestDispatchModel returns the id and training time of the newest stored
// model (0 and zero time when there is none), without its data.
func (s *Store) NewestDispatchModel(ctx context.Context) (int64, time.Time, error) {
	var id, at int64
	err := s.DB.QueryRow(ctx, `SELECT id, trained_at FROM dispatch_models ORDER BY id DESC LIMIT 1`).Scan(&id, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	return id, time.UnixMilli(at), nil
}

// regionIndex serves the district-scoped look-ups of duplicate detection
// and dispatch history.
var regionIndex = database.Migration{Version: 5, Name: "region index", SQL: `
CREATE INDEX tickets_region_created ON tickets (region_unit_id, created_at DESC)`}

// placeColumn keeps the first three characters of an order's place (its
// address without city and district, package related) so that duplicate
// detection finds orders at the same place through an index.
var placeColumn = database.Migration{Version: 6, Name: "place key", SQL: `
ALTER TABLE tickets ADD COLUMN place3 TEXT NOT NULL DEFAULT '';
CREATE INDEX tickets_place3 ON tickets (place3, created_at DESC)`}
