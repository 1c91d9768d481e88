// Package tipdm finds the real citizen messages of the 2020 TipDM contest
// (../shared/data/tipdm2020 beside the repository, or HOTLINE_TIPDM_DIR)
// for tests and evaluations. The files are never copied into the project.
package tipdm

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the data folder, or skips tb with a message saying how to
// provide it.
func Dir(tb testing.TB) string {
	if d := os.Getenv("HOTLINE_TIPDM_DIR"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for i := 0; i < 8; i++ {
		p := filepath.Join(dir, "shared", "data", "tipdm2020")
		if _, err := os.Stat(filepath.Join(p, "train.csv")); err == nil {
			return p
		}
		dir = filepath.Dir(dir)
	}
	tb.Skip("tipdm2020 data not found beside the repository (set HOTLINE_TIPDM_DIR): real-data evaluation skipped")
	return ""
}
