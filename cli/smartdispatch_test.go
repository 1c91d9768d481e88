package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hotline12345/hotline/demo"
)

// TestDispatchModelSharedThroughTheDatabase: `hotline dispatch train` with
// no file learns from the platform's orders and stores the model; a running
// node picks it up; an old model is replaced by the node itself.
func TestDispatchModelSharedThroughTheDatabase(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	_, store := openDataDir(t, dir)
	if _, err := demo.Seed(ctx, store, demo.Options{Orders: 300}); err != nil {
		t.Fatal(err)
	}
	node := &suggester{store: store, RetrainAfter: time.Hour}
	if got := node.Predict("路灯不亮", 1); got != nil {
		t.Fatal("a model before any training")
	}
	out, code := run(t, "dispatch", "train", "--data", dir)
	if code != 0 || !strings.Contains(out, "trained on") {
		t.Fatalf("dispatch train: %d %s", code, out)
	}
	id, _, err := store.NewestDispatchModel(ctx)
	if err != nil || id == 0 {
		t.Fatalf("no stored model: %d %v", id, err)
	}
	if err := node.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if node.modelID.Load() != id || len(node.Predict("江北区滨江路路灯不亮，晚上很黑", 3)) != 3 {
		t.Fatalf("the node did not load model %d (has %d)", id, node.modelID.Load())
	}
	// A model older than RetrainAfter: the node trains a new one itself.
	node.RetrainAfter = time.Nanosecond
	if err := node.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if newer, _, _ := store.NewestDispatchModel(ctx); newer <= id || node.modelID.Load() != newer {
		t.Fatalf("no retraining: newest %d, node %d", newer, node.modelID.Load())
	}
	// On an empty platform there is nothing to learn from: a clear error.
	if out, code := run(t, "dispatch", "train", "--data", t.TempDir()); code == 0 {
		t.Fatalf("training on nothing succeeded: %s", out)
	}
}
