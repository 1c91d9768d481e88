package cli

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hotline12345/hotline/classify"
	"github.com/hotline12345/hotline/storage"
)

// suggester keeps the dispatch classifier trained on the platform's own
// history: at start and every hour; requests use the latest model.
type suggester struct {
	store *storage.Store
	model atomic.Pointer[classify.Model]
}

func (s *suggester) Predict(text string, k int) []classify.Suggestion {
	m := s.model.Load()
	if m == nil {
		return nil
	}
	return m.Predict(text, k)
}

// train learns second-level categories (0103 市容管理 …) from up to 200,000
// recent orders.
func (s *suggester) train(ctx context.Context) error {
	set, err := s.store.TrainingSet(ctx, 200_000)
	if err != nil {
		return err
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
		return nil // nothing to learn from yet
	}
	start := time.Now()
	m, err := classify.Train(ex, classify.Options{})
	if err != nil {
		return err
	}
	s.model.Store(m)
	slog.Info("dispatch model trained", "orders", len(ex), "categories", len(labels), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func (s *suggester) run(ctx context.Context) {
	if err := s.train(ctx); err != nil {
		slog.Warn("dispatch model", "err", err)
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.train(ctx); err != nil {
				slog.Warn("dispatch model", "err", err)
			}
		}
	}
}
