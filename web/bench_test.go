package web

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/demo"
	"github.com/hotline12345/hotline/httpapi"
	"github.com/hotline12345/hotline/storage"
)

// BenchmarkPages renders the main pages over the full demo city (2,000
// orders) as a signed-in dispatcher: go test ./web -run XXX -bench Pages
func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	store := demoCity(b)
	s, _ := New(store)
	r := chi.NewRouter()
	s.Routes(r)
	u, _ := store.Authenticate(ctx, "dispatcher1", demo.Password)
	tok, _ := store.CreateSession(ctx, u.ID, httpapi.SessionTTL)
	var number string
	store.DB.QueryRow(ctx, "SELECT number FROM tickets WHERE state = 'processing' LIMIT 1").Scan(&number)
	for _, p := range []struct{ name, path string }{
		{"portal", "/"}, {"desk", "/desk?queue=all"}, {"desk-overdue", "/desk?queue=overdue"}, {"order", "/orders/" + number}, {"stats", "/stats"},
		{"intake", "/desk/new?caller=13700001111"},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("GET", p.path, nil)
				req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: tok})
				w := httptest.NewRecorder()
				r.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%s: %d", p.path, w.Code)
				}
			}
		})
	}
}

// BenchmarkRelated looks for duplicates of a new request among the open
// orders of the last 30 days, with 30,000 orders registered over 60 days
// on top of the demo city: go test ./web -run XXX -bench Related
func BenchmarkRelated(b *testing.B) {
	ctx := context.Background()
	store := demoCity(b)
	if err := storage.BulkLoad(ctx, store, 30000, time.Now().AddDate(0, 0, -60), rand.New(rand.NewPCG(1, 2))); err != nil {
		b.Fatal(err)
	}
	u, _ := store.Authenticate(ctx, "agent1", demo.Password)
	q := storage.RelatedQuery{Title: "望湖花园门前积水", Content: "望湖花园北门口一下雨就积水，老人孩子过不去，请尽快疏通排水管。",
		Address: "江北区望湖花园", Phone: "13700001111"}
	for b.Loop() {
		if _, err := store.Related(ctx, u, q); err != nil {
			b.Fatal(err)
		}
	}
}

// demoCity is the full demo city (2,000 orders) on a fresh SQLite database.
func demoCity(b *testing.B) *storage.Store {
	ctx := context.Background()
	store, err := storage.Open(ctx, database.OpenTestSQLite(b))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := demo.Seed(ctx, store, demo.Options{}); err != nil {
		b.Fatal(err)
	}
	return store
}
