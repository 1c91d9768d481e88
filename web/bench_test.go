package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

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
	store, err := storage.Open(ctx, database.OpenTestSQLite(b))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := demo.Seed(ctx, store, demo.Options{}); err != nil {
		b.Fatal(err)
	}
	s, _ := New(store)
	r := chi.NewRouter()
	s.Routes(r)
	u, _ := store.Authenticate(ctx, "dispatcher1", demo.Password)
	tok, _ := store.CreateSession(ctx, u.ID, httpapi.SessionTTL)
	var number string
	store.DB.QueryRow(ctx, "SELECT number FROM tickets WHERE state = 'processing' LIMIT 1").Scan(&number)
	for _, p := range []struct{ name, path string }{
		{"portal", "/"}, {"desk", "/desk?queue=all"}, {"desk-overdue", "/desk?queue=overdue"}, {"order", "/orders/" + number}, {"stats", "/stats"},
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
