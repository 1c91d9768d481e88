package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/calendar"
	"github.com/hotline12345/hotline/httpapi"
	"github.com/hotline12345/hotline/jsonhttp"
	"github.com/hotline12345/hotline/kb"
)

// The knowledge desk (/kb/manage): editors review, publish, withdraw and
// expire articles; units write their own and propose changes to their
// published ones (共建共享); both see what is about to expire and the
// questions no article answered.

type kbTab struct {
	Key, Name string
	Active    bool
	Count     int
}

type kbRow struct {
	ID                     int64
	Title, Kind, State     string
	Public, Proposal       bool
	Uses, Helpful, Unhelpf int
	Updated, Expires       string
}

func mayWriteKB(u *hotline.User) bool {
	return u.Has(hotline.RoleEditor, hotline.RoleAdmin, hotline.RoleUnit)
}

var (
	errKBWriters = hotline.Errorf(hotline.EFORBIDDEN, "只有知识库管理员和承办单位可以维护知识", "only knowledge editors and units maintain articles")
	errNoArticle = hotline.Errorf(hotline.ENOTFOUND, "知识不存在", "article not found")
)

var kbStateNames = map[kb.State][2]string{
	kb.Draft: {"草稿", "draft"}, kb.Review: {"待审核", "in review"}, kb.Published: {"已发布", "published"},
	kb.Expired: {"已过期", "expired"}, kb.Withdrawn: {"已撤回", "withdrawn"},
}

var kbKindNames = map[string][2]string{
	"policy": {"政策法规", "policy"}, "procedure": {"办事指南", "procedure"}, "duty": {"部门职责", "department duties"}, "faq": {"常见问题", "FAQ"},
}

var kbStepNames = map[string][2]string{
	"create": {"新建", "created"}, "edit": {"修改", "edited"}, "propose": {"提交修改建议", "change proposed"},
	"submit": {"提交审核", "submitted"}, "approve": {"审核通过", "approved"}, "reject": {"退回修改", "sent back"},
	"withdraw": {"撤回", "withdrawn"}, "expire": {"过期", "expired"},
}

// pick returns the name in the page's language, or key itself.
func pick(names map[string][2]string, key string, en bool) string {
	n, ok := names[key]
	if !ok {
		return key
	}
	if en {
		return n[1]
	}
	return n[0]
}

func kbStateName(st kb.State, en bool) string {
	n, ok := kbStateNames[st]
	if !ok {
		return string(st)
	}
	if en {
		return n[1]
	}
	return n[0]
}

func (s *Server) kbManage(w http.ResponseWriter, r *http.Request) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	if s.KB == nil || !mayWriteKB(u) {
		s.fail(w, r, errKBWriters)
		return
	}
	ctx := r.Context()
	p := s.newPage(w, r, "kbm.title")
	en := p.Lang == "en"
	if r.URL.Query().Get("done") != "" {
		p.Flash = p.T("done")
	}
	tab := r.URL.Query().Get("tab")
	name := func(zh, e string) string {
		if en {
			return e
		}
		return zh
	}
	tabs := []kbTab{{Key: "review", Name: name("待审核", "To review")}, {Key: "draft", Name: name("草稿", "Drafts")},
		{Key: "published", Name: name("已发布", "Published")}, {Key: "stale", Name: name("待复核（30天内到期或一年未更新）", "Due for review")},
		{Key: "closed", Name: name("已过期/撤回", "Expired / withdrawn")}, {Key: "top", Name: name("解决来电最多", "Most used")},
		{Key: "misses", Name: name("未答问题", "Unanswered questions")}}
	if u.Has(hotline.RoleEditor, hotline.RoleAdmin) {
		tabs = append(tabs, kbTab{Key: "synonyms", Name: name("同义词", "Synonyms")})
	}
	if tab == "" {
		tab = "review"
	}
	found := false
	for i := range tabs {
		if tabs[i].Key == tab {
			tabs[i].Active, found = true, true
		}
	}
	if !found {
		s.fail(w, r, errNoPage)
		return
	}
	var list []kb.Article
	var err error
	switch tab {
	case "review":
		list, err = s.KB.List(ctx, kb.Review, 500)
		if err == nil {
			var props []kb.Article
			props, err = s.KB.PendingProposals(ctx)
			list = append(list, props...)
		}
	case "draft":
		list, err = s.KB.List(ctx, kb.Draft, 500)
	case "published":
		list, err = s.KB.List(ctx, kb.Published, 500)
	case "stale":
		list, err = s.KB.Stale(ctx, 30)
	case "closed":
		list, err = s.KB.List(ctx, kb.Expired, 250)
		if err == nil {
			var wd []kb.Article
			wd, err = s.KB.List(ctx, kb.Withdrawn, 250)
			list = append(list, wd...)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := map[string]any{"Tabs": tabs, "Tab": tab, "Editor": u.Has(hotline.RoleEditor, hotline.RoleAdmin)}
	var rows []kbRow
	for i := range list {
		a := &list[i]
		if !u.Has(hotline.RoleEditor, hotline.RoleAdmin) && a.UnitID != u.UnitID {
			continue // a unit sees its own articles here
		}
		row := kbRow{ID: a.ID, Title: a.Title, Kind: pick(kbKindNames, a.Kind, en), State: kbStateName(a.State, en), Public: a.Public, Proposal: a.Pending != nil,
			Uses: a.Uses, Helpful: a.Helpful, Unhelpf: a.Unhelpful, Updated: fmtTime(a.UpdatedAt)}
		if a.Expires != nil {
			row.Expires = fmtTime(*a.Expires)
		}
		rows = append(rows, row)
	}
	d["Rows"] = rows
	if tab == "synonyms" {
		groups, err := s.KB.Synonyms(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var lines []string
		for _, g := range groups {
			lines = append(lines, strings.Join(g, " "))
		}
		d["Synonyms"] = strings.Join(lines, "\n")
	}
	if tab == "top" {
		top, err := s.KB.TopUsed(ctx, time.Now().AddDate(0, 0, -30), 50)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d["Top"] = top
	}
	if tab == "misses" {
		misses, err := s.KB.MissReport(ctx, time.Now().AddDate(0, 0, -30), 100)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d["Misses"] = misses
	}
	p.Data = d
	s.render(w, http.StatusOK, "kbmanage", p)
}

// kbArticlePage shows one article with its history, the edit form and the
// steps the user may take; /kb/manage/new is the empty form.
func (s *Server) kbArticlePage(w http.ResponseWriter, r *http.Request) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	s.showArticle(w, r, u, chi.URLParam(r, "id"), nil, nil)
}

// showArticle renders the article page; form and failed carry a rejected
// edit back to the author with the reason.
func (s *Server) showArticle(w http.ResponseWriter, r *http.Request, u *hotline.User, idText string, form *kb.Article, failed error) {
	if s.KB == nil || !mayWriteKB(u) {
		s.fail(w, r, errKBWriters)
		return
	}
	ctx := r.Context()
	p := s.newPage(w, r, "kbm.title")
	status := http.StatusOK
	if failed != nil {
		zh, en := hotline.ErrorMessages(failed)
		p.Error, status = inLang(zh, en, p.Lang == "en"), jsonhttp.Status(failed)
	}
	if r.URL.Query().Get("done") != "" {
		p.Flash = p.T("done")
	}
	en := p.Lang == "en"
	var kinds []option
	for _, k := range kb.Kinds {
		kinds = append(kinds, option{k, pick(kbKindNames, k, en)})
	}
	d := map[string]any{"Kinds": kinds, "Editor": u.Has(hotline.RoleEditor, hotline.RoleAdmin)}
	a := &kb.Article{Kind: "faq", Public: true}
	if idText != "new" {
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			s.fail(w, r, errNoArticle)
			return
		}
		if a, err = s.KB.Get(ctx, id, u); err != nil {
			s.fail(w, r, err)
			return
		}
		hist, err := s.KB.History(ctx, id, u)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		type step struct{ At, Action, By, Note, State string }
		var steps []step
		for _, v := range hist {
			steps = append(steps, step{fmtTime(v.At), pick(kbStepNames, v.Action, en), v.By, v.Note, kbStateName(v.State, en)})
		}
		d["History"] = steps
		d["StateName"] = kbStateName(a.State, en)
		d["CanEdit"] = kb.CanEdit(u, a)
		var acts []string
		for _, tr := range []kb.Transition{kb.Submit, kb.Approve, kb.Reject, kb.Withdraw, kb.Expire} {
			if _, err := kb.Step(a, tr, u); err == nil {
				acts = append(acts, string(tr))
			}
		}
		d["Actions"] = acts
	} else {
		d["CanEdit"] = true
	}
	edit := *a
	if a.Pending != nil {
		edit = *a.Pending // a unit's proposal is what is reviewed and edited
		d["Proposal"] = true
	}
	if form != nil {
		edit = *form
	}
	d["Article"] = a
	d["Edit"] = edit
	d["Tags"] = strings.Join(edit.Tags, "，")
	d["Effective"], d["Expires"] = dateValue(edit.Effective), dateValue(edit.Expires)
	d["ID"] = idText
	p.Data = d
	s.render(w, status, "kbarticle", p)
}

func dateValue(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(calendar.China).Format("2006-01-02")
}

// kbSave creates (/kb/manage/new) or updates an article from the form.
func (s *Server) kbSave(w http.ResponseWriter, r *http.Request) {
	u := s.staffPost(w, r)
	if u == nil {
		return
	}
	if s.KB == nil || !mayWriteKB(u) {
		s.fail(w, r, errKBWriters)
		return
	}
	f := r.PostFormValue
	a := kb.Article{Title: f("title"), Body: f("body"), Kind: f("kind"), Category: strings.TrimSpace(f("category")),
		Source: strings.TrimSpace(f("source")), Public: f("public") == "1"}
	for _, t := range strings.FieldsFunc(f("tags"), func(r rune) bool { return r == ',' || r == '，' || r == ' ' || r == '、' }) {
		a.Tags = append(a.Tags, t)
	}
	idText := chi.URLParam(r, "id")
	for _, x := range []struct {
		field string
		into  **time.Time
	}{{"effective", &a.Effective}, {"expires", &a.Expires}} {
		if v := strings.TrimSpace(f(x.field)); v != "" {
			t, err := time.ParseInLocation("2006-01-02", v, calendar.China)
			if err != nil {
				s.showArticle(w, r, u, idText, &a, hotline.Errorf(hotline.EINVALID, "日期格式应为YYYY-MM-DD", "dates are YYYY-MM-DD"))
				return
			}
			*x.into = &t
		}
	}
	var saved *kb.Article
	var err error
	if idText == "new" {
		saved, err = s.KB.Create(r.Context(), a, u.Has(hotline.RoleEditor, hotline.RoleAdmin) && f("publish") == "1", u)
	} else {
		id, perr := strconv.ParseInt(idText, 10, 64)
		version, _ := strconv.Atoi(f("version"))
		if perr != nil {
			s.fail(w, r, errNoArticle)
			return
		}
		saved, err = s.KB.Update(r.Context(), id, version, a, u)
	}
	if hotline.ErrorCode(err) == hotline.ENOTFOUND {
		s.fail(w, r, err)
		return
	}
	if err != nil {
		s.showArticle(w, r, u, idText, &a, err)
		return
	}
	http.Redirect(w, r, "/kb/manage/"+strconv.FormatInt(saved.ID, 10)+"?done=save", http.StatusSeeOther)
}

// kbStep submits, approves, rejects, withdraws or expires an article.
func (s *Server) kbStep(w http.ResponseWriter, r *http.Request) {
	u := s.staffPost(w, r)
	if u == nil {
		return
	}
	if s.KB == nil {
		s.fail(w, r, errNoPage)
		return
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, errNoArticle)
		return
	}
	if _, err := s.KB.Act(r.Context(), id, kb.Transition(chi.URLParam(r, "action")), r.PostFormValue("note"), u); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/kb/manage/"+strconv.FormatInt(id, 10)+"?done="+url.QueryEscape(chi.URLParam(r, "action")), http.StatusSeeOther)
}

// kbFeedback records a reader's "did this answer it?" from the /kb page.
func (s *Server) kbFeedback(w http.ResponseWriter, r *http.Request) {
	if !s.checkCSRF(r) {
		s.fail(w, r, errExpired)
		return
	}
	if s.KB == nil {
		s.fail(w, r, errNoPage)
		return
	}
	if hotline.UserFrom(r.Context()) == nil && !s.public.Allow(httpapi.ClientIP(r)) {
		s.fail(w, r, hotline.Errorf(hotline.ETOOMANY, "操作过于频繁，请稍后再试", "too many requests; please try again later"))
		return
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, errNoArticle)
		return
	}
	if err := s.KB.Feedback(r.Context(), id, r.PostFormValue("helpful") == "1"); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/kb?q="+url.QueryEscape(r.PostFormValue("q"))+"&thanks=1", http.StatusSeeOther)
}

// kbSynonyms replaces the synonym groups from the desk: one group a line,
// words separated by spaces or commas.
func (s *Server) kbSynonyms(w http.ResponseWriter, r *http.Request) {
	u := s.staffPost(w, r)
	if u == nil {
		return
	}
	if s.KB == nil {
		s.fail(w, r, errNoPage)
		return
	}
	var groups [][]string
	for _, line := range strings.Split(r.PostFormValue("synonyms"), "\n") {
		ws := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == ',' || r == '，' || r == '、' || r == '\t' || r == '\r' })
		if len(ws) > 0 {
			groups = append(groups, ws)
		}
	}
	if err := s.KB.SetSynonyms(r.Context(), groups, u); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/kb/manage?tab=synonyms&done=1", http.StatusSeeOther)
}
