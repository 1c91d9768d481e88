package database

import (
	"context"
	"testing"
)

func TestRebind(t *testing.T) {
	db := &DB{Dialect: Postgres}
	got := db.Rebind("SELECT * FROM t WHERE a = ? AND b = '?' AND c IN (?, ?)")
	want := "SELECT * FROM t WHERE a = $1 AND b = '?' AND c IN ($2, $3)"
	if got != want {
		t.Fatalf("Rebind = %q, want %q", got, want)
	}
	if s := (&DB{Dialect: SQLite}).Rebind("a = ?"); s != "a = ?" {
		t.Fatalf("sqlite rebind changed the query: %q", s)
	}
}

func TestMigrateIsIdempotentAndTransactional(t *testing.T) {
	ForEachTestDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		ms := []Migration{{Version: 1, Name: "t", SQL: "CREATE TABLE m_t (id {{id}}, b {{blob}}, n BIGINT);\nCREATE INDEX m_t_n ON m_t (n)"}}
		for i := 0; i < 2; i++ {
			if err := db.Migrate(ctx, "test", ms); err != nil {
				t.Fatal(err)
			}
		}
		var id int64
		if err := db.Tx(ctx, func(tx *Tx) error {
			return tx.QueryRow(ctx, "INSERT INTO m_t (n) VALUES (?) RETURNING id", 7).Scan(&id)
		}); err != nil {
			t.Fatal(err)
		}
		if id != 1 {
			t.Fatalf("first id = %d", id)
		}
		bad := append(ms, Migration{Version: 2, Name: "bad", SQL: "CREATE TABLE m_u (x INT);\nTHIS IS NOT SQL"})
		if err := db.Migrate(ctx, "test", bad); err == nil {
			t.Fatal("a failing migration reported success")
		}
		// The failed step left nothing behind: m_u must not exist.
		if _, err := db.Exec(ctx, "INSERT INTO m_u (x) VALUES (1)"); err == nil {
			t.Fatal("half-applied migration: m_u exists")
		}
	})
}
