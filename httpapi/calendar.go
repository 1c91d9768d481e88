package httpapi

import (
	"io"
	"net/http"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/calendar"
	"github.com/hotline12345/hotline/jsonhttp"
)

func (s *Server) getCalendarYear(w http.ResponseWriter, r *http.Request) {
	y, err := pathYear(r)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	cal, err := s.Store.Calendar(r.Context())
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if region := r.URL.Query().Get("region"); region != "" {
		cal = cal.Region(region)
	}
	loaded := false
	for _, ly := range cal.LoadedYears() {
		loaded = loaded || ly == y
	}
	warnings, err := s.Store.Warnings(r.Context())
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"year": y, "loaded": loaded, "loaded_years": cal.LoadedYears(),
		"hours": cal.Hours(), "days": cal.Year(y), "warnings": warnings})
}

// loadCalendarYear takes the year's days as text/plain lines
// "2027-01-01 off 元旦" / "2027-02-07 work".
func (s *Server) loadCalendarYear(w http.ResponseWriter, r *http.Request) {
	if !requireRole(w, r, hotline.RoleAdmin) {
		return
	}
	y, err := pathYear(r)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "请求体过大", "request body too large"))
		return
	}
	n, err := s.Store.LoadCalendarYear(r.Context(), y, string(body))
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"year": y, "recomputed_orders": n})
}

type calendarDayRequest struct {
	Date   string        `json:"date"`
	Region string        `json:"region"`
	Kind   calendar.Kind `json:"kind"`
	Note   string        `json:"note"`
}

func (s *Server) setCalendarDay(w http.ResponseWriter, r *http.Request) {
	if !requireRole(w, r, hotline.RoleAdmin) {
		return
	}
	var req calendarDayRequest
	if err := jsonhttp.Decode(w, r, &req); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if err := s.Store.SetCalendarDay(r.Context(), req.Date, req.Region, req.Kind, req.Note); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
