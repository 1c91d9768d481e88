package cli

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/hotline12345/hotline/classify"
	"github.com/hotline12345/hotline/storage"
)

// suggester serves the dispatch classifier learned from the platform's own
// history. Models live in the database (dispatch_models), so every node
// serves the same one: a node loads a newer model within a minute, and
// trains a new one itself when the newest is older than an hour (or there
// is none). `hotline dispatch train` trains one on demand.
type suggester struct {
	store   *storage.Store
	model   atomic.Pointer[classify.Model]
	modelID atomic.Int64
	// Every is how often the database is checked for a newer model;
	// RetrainAfter is how old the newest model may get.
	Every, RetrainAfter time.Duration
	jitter              float64 // this node waits RetrainAfter × jitter (1 to 1.17)
}

func (s *suggester) Predict(text string, k int) []classify.Suggestion {
	m := s.model.Load()
	if m == nil {
		return nil
	}
	return m.Predict(text, k)
}

// trainDispatchModel learns second-level categories (0103 市容管理 …) from
// up to 200,000 recent orders and stores the model; nil when there is not
// enough history yet.
func trainDispatchModel(ctx context.Context, store *storage.Store) (*storage.StoredModel, error) {
	set, err := store.TrainingSet(ctx, 200_000)
	if err != nil {
		return nil, err
	}
	var ex []classify.Example
	labels := map[string]bool{}
	for _, x := range set {
		l := x.Category
		if len(l) > 4 {
			l = l[:4]
		}
		labels[l] = true
		ex = append(ex, classify.Example{Text: x.Text, Label: l})
	}
	if len(labels) < 2 {
		return nil, nil // nothing to learn from yet
	}
	start := time.Now()
	m, err := classify.Train(ex, classify.Options{})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		return nil, err
	}
	sm := &storage.StoredModel{TrainedAt: time.Now(), Examples: len(ex), Labels: len(labels), Took: time.Since(start), Data: buf.Bytes()}
	if sm.ID, err = store.SaveDispatchModel(ctx, *sm); err != nil {
		return nil, err
	}
	slog.Info("dispatch model trained", "id", sm.ID, "orders", len(ex), "categories", len(labels), "took", sm.Took.Round(time.Millisecond))
	return sm, nil
}

// refresh loads a newer stored model, or trains one when the newest is too
// old or there is none.
func (s *suggester) refresh(ctx context.Context) error {
	id, at, err := s.store.NewestDispatchModel(ctx)
	if err != nil {
		return err
	}
	// Each node waits a little more than RetrainAfter, by its own random
	// margin, so that one node retrains and the others load its model.
	if s.jitter == 0 {
		s.jitter = 1 + rand.Float64()/6
	}
	if id == 0 || time.Since(at) >= time.Duration(float64(s.RetrainAfter)*s.jitter) {
		sm, err := trainDispatchModel(ctx, s.store)
		if err != nil || sm == nil {
			return err
		}
		id = sm.ID
	}
	if id == s.modelID.Load() {
		return nil
	}
	sm, err := s.store.LatestDispatchModel(ctx, s.modelID.Load())
	if err != nil || sm == nil {
		return err
	}
	m, err := classify.Load(bytes.NewReader(sm.Data))
	if err != nil {
		return err
	}
	s.model.Store(m)
	s.modelID.Store(sm.ID)
	return nil
}

func (s *suggester) run(ctx context.Context) {
	if s.Every <= 0 {
		s.Every = time.Minute
	}
	if s.RetrainAfter <= 0 {
		s.RetrainAfter = time.Hour
	}
	t := time.NewTicker(s.Every)
	defer t.Stop()
	for {
		if err := s.refresh(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("dispatch model", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
