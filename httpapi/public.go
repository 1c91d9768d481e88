package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/jsonhttp"
	"github.com/hotline12345/hotline/storage"
	"github.com/hotline12345/hotline/ticket"
)

// PublicStep is one line of the timeline a citizen sees.
type PublicStep struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	Name   string    `json:"name"` // Chinese name of the step
	State  string    `json:"state"`
	Text   string    `json:"text,omitempty"` // only for the citizen's own words and the reply
}

// PublicTicket is what a citizen who holds the query code sees: progress and
// reply, nothing about staff or other people.
type PublicTicket struct {
	Number        string       `json:"number"`
	State         ticket.State `json:"state"`
	StateName     string       `json:"state_name"`
	Type          ticket.Type  `json:"type"`
	Title         string       `json:"title"`
	Content       string       `json:"content"`
	CreatedAt     time.Time    `json:"created_at"`
	ReplyDue      time.Time    `json:"reply_due,omitzero"`
	Result        string       `json:"result,omitempty"`
	Reply         string       `json:"reply,omitempty"`
	RepliedAt     time.Time    `json:"replied_at,omitzero"`
	MergedInto    string       `json:"merged_into,omitempty"`
	CitizenRating int          `json:"citizen_rating,omitempty"`
	CanRate       bool         `json:"can_rate"`
	CanWithdraw   bool         `json:"can_withdraw"`
	Version       int          `json:"version"`
	Timeline      []PublicStep `json:"timeline"`
	// Master is the order this one was merged into (并单): the citizen
	// follows its progress and reply instead.
	Master *PublicTicket `json:"master,omitempty"`
}

// CitizenView is PublicView with, for a merged duplicate, the master
// order's progress — without the other citizen's own words.
func CitizenView(ctx context.Context, st *storage.Store, t *ticket.Ticket, events []ticket.Event) (PublicTicket, error) {
	v := PublicView(t, events)
	if t.State != ticket.Merged || t.MergedInto == "" {
		return v, nil
	}
	m, err := st.Ticket(ctx, t.MergedInto)
	if err != nil {
		return v, err
	}
	mevs, err := st.Events(ctx, m.ID)
	if err != nil {
		return v, err
	}
	mv := PublicView(m, mevs)
	mv.Title, mv.Content, mv.CitizenRating, mv.Version = "", "", 0, 0
	mv.CanRate, mv.CanWithdraw = false, false
	steps := mv.Timeline[:0]
	for _, s := range mv.Timeline {
		if s.Action == string(ticket.ActComment) || s.Action == string(ticket.ActRate) {
			continue // the other citizen's words
		}
		steps = append(steps, s)
	}
	mv.Timeline = steps
	v.Master = &mv
	return v, nil
}

// PublicView builds the citizen's view of t from its events.
func PublicView(t *ticket.Ticket, events []ticket.Event) PublicTicket {
	p := PublicTicket{Number: t.Number, State: t.State, StateName: ticket.StateNames[t.State], Type: t.Type,
		Title: t.Title, Content: t.Content, CreatedAt: t.CreatedAt, ReplyDue: t.ReplyDue, MergedInto: t.MergedInto,
		CitizenRating: t.CitizenRating, Version: t.Version, Timeline: []PublicStep{}}
	// The reply is shown once the hotline has approved it (or it was given
	// at intake); an unreviewed draft reply is not the government's answer yet.
	if t.AnsweredAtIntake || t.State == ticket.RevisitPending || t.State == ticket.Closed && t.Reply != "" {
		p.Reply, p.RepliedAt = t.Reply, t.RepliedAt
		if t.Result != "" {
			p.Result = ticket.ResultNames[t.Result]
		}
	}
	p.CanRate = t.CitizenRating == 0 && (t.State == ticket.RevisitPending || t.State == ticket.Closed)
	p.CanWithdraw = t.State.Open() && t.State != ticket.RevisitPending
	for _, e := range events {
		st := PublicStep{At: e.At, Action: string(e.Action), Name: ticket.ActionNames[e.Action], State: ticket.StateNames[e.To]}
		switch e.Action {
		case ticket.ActComment:
			if e.Role != "citizen" {
				continue // staff notes are internal
			}
			st.Text = e.Text
		case ticket.ActRate:
			st.Text = e.Text
		case ticket.ActUrge, ticket.ActSupervise, ticket.ActRejectReply, ticket.ActRefuseReturn, ticket.ActRecompute,
			ticket.ActRequestExtension, ticket.ActRefuseExtension, ticket.ActReturn:
			continue // internal supervision and workflow
		}
		p.Timeline = append(p.Timeline, st)
	}
	return p
}

func (s *Server) publicCreate(w http.ResponseWriter, r *http.Request) {
	var d ticket.Draft
	if err := jsonhttp.Decode(w, r, &d); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if d.Channel == "" {
		d.Channel = ticket.Web
	}
	switch d.Channel {
	case ticket.Web, ticket.App, ticket.WeChat, ticket.Mailbox, ticket.Email:
	default:
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "网上诉求的渠道须为web、app、wechat、mailbox或email", "channel must be web, app, wechat, mailbox or email"))
		return
	}
	if d.Citizen.Phone == "" {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "请留下联系电话，以便承办单位联系您", "a contact phone number is required"))
		return
	}
	d.CallID, d.RegionUnitID = "", 0
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 200 {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.EINVALID, "Idempotency-Key过长", "Idempotency-Key is too long"))
		return
	}
	t, created, err := s.Store.CreateTicket(r.Context(), d, nil, "public", key)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	if created {
		s.met.tickets.WithLabelValues(string(t.Channel)).Inc()
		s.notify(t.Number)
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	jsonhttp.WriteJSON(w, status, map[string]any{"number": t.Number, "query_code": t.QueryCode, "state": t.State,
		"message": "您的诉求已受理，请牢记工单号和查询码", "message_en": "Your request has been registered; keep the number and query code"})
}

func (s *Server) publicGet(w http.ResponseWriter, r *http.Request) {
	t, err := s.Store.PublicTicket(r.Context(), chi.URLParam(r, "number"), r.URL.Query().Get("code"))
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	evs, err := s.Store.Events(r.Context(), t.ID)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	v, err := CitizenView(r.Context(), s.Store, t, evs)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, v)
}

type publicActionRequest struct {
	Code         string `json:"code"`
	Version      int    `json:"version"`
	Content      string `json:"content"`
	Satisfaction int    `json:"satisfaction"`
}

// publicAct lets the citizen withdraw, add information or rate.
func (s *Server) publicAct(w http.ResponseWriter, r *http.Request) {
	action := ticket.Action(chi.URLParam(r, "action"))
	if action != ticket.ActWithdraw && action != ticket.ActComment && action != ticket.ActRate {
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.ENOTFOUND, "未知的操作", "unknown action"))
		return
	}
	var req publicActionRequest
	if err := jsonhttp.Decode(w, r, &req); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	number := chi.URLParam(r, "number")
	if _, err := s.Store.PublicTicket(r.Context(), number, req.Code); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	t, err := s.Store.Act(r.Context(), number, ticket.Command{Action: action, Citizen: true, Version: req.Version,
		Content: req.Content, Satisfaction: req.Satisfaction})
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	s.notify(number)
	evs, err := s.Store.Events(r.Context(), t.ID)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, PublicView(t, evs))
}
