package demo

import (
	"context"
	"testing"
	"time"

	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/kb"
	"github.com/hotline12345/hotline/storage"
	"github.com/hotline12345/hotline/ticket"
)

func TestSeed(t *testing.T) {
	database.ForEachTestDB(t, func(t *testing.T, db *database.DB) {
		if testing.Short() && db.Dialect == database.Postgres {
			t.Skip("short mode: the PostgreSQL demo seed is skipped")
		}
		ctx := context.Background()
		store, err := storage.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		now := time.Date(2026, 11, 24, 15, 0, 0, 0, time.FixedZone("CST", 8*3600))
		sum, err := Seed(ctx, store, Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if !sum.Created || sum.Orders < 1900 || sum.Orders > 2300 {
			t.Fatalf("summary: %+v", sum)
		}
		t.Logf("seeded %d orders on %s in %s", sum.Orders, db.Dialect, sum.Took)
		kinds := map[string]int{}
		units, _ := store.Units(ctx)
		for _, u := range units {
			kinds[u.Kind]++
		}
		if kinds["department"] < 15 || kinds["district"] < 4 || kinds["street"] < 12 || kinds["utility"] < 4 || kinds["community"] < 2 {
			t.Fatalf("unit kinds: %v", kinds)
		}
		cats, _ := store.Categories(ctx)
		levels := map[int]int{}
		for _, c := range cats {
			levels[len(c.Code)/2]++
		}
		if levels[1] < 7 || levels[2] < 15 || levels[3] < 25 {
			t.Fatalf("category levels: %v", levels)
		}
		count := func(where string, args ...any) int {
			var n int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM tickets WHERE "+where, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, st := range ticket.States {
			if n := count("state = ?", string(st)); n == 0 {
				t.Errorf("no order in state %s", st)
			}
		}
		nowMs := database.Millis(now)
		checks := map[string]int{
			"overdue":      count("active_due < ? AND state NOT IN ('closed','merged','withdrawn')", nowMs),
			"returned":     count("return_count > 0"),
			"redispatched": count("dispatch_count > 1"),
			"extended":     count("extended_days > 0"),
			"reopened":     count("reopen_count > 0"),
			"intake":       count("fcr = 1"),
			"confidential": count("doc LIKE ?", `%"confidential":true%`),
			"supervised":   count("doc LIKE ?", `%"supervision":%`),
			"urged":        count("doc LIKE ?", `%"urge_count":%`),
			"sub-dispatch": count("handler_unit_id <> lead_unit_id"),
			"disposed":     count("doc LIKE ?", `%"disposition":"legal_route"%`),
		}
		for k, n := range checks {
			if n == 0 {
				t.Errorf("no %s orders", k)
			}
		}
		for _, a := range sum.Accounts {
			if _, err := store.Authenticate(ctx, a.Username, Password); err != nil {
				t.Errorf("%s cannot sign in: %v", a.Username, err)
			}
		}
		res, err := store.VerifyAudit(ctx)
		if err != nil || res.First != nil {
			t.Fatalf("audit: %+v %v", res, err)
		}
		again, err := Seed(ctx, store, Options{Now: now})
		if err != nil || again.Created || again.Orders != sum.Orders {
			t.Fatalf("second seed: %+v %v", again, err)
		}
	})
}

// TestSeedCitesArticles: with a knowledge base, consultations answered at
// intake cite an article of their category, and the uses are counted at
// the simulated time.
func TestSeedCitesArticles(t *testing.T) {
	ctx := context.Background()
	db := database.OpenTestSQLite(t)
	store, err := storage.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	know, err := kb.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 15, 0, 0, 0, time.FixedZone("CST", 8*3600))
	if _, err := Seed(ctx, store, Options{Now: now, Orders: 400, KB: know}); err != nil {
		t.Fatal(err)
	}
	admin, err := store.Authenticate(ctx, "admin", Password)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := store.ListTickets(ctx, storage.Filter{Viewer: admin, States: []ticket.State{ticket.Closed}, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	cited := 0
	for _, tk := range pg.Items {
		if tk.ArticleID != 0 {
			cited++
			a, err := know.Get(ctx, tk.ArticleID, nil)
			if err != nil || len(a.Category) < 4 || len(tk.CategoryCode) < 4 || a.Category[:4] != tk.CategoryCode[:4] {
				t.Fatalf("order %s cites article %d of another category: %v", tk.Number, tk.ArticleID, err)
			}
		}
	}
	top, err := know.TopUsed(ctx, now.AddDate(0, 0, -90), 10)
	if err != nil || cited == 0 || len(top) == 0 {
		t.Fatalf("cited %d, top used %+v (%v)", cited, top, err)
	}
	if old, _ := know.TopUsed(ctx, now.AddDate(0, 0, -2), 10); len(old) > 0 && old[0].Resolved >= top[0].Resolved {
		t.Errorf("uses are not spread over the simulated days: %+v vs %+v", old, top)
	}
}
