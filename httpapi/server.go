// Package httpapi is the JSON API of the platform (/api/v1), its
// authentication, rate limits, health check and metrics. Handlers decode and
// check input, call the storage and the pure domain, and write results;
// errors are mapped to HTTP status in one place (respond.go).
package httpapi

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/callcenter"
	"github.com/hotline12345/hotline/jsonhttp"
	"github.com/hotline12345/hotline/kb"
	"github.com/hotline12345/hotline/storage"
)

// SessionCookie is the name of the web session cookie; the API accepts it
// for reading only (writes need the bearer token, so a forged cross-site
// form cannot act through the API).
const SessionCookie = "hotline_session"

// Mount adds another component's routes under the API (knowledge base,
// calls …).
type Mount struct {
	Pattern string
	Routes  func(chi.Router)
	Public  bool // reachable without signing in
}

// Server serves the API.
type Server struct {
	Store    *storage.Store
	Calls    *callcenter.Store // nil: no call records
	KB       *kb.Service       // nil: no knowledge base
	Mounts   []Mount
	Registry *prometheus.Registry
	// OnTicket, if set, is called after an order is created or changed (the
	// web desks use it for live updates).
	OnTicket func(number string)

	public *Limiter
	logins *Limiter
	met    *metrics
}

// New returns a server over store.
func New(store *storage.Store) *Server {
	s := &Server{
		Store:    store,
		Registry: prometheus.NewRegistry(),
		public:   NewLimiter(30, time.Minute),   // 30 public requests a minute per address
		logins:   NewLimiter(5, 15*time.Minute), // 5 failed logins per name+address per 15 min
	}
	s.met = newMetrics(s.Registry)
	return s
}

// Routes builds the HTTP handler for /api/v1, /healthz and /metrics.
func (s *Server) Routes(r chi.Router) {
	r.Get("/healthz", s.healthz)
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.met.middleware, s.authenticate)
		r.Get("/openapi.json", s.openapi)
		r.Post("/auth/login", s.login)
		r.Post("/auth/logout", s.logout)
		r.Route("/public", func(r chi.Router) {
			r.Use(s.rateLimitPublic)
			r.Post("/requests", s.publicCreate)
			r.Get("/requests/{number}", s.publicGet)
			if s.KB != nil {
				r.Route("/kb", s.KB.PublicRoutes)
			}
			r.Post("/requests/{number}/{action}", s.publicAct)
			for _, m := range s.Mounts {
				if m.Public {
					r.Route(m.Pattern, m.Routes)
				}
			}
		})
		r.Group(func(r chi.Router) {
			r.Use(requireUser)
			r.Get("/auth/me", s.me)
			r.Get("/units", s.listUnits)
			r.Post("/units", s.createUnit)
			r.Get("/categories", s.listCategories)
			r.Post("/categories", s.createCategory)
			r.Get("/catalogue", s.listCatalogue)
			r.Post("/catalogue", s.setCatalogue)
			r.Get("/users", s.listUsers)
			r.Post("/users", s.createUser)
			r.Get("/policy", s.getPolicy)
			r.Put("/policy", s.putPolicy)
			r.Get("/calendar/{year}", s.getCalendarYear)
			r.Post("/calendar/{year}", s.loadCalendarYear)
			r.Post("/calendar/days", s.setCalendarDay)
			r.Get("/tickets", s.listTickets)
			r.Post("/tickets", s.createTicket)
			r.Get("/tickets/{number}", s.getTicket)
			r.Get("/tickets/{number}/events", s.getEvents)
			r.Get("/tickets/{number}/related", s.relatedTo)
			r.Post("/related", s.relatedDraft)
			r.Post("/tickets/{number}/{action}", s.act)
			r.Get("/stats/orders", s.orderStats)
			r.Get("/stats/dispatch", s.dispatchQuality)
			if s.Calls != nil {
				s.callRoutes(r)
			}
			if s.KB != nil {
				r.Route("/kb", s.KB.Routes) // the knowledge base's own adapter (kb/http.go)
			}
			for _, m := range s.Mounts {
				if !m.Public {
					r.Route(m.Pattern, m.Routes)
				}
			}
		})
	})
}

// Handler returns a standalone handler with only the API (tests use it).
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	s.Routes(r)
	return r
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var one int
	if err := s.Store.DB.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		jsonhttp.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "database": err.Error()})
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"status": "ok", "database": s.Store.DB.Dialect.String()})
}

// authenticate puts the user of a valid bearer token (or, for safe methods,
// session cookie) into the request context. It never rejects: requireUser
// does, for the routes that need a user.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := ""
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			token = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
		} else if c, err := r.Cookie(SessionCookie); err == nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			token = c.Value
		}
		if token != "" {
			u, err := s.Store.SessionUser(r.Context(), token)
			if err != nil {
				jsonhttp.WriteError(w, r, err)
				return
			}
			r = r.WithContext(hotline.WithUser(r.Context(), u))
		}
		next.ServeHTTP(w, r)
	})
}

func requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hotline.UserFrom(r.Context()) == nil {
			jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EUNAUTHORIZED, "请先登录", "please sign in"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func requireRole(w http.ResponseWriter, r *http.Request, roles ...hotline.Role) bool {
	if !hotline.UserFrom(r.Context()).Has(roles...) {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EFORBIDDEN, "您无权执行此操作", "you are not allowed to do this"))
		return false
	}
	return true
}

// ClientIP is the remote address without port. Behind a proxy, deployers set
// the proxy to overwrite X-Real-IP; we trust it only from loopback.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := r.Header.Get("X-Real-IP"); ip != "" && (host == "127.0.0.1" || host == "::1") {
		return ip
	}
	return host
}

func (s *Server) rateLimitPublic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.public.Allow(ClientIP(r)) {
			w.Header().Set("Retry-After", "60")
			jsonhttp.WriteError(w, r, hotline.Errorf(hotline.ETOOMANY, "请求过于频繁，请稍后再试", "too many requests; please try again later"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// SetPublicRate changes the public rate limit (tests and load runs).
func (s *Server) SetPublicRate(n int, per time.Duration) { s.public = NewLimiter(n, per) }

func logf(msg string, args ...any) { slog.Info(msg, args...) }
