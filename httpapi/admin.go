package httpapi

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/jsonhttp"
	"github.com/hotline12345/hotline/storage"
	"github.com/hotline12345/hotline/ticket"
)

func (s *Server) listUnits(w http.ResponseWriter, r *http.Request) {
	units, err := s.Store.Units(r.Context())
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if units == nil {
		units = []ticket.Unit{}
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"items": units})
}

func (s *Server) createUnit(w http.ResponseWriter, r *http.Request) {
	if !requireRole(w, r, hotline.RoleAdmin) {
		return
	}
	var u ticket.Unit
	if err := jsonhttp.Decode(w, r, &u); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	u.ID = 0
	u, err := s.Store.CreateUnit(r.Context(), u)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusCreated, u)
}

func (s *Server) listCategories(w http.ResponseWriter, r *http.Request) {
	cs, err := s.Store.Categories(r.Context())
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if cs == nil {
		cs = []storage.Category{}
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"items": cs})
}

func (s *Server) createCategory(w http.ResponseWriter, r *http.Request) {
	if !requireRole(w, r, hotline.RoleAdmin) {
		return
	}
	var c storage.Category
	if err := jsonhttp.Decode(w, r, &c); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	c.ID, c.Path = 0, ""
	c, err := s.Store.CreateCategory(r.Context(), c)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusCreated, c)
}

func (s *Server) listCatalogue(w http.ResponseWriter, r *http.Request) {
	es, err := s.Store.Catalogue(r.Context())
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if es == nil {
		es = []storage.CatalogueEntry{}
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"items": es})
}

func (s *Server) setCatalogue(w http.ResponseWriter, r *http.Request) {
	if !requireRole(w, r, hotline.RoleAdmin) {
		return
	}
	var e storage.CatalogueEntry
	if err := jsonhttp.Decode(w, r, &e); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	e, err := s.Store.SetCatalogueEntry(r.Context(), e)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, e)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	if !requireRole(w, r, hotline.RoleAdmin) {
		return
	}
	us, err := s.Store.Users(r.Context())
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if us == nil {
		us = []*hotline.User{}
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"items": us})
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	if !requireRole(w, r, hotline.RoleAdmin) {
		return
	}
	var nu storage.NewUser
	if err := jsonhttp.Decode(w, r, &nu); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	u, err := s.Store.CreateUser(r.Context(), nu)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusCreated, u)
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.Store.Policy(r.Context())
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, p)
}

func (s *Server) putPolicy(w http.ResponseWriter, r *http.Request) {
	if !requireRole(w, r, hotline.RoleAdmin) {
		return
	}
	var p ticket.Policy
	if err := jsonhttp.Decode(w, r, &p); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if err := s.Store.SetPolicy(r.Context(), p); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, p)
}

func pathYear(r *http.Request) (int, error) {
	y, err := strconv.Atoi(chi.URLParam(r, "year"))
	if err != nil || y < 2000 || y > 2100 {
		return 0, hotline.Errorf(hotline.EINVALID, "年份无效", "invalid year")
	}
	return y, nil
}
