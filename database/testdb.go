package database

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestEnvURL names the environment variable that switches the PostgreSQL
// half of every storage test on (CI sets it).
const TestEnvURL = "HOTLINE_TEST_DATABASE_URL"

var schemaSeq atomic.Int64

// ForEachTestDB runs fn against a fresh SQLite database always, and against a
// fresh PostgreSQL schema when HOTLINE_TEST_DATABASE_URL is set; otherwise
// the PostgreSQL subtest is skipped with a message saying how to enable it.
func ForEachTestDB(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, OpenTestSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, OpenTestPostgres(t))
	})
}

// OpenTestSQLite opens a fresh SQLite database in t's temporary directory.
func OpenTestSQLite(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// OpenTestPostgres creates a private schema in the database named by
// HOTLINE_TEST_DATABASE_URL, or skips t when the variable is unset.
func OpenTestPostgres(t testing.TB) *DB {
	t.Helper()
	url := os.Getenv(TestEnvURL)
	if url == "" {
		t.Skip("PostgreSQL tests skipped: set " + TestEnvURL + "=postgres://user@127.0.0.1:5432/db?sslmode=disable to run them")
	}
	ctx := context.Background()
	admin, err := Open(ctx, url, "")
	if err != nil {
		t.Fatalf("%s is set but PostgreSQL is unreachable: %v", TestEnvURL, err)
	}
	schema := fmt.Sprintf("t_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, schemaSeq.Add(1))
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	admin.Close()
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	db, err := Open(ctx, url+sep+"search_path="+schema, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		if a, err := Open(context.Background(), url, ""); err == nil {
			a.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			a.Close()
		}
	})
	return db
}
