// Package web serves the pages people use: the citizens' portal (submit a
// request, follow it, rate it, public statistics) and the staff desks (a
// queue per role and the order page with the actions the signed-in user may
// take now). Pages are server-rendered html/template with one stylesheet and
// no script, so they need no build step, work on any phone, and satisfy a
// Content-Security-Policy without inline code. Every action is authorised
// by the domain on the server (ticket.Apply), never by what a page shows.
package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/calendar"
	"github.com/hotline12345/hotline/httpapi"
	"github.com/hotline12345/hotline/jsonhttp"
	"github.com/hotline12345/hotline/kb"
	"github.com/hotline12345/hotline/storage"
	"github.com/hotline12345/hotline/ticket"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the web server.
type Options struct {
	// Secure marks cookies Secure; set it when the site is served over TLS
	// (directly or behind a TLS-terminating proxy).
	Secure bool
	// Logger receives one line per failed page or action; nil uses slog.Default.
	Logger *slog.Logger
	// DataDir is accepted for symmetry with the other components; attachments
	// live in the database (table web_attachments) so that every node of a
	// cluster serves them without a shared file system.
	DataDir string
	// PollInterval is how often Start looks for orders changed on other
	// nodes; zero means 2 s.
	PollInterval time.Duration
}

// Server serves the web pages.
type Server struct {
	store  *storage.Store
	pages  map[string]*template.Template
	Secure bool // set cookies Secure (behind TLS)
	log    *slog.Logger
	live   *broker
	poll   time.Duration
	// Suggest, if set, proposes categories on the call-taker desk.
	Suggest Suggester
	// KB, if set, serves the knowledge-base search page.
	KB     *kb.Service
	public *httpapi.Limiter
}

// New parses the templates and creates the attachment table. Options are
// optional so that New(store) keeps working; only the first is used.
func New(store *storage.Store, opts ...Options) (*Server, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	funcs := template.FuncMap{
		"fmtTime": fmtTime,
		"lbl":     func(lang, s string) string { return bilingual(s, lang == "en") },
		"pct":     func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
		"size":    humanSize,
		"deref":   func(b *bool) bool { return b != nil && *b },
		"hasFiles": func(fs []field) bool {
			for _, f := range fs {
				if f.Kind == "files" {
					return true
				}
			}
			return false
		},
	}
	s := &Server{store: store, pages: map[string]*template.Template{}, public: httpapi.NewLimiter(20, time.Minute),
		Secure: o.Secure, log: o.Logger, live: newBroker(), poll: o.PollInterval}
	if err := migrate(context.Background(), store); err != nil {
		return nil, err
	}
	for _, p := range []string{"portal", "submitted", "track", "login", "desk", "order", "stats", "intake", "kb", "error", "admin", "kbmanage", "kbarticle"} {
		t, err := template.New(p).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html")
		if err != nil {
			return nil, err
		}
		s.pages[p] = t
	}
	return s, nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(calendar.China).Format("2006-01-02 15:04")
}

// Routes mounts the pages on r: the portal at /, staff sign-in at /login,
// desks under /desk, orders under /orders, administration under /admin.
func (s *Server) Routes(r chi.Router) {
	static, _ := fs.Sub(staticFS, "static")
	r.Group(func(r chi.Router) {
		r.Use(securityHeaders, s.session)
		r.Handle("/static/*", http.StripPrefix("/static/", cacheStatic(http.FileServer(http.FS(static)))))
		r.Get("/", s.portal)
		r.Post("/requests", s.submit)
		r.Get("/track", s.track)
		r.Post("/track/rate", s.rate)
		r.Get("/track/files/{id}", s.citizenFile)
		r.Get("/stats", s.stats)
		r.Get("/kb", s.kbPage)
		r.Post("/kb/feedback/{id}", s.kbFeedback)
		r.Post("/kb/synonyms", s.kbSynonyms)
		r.Get("/kb/manage", s.kbManage)
		r.Get("/kb/manage/{id}", s.kbArticlePage)
		r.Post("/kb/manage/{id}", s.kbSave)
		r.Post("/kb/manage/{id}/{action}", s.kbStep)
		r.Get("/login", s.loginPage)
		r.Post("/login", s.login)
		r.Post("/logout", s.logout)
		r.Get("/desk", s.desk)
		r.Get("/desk/export.xlsx", s.export)
		r.Get("/desk/events", s.events)
		r.Get("/desk/new", s.intakePage)
		r.Post("/desk/new", s.intake)
		r.Get("/orders/{number}", s.order)
		r.Get("/orders/{number}/files/{id}", s.staffFile)
		r.Post("/orders/{number}/{action}", s.act)
		r.Get("/admin", s.adminPage)
		r.Get("/admin/{tab}", s.adminPage)
		r.Post("/admin/{tab}", s.adminPost)
	})
	// Unknown addresses get the site's own page (or the API's JSON error
	// under /api/) with the same headers as every other page.
	r.NotFound(securityHeaders(s.session(http.HandlerFunc(s.notFound))).ServeHTTP)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	err := errNoPage
	if strings.HasPrefix(r.URL.Path, "/api/") {
		jsonhttp.WriteError(w, r, err)
		return
	}
	s.fail(w, r, err)
}

// cacheStatic lets browsers keep the stylesheet and script for an hour.
func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// securityHeaders: no inline script or style anywhere, no framing, no sniffing.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const (
	tokenKey ctxKey = iota + 1
	anonKey
)

// anonCookie carries the double-submit CSRF token of visitors who are not
// signed in (the portal and the sign-in form).
const anonCookie = "hotline_csrf"

// session signs the user in from the session cookie; visitors get a random
// CSRF cookie instead.
func (s *Server) session(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(httpapi.SessionCookie); err == nil && c.Value != "" {
			if u, err := s.store.SessionUser(r.Context(), c.Value); err == nil {
				ctx := hotline.WithUser(r.Context(), u)
				ctx = contextWithToken(ctx, c.Value)
				r = r.WithContext(ctx)
			}
		}
		if tokenFrom(r.Context()) == "" {
			c, err := r.Cookie(anonCookie)
			anon := ""
			if err == nil && len(c.Value) == 32 {
				anon = c.Value
			} else if r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/static/") {
				b := make([]byte, 16)
				rand.Read(b)
				anon = hex.EncodeToString(b)
				http.SetCookie(w, &http.Cookie{Name: anonCookie, Value: anon, Path: "/", HttpOnly: true,
					SameSite: http.SameSiteLaxMode, Secure: s.Secure})
			}
			if anon != "" {
				r = r.WithContext(context.WithValue(r.Context(), anonKey, anon))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// digest is a short fingerprint of form text, for idempotency keys.
func digest(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:8])
}

// csrfToken is derived from the session token, which a cross-site page
// cannot read, so it needs no server-side state and works on every node.
func csrfToken(session string) string {
	h := sha256.Sum256([]byte("csrf:" + session))
	return hex.EncodeToString(h[:16])
}

// formToken is the token this visitor's forms must carry.
func formToken(ctx context.Context) string {
	if tok := tokenFrom(ctx); tok != "" {
		return csrfToken(tok)
	}
	a, _ := ctx.Value(anonKey).(string)
	return a
}

// staffPost checks that a form post comes from a signed-in user through one
// of our own pages; it answers the request itself and returns nil if not.
func (s *Server) staffPost(w http.ResponseWriter, r *http.Request) *hotline.User {
	u := s.requireUser(w, r)
	if u == nil {
		return nil
	}
	if !s.checkCSRF(r) {
		s.fail(w, r, errExpired)
		return nil
	}
	return u
}

var errNoPage = hotline.Errorf(hotline.ENOTFOUND, "页面不存在", "page not found")

var errExpired = hotline.Errorf(hotline.EFORBIDDEN, "页面已过期，请刷新后重试", "the form expired; reload and retry")

// checkCSRF compares the form's token with the session's (synchronizer) or
// the visitor cookie's (double submit). Multipart forms must be parsed
// before, with a size limit.
func (s *Server) checkCSRF(r *http.Request) bool {
	want := formToken(r.Context())
	got := r.PostFormValue("csrf")
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// page is what every template gets.
type page struct {
	Lang, Title, BodyClass, Flash, Error, CSRF string
	User                                       *hotline.User
	Data                                       any
}

// T translates a message key.
func (p *page) T(key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if p.Lang == "en" {
		return m[1]
	}
	return m[0]
}

func (s *Server) newPage(w http.ResponseWriter, r *http.Request, title string) *page {
	p := &page{Lang: "zh", User: hotline.UserFrom(r.Context())}
	pref := func(name, q string, valid ...string) string {
		v := r.URL.Query().Get(q)
		for _, ok := range valid {
			if v == ok {
				http.SetCookie(w, &http.Cookie{Name: name, Value: v, Path: "/", MaxAge: 365 * 86400, SameSite: http.SameSiteLaxMode, Secure: s.Secure})
				return v
			}
		}
		if c, err := r.Cookie(name); err == nil {
			for _, ok := range valid {
				if c.Value == ok {
					return ok
				}
			}
		}
		return ""
	}
	if pref("lang", "lang", "zh", "en") == "en" {
		p.Lang = "en"
	}
	switch pref("view", "view", "big", "contrast", "normal") {
	case "big":
		p.BodyClass = "big"
	case "contrast":
		p.BodyClass = "big contrast"
	}
	p.CSRF = formToken(r.Context())
	p.Title = p.T(title)
	return p
}

func (s *Server) render(w http.ResponseWriter, status int, name string, p *page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := s.pages[name].ExecuteTemplate(w, "layout", p); err != nil {
		s.log.Error("render", "page", name, "err", err)
	}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := s.newPage(w, r, "brand")
	zh, en := hotline.ErrorMessages(err)
	p.Error = zh
	if p.Lang == "en" {
		p.Error = en
	}
	status := jsonhttp.Status(err)
	if status == http.StatusInternalServerError {
		s.log.Error("page failed", "path", r.URL.Path, "err", err)
	}
	p.Title = p.T("error.title")
	p.Data = status
	s.render(w, status, "error", p)
}

type option struct{ Value, Name string }

func (s *Server) portal(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(w, r, "portal.title")
	cats, err := s.store.Categories(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Data = map[string]any{"Types": options(ticket.Types, ticket.TypeNames, p.Lang == "en"), "Categories": cats}
	s.render(w, 200, "portal", p)
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	if !s.public.Allow(httpapi.ClientIP(r)) {
		s.fail(w, r, hotline.Errorf(hotline.ETOOMANY, "提交过于频繁，请稍后再试", "too many submissions; please try again later"))
		return
	}
	files, err := parseUpload(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.checkCSRF(r) {
		s.fail(w, r, errExpired)
		return
	}
	if strings.TrimSpace(r.PostFormValue("phone")) == "" {
		s.fail(w, r, hotline.Errorf(hotline.EINVALID, "请留下联系电话", "a phone number is required"))
		return
	}
	d := ticket.Draft{Channel: ticket.Web, Type: ticket.Type(r.PostFormValue("type")), Title: r.PostFormValue("title"),
		Content: r.PostFormValue("content"), CategoryCode: r.PostFormValue("category_code"), Address: r.PostFormValue("address"),
		Citizen: ticket.Citizen{Name: r.PostFormValue("name"), Phone: r.PostFormValue("phone"), Confidential: r.PostFormValue("confidential") == "1"}}
	// The form token makes a double-click or a resubmitted page one order.
	t, _, err := s.store.CreateTicket(r.Context(), d, nil, "public-web", formToken(r.Context())+"|"+digest(d.Title, d.Content))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.saveFiles(r.Context(), t.Number, files, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	s.Notify(t.Number)
	p := s.newPage(w, r, "submitted.title")
	p.Data = t
	s.render(w, http.StatusCreated, "submitted", p)
}

type trackData struct {
	Number, Code string
	View         *httpapi.PublicTicket
	Levels       []option
	Files        []attachment
}

func (s *Server) track(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(w, r, "nav.track")
	q := r.URL.Query()
	d := trackData{Number: strings.TrimSpace(q.Get("number")), Code: strings.TrimSpace(q.Get("code"))}
	for _, l := range []int{5, 4, 3, 2, 1} {
		d.Levels = append(d.Levels, option{strconv.Itoa(l), ticket.SatisfactionNames[l]})
	}
	if q.Get("rated") == "1" {
		p.Flash = p.T("thanks.rating")
	}
	status := 200
	if d.Number != "" {
		if !s.public.Allow(httpapi.ClientIP(r)) {
			s.fail(w, r, hotline.Errorf(hotline.ETOOMANY, "查询过于频繁，请稍后再试", "too many look-ups; please try again later"))
			return
		}
		t, err := s.store.PublicTicket(r.Context(), d.Number, d.Code)
		if err != nil {
			zh, en := hotline.ErrorMessages(err)
			p.Error, status = zh, http.StatusNotFound
			if p.Lang == "en" {
				p.Error = en
			}
		} else {
			evs, err := s.store.Events(r.Context(), t.ID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			v, err := httpapi.CitizenView(r.Context(), s.store, t, evs)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			d.View = &v
			if d.Files, err = s.attachments(r.Context(), t.Number, true); err != nil {
				s.fail(w, r, err)
				return
			}
		}
	}
	p.Data = d
	s.render(w, status, "track", p)
}

func (s *Server) rate(w http.ResponseWriter, r *http.Request) {
	if !s.checkCSRF(r) {
		s.fail(w, r, errExpired)
		return
	}
	number, code := r.PostFormValue("number"), r.PostFormValue("code")
	if _, err := s.store.PublicTicket(r.Context(), number, code); err != nil {
		s.fail(w, r, err)
		return
	}
	v, _ := strconv.Atoi(r.PostFormValue("version"))
	sat, _ := strconv.Atoi(r.PostFormValue("satisfaction"))
	if _, err := s.store.Act(r.Context(), number, ticket.Command{Action: ticket.ActRate, Citizen: true, Version: v,
		Satisfaction: sat, Content: r.PostFormValue("content")}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.Notify(number)
	http.Redirect(w, r, "/track?rated=1&number="+url.QueryEscape(number)+"&code="+url.QueryEscape(code), http.StatusSeeOther)
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(w, r, "nav.stats")
	now := time.Now()
	from := now.AddDate(0, -12, 0)
	months, err := s.store.OrderStats(r.Context(), from, now, "month")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	total, err := s.store.OrderStats(r.Context(), from, now, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := struct {
		Months []storage.OrderStats
		Total  *storage.OrderStats
		Max    int
	}{Months: months}
	if len(total) > 0 {
		d.Total = &total[0]
	}
	for _, m := range months {
		d.Max = max(d.Max, m.Total)
	}
	p.Data = d
	s.render(w, 200, "stats", p)
}

type loginData struct{ Next string }

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(w, r, "staff.login")
	p.Data = loginData{Next: safeNext(r.URL.Query().Get("next"))}
	s.render(w, 200, "login", p)
}

// safeNext keeps redirects on this site.
func safeNext(n string) string {
	if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.Contains(n, "\\") {
		return "/desk"
	}
	return n
}

var loginFailures = httpapi.NewLimiter(5, 15*time.Minute)

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("username"))
	key := strings.ToLower(name) + "|" + httpapi.ClientIP(r)
	p := s.newPage(w, r, "staff.login")
	p.Data = loginData{Next: safeNext(r.PostFormValue("next"))}
	if !s.checkCSRF(r) {
		p.Error = p.T("expired")
		s.render(w, http.StatusForbidden, "login", p)
		return
	}
	if loginFailures.Blocked(key) {
		p.Error = "登录失败次数过多，请15分钟后再试 / too many failed sign-ins; try again in 15 minutes"
		s.render(w, http.StatusTooManyRequests, "login", p)
		return
	}
	u, err := s.store.Authenticate(r.Context(), name, r.PostFormValue("password"))
	if err != nil {
		loginFailures.Allow(key)
		p.Error = p.T("login.failed")
		s.render(w, http.StatusUnauthorized, "login", p)
		return
	}
	loginFailures.Reset(key)
	tok, err := s.store.CreateSession(r.Context(), u.ID, httpapi.SessionTTL)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: httpapi.SessionCookie, Value: tok, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.Secure, MaxAge: int(httpapi.SessionTTL.Seconds())})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if tok := tokenFrom(r.Context()); tok != "" {
		if !s.checkCSRF(r) {
			s.fail(w, r, errExpired)
			return
		}
		s.store.DeleteSession(r.Context(), tok)
	}
	http.SetCookie(w, &http.Cookie{Name: httpapi.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// kbPage is the self-service search: citizens see public articles, staff
// also the internal ones.
func (s *Server) kbPage(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(w, r, "nav.kb")
	if r.URL.Query().Get("thanks") == "1" {
		p.Flash = p.T("kb.thanks")
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	d := struct {
		Q       string
		Results []struct {
			Article *kb.Article
			Snippet template.HTML
		}
	}{Q: q}
	if q != "" && s.KB != nil {
		if p.User == nil && !s.public.Allow(httpapi.ClientIP(r)) {
			s.fail(w, r, hotline.Errorf(hotline.ETOOMANY, "查询过于频繁，请稍后再试", "too many searches; please try again later"))
			return
		}
		res, err := s.KB.Search(r.Context(), q, kb.SearchOptions{PublicOnly: p.User == nil})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, x := range res {
			// The snippet is escaped by kb.Snippet, which only adds <mark>.
			d.Results = append(d.Results, struct {
				Article *kb.Article
				Snippet template.HTML
			}{x.Article, template.HTML(x.Snippet)})
		}
	}
	p.Data = d
	s.render(w, 200, "kb", p)
}

// bilingual picks one language from a label written "中文 English" (the
// English is the trailing run of ASCII words); a label with only one
// language is returned as it is.
func bilingual(s string, en bool) string {
	cut := -1
	for i, r := range s {
		if r > 0x7F {
			cut = i + len(string(r))
		}
	}
	if cut <= 0 || cut >= len(s) {
		return s
	}
	zh, english := strings.TrimSpace(s[:cut]), strings.TrimSpace(s[cut:])
	if english == "" || zh == "" {
		return s
	}
	if en {
		return english
	}
	return zh
}
