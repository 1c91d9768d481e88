package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/classify"
	"github.com/hotline12345/hotline/kb"
	"github.com/hotline12345/hotline/related"
	"github.com/hotline12345/hotline/storage"
	"github.com/hotline12345/hotline/ticket"
)

// Suggester proposes categories for a request's text (the dispatch model).
type Suggester interface {
	Predict(text string, k int) []classify.Suggestion
}

type suggestion struct {
	Name       string
	Confidence float64
	Terms      []string
}

type intakeData struct {
	Phone, Name, Type, Urgency, Channel, Title, Content, Address, Category, Answer string
	CallID                                                                         string
	Confidential, Repeat                                                           bool
	Region                                                                         int64
	Types, Urgencies, Channels                                                     []option
	Categories                                                                     []storage.Category
	Districts                                                                      []ticket.Unit
	Suggestions                                                                    []suggestion
	History                                                                        []row
	Related                                                                        []relatedRow
	Articles                                                                       []articleHit
	ArticleID                                                                      int64
	ArticleTitle                                                                   string
}

// articleHit is a knowledge-base answer offered on the call-taker desk.
type articleHit struct {
	ID      int64
	Title   string
	Snippet template.HTML // escaped by kb, with <mark> only
	Uses    int
}

// relatedRow is a likely duplicate as the desk shows it.
type relatedRow struct {
	Number, Title, State, Unit string
	Reasons                    []string
}

func relatedRows(ms []related.Match, en bool) []relatedRow {
	var out []relatedRow
	for _, m := range ms {
		r := relatedRow{Number: m.Number, Title: m.Title, State: ticket.StateNames[ticket.State(m.State)], Unit: m.Unit}
		if en {
			r.State = m.State
		}
		for _, why := range m.Reasons {
			if en {
				r.Reasons = append(r.Reasons, why.EN)
			} else {
				r.Reasons = append(r.Reasons, why.ZH)
			}
		}
		out = append(out, r)
	}
	return out
}

func (s *Server) intakePage(w http.ResponseWriter, r *http.Request) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	d := intakeData{Phone: r.URL.Query().Get("caller"), CallID: r.URL.Query().Get("call_id"), Type: string(ticket.Consultation), Urgency: string(ticket.Normal), Channel: string(ticket.Phone)}
	s.renderIntake(w, r, u, d, "", http.StatusOK)
}

func (s *Server) renderIntake(w http.ResponseWriter, r *http.Request, u *hotline.User, d intakeData, errMsg string, status int) {
	if !u.Has(hotline.RoleAgent, hotline.RoleDispatcher, hotline.RoleAdmin) {
		s.fail(w, r, hotline.Errorf(hotline.EFORBIDDEN, "只有话务员可以登记工单", "only call-takers may register orders"))
		return
	}
	ctx := r.Context()
	p := s.newPage(w, r, "intake.title")
	p.Error = errMsg
	en := p.Lang == "en"
	d.Types, d.Urgencies, d.Channels = options(ticket.Types, ticket.TypeNames, en), options(ticket.Urgencies, ticket.UrgencyNames, en),
		options(ticket.Channels, ticket.ChannelNames, en)
	cats, err := s.store.Categories(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Categories = cats
	units, _ := s.store.UnitTree(ctx)
	for _, un := range units.All() {
		if un.Kind == "district" {
			d.Districts = append(d.Districts, un)
		}
	}
	// Caller history: earlier orders from this number; two or more in 30
	// days marks a repeat caller.
	if phone, err := ticket.NormalizePhone(d.Phone); err == nil && phone != "" {
		pg, err := s.store.ListTickets(ctx, storage.Filter{Viewer: u, Phone: phone, Limit: 10})
		if err == nil {
			recent := 0
			for _, t := range pg.Items {
				d.History = append(d.History, row{Number: t.Number, Title: t.Title, State: ticket.StateNames[t.State], Created: fmtTime(t.CreatedAt)})
				if time.Since(t.CreatedAt) < 30*24*time.Hour {
					recent++
				}
			}
			d.Repeat = recent >= 2
		}
	}
	// Open orders that are probably the same matter (并单): same caller,
	// same place or similar text within 30 days.
	if strings.TrimSpace(d.Title+d.Content+d.Address) != "" {
		if ms, err := s.store.Related(ctx, u, storage.RelatedQuery{Title: d.Title, Content: d.Content, Address: d.Address,
			Phone: d.Phone, RegionUnitID: d.Region}); err == nil {
			d.Related = relatedRows(ms, p.Lang == "en")
		} else if hotline.ErrorCode(err) != hotline.EFORBIDDEN {
			s.log.Warn("related orders", "err", err)
		}
	}
	// Knowledge base: answers for this request, so the call can be closed
	// at first contact with the article recorded.
	if s.KB != nil && strings.TrimSpace(d.Title+d.Content) != "" {
		if res, err := s.KB.Search(ctx, d.Title+" "+d.Content, kb.SearchOptions{Limit: 3}); err == nil {
			for _, x := range res {
				d.Articles = append(d.Articles, articleHit{ID: x.Article.ID, Title: x.Article.Title, Snippet: template.HTML(x.Snippet), Uses: x.Article.Uses})
			}
		}
	}
	if s.Suggest != nil && strings.TrimSpace(d.Title+d.Content) != "" {
		names := map[string]string{}
		for _, c := range cats {
			names[c.Code] = c.Path
		}
		for _, sg := range s.Suggest.Predict(d.Title+" "+d.Content, 3) {
			d.Suggestions = append(d.Suggestions, suggestion{Name: sg.Label + " " + names[sg.Label], Confidence: sg.Confidence, Terms: sg.Terms})
		}
		if d.Category == "" && len(d.Suggestions) > 0 {
			d.Category = strings.SplitN(d.Suggestions[0].Name, " ", 2)[0]
		}
	}
	p.Data = d
	s.render(w, status, "intake", p)
}

func (s *Server) intake(w http.ResponseWriter, r *http.Request) {
	u := s.staffPost(w, r)
	if u == nil {
		return
	}
	f := r.PostFormValue
	region, _ := strconv.ParseInt(f("region_unit_id"), 10, 64)
	d := intakeData{Phone: f("phone"), Name: f("name"), Type: f("type"), Urgency: f("urgency"), Channel: f("channel"), Title: f("title"),
		Content: f("content"), Address: f("address"), Category: f("category_code"), Answer: f("answer"),
		Confidential: f("confidential") == "1", Region: region, CallID: f("call_id")}
	d.ArticleID, _ = strconv.ParseInt(f("article_id"), 10, 64)
	op := f("op")
	if op == "suggest" {
		s.renderIntake(w, r, u, d, "", http.StatusOK)
		return
	}
	if idText, ok := strings.CutPrefix(op, "use:"); ok && s.KB != nil {
		// Answer with an article: its text becomes the draft answer, which
		// the call-taker may shorten before closing.
		id, _ := strconv.ParseInt(idText, 10, 64)
		a, err := s.KB.Get(r.Context(), id, u)
		if err != nil {
			zh, _ := hotline.ErrorMessages(err)
			s.renderIntake(w, r, u, d, zh, http.StatusNotFound)
			return
		}
		d.ArticleID, d.ArticleTitle = a.ID, a.Title
		d.Answer = plainAnswer(a.Body)
		s.renderIntake(w, r, u, d, "", http.StatusOK)
		return
	}
	draft := ticket.Draft{Channel: ticket.Channel(d.Channel), Type: ticket.Type(d.Type), Urgency: ticket.Urgency(d.Urgency),
		Title: d.Title, Content: d.Content, CategoryCode: d.Category, Address: d.Address, RegionUnitID: d.Region, CallID: d.CallID,
		Citizen: ticket.Citizen{Name: d.Name, Phone: d.Phone, Confidential: d.Confidential}}
	// Keep the model's first suggestion with the order, to measure how often
	// call-takers agree with it (hotline dispatch report).
	if s.Suggest != nil && strings.TrimSpace(d.Title+d.Content) != "" {
		if sg := s.Suggest.Predict(d.Title+" "+d.Content, 1); len(sg) > 0 {
			draft.SuggestedCategory = sg[0].Label
		}
	}
	if op == "answer" && strings.TrimSpace(d.Answer) == "" {
		s.renderIntake(w, r, u, d, "请填写直接答复内容 / write the answer first", http.StatusBadRequest)
		return
	}
	into, merging := strings.CutPrefix(op, "merge:")
	t, _, err := s.store.CreateTicket(r.Context(), draft, u, "web-user:"+strconv.FormatInt(u.ID, 10), digest(f("csrf"), d.Phone, d.Title, d.Content))
	if err != nil {
		zh, _ := hotline.ErrorMessages(err)
		s.renderIntake(w, r, u, d, zh, http.StatusBadRequest)
		return
	}
	if op == "answer" {
		if _, err := s.store.Act(r.Context(), t.Number, ticket.Command{Action: ticket.ActAnswer, User: u, Version: t.Version, Content: d.Answer,
			ArticleID: d.ArticleID}); err != nil {
			s.showOrder(w, r, u, t.Number, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		if d.ArticleID != 0 && s.KB != nil {
			// Counted for the article and for the report of which articles resolve calls.
			if err := s.KB.RecordUse(r.Context(), d.ArticleID, t.Number); err != nil {
				s.log.Warn("kb use not recorded", "article", d.ArticleID, "err", err)
			}
		}
	}
	if merging {
		// 并单 in one step: register the caller's request and merge it into
		// the master order, whose progress the caller will be told.
		if _, err := s.store.Act(r.Context(), t.Number, ticket.Command{Action: ticket.ActMerge, User: u, Version: t.Version, Into: into,
			Content: "登记时并入主工单 " + into}); err != nil {
			s.showOrder(w, r, u, t.Number, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		s.Notify(t.Number)
		s.Notify(into)
		http.Redirect(w, r, "/orders/"+url.PathEscape(t.Number)+"?done=merge", http.StatusSeeOther)
		return
	}
	s.Notify(t.Number)
	http.Redirect(w, r, "/orders/"+url.PathEscape(t.Number)+"?done=register", http.StatusSeeOther)
}

// plainAnswer turns an article's Markdown into the text read or sent to the
// citizen: markup removed, at most 2,000 characters.
func plainAnswer(md string) string {
	var lines []string
	for _, l := range strings.Split(md, "\n") {
		l = strings.TrimSpace(l)
		l = strings.TrimLeft(l, "#>*- ")
		l = strings.NewReplacer("**", "", "__", "", "`", "").Replace(l)
		if l != "" {
			lines = append(lines, l)
		}
	}
	out := strings.Join(lines, "\n")
	if r := []rune(out); len(r) > 2000 {
		out = string(r[:2000]) + "…"
	}
	return out
}
