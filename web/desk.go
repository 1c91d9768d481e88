package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/calendar"
	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/httpapi"
	"github.com/hotline12345/hotline/storage"
	"github.com/hotline12345/hotline/ticket"
)

func contextWithToken(ctx context.Context, tok string) context.Context {
	return context.WithValue(ctx, tokenKey, tok)
}

func tokenFrom(ctx context.Context) string {
	s, _ := ctx.Value(tokenKey).(string)
	return s
}

// queue is a named list on a desk.
type queue struct {
	Key, Name string
	URL       string
	Active    bool
	filter    func(f *storage.Filter)
	// list, if set, replaces ListTickets for queues the store's filter
	// cannot express (pending extension requests).
	list func(ctx context.Context, s *Server, f storage.Filter) (*storage.Page, error)
}

func states(ss ...ticket.State) func(f *storage.Filter) {
	return func(f *storage.Filter) { f.States = ss }
}

// queuesFor gives each role the lists its work comes from.
func queuesFor(u *hotline.User, en bool) []queue {
	name := func(zh, e string) string {
		if en {
			return e
		}
		return zh
	}
	var qs []queue
	if u.Has(hotline.RoleDispatcher, hotline.RoleAgent, hotline.RoleAdmin) {
		qs = append(qs, queue{Key: "new", Name: name("待派单", "To dispatch"), filter: states(ticket.Registered)})
	}
	if u.Has(hotline.RoleDispatcher, hotline.RoleAdmin) {
		qs = append(qs,
			queue{Key: "returns", Name: name("退单待审", "Returns"), filter: states(ticket.ReturnPending)},
			queue{Key: "extensions", Name: name("延期待审", "Extensions"), filter: states(ticket.Processing, ticket.ReplyPending), list: pendingExtensions},
			queue{Key: "replies", Name: name("答复待审", "Replies to review"), filter: states(ticket.ReplyPending)})
	}
	if u.Has(hotline.RoleUnit) {
		qs = append(qs,
			queue{Key: "inbox", Name: name("待签收", "To sign"), filter: states(ticket.Dispatched)},
			queue{Key: "doing", Name: name("办理中", "In progress"), filter: func(f *storage.Filter) { f.States = []ticket.State{ticket.Processing}; f.Sort = "due" }},
			queue{Key: "waiting", Name: name("待审核", "Awaiting review"), filter: states(ticket.ReturnPending, ticket.ReplyPending)})
	}
	if u.Has(hotline.RoleRevisitor, hotline.RoleAdmin) {
		qs = append(qs, queue{Key: "revisit", Name: name("待回访", "To revisit"), filter: func(f *storage.Filter) { f.States = []ticket.State{ticket.RevisitPending}; f.Sort = "due" }})
	}
	if u.Has(hotline.RoleSupervisor, hotline.RoleDispatcher, hotline.RoleAdmin, hotline.RoleUnit) {
		qs = append(qs,
			queue{Key: "overdue", Name: name("已超期", "Overdue"), filter: func(f *storage.Filter) { f.Overdue = true; f.Sort = "due" }},
			queue{Key: "soon", Name: name("即将到期", "Due soon"), filter: func(f *storage.Filter) { f.Warning = ticket.WarnYellow; f.Sort = "due" }})
	}
	if u.Has(hotline.RoleSupervisor, hotline.RoleAdmin) {
		qs = append(qs, queue{Key: "escalated", Name: name("问题工单", "Escalated"), filter: func(f *storage.Filter) { f.Escalated = true }})
	}
	qs = append(qs, queue{Key: "all", Name: name("全部工单", "All orders"), filter: func(*storage.Filter) {}})
	return qs
}

// pendingExtensions lists orders with an extension request awaiting the
// hotline: the request lives in the order document, so the state index
// narrows the scan and the document is matched.
func pendingExtensions(ctx context.Context, s *Server, f storage.Filter) (*storage.Page, error) {
	limit := 20
	page := max(f.Page, 1)
	rows, err := s.store.DB.Query(ctx, `SELECT number FROM tickets WHERE state IN ('processing', 'reply_pending') AND doc LIKE '%"extension":{%'
		ORDER BY updated_at DESC LIMIT ? OFFSET ?`, limit+1, (page-1)*limit)
	if err != nil {
		return nil, err
	}
	var numbers []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		numbers = append(numbers, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	pg := &storage.Page{Page: page, Limit: limit, Total: (page-1)*limit + len(numbers)}
	for i, n := range numbers {
		if i == limit {
			break
		}
		t, err := s.store.TicketFor(ctx, n, f.Viewer)
		if err != nil {
			continue
		}
		pg.Items = append(pg.Items, t)
	}
	return pg, nil
}

type row struct {
	Number, Title, Type, State, Unit, Due, Created, Warning, WarningName, Remaining, Urgency string
	RemainingMS                                                                              int64
	Urgent, Escalated, Provisional                                                           bool
}

func (s *Server) requireUser(w http.ResponseWriter, r *http.Request) *hotline.User {
	u := hotline.UserFrom(r.Context())
	if u == nil {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	}
	return u
}

// remaining says how much working time is left before due ("2天3小时"), or
// how long ago it passed.
func remaining(env ticket.Env, due time.Time, en bool) (string, int64) {
	if due.IsZero() {
		return "", 0
	}
	var d time.Duration
	if env.Now.After(due) {
		d = -env.Now.Sub(due)
	} else {
		d = env.Calendar.WorkingDuration(env.Now, due)
	}
	return fmtDuration(d, en), d.Milliseconds()
}

// fmtDuration writes the working time left in hours and minutes, or the
// time past due in days and hours.
func fmtDuration(d time.Duration, en bool) string {
	late := d < 0
	if late {
		d = -d
	}
	h, m := int(d.Hours()), int(d.Minutes())%60
	var s string
	switch {
	case late && h >= 24:
		s = fmt.Sprintf("%d天%d小时", h/24, h%24)
		if en {
			s = fmt.Sprintf("%dd %dh", h/24, h%24)
		}
	case h > 0:
		s = fmt.Sprintf("%d小时%d分", h, m)
		if en {
			s = fmt.Sprintf("%dh %dm", h, m)
		}
	default:
		s = fmt.Sprintf("%d分钟", m)
		if en {
			s = fmt.Sprintf("%dm", m)
		}
	}
	if late {
		if en {
			return "overdue " + s
		}
		return "超期" + s
	}
	if en {
		return s + " left"
	}
	return "剩余" + s
}

// deskList is the filtered, sorted page a desk shows (and exports).
type deskList struct {
	Queues []queue
	Key    string
	Filter storage.Filter
	Page   *storage.Page
}

func (s *Server) deskList(r *http.Request, u *hotline.User, en bool, limit int) (*deskList, error) {
	q := r.URL.Query()
	qs := queuesFor(u, en)
	key := q.Get("queue")
	if key == "" {
		key = qs[0].Key
	}
	f, err := httpapi.ParseFilter(q)
	if err != nil {
		return nil, err
	}
	f.Viewer = u
	if limit > 0 {
		f.Limit = limit
	}
	var list func(ctx context.Context, s *Server, f storage.Filter) (*storage.Page, error)
	found := false
	for i := range qs {
		v := url.Values{"queue": {qs[i].Key}}
		qs[i].URL = "/desk?" + v.Encode()
		if qs[i].Key == key {
			found = true
			qs[i].Active = true
			qs[i].filter(&f)
			list = qs[i].list
		}
	}
	if !found {
		return nil, hotline.Errorf(hotline.ENOTFOUND, "没有这个队列", "no such queue")
	}
	if sort := q.Get("sort"); sort == "created" || sort == "due" {
		f.Sort = sort
	}
	var pg *storage.Page
	if list != nil {
		pg, err = list(r.Context(), s, f)
	} else {
		pg, err = s.store.ListTickets(r.Context(), f)
	}
	if err != nil {
		return nil, err
	}
	return &deskList{Queues: qs, Key: key, Filter: f, Page: pg}, nil
}

// backlog is one unit's open work, for the supervisor's view.
type backlog struct {
	UnitID                     int64
	Unit                       string
	Open, Overdue, Soon, Urged int
}

func (s *Server) backlogs(ctx context.Context, env ticket.Env) ([]backlog, error) {
	now := database.Millis(env.Now)
	rows, err := s.store.DB.Query(ctx, `SELECT handler_unit_id, COUNT(*),
		SUM(CASE WHEN active_due < ? THEN 1 ELSE 0 END),
		SUM(CASE WHEN warn_at <= ? AND active_due >= ? THEN 1 ELSE 0 END)
		FROM tickets WHERE state IN ('dispatched', 'processing', 'return_pending', 'reply_pending') AND handler_unit_id <> 0
		GROUP BY handler_unit_id ORDER BY 3 DESC, 2 DESC LIMIT 30`, now, now, now)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []backlog
	for rows.Next() {
		var b backlog
		if err := rows.Scan(&b.UnitID, &b.Open, &b.Overdue, &b.Soon); err != nil {
			return nil, err
		}
		if un, ok := env.Units.Get(b.UnitID); ok {
			b.Unit = un.Name
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

func (s *Server) desk(w http.ResponseWriter, r *http.Request) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	p := s.newPage(w, r, "nav.desk")
	en := p.Lang == "en"
	dl, err := s.deskList(r, u, en, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	env, err := s.store.Env(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := s.rows(env, dl.Page.Items, en)
	q := r.URL.Query()
	link := func(page int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("queue", dl.Key)
		v.Set("page", strconv.Itoa(page))
		return "/desk?" + v.Encode()
	}
	exp := url.Values{}
	for k, vs := range q {
		exp[k] = vs
	}
	exp.Set("queue", dl.Key)
	exp.Del("page")
	d := map[string]any{"Queues": dl.Queues, "Queue": dl.Key, "Q": q.Get("q"), "Phone": q.Get("phone"), "Sort": dl.Filter.Sort,
		"Type": q.Get("type"), "Urgency": q.Get("urgency"), "Category": q.Get("category"), "From": q.Get("from"), "To": q.Get("to"),
		"Rows": rows, "Total": dl.Page.Total, "Capped": dl.Page.TotalCapped, "Page": dl.Page.Page, "Prev": "", "Next": "",
		"Export": "/desk/export.xlsx?" + exp.Encode(), "Types": options(ticket.Types, ticket.TypeNames, en), "Urgencies": options(ticket.Urgencies, ticket.UrgencyNames, en)}
	if dl.Page.Page > 1 {
		d["Prev"] = link(dl.Page.Page - 1)
	}
	if dl.Page.Page*dl.Page.Limit < dl.Page.Total {
		d["Next"] = link(dl.Page.Page + 1)
	}
	if u.Has(hotline.RoleSupervisor, hotline.RoleAdmin, hotline.RoleDispatcher) && (dl.Key == "overdue" || dl.Key == "soon" || dl.Key == "escalated") {
		b, err := s.backlogs(r.Context(), env)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d["Backlog"] = b
	}
	p.Data = d
	s.render(w, 200, "desk", p)
}

func (s *Server) rows(env ticket.Env, items []*ticket.Ticket, en bool) []row {
	rows := make([]row, 0, len(items))
	for _, t := range items {
		rw := row{Number: t.Number, Title: t.Title, Type: ticket.TypeNames[t.Type], State: ticket.StateNames[t.State],
			Due: fmtTime(t.ActiveDue()), Created: fmtTime(t.CreatedAt), Warning: t.WarningAt(env.Now),
			Urgent: t.Urgency != ticket.Normal, Urgency: ticket.UrgencyNames[t.Urgency], Escalated: t.Escalated, Provisional: t.Provisional}
		if en {
			rw.Type, rw.State, rw.Urgency = string(t.Type), stateEN[t.State], string(t.Urgency)
		}
		if t.State.Open() {
			rw.Remaining, rw.RemainingMS = remaining(env, t.ActiveDue(), en)
		}
		if un, ok := env.Units.Get(t.HandlerUnitID); ok {
			rw.Unit = un.Name
		}
		rw.WarningName = map[string]string{ticket.WarnRed: "超期", ticket.WarnYellow: "临期", ticket.WarnNone: "正常"}[rw.Warning]
		if rw.Warning == ticket.WarnNone {
			rw.Warning = ""
		}
		rows = append(rows, rw)
	}
	return rows
}

// options lists coded values with their names: Chinese, or on English
// pages the code itself (complaint, urgent, wechat …).
func options[T ~string](values []T, names map[T]string, en bool) []option {
	out := make([]option, 0, len(values))
	for _, v := range values {
		out = append(out, option{string(v), inLang(names[v], string(v), en)})
	}
	return out
}

var actionEN = map[ticket.Action]string{
	ticket.ActRegister: "registered", ticket.ActAnswer: "answered at intake", ticket.ActDispose: "out of scope / referred", ticket.ActDispatch: "dispatch",
	ticket.ActRedispatch: "re-dispatch", ticket.ActSubDispatch: "sub-dispatch", ticket.ActSign: "sign", ticket.ActContact: "first contact",
	ticket.ActReturn: "return", ticket.ActApproveReturn: "approve return", ticket.ActRefuseReturn: "refuse return",
	ticket.ActRequestExtension: "request extension", ticket.ActApproveExtension: "approve extension", ticket.ActRefuseExtension: "refuse extension",
	ticket.ActReply: "reply", ticket.ActApproveReply: "approve reply", ticket.ActRejectReply: "send reply back", ticket.ActRevisit: "revisit",
	ticket.ActReopen: "reopen", ticket.ActClose: "close", ticket.ActUrge: "urge", ticket.ActSupervise: "supervise", ticket.ActMerge: "merge",
	ticket.ActMergedFrom: "duplicate merged in", ticket.ActWithdraw: "withdraw", ticket.ActComment: "add information", ticket.ActRate: "citizen's rating",
	ticket.ActRecompute: "deadlines recomputed",
}

// actionName is an action's name in the page's language.
func actionName(a ticket.Action, en bool) string {
	if n, ok := actionEN[a]; ok && en {
		return n
	}
	return ticket.ActionNames[a]
}

// stateName is a state's name in the page's language.
func stateName(st ticket.State, en bool) string {
	if n, ok := stateEN[st]; ok && en {
		return n
	}
	return ticket.StateNames[st]
}

var stateEN = map[ticket.State]string{
	ticket.Registered: "to dispatch", ticket.Dispatched: "to sign", ticket.Processing: "in progress", ticket.ReturnPending: "return pending",
	ticket.ReplyPending: "reply pending", ticket.RevisitPending: "to revisit", ticket.Closed: "closed", ticket.Merged: "merged", ticket.Withdrawn: "withdrawn",
}

type field struct {
	Name, Label, Kind string
	Options           []option
}

type actionForm struct {
	Action ticket.Action
	Name   string
	Fields []field
}

// formFor lists the inputs each action needs.
var (
	dispositionEN = map[ticket.Disposition]string{ticket.LegalRoute: "refer to the legal route", ticket.Transfer110: "transfer to 110 (police)",
		ticket.Transfer119: "transfer to 119 (fire)", ticket.Transfer120: "transfer to 120 (ambulance)", ticket.Transfer122: "transfer to 122 (traffic police)"}
	resultEN       = map[ticket.Result]string{ticket.Solved: "solved", ticket.Explained: "explained", ticket.Unsolved: "not solved"}
	satisfactionEN = map[int]string{5: "very satisfied", 4: "satisfied", 3: "basically satisfied", 2: "dissatisfied", 1: "very dissatisfied"}
)

// inLang picks the English name on English pages.
func inLang(zh, en string, isEN bool) string {
	if isEN && en != "" {
		return en
	}
	return zh
}

func formFor(a ticket.Action, en bool) []field {
	text := func(label string) field { return field{Name: "content", Label: label, Kind: "text"} }
	reason := func(label string) field { return field{Name: "reason", Label: label, Kind: "text"} }
	files := field{Name: "files", Label: "附件（图片或PDF，每个≤10MB）Attachments", Kind: "files"}
	switch a {
	case ticket.ActAnswer:
		return []field{text("答复内容 Answer")}
	case ticket.ActDispose:
		var opts []option
		for _, d := range []ticket.Disposition{ticket.LegalRoute, ticket.Transfer110, ticket.Transfer119, ticket.Transfer120, ticket.Transfer122} {
			opts = append(opts, option{string(d), inLang(ticket.DispositionNames[d], dispositionEN[d], en)})
		}
		return []field{{Name: "disposition", Label: "处置方式 Disposition", Kind: "select", Options: opts}, text("说明 Note")}
	case ticket.ActDispatch, ticket.ActRedispatch, ticket.ActApproveReturn:
		fs := []field{{Name: "lead_unit_id", Label: "主办单位 Lead unit", Kind: "unit"}}
		if a != ticket.ActApproveReturn {
			fs = append(fs, field{Name: "assist_unit_ids", Label: "协办单位（可多选）Assisting units", Kind: "units"})
		} else {
			fs = append(fs, reason("意见 Note"))
		}
		return append(fs, text("派单意见 Instructions"))
	case ticket.ActSubDispatch:
		return []field{{Name: "unit_id", Label: "下级单位 Sub-unit", Kind: "unit"}, text("说明 Note")}
	case ticket.ActContact:
		return []field{text("联系情况 Contact made")}
	case ticket.ActReturn:
		return []field{reason("退单理由 Reason"), files}
	case ticket.ActRefuseReturn, ticket.ActRefuseExtension, ticket.ActRejectReply:
		return []field{reason("理由 Reason")}
	case ticket.ActRequestExtension:
		return []field{{Name: "working_days", Label: "延期工作日 Working days", Kind: "number"}, reason("理由 Reason")}
	case ticket.ActReply:
		var opts []option
		for _, r := range []ticket.Result{ticket.Solved, ticket.Explained, ticket.Unsolved} {
			opts = append(opts, option{string(r), inLang(ticket.ResultNames[r], resultEN[r], en)})
		}
		return []field{{Name: "result", Label: "办理结果 Result", Kind: "select", Options: opts}, text("答复内容 Reply"), files}
	case ticket.ActRevisit:
		var opts []option
		for _, l := range []int{5, 4, 3, 2, 1} {
			opts = append(opts, option{strconv.Itoa(l), inLang(ticket.SatisfactionNames[l], satisfactionEN[l], en)})
		}
		return []field{{Name: "satisfaction", Label: "满意度 Satisfaction", Kind: "select", Options: opts},
			{Name: "solved", Label: "问题已解决 Solved", Kind: "check"},
			{Name: "unreachable", Label: "未联系上 Unreachable", Kind: "check"}, text("回访记录 Notes")}
	case ticket.ActReopen, ticket.ActClose, ticket.ActWithdraw:
		return []field{reason("理由 Reason")}
	case ticket.ActUrge:
		return []field{text("内容 Text")}
	case ticket.ActComment:
		return []field{text("内容 Text"), files}
	case ticket.ActSupervise:
		return []field{text("督办意见 Instructions"), {Name: "due", Label: "督办期限 Due", Kind: "datetime"}}
	case ticket.ActMerge:
		return []field{{Name: "into", Label: "主工单号 Master order", Kind: "line"}, text("说明 Note")}
	}
	return nil
}

type eventRow struct{ Name, At, Actor, To, Text string }

type deadline struct {
	Name, Due, Light, Remaining string
	RemainingMS                 int64
	Provisional, Active         bool
}

func (s *Server) order(w http.ResponseWriter, r *http.Request) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	s.showOrder(w, r, u, chi.URLParam(r, "number"), "", http.StatusOK)
}

// dupCitizen is the citizen of a duplicate merged into the order shown.
type dupCitizen struct{ Number, Name, Phone, Channel string }

func (s *Server) showOrder(w http.ResponseWriter, r *http.Request, u *hotline.User, number, errMsg string, status int) {
	ctx := r.Context()
	t, err := s.store.TicketFor(ctx, number, u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	env, err := s.store.Env(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	evs, err := s.store.Events(ctx, t.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(w, r, "brand")
	p.Title = t.Title
	p.Error = errMsg
	if r.URL.Query().Get("done") != "" {
		p.Flash = p.T("done")
	}
	unitName := func(id int64) string {
		if un, ok := env.Units.Get(id); ok {
			return un.Name
		}
		return ""
	}
	d := map[string]any{"Order": t, "StateName": stateName(t.State, p.Lang == "en"), "TypeName": ticket.TypeNames[t.Type],
		"UrgencyName": ticket.UrgencyNames[t.Urgency], "ChannelName": ticket.ChannelNames[t.Channel],
		"Lead": unitName(t.LeadUnitID), "Handler": "", "Prefix": "f-"}
	if t.HandlerUnitID != t.LeadUnitID {
		d["Handler"] = unitName(t.HandlerUnitID)
	}
	var assist []string
	for _, id := range t.AssistUnitIDs {
		assist = append(assist, unitName(id))
	}
	d["Assist"] = assist
	cats, _ := s.store.Categories(ctx)
	for _, c := range cats {
		if c.Code == t.CategoryCode {
			d["Category"] = c.Path
		}
	}
	warn := t.WarningAt(env.Now)
	d["Warning"] = warn
	d["WarningName"] = map[string]string{ticket.WarnRed: "已超期", ticket.WarnYellow: "即将到期", ticket.WarnNone: ""}[warn]
	var dls []deadline
	for _, x := range []struct {
		name string
		due  time.Time
		met  bool // the step was done: its clock no longer matters
	}{{"派单 Dispatch", t.DispatchDue, !t.DispatchedAt.IsZero()}, {"签收 Sign", t.SignDue, !t.SignedAt.IsZero()},
		{"先行联系 Contact", t.ContactDue, !t.ContactedAt.IsZero()}, {"答复 Reply", t.ReplyDue, !t.RepliedAt.IsZero() && t.State != ticket.Processing},
		{"回访 Revisit", t.RevisitDue, false}} {
		if x.due.IsZero() || !t.State.Open() || x.met {
			continue
		}
		light := ""
		if env.Now.After(x.due) {
			light = "red"
		} else if x.due.Equal(t.ActiveDue()) && warn == ticket.WarnYellow {
			light = "yellow"
		}
		dl := deadline{Name: bilingual(x.name, p.Lang == "en"), Due: fmtTime(x.due), Light: light, Provisional: t.Provisional, Active: x.due.Equal(t.ActiveDue())}
		if dl.Active {
			dl.Remaining, dl.RemainingMS = remaining(env, x.due, p.Lang == "en")
		}
		dls = append(dls, dl)
	}
	if t.Supervision != nil {
		dls = append(dls, deadline{Name: bilingual("督办 Supervision", p.Lang == "en"), Due: fmtTime(t.Supervision.Due)})
	}
	d["Deadlines"] = dls
	var rows []eventRow
	for _, e := range evs {
		rows = append(rows, eventRow{Name: actionName(e.Action, p.Lang == "en"), At: fmtTime(e.At), Actor: e.ActorName, To: stateName(e.To, p.Lang == "en"), Text: e.Text})
	}
	d["Events"] = rows
	var forms []actionForm
	for _, a := range ticket.Actions {
		if ticket.Allowed(t, a, u, env.Units) {
			forms = append(forms, actionForm{Action: a, Name: actionName(a, p.Lang == "en"), Fields: formFor(a, p.Lang == "en")})
		}
	}
	d["Actions"] = forms
	// 并单: likely duplicates of an open order, each mergeable in one click,
	// for those who may merge it.
	if ticket.Allowed(t, ticket.ActMerge, u, env.Units) {
		if ms, err := s.store.Related(ctx, u, storage.RelatedQuery{Number: t.Number}); err == nil {
			d["Related"] = relatedRows(ms, p.Lang == "en")
		} else if hotline.ErrorCode(err) != hotline.EFORBIDDEN {
			s.log.Warn("related orders", "number", t.Number, "err", err)
		}
	}
	// The citizens of merged duplicates are told the outcome with the
	// master's revisit: the revisitor sees whom to call.
	if len(t.Duplicates) > 0 && u.Has(hotline.RoleRevisitor, hotline.RoleDispatcher, hotline.RoleSupervisor, hotline.RoleAdmin) {
		var dups []dupCitizen
		for _, n := range t.Duplicates {
			if dt, err := s.store.TicketFor(ctx, n, u); err == nil {
				dups = append(dups, dupCitizen{Number: n, Name: dt.Citizen.Name, Phone: dt.Citizen.Phone, Channel: ticket.ChannelNames[dt.Channel]})
			}
		}
		d["DupCitizens"] = dups
	}
	var why string
	// The call the order was registered on: its recording plays for those
	// the call center lets hear it (checked again when the audio is fetched).
	d["MayHearCall"] = t.CallID != "" && u.Has(hotline.RoleAdmin, hotline.RoleSupervisor, hotline.RoleAnalyst, hotline.RoleAgent)
	d["Units"], d["SuggestedName"], why = s.unitChoices(ctx, env, t, u, p.Lang == "en")
	d["SuggestedWhy"] = why
	files, err := s.attachments(ctx, t.Number, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d["Files"] = files
	d["MayRevisit"] = ticket.Allowed(t, ticket.ActRevisit, u, env.Units)
	if d["MayRevisit"] == true {
		d["Script"] = callScript(t, p.Lang == "en")
	}
	if t.Satisfaction > 0 {
		d["SatisfactionName"] = ticket.SatisfactionNames[t.Satisfaction]
	}
	if t.CitizenRating > 0 {
		d["RatingName"] = ticket.SatisfactionNames[t.CitizenRating]
	}
	d["ResultName"] = ticket.ResultNames[t.Result]
	p.Data = d
	s.render(w, status, "order", p)
}

// unitChoice is a unit in a picker, indented by its depth in the tree.
type unitChoice struct {
	ID                int64
	Name, Indent      string
	Suggested, Leader bool
}

// unitChoices lists the units a user may send the order to, in tree order
// with the dispatch catalogue's suggestion first: the whole tree for the
// hotline, the units below its own for a unit forwarding its order.
func (s *Server) unitChoices(ctx context.Context, env ticket.Env, t *ticket.Ticket, u *hotline.User, en bool) ([]unitChoice, string, string) {
	hotlineSide := u.Has(hotline.RoleDispatcher, hotline.RoleAdmin)
	var sg storage.UnitSuggestion
	if hotlineSide {
		sg, _ = s.store.Suggestion(ctx, t.CategoryCode, t.RegionUnitID)
	}
	suggested := sg.UnitID
	why := ""
	switch {
	case sg.Source == "history" && en:
		why = fmt.Sprintf("from dispatch history: %d similar orders first sent there stayed, %d came back", sg.Kept, sg.Returned)
	case sg.Source == "history":
		why = fmt.Sprintf("依据近180天派单记录：同类同区域工单首派该单位%d件未退回、%d件被退回", sg.Kept, sg.Returned)
	case sg.Source == "catalogue" && en:
		why = "from the dispatch catalogue"
	case sg.Source == "catalogue":
		why = "依据派单目录"
	}
	var out []unitChoice
	for _, row := range unitTree(env.Units.All()) {
		ok := row.Extra != "hotline"
		if !hotlineSide {
			ok = ok && row.ID != u.UnitID && env.Units.Within(row.ID, u.UnitID)
		}
		if ok {
			out = append(out, unitChoice{ID: row.ID, Name: row.Name, Indent: row.Indent})
		}
	}
	name := ""
	if i := slices.IndexFunc(out, func(c unitChoice) bool { return c.ID == suggested }); i >= 0 {
		c := out[i]
		c.Suggested, c.Indent, name = true, "", c.Name
		out = append([]unitChoice{c}, out...)
	}
	return out, name, why
}

// callScript is what the revisitor reads to the citizen.
func callScript(t *ticket.Ticket, en bool) string {
	day := t.CreatedAt.In(calendar.China).Format("1月2日")
	if en {
		return fmt.Sprintf("Hello, this is the 12345 hotline calling back about the request you made on %s: “%s”. "+
			"The unit replied: “%s”. Has the problem been solved? How satisfied are you with the handling: very satisfied, satisfied, "+
			"basically satisfied, dissatisfied or very dissatisfied?", t.CreatedAt.In(calendar.China).Format("2 Jan"), t.Title, t.Reply)
	}
	return fmt.Sprintf("您好，这里是12345政务服务便民热线回访。您于%s反映的“%s”，承办单位答复：“%s”。"+
		"请问您反映的问题解决了吗？您对办理结果的评价是：非常满意、满意、基本满意、不满意，还是非常不满意？感谢您的支持！", day, t.Title, t.Reply)
}

func (s *Server) act(w http.ResponseWriter, r *http.Request) {
	files, err := parseUpload(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u := s.staffPost(w, r)
	if u == nil {
		return
	}
	number := chi.URLParam(r, "number")
	action := ticket.Action(chi.URLParam(r, "action"))
	num := func(k string) int64 { n, _ := strconv.ParseInt(r.PostFormValue(k), 10, 64); return n }
	req := httpapi.ActionRequest{Version: int(num("version")), Content: r.PostFormValue("content"), Reason: r.PostFormValue("reason"),
		LeadUnitID: num("lead_unit_id"), UnitID: num("unit_id"), Result: r.PostFormValue("result"), WorkingDays: int(num("working_days")),
		Satisfaction: int(num("satisfaction")), Unreachable: r.PostFormValue("unreachable") == "true",
		Into: r.PostFormValue("into"), Disposition: r.PostFormValue("disposition")}
	for _, v := range r.PostForm["assist_unit_ids"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id != req.LeadUnitID {
			req.AssistUnitIDs = append(req.AssistUnitIDs, id)
		}
	}
	if action == ticket.ActRevisit && !req.Unreachable {
		solved := r.PostFormValue("solved") == "true"
		req.Solved = &solved
	}
	if v := r.PostFormValue("due"); v != "" {
		if t, err := time.ParseInLocation("2006-01-02T15:04", v, calendar.China); err == nil {
			req.Due = &t
		}
	}
	if len(files) > 0 && action != ticket.ActReply && action != ticket.ActReturn && action != ticket.ActComment {
		files = nil // only these forms offer attachments
	}
	cmd := req.Command(action)
	cmd.User = u
	if _, err := s.store.Act(r.Context(), number, cmd); err != nil {
		zh, en := hotline.ErrorMessages(err)
		msg := zh
		if c, e := r.Cookie("lang"); e == nil && c.Value == "en" {
			msg = en
		}
		if hotline.ErrorCode(err) == hotline.ENOTFOUND {
			s.fail(w, r, err)
			return
		}
		s.showOrder(w, r, u, number, msg, http.StatusUnprocessableEntity)
		return
	}
	if err := s.saveFiles(r.Context(), number, files, u); err != nil {
		s.fail(w, r, err)
		return
	}
	s.Notify(number)
	http.Redirect(w, r, "/orders/"+url.PathEscape(number)+"?done="+url.QueryEscape(string(action)), http.StatusSeeOther)
}
