package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/callcenter"
	"github.com/hotline12345/hotline/jsonhttp"
)

// callRoutes: the CTI event API a phone system posts to, call records and
// the call measures.
func (s *Server) callRoutes(r chi.Router) {
	r.Post("/cti/events", s.ctiEvent)
	r.Get("/calls", s.listCalls)
	r.Get("/calls/stats", s.callStats)
}

// ctiEvent records one event from a PBX or ACD. The phone system signs in
// as a user with the agent or admin role. An offered call answers with the
// desk URL to pop for the caller.
func (s *Server) ctiEvent(w http.ResponseWriter, r *http.Request) {
	if !requireRole(w, r, hotline.RoleAgent, hotline.RoleAdmin) {
		return
	}
	var e callcenter.Event
	if err := jsonhttp.Decode(w, r, &e); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	c, err := s.Calls.Record(r.Context(), e)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	out := map[string]any{"call": c}
	if e.Type == callcenter.EvOffered || e.Type == callcenter.EvAnswered {
		out["screen_pop"] = "/desk/new?caller=" + url.QueryEscape(c.Caller) + "&call_id=" + url.QueryEscape(c.CallID)
	}
	jsonhttp.WriteJSON(w, http.StatusOK, out)
}

func callRange(r *http.Request, def time.Duration) (time.Time, time.Time, error) {
	from, to, err := parseRange(r)
	if err != nil {
		return from, to, err
	}
	if r.URL.Query().Get("from") == "" {
		from = to.Add(-def)
	}
	return from, to, nil
}

func (s *Server) listCalls(w http.ResponseWriter, r *http.Request) {
	if !requireRole(w, r, hotline.RoleAdmin, hotline.RoleSupervisor, hotline.RoleAnalyst, hotline.RoleAgent) {
		return
	}
	from, to, err := callRange(r, 24*time.Hour)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := callcenter.Filter{From: from, To: to, State: callcenter.State(q.Get("state")), Agent: q.Get("agent"), Queue: q.Get("queue"), Caller: q.Get("caller")}
	f.Limit, _ = strconv.Atoi(q.Get("limit"))
	f.Page, _ = strconv.Atoi(q.Get("page"))
	if f.Limit < 0 || f.Limit > 500 || f.Page < 0 || f.Page > 1000 {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "limit须为1至500", "limit must be 1..500"))
		return
	}
	// Agents see their own calls only.
	if u := hotline.UserFrom(r.Context()); !u.Has(hotline.RoleAdmin, hotline.RoleSupervisor, hotline.RoleAnalyst) {
		f.Agent = u.Username
	}
	calls, err := s.Calls.List(r.Context(), f)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"items": calls, "from": from, "to": to})
}

func (s *Server) callStats(w http.ResponseWriter, r *http.Request) {
	if !requireRole(w, r, hotline.RoleAdmin, hotline.RoleSupervisor, hotline.RoleAnalyst) {
		return
	}
	from, to, err := callRange(r, 24*time.Hour)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	st, err := s.Calls.Stats(r.Context(), from, to, r.URL.Query().Get("by"))
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "items": st})
}
