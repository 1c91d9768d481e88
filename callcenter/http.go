package callcenter

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/jsonhttp"
)

// Routes serves the call centre API; mount it at /api/v1/calls.
//
//	GET  /                         call records (from, to, state, agent, queue, caller, limit, page)
//	GET  /stats?from=&to=&by=      measures; by = hour | day | queue | agent
//	GET  /live                     supervisor wall board (queues, waiting calls, agents by state, service level)
//	PUT  /overload                 {"on": true} switch overload mode (supervisor, admin)
//	GET  /events[?agent=]          server-sent desk events: screen pops, state changes
//	GET  /agents/{name}            an agent's live state
//	PUT  /agents/{name}/state      {"state": "ready"|"not_ready"|"offline", "reason": "休息"}
//	PUT  /agents/{name}/skills     {"skills": ["general"]} (supervisor, admin)
//	PUT  /agents/{name}/sip        {"user_id": 7, "password": "…"} SIP credential (admin; or oneself)
//	GET  /callbacks?state=open     call-back tasks
//	POST /callbacks/{id}/close     {"state": "done"|"failed", "note": "…"}
//	POST /cti/events               a CTI event from an external PBX (type in the body)
//	POST /cti/{type}               the same with the type in the path (offered, answered, ended, …)
//	GET  /{id}                     one call record
//	GET  /{id}/recording           the call's stereo WAV (admin, supervisor, analyst, the agent who took it)
//	POST /{id}/hold, /{id}/resume  hold music for the caller and back (built-in engine)
//	POST /{id}/transfer            {"to": "agent:wang" | "12333" | "queue:english"} blind transfer, or to another queue (built-in engine)
//	POST /{id}/consult             {"to": "agent:wang" | "12333"} attended transfer: caller on hold, agent speaks with the target first
//	POST /{id}/consult/complete    the caller goes to the consulted party; the agent is released (wrap-up)
//	POST /{id}/consult/cancel      the consulted party is hung up; the caller is back with the agent
//	POST /{id}/conference          {"to": "agent:wang" | "12333"} three-way call (三方通话)
//	POST /{id}/conference/drop     the third party is hung up; the two-way call goes on
func (s *Service) Routes(r chi.Router) {
	r.Get("/", s.httpList)
	r.Get("/stats", s.httpStats)
	r.Get("/live", s.httpLive)
	r.Put("/overload", s.httpOverload)
	r.Get("/events", s.httpEvents)
	r.Get("/agents/{name}", s.httpAgent)
	r.Put("/agents/{name}/state", s.httpAgentState)
	r.Put("/agents/{name}/skills", s.httpAgentSkills)
	r.Put("/agents/{name}/sip", s.httpAgentSIP)
	r.Get("/callbacks", s.httpCallbacks)
	r.Post("/callbacks/{id}/close", s.httpCloseCallback)
	r.Post("/cti/events", s.httpCTI)
	r.Post("/cti/{type}", s.httpCTI)
	r.Get("/{id}", s.httpGet)
	r.Get("/{id}/recording", s.httpRecording)
	r.Post("/{id}/hold", s.httpControl)
	r.Post("/{id}/resume", s.httpControl)
	r.Post("/{id}/transfer", s.httpControl)
	r.Post("/{id}/consult", s.httpControl)
	r.Post("/{id}/consult/complete", s.httpControl)
	r.Post("/{id}/consult/cancel", s.httpControl)
	r.Post("/{id}/conference", s.httpControl)
	r.Post("/{id}/conference/drop", s.httpControl)
}

// httpControl holds, resumes or transfers a connected call: the agent on
// it, or a supervisor or admin.
func (s *Service) httpControl(w http.ResponseWriter, r *http.Request) {
	u, c, ok := s.call(w, r)
	if !ok {
		return
	}
	if !u.Has(hotline.RoleAdmin, hotline.RoleSupervisor) {
		if a := s.Agent(u.Username); a.CallID != c.CallID || a.State != Talking {
			jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EFORBIDDEN, "只有通话中的坐席可以操作该通话", "only the agent on the call may do this"))
			return
		}
	}
	ctl, err := s.Control(c.CallID)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	action := ""
	if rc := chi.RouteContext(r.Context()); rc != nil {
		p := rc.RoutePattern()
		action = p[strings.LastIndex(p, "{id}/")+len("{id}/"):]
	}
	to := func() (string, error) {
		var body struct {
			To string `json:"to"`
		}
		err := jsonhttp.Decode(w, r, &body)
		return strings.TrimSpace(body.To), err
	}
	var target string
	switch action {
	case "hold":
		err = ctl.Hold()
	case "resume":
		err = ctl.Resume()
	case "transfer":
		if target, err = to(); err == nil {
			err = ctl.Transfer(target)
		}
	case "consult":
		if target, err = to(); err == nil {
			err = ctl.Consult(target)
		}
	case "consult/complete":
		err = ctl.CompleteTransfer()
	case "consult/cancel":
		err = ctl.CancelConsult()
	case "conference":
		if target, err = to(); err == nil {
			err = ctl.Conference(target)
		}
	case "conference/drop":
		err = ctl.DropConference()
	default:
		err = hotline.Errorf(hotline.ENOTFOUND, "未知的通话操作", "unknown call action")
	}
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"call_id": c.CallID, "done": action})
}

// allow returns the signed-in user if they hold one of roles.
func allow(w http.ResponseWriter, r *http.Request, roles ...hotline.Role) (*hotline.User, bool) {
	u := hotline.UserFrom(r.Context())
	if u == nil {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EUNAUTHORIZED, "请先登录", "please sign in"))
		return nil, false
	}
	if len(roles) > 0 && !u.Has(roles...) {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EFORBIDDEN, "无权访问", "not allowed"))
		return nil, false
	}
	return u, true
}

func parseTime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.FixedZone("CST", 8*3600)); err == nil {
			return t, nil
		}
	}
	return time.Time{}, hotline.Errorf(hotline.EINVALID, "时间格式无效：%s", "bad time: %s (use 2006-01-02 or RFC 3339)", v, v)
}

// rangeOf reads from/to (default: the last day up to now; a bare date as
// to means through that day).
func (s *Service) rangeOf(r *http.Request) (time.Time, time.Time, error) {
	q := r.URL.Query()
	to := s.Now().Add(time.Second) // include calls arriving this second
	if v := q.Get("to"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			return t, t, err
		}
		if len(v) == 10 {
			t = t.AddDate(0, 0, 1)
		}
		to = t
	}
	from := to.Add(-24 * time.Hour)
	if v := q.Get("from"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			return t, t, err
		}
		from = t
	}
	return from, to, nil
}

func (s *Service) httpList(w http.ResponseWriter, r *http.Request) {
	u, ok := allow(w, r, hotline.RoleAdmin, hotline.RoleSupervisor, hotline.RoleAnalyst, hotline.RoleAgent)
	if !ok {
		return
	}
	from, to, err := s.rangeOf(r)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := Filter{From: from, To: to, State: State(q.Get("state")), Agent: q.Get("agent"), Queue: q.Get("queue"), Caller: q.Get("caller")}
	var e1, e2 error
	if v := q.Get("limit"); v != "" {
		f.Limit, e1 = strconv.Atoi(v)
	}
	if v := q.Get("page"); v != "" {
		f.Page, e2 = strconv.Atoi(v)
	}
	if e1 != nil || e2 != nil || f.Limit < 0 || f.Limit > 500 || f.Page < 0 || f.Page > 10000 {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "limit须为1至500，page须为正整数", "limit must be 1..500 and page a positive integer"))
		return
	}
	switch f.State {
	case "", Queued, Answered, Abandoned, Callback, Transferred:
	default:
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "state须为queued、answered、abandoned、callback或transferred", "state must be queued, answered, abandoned, callback or transferred"))
		return
	}
	if !u.Has(hotline.RoleAdmin, hotline.RoleSupervisor, hotline.RoleAnalyst) {
		f.Agent = u.Username // agents see their own calls
	}
	calls, err := s.store.List(r.Context(), f)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"items": calls, "from": from, "to": to})
}

func (s *Service) httpStats(w http.ResponseWriter, r *http.Request) {
	if _, ok := allow(w, r, hotline.RoleAdmin, hotline.RoleSupervisor, hotline.RoleAnalyst); !ok {
		return
	}
	from, to, err := s.rangeOf(r)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	by := r.URL.Query().Get("by")
	st, err := s.Stats(r.Context(), from, to, by)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "by": by, "items": st})
}

func (s *Service) httpLive(w http.ResponseWriter, r *http.Request) {
	if _, ok := allow(w, r, hotline.RoleAdmin, hotline.RoleSupervisor); !ok {
		return
	}
	l, err := s.Live(r.Context())
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, l)
}

func (s *Service) httpOverload(w http.ResponseWriter, r *http.Request) {
	if _, ok := allow(w, r, hotline.RoleAdmin, hotline.RoleSupervisor); !ok {
		return
	}
	var body struct {
		On bool `json:"on"`
	}
	if err := jsonhttp.Decode(w, r, &body); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	s.SetOverload(body.On)
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"overloaded": s.Overloaded(), "config": s.OverloadConfig()})
}

// httpEvents streams desk events as server-sent events. An agent gets her
// own; supervisors and admins get one agent's (?agent=) or everyone's.
func (s *Service) httpEvents(w http.ResponseWriter, r *http.Request) {
	u, ok := allow(w, r, hotline.RoleAdmin, hotline.RoleSupervisor, hotline.RoleAgent)
	if !ok {
		return
	}
	key := u.Username
	if u.Has(hotline.RoleAdmin, hotline.RoleSupervisor) {
		key = r.URL.Query().Get("agent")
		if key == "" {
			key = "*"
		}
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINTERNAL, "不支持事件流", "streaming unsupported"))
		return
	}
	ch, cancel := s.Subscribe(key)
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if key != "*" {
		a := s.Agent(key)
		b, _ := json.Marshal(DeskEvent{Type: "state", At: s.Now(), Agent: key, State: &a})
		fmt.Fprintf(w, "event: state\ndata: %s\n\n", b)
	}
	fl.Flush()
	keep := time.NewTicker(25 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keep.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
		case e := <-ch:
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, b)
			fl.Flush()
		}
	}
}

// self reports whether u may act for agent name: herself, or a supervisor
// or admin.
func self(u *hotline.User, name string) bool {
	return u.Username == name || u.Has(hotline.RoleAdmin, hotline.RoleSupervisor)
}

func (s *Service) httpAgent(w http.ResponseWriter, r *http.Request) {
	u, ok := allow(w, r, hotline.RoleAdmin, hotline.RoleSupervisor, hotline.RoleAgent)
	if !ok {
		return
	}
	name := chi.URLParam(r, "name")
	if !self(u, name) {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EFORBIDDEN, "只能查看自己的坐席状态", "you may only see your own state"))
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, s.Agent(name))
}

func (s *Service) httpAgentState(w http.ResponseWriter, r *http.Request) {
	u, ok := allow(w, r, hotline.RoleAdmin, hotline.RoleSupervisor, hotline.RoleAgent)
	if !ok {
		return
	}
	name := chi.URLParam(r, "name")
	if !self(u, name) {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EFORBIDDEN, "只能设置自己的坐席状态", "you may only set your own state"))
		return
	}
	var body struct {
		State  string `json:"state"`
		Reason string `json:"reason"`
	}
	if err := jsonhttp.Decode(w, r, &body); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	act := map[string]AgentAction{string(Ready): ActReady, string(NotReady): ActNotReady, string(Offline): ActLogout}[body.State]
	if act == "" {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "state须为ready、not_ready或offline", "state must be ready, not_ready or offline"))
		return
	}
	a, err := s.AgentDo(name, act, body.Reason)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, a)
}

func (s *Service) httpAgentSkills(w http.ResponseWriter, r *http.Request) {
	if _, ok := allow(w, r, hotline.RoleAdmin, hotline.RoleSupervisor); !ok {
		return
	}
	var body struct {
		Skills []string `json:"skills"`
	}
	if err := jsonhttp.Decode(w, r, &body); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	name := chi.URLParam(r, "name")
	if err := s.SetSkills(name, body.Skills); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, s.Agent(name))
}

func (s *Service) httpAgentSIP(w http.ResponseWriter, r *http.Request) {
	u, ok := allow(w, r)
	if !ok {
		return
	}
	var body struct {
		UserID   int64  `json:"user_id"`
		Password string `json:"password"`
	}
	if err := jsonhttp.Decode(w, r, &body); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	name := chi.URLParam(r, "name")
	switch {
	case u.Has(hotline.RoleAdmin):
		if body.UserID == 0 {
			body.UserID = u.ID
		}
	case name == u.Username && (body.UserID == 0 || body.UserID == u.ID):
		body.UserID = u.ID
	default:
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EFORBIDDEN, "只能设置自己的SIP密码", "you may only set your own SIP password"))
		return
	}
	if err := s.SetSIPPassword(r.Context(), body.UserID, name, body.Password); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"username": name, "user_id": body.UserID, "realm": s.opts.Realm})
}

func (s *Service) httpCallbacks(w http.ResponseWriter, r *http.Request) {
	if _, ok := allow(w, r, hotline.RoleAdmin, hotline.RoleSupervisor, hotline.RoleAgent, hotline.RoleRevisitor); !ok {
		return
	}
	state := r.URL.Query().Get("state")
	switch state {
	case "", CallbackOpen, CallbackDone, CallbackFailed:
	default:
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "state须为open、done或failed", "state must be open, done or failed"))
		return
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	list, err := s.store.Callbacks(r.Context(), state, limit)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (s *Service) httpCloseCallback(w http.ResponseWriter, r *http.Request) {
	u, ok := allow(w, r, hotline.RoleAdmin, hotline.RoleSupervisor, hotline.RoleAgent, hotline.RoleRevisitor)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "任务编号无效", "bad task id"))
		return
	}
	var body struct {
		State string `json:"state"`
		Note  string `json:"note"`
	}
	if err := jsonhttp.Decode(w, r, &body); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if err := s.store.CloseCallback(r.Context(), id, body.State, u.Username, body.Note, s.Now()); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"id": id, "state": body.State})
}

// httpCTI records one event from an external PBX or ACD, which signs in
// as a user with the agent or admin role. The answer carries the call
// record and, for offered and answered, the desk URL to pop.
func (s *Service) httpCTI(w http.ResponseWriter, r *http.Request) {
	if _, ok := allow(w, r, hotline.RoleAgent, hotline.RoleAdmin); !ok {
		return
	}
	var e Event
	if err := jsonhttp.Decode(w, r, &e); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if t := chi.URLParam(r, "type"); t != "" {
		if e.Type != "" && string(e.Type) != t {
			jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "路径与请求体中的事件类型不一致", "event type in path and body differ"))
			return
		}
		e.Type = EventType(t)
	}
	if e.At.IsZero() {
		e.At = s.Now()
	}
	c, err := s.Record(r.Context(), e)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	out := map[string]any{"call": c}
	if e.Type == EvOffered || e.Type == EvAnswered {
		out["screen_pop"] = ScreenPopURL(c.Caller, c.CallID)
	}
	jsonhttp.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) call(w http.ResponseWriter, r *http.Request) (*hotline.User, *Call, bool) {
	u, ok := allow(w, r, hotline.RoleAdmin, hotline.RoleSupervisor, hotline.RoleAnalyst, hotline.RoleAgent)
	if !ok {
		return nil, nil, false
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	var c *Call
	if err != nil {
		c, err = s.store.GetByCallID(r.Context(), chi.URLParam(r, "id"))
	} else {
		c, err = s.store.Get(r.Context(), id)
	}
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return nil, nil, false
	}
	if !u.Has(hotline.RoleAdmin, hotline.RoleSupervisor, hotline.RoleAnalyst) && c.Agent != u.Username && s.Agent(u.Username).CallID != c.CallID {
		// Not found rather than forbidden: agents do not learn of others' calls.
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.ENOTFOUND, "通话记录不存在", "call not found"))
		return nil, nil, false
	}
	return u, c, true
}

func (s *Service) httpGet(w http.ResponseWriter, r *http.Request) {
	if _, c, ok := s.call(w, r); ok {
		jsonhttp.WriteJSON(w, http.StatusOK, c)
	}
}

func (s *Service) httpRecording(w http.ResponseWriter, r *http.Request) {
	_, c, ok := s.call(w, r)
	if !ok {
		return
	}
	p, err := s.RecordingPath(c)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.ENOTFOUND, "录音文件已过期或不存在", "the recording has expired or is missing"))
		return
	}
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Disposition", `inline; filename="`+strings.ReplaceAll(c.CallID, `"`, "")+`.wav"`)
	http.ServeContent(w, r, "", st.ModTime(), f)
}
