// Package database opens the platform's SQL database — embedded SQLite for a
// single node and the demo, PostgreSQL in production — behind one small type,
// and runs each component's migrations.
//
// SQL is hand-written once with ? placeholders and rebound to $n for
// PostgreSQL. Times are stored as BIGINT Unix milliseconds (UTC), which sort,
// compare and index identically on both engines. SQLite gets two pools: one
// connection for writes (SQLite has a single writer; queuing in Go beats
// spinning on SQLITE_BUSY) and several for reads, all in WAL mode with
// synchronous=FULL so that a committed transaction survives power loss.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"
)

// Dialect names the SQL engine behind a DB.
type Dialect int

const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// DB is an open database. Query and QueryRow read; Exec and Tx write.
type DB struct {
	Dialect Dialect
	read    *sql.DB
	write   *sql.DB
}

// Open connects to url: a postgres:// or postgresql:// URL selects
// PostgreSQL; anything else is a SQLite file path ("" means
// dataDir/hotline.db).
func Open(ctx context.Context, url, dataDir string) (*DB, error) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		pool, err := sql.Open("pgx", url)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		pool.SetMaxOpenConns(64)
		pool.SetMaxIdleConns(64)
		pool.SetConnMaxIdleTime(5 * time.Minute)
		if err := pool.PingContext(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("connect postgres: %w", err)
		}
		return &DB{Dialect: Postgres, read: pool, write: pool}, nil
	}
	path := url
	if path == "" {
		if dataDir == "" {
			dataDir = "data"
		}
		path = filepath.Join(dataDir, "hotline.db")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"
	write, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	n := max(4, runtime.NumCPU()*2)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	return &DB{Dialect: SQLite, read: read, write: write}, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Rebind rewrites ? placeholders as $1, $2 … for PostgreSQL. A ? inside a
// quoted string literal is left alone.
func (db *DB) Rebind(q string) string {
	if db.Dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
			b.WriteByte(c)
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Query runs a read query.
func (db *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return db.read.QueryContext(ctx, db.Rebind(q), args...)
}

// QueryRow runs a read query returning one row.
func (db *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return db.read.QueryRowContext(ctx, db.Rebind(q), args...)
}

// Exec runs one write statement in its own transaction.
func (db *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return db.write.ExecContext(ctx, db.Rebind(q), args...)
}

// Tx is a write transaction whose statements are rebound for the dialect.
type Tx struct {
	*sql.Tx
	db *DB
}

// Dialect of the transaction's database.
func (tx *Tx) Dialect() Dialect { return tx.db.Dialect }

// Query runs a query inside the transaction.
func (tx *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return tx.Tx.QueryContext(ctx, tx.db.Rebind(q), args...)
}

// QueryRow runs a one-row query inside the transaction.
func (tx *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return tx.Tx.QueryRowContext(ctx, tx.db.Rebind(q), args...)
}

// Exec runs a statement inside the transaction.
func (tx *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return tx.Tx.ExecContext(ctx, tx.db.Rebind(q), args...)
}

// Tx runs fn in a write transaction, committing if fn returns nil and rolling
// back otherwise (also on panic). On SQLite the transaction begins IMMEDIATE.
func (db *DB) Tx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	stx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: stx, db: db}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = stx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique-constraint violation on
// either engine.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505") ||
		strings.Contains(s, "duplicate key value")
}

// Millis converts t to the stored form (Unix milliseconds); the zero time
// is stored as NULL by callers that use NullMillis.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// NullMillis is Millis for optional times: the zero time becomes NULL.
func NullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// Time converts a stored value back; NULL becomes the zero time.
func Time(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64)
}

// Querier is what both a DB and a Tx offer for reading one row.
type Querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}
