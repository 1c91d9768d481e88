package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/jsonhttp"
	"github.com/hotline12345/hotline/storage"
	"github.com/hotline12345/hotline/ticket"
)

// TicketView is an order as the API returns it: the order plus what is
// computed for the viewer at request time.
type TicketView struct {
	*ticket.Ticket
	Warning string          `json:"warning"`
	Overdue bool            `json:"overdue"`
	Actions []ticket.Action `json:"actions"`
}

// View computes the warning level and the actions u may take now.
func View(t *ticket.Ticket, u *hotline.User, env ticket.Env) TicketView {
	v := TicketView{Ticket: t, Warning: t.WarningAt(env.Now), Overdue: t.Overdue(env.Now), Actions: []ticket.Action{}}
	for _, a := range ticket.Actions {
		if ticket.Allowed(t, a, u, env.Units) {
			v.Actions = append(v.Actions, a)
		}
	}
	return v
}

func (s *Server) view(r *http.Request, t *ticket.Ticket) (TicketView, error) {
	env, err := s.Store.Env(r.Context())
	if err != nil {
		return TicketView{}, err
	}
	return View(t, hotline.UserFrom(r.Context()), env), nil
}

func (s *Server) createTicket(w http.ResponseWriter, r *http.Request) {
	var d ticket.Draft
	if err := jsonhttp.Decode(w, r, &d); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	u := hotline.UserFrom(r.Context())
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 200 {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "Idempotency-Key过长", "Idempotency-Key is too long"))
		return
	}
	t, created, err := s.Store.CreateTicket(r.Context(), d, u, "user:"+strconv.FormatInt(u.ID, 10), key)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	v, err := s.view(r, t)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
		w.Header().Set("Idempotent-Replayed", "true")
	} else {
		s.met.tickets.WithLabelValues(string(t.Channel)).Inc()
		s.notify(t.Number)
	}
	w.Header().Set("Location", "/api/v1/tickets/"+t.Number)
	jsonhttp.WriteJSON(w, status, v)
}

func (s *Server) notify(number string) {
	if s.OnTicket != nil {
		s.OnTicket(number)
	}
}

func (s *Server) getTicket(w http.ResponseWriter, r *http.Request) {
	t, err := s.Store.TicketFor(r.Context(), chi.URLParam(r, "number"), hotline.UserFrom(r.Context()))
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	v, err := s.view(r, t)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, v)
}

func (s *Server) getEvents(w http.ResponseWriter, r *http.Request) {
	t, err := s.Store.TicketFor(r.Context(), chi.URLParam(r, "number"), hotline.UserFrom(r.Context()))
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	evs, err := s.Store.Events(r.Context(), t.ID)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"items": evs})
}

// ActionRequest is the body of POST /tickets/{number}/{action}.
type ActionRequest struct {
	Version       int        `json:"version"`
	Content       string     `json:"content"`
	Reason        string     `json:"reason"`
	LeadUnitID    int64      `json:"lead_unit_id"`
	AssistUnitIDs []int64    `json:"assist_unit_ids"`
	UnitID        int64      `json:"unit_id"`
	Result        string     `json:"result"`
	WorkingDays   int        `json:"working_days"`
	Satisfaction  int        `json:"satisfaction"`
	Solved        *bool      `json:"solved"`
	Unreachable   bool       `json:"unreachable"`
	Due           *time.Time `json:"due"`
	Into          string     `json:"into"`
	Disposition   string     `json:"disposition"`
	ArticleID     int64      `json:"article_id"`
}

// Command turns the request into a lifecycle command.
func (a ActionRequest) Command(action ticket.Action) ticket.Command {
	c := ticket.Command{Action: action, Version: a.Version, Content: a.Content, Reason: a.Reason,
		LeadUnitID: a.LeadUnitID, AssistUnitIDs: a.AssistUnitIDs, UnitID: a.UnitID, Result: ticket.Result(a.Result),
		WorkingDays: a.WorkingDays, Satisfaction: a.Satisfaction, Solved: a.Solved, Unreachable: a.Unreachable,
		Into: a.Into, Disposition: ticket.Disposition(a.Disposition), ArticleID: a.ArticleID}
	if a.Due != nil {
		c.Due = *a.Due
	}
	return c
}

func (s *Server) act(w http.ResponseWriter, r *http.Request) {
	action := ticket.Action(chi.URLParam(r, "action"))
	if !slices.Contains(ticket.Actions, action) || action == ticket.ActRate {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.ENOTFOUND, "未知的操作：%s", "unknown action %s", action, action))
		return
	}
	var req ActionRequest
	if err := jsonhttp.Decode(w, r, &req); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if req.Version <= 0 {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "请提供工单版本号version", "version is required"))
		return
	}
	cmd := req.Command(action)
	cmd.User = hotline.UserFrom(r.Context())
	t, err := s.Store.Act(r.Context(), chi.URLParam(r, "number"), cmd)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	s.met.actions.WithLabelValues(string(action)).Inc()
	if action == ticket.ActAnswer && req.ArticleID != 0 && s.KB != nil {
		// The article that answered the call: counted for the article and
		// for the report of which articles resolve calls.
		if err := s.KB.RecordUse(r.Context(), req.ArticleID, t.Number); err != nil {
			logf("kb use not recorded", "article", req.ArticleID, "err", err)
		}
	}
	s.notify(t.Number)
	if action == ticket.ActMerge {
		s.notify(t.MergedInto)
	}
	v, err := s.view(r, t)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, v)
}

// ParseFilter reads list filters from a query string.
func ParseFilter(q map[string][]string) (storage.Filter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	var f storage.Filter
	for _, st := range q["state"] {
		for _, p := range strings.Split(st, ",") {
			if p != "" {
				f.States = append(f.States, ticket.State(p))
			}
		}
	}
	num := func(k string) (int64, error) {
		v := get(k)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, hotline.Errorf(hotline.EINVALID, "参数%s须为正整数", "%s must be a positive integer", k, k)
		}
		return n, nil
	}
	var err error
	if f.UnitID, err = num("unit"); err != nil {
		return f, err
	}
	var n int64
	if n, err = num("limit"); err != nil {
		return f, err
	}
	f.Limit = int(n)
	if n, err = num("page"); err != nil {
		return f, err
	}
	f.Page = int(n)
	f.CategoryCode = get("category")
	if f.CategoryCode != "" && strings.Trim(f.CategoryCode, "0123456789") != "" {
		return f, hotline.Errorf(hotline.EINVALID, "分类编码须为数字", "category must be digits")
	}
	f.Type, f.Channel, f.Urgency = ticket.Type(get("type")), ticket.Channel(get("channel")), ticket.Urgency(get("urgency"))
	if f.Type != "" && !f.Type.Valid() || f.Channel != "" && !f.Channel.Valid() || f.Urgency != "" && !f.Urgency.Valid() {
		return f, hotline.Errorf(hotline.EINVALID, "类型、渠道或紧急程度无效", "invalid type, channel or urgency")
	}
	for _, k := range []string{"from", "to"} {
		v := get(k)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			d, err2 := time.ParseInLocation("2006-01-02", v, time.FixedZone("CST", 8*3600))
			if err2 != nil {
				return f, hotline.Errorf(hotline.EINVALID, "日期%s格式无效（YYYY-MM-DD或RFC 3339）", "%s must be YYYY-MM-DD or RFC 3339", k, k)
			}
			t = d
			if k == "to" {
				t = d.AddDate(0, 0, 1)
			}
		}
		if k == "from" {
			f.From = t
		} else {
			f.To = t
		}
	}
	f.Overdue = get("overdue") == "true" || get("overdue") == "1"
	f.Escalated = get("escalated") == "true" || get("escalated") == "1"
	f.Provisional = get("provisional") == "true" || get("provisional") == "1"
	f.Warning = get("warning")
	if f.Phone = get("phone"); f.Phone != "" {
		p, err := ticket.NormalizePhone(f.Phone)
		if err != nil {
			return f, err
		}
		f.Phone = p
	}
	f.Text = get("q")
	if len([]rune(f.Text)) > 100 {
		return f, hotline.Errorf(hotline.EINVALID, "搜索词过长（最多100字）", "search text too long (at most 100 characters)")
	}
	f.Sort = get("sort")
	f.Cursor = get("cursor")
	return f, nil
}

func (s *Server) listTickets(w http.ResponseWriter, r *http.Request) {
	f, err := ParseFilter(r.URL.Query())
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	f.Viewer = hotline.UserFrom(r.Context())
	page, err := s.Store.ListTickets(r.Context(), f)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	env, err := s.Store.Env(r.Context())
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	items := make([]TicketView, len(page.Items))
	for i, t := range page.Items {
		items[i] = View(t, f.Viewer, env)
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": page.NextCursor, "page": page.Page,
		"limit": page.Limit, "total": page.Total, "total_capped": page.TotalCapped})
}

// relatedRequest asks for the likely duplicates of a request not yet registered.
type relatedRequest struct {
	Title        string `json:"title"`
	Content      string `json:"content"`
	Address      string `json:"address"`
	Phone        string `json:"phone"`
	RegionUnitID int64  `json:"region_unit_id"`
	WindowDays   int    `json:"window_days"`
	Limit        int    `json:"limit"`
}

func windowDays(n int) (time.Duration, error) {
	if n < 0 || n > 365 {
		return 0, hotline.Errorf(hotline.EINVALID, "时间窗须为0至365天", "window_days must be 0–365")
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

func (s *Server) relatedDraft(w http.ResponseWriter, r *http.Request) {
	var q relatedRequest
	if err := jsonhttp.Decode(w, r, &q); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if strings.TrimSpace(q.Title+q.Content+q.Address+q.Phone) == "" {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "请至少提供标题、内容、地址或电话之一", "give at least a title, content, address or phone"))
		return
	}
	if q.Limit < 0 || q.Limit > 20 {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "limit须为0至20", "limit must be 0–20"))
		return
	}
	win, err := windowDays(q.WindowDays)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	ms, err := s.Store.Related(r.Context(), hotline.UserFrom(r.Context()), storage.RelatedQuery{Title: q.Title, Content: q.Content,
		Address: q.Address, Phone: q.Phone, RegionUnitID: q.RegionUnitID, Window: win, Limit: q.Limit})
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"items": ms})
}

func (s *Server) relatedTo(w http.ResponseWriter, r *http.Request) {
	u := hotline.UserFrom(r.Context())
	t, err := s.Store.TicketFor(r.Context(), chi.URLParam(r, "number"), u)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	days := 0
	if v := r.URL.Query().Get("window_days"); v != "" {
		if days, err = strconv.Atoi(v); err != nil {
			jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "时间窗须为整数天", "window_days must be a whole number"))
			return
		}
	}
	win, err := windowDays(days)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	ms, err := s.Store.Related(r.Context(), u, storage.RelatedQuery{Number: t.Number, Window: win})
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"items": ms})
}
