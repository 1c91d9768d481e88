package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/kb"
)

func (s *Server) kbRoutes(r chi.Router) {
	r.Get("/kb/search", s.kbSearch)
	r.Get("/kb/articles", s.kbList)
	r.Post("/kb/articles", s.kbCreate)
	r.Get("/kb/articles/{id}", s.kbGet)
	r.Put("/kb/articles/{id}", s.kbUpdate)
	r.Post("/kb/articles/{id}/feedback", s.kbFeedback)
	r.Post("/kb/articles/{id}/{action}", s.kbAct)
	r.Get("/kb/misses", s.kbMisses)
	r.Get("/kb/report", s.kbReport)
	r.Get("/kb/synonyms", s.kbSynonyms)
	r.Put("/kb/synonyms", s.kbSetSynonyms)
}

func (s *Server) kbSynonyms(w http.ResponseWriter, r *http.Request) {
	if hotline.UserFrom(r.Context()) == nil {
		WriteError(w, r, hotline.Errorf(hotline.EUNAUTHORIZED, "请先登录", "sign in first"))
		return
	}
	groups, err := s.KB.Synonyms(r.Context())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"groups": groups})
}

// kbSetSynonyms replaces the synonym groups: {"groups": [["社保","社会保险"], …]}.
func (s *Server) kbSetSynonyms(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Groups [][]string `json:"groups"`
	}
	if err := Decode(w, r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	if err := s.KB.SetSynonyms(r.Context(), req.Groups, hotline.UserFrom(r.Context())); err != nil {
		WriteError(w, r, err)
		return
	}
	s.kbSynonyms(w, r)
}

// kbReport: which articles resolved the most calls and which questions
// found no article, over the last ?days= (default 30).
func (s *Server) kbReport(w http.ResponseWriter, r *http.Request) {
	if !requireRole(w, r, hotline.RoleEditor, hotline.RoleAdmin, hotline.RoleAnalyst, hotline.RoleSupervisor) {
		return
	}
	days := 30
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3660 {
			WriteError(w, r, hotline.Errorf(hotline.EINVALID, "days须为1至3660的整数", "days must be a whole number from 1 to 3660"))
			return
		}
		days = n
	}
	since := time.Now().AddDate(0, 0, -days)
	top, err := s.KB.TopUsed(r.Context(), since, 50)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	misses, err := s.KB.MissReport(r.Context(), since, 50)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"since": since, "top_used": top, "unanswered": misses})
}

func articleID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, hotline.Errorf(hotline.EINVALID, "知识编号无效", "invalid article id")
	}
	return id, nil
}

func (s *Server) kbSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o := kb.SearchOptions{PublicOnly: hotline.UserFrom(r.Context()) == nil, Category: q.Get("category")}
	o.UnitID, _ = strconv.ParseInt(q.Get("unit"), 10, 64)
	o.Limit, _ = strconv.Atoi(q.Get("limit"))
	res, err := s.KB.Search(r.Context(), q.Get("q"), o)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"items": res})
}

func (s *Server) kbList(w http.ResponseWriter, r *http.Request) {
	state := kb.State(r.URL.Query().Get("state"))
	if state == "" {
		state = kb.Published
	}
	var items []kb.Article
	var err error
	if r.URL.Query().Get("stale") == "true" {
		items, err = s.KB.Stale(r.Context(), 30)
	} else {
		items, err = s.KB.List(r.Context(), state, 200)
	}
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"items": items})
}

type articleRequest struct {
	kb.Article
	Publish bool `json:"publish"`
}

func (s *Server) kbCreate(w http.ResponseWriter, r *http.Request) {
	var req articleRequest
	if err := Decode(w, r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	a, err := s.KB.Create(r.Context(), req.Article, req.Publish, hotline.UserFrom(r.Context()))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, a)
}

func (s *Server) kbGet(w http.ResponseWriter, r *http.Request) {
	id, err := articleID(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	a, err := s.KB.Get(r.Context(), id, hotline.UserFrom(r.Context()))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, a)
}

func (s *Server) kbUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := articleID(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	var req articleRequest
	if err := Decode(w, r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	a, err := s.KB.Update(r.Context(), id, req.Version, req.Article, hotline.UserFrom(r.Context()))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, a)
}

func (s *Server) kbAct(w http.ResponseWriter, r *http.Request) {
	id, err := articleID(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	var req struct {
		Note string `json:"note"`
	}
	if r.ContentLength != 0 {
		if err := Decode(w, r, &req); err != nil {
			WriteError(w, r, err)
			return
		}
	}
	a, err := s.KB.Act(r.Context(), id, kb.Transition(chi.URLParam(r, "action")), req.Note, hotline.UserFrom(r.Context()))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, a)
}

// kbFeedback: "did this answer it?" — open to citizens too.
func (s *Server) kbFeedback(w http.ResponseWriter, r *http.Request) {
	id, err := articleID(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	var req struct {
		Helpful bool `json:"helpful"`
	}
	if err := Decode(w, r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	if _, err := s.KB.Get(r.Context(), id, hotline.UserFrom(r.Context())); err != nil {
		WriteError(w, r, err)
		return
	}
	if err := s.KB.Feedback(r.Context(), id, req.Helpful); err != nil {
		WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) kbMisses(w http.ResponseWriter, r *http.Request) {
	if !requireRole(w, r, hotline.RoleEditor, hotline.RoleAdmin, hotline.RoleAnalyst) {
		return
	}
	m, err := s.KB.Misses(r.Context(), 200)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"items": m, "note": strings.TrimSpace("questions that found no article, newest first")})
}
