package kb

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/jsonhttp"
)

// Routes mounts the knowledge base API (the integrator mounts it at
// /api/v1/kb behind its authentication middleware, which puts the user in
// the request context; anonymous requests reach it with no user):
//
//	GET  /search?q=&category=&unit=&limit=   staff search everything, others public only
//	GET  /articles?state=published|draft|review|expired|withdrawn   staff
//	GET  /articles?stale=30     published articles expiring within 30 days or unchanged for a year
//	GET  /articles?pending=1    published articles with a unit's proposal waiting
//	POST /articles              {…article, "publish": true}   editors, units
//	GET  /articles/{id}         (?html=1 adds body_html, the Markdown rendered safely)
//	PUT  /articles/{id}         {…article, "version": n}      editors, the owning unit
//	GET  /articles/{id}/history staff
//	POST /articles/{id}/feedback {"helpful": true}            anyone who may read it
//	POST /articles/{id}/uses    {"ticket_number": "…"}        staff
//	POST /articles/{id}/{submit|approve|reject|withdraw|expire} {"note": "…"}
//	GET  /misses?days=30        questions with no article     editors, admins, analysts, supervisors
//	GET  /usage?days=30         articles that resolved the most calls   same
//	GET  /synonyms, PUT /synonyms {"groups": [["社保","社会保险"], …]}   PUT: editors
func (s *Service) Routes(r chi.Router) {
	r.Get("/search", s.handleSearch)
	r.Get("/articles", s.handleList)
	r.Post("/articles", s.handleCreate)
	r.Get("/articles/{id}", s.handleGet)
	r.Put("/articles/{id}", s.handleUpdate)
	r.Get("/articles/{id}/history", s.handleHistory)
	r.Post("/articles/{id}/feedback", s.handleFeedback)
	r.Post("/articles/{id}/uses", s.handleUse)
	r.Post("/articles/{id}/{action}", s.handleAct)
	r.Get("/misses", s.handleMisses)
	r.Get("/usage", s.handleUsage)
	r.Get("/synonyms", s.handleSynonyms)
	r.Put("/synonyms", s.handleSetSynonyms)
}

// PublicRoutes mounts what citizens reach without signing in (the
// integrator mounts it at /api/v1/public/kb behind its rate limit): the
// 7×24 self-service search over public, published, effective articles, one
// public article, and "did this answer it?".
//
//	GET  /search?q=
//	GET  /articles/{id}
//	POST /articles/{id}/feedback {"helpful": true}
func (s *Service) PublicRoutes(r chi.Router) {
	r.Get("/search", s.PublicSearch)
	r.Get("/articles/{id}", s.handleGet)
	r.Post("/articles/{id}/feedback", s.handleFeedback)
}

// PublicSearch is the citizens' search: public articles only, whoever asks.
func (s *Service) PublicSearch(w http.ResponseWriter, r *http.Request) {
	s.search(w, r, true)
}

func (s *Service) handleSearch(w http.ResponseWriter, r *http.Request) {
	s.search(w, r, !isStaff(hotline.UserFrom(r.Context())))
}

func (s *Service) search(w http.ResponseWriter, r *http.Request, public bool) {
	q := r.URL.Query()
	o := SearchOptions{PublicOnly: public, Category: q.Get("category")}
	var err error
	if v := q.Get("unit"); v != "" {
		if o.UnitID, err = strconv.ParseInt(v, 10, 64); err != nil {
			jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "单位编号无效", "invalid unit id"))
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if o.Limit, err = strconv.Atoi(v); err != nil || o.Limit < 1 || o.Limit > 50 {
			jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "limit须为1到50", "limit must be 1 to 50"))
			return
		}
	}
	res, err := s.Search(r.Context(), q.Get("q"), o)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"items": res})
}

func requireStaff(u *hotline.User) error {
	if u == nil {
		return hotline.Errorf(hotline.EUNAUTHORIZED, "请先登录", "sign in first")
	}
	if !isStaff(u) {
		return hotline.Errorf(hotline.EFORBIDDEN, "您无权访问", "not allowed")
	}
	return nil
}

func requireRoles(u *hotline.User, roles ...hotline.Role) error {
	if err := requireStaff(u); err != nil {
		return err
	}
	if !u.Has(roles...) {
		return hotline.Errorf(hotline.EFORBIDDEN, "您无权访问", "not allowed")
	}
	return nil
}

func (s *Service) handleList(w http.ResponseWriter, r *http.Request) {
	u := hotline.UserFrom(r.Context())
	if err := requireStaff(u); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	q := r.URL.Query()
	var items []Article
	var err error
	switch {
	case q.Get("stale") != "":
		days, e := strconv.Atoi(q.Get("stale"))
		if e != nil || days < 0 || days > 3650 {
			jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "stale须为天数", "stale must be a number of days"))
			return
		}
		items, err = s.Stale(r.Context(), days)
	case q.Get("pending") != "":
		items, err = s.PendingProposals(r.Context())
	default:
		state := State(q.Get("state"))
		if state == "" {
			state = Published
		}
		switch state {
		case Published, Expired, Withdrawn, Draft, Review:
		default:
			jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "状态无效", "invalid state"))
			return
		}
		items, err = s.List(r.Context(), state, 500)
	}
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	visible := []Article{}
	for _, a := range items {
		if s.canRead(u, &a) {
			visible = append(visible, a)
		}
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"items": visible})
}

type articleRequest struct {
	Article
	Publish bool `json:"publish"`
}

func (s *Service) handleCreate(w http.ResponseWriter, r *http.Request) {
	var req articleRequest
	if err := jsonhttp.Decode(w, r, &req); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	a, err := s.Create(r.Context(), req.Article, req.Publish, hotline.UserFrom(r.Context()))
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusCreated, a)
}

func articleID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, hotline.Errorf(hotline.EINVALID, "知识编号无效", "invalid article id")
	}
	return id, nil
}

func (s *Service) handleGet(w http.ResponseWriter, r *http.Request) {
	id, err := articleID(r)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	a, err := s.Get(r.Context(), id, hotline.UserFrom(r.Context()))
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if r.URL.Query().Get("html") != "" {
		jsonhttp.WriteJSON(w, http.StatusOK, struct {
			*Article
			BodyHTML string `json:"body_html"`
		}{a, RenderHTML(a.Body)})
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, a)
}

func (s *Service) handleUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := articleID(r)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	var req articleRequest
	if err := jsonhttp.Decode(w, r, &req); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	a, err := s.Update(r.Context(), id, req.Version, req.Article, hotline.UserFrom(r.Context()))
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, a)
}

func (s *Service) handleHistory(w http.ResponseWriter, r *http.Request) {
	id, err := articleID(r)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	u := hotline.UserFrom(r.Context())
	if err := requireStaff(u); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	h, err := s.History(r.Context(), id, u)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"items": h})
}

func (s *Service) handleAct(w http.ResponseWriter, r *http.Request) {
	id, err := articleID(r)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	var req struct {
		Note string `json:"note"`
	}
	if r.ContentLength != 0 {
		if err := jsonhttp.Decode(w, r, &req); err != nil {
			jsonhttp.WriteError(w, r, err)
			return
		}
	}
	a, err := s.Act(r.Context(), id, Transition(chi.URLParam(r, "action")), truncate(req.Note, 500), hotline.UserFrom(r.Context()))
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, a)
}

func (s *Service) handleFeedback(w http.ResponseWriter, r *http.Request) {
	id, err := articleID(r)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	var req struct {
		Helpful *bool `json:"helpful"`
	}
	if err := jsonhttp.Decode(w, r, &req); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if req.Helpful == nil {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "请说明是否解决了问题", "helpful (true or false) is required"))
		return
	}
	if _, err := s.Get(r.Context(), id, hotline.UserFrom(r.Context())); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if err := s.Feedback(r.Context(), id, *req.Helpful); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) handleUse(w http.ResponseWriter, r *http.Request) {
	id, err := articleID(r)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if err := requireStaff(hotline.UserFrom(r.Context())); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	var req struct {
		TicketNumber string `json:"ticket_number"`
	}
	if err := jsonhttp.Decode(w, r, &req); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if err := s.RecordUse(r.Context(), id, req.TicketNumber); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

var reportRoles = []hotline.Role{hotline.RoleEditor, hotline.RoleAdmin, hotline.RoleAnalyst, hotline.RoleSupervisor}

func since(r *http.Request, s *Service) (time.Time, error) {
	days := 30
	if v := r.URL.Query().Get("days"); v != "" {
		d, err := strconv.Atoi(v)
		if err != nil || d < 1 || d > 3660 {
			return time.Time{}, hotline.Errorf(hotline.EINVALID, "days须为1到3660", "days must be 1 to 3660")
		}
		days = d
	}
	return s.Now().AddDate(0, 0, -days), nil
}

func (s *Service) handleMisses(w http.ResponseWriter, r *http.Request) {
	s.report(w, r, func(ctx context.Context, from time.Time) (any, error) { return s.MissReport(ctx, from, 200) })
}

func (s *Service) handleUsage(w http.ResponseWriter, r *http.Request) {
	s.report(w, r, func(ctx context.Context, from time.Time) (any, error) { return s.TopUsed(ctx, from, 200) })
}

// report answers one of the editors' reports over ?days= (default 30).
func (s *Service) report(w http.ResponseWriter, r *http.Request, items func(context.Context, time.Time) (any, error)) {
	if err := requireRoles(hotline.UserFrom(r.Context()), reportRoles...); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	from, err := since(r, s)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	out, err := items(r.Context(), from)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (s *Service) handleSynonyms(w http.ResponseWriter, r *http.Request) {
	if err := requireStaff(hotline.UserFrom(r.Context())); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	g, err := s.Synonyms(r.Context())
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"groups": g})
}

func (s *Service) handleSetSynonyms(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Groups [][]string `json:"groups"`
	}
	if err := jsonhttp.Decode(w, r, &req); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if err := s.SetSynonyms(r.Context(), req.Groups, hotline.UserFrom(r.Context())); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	s.handleSynonyms(w, r)
}
