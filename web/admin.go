package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
	lunarcal "github.com/6tail/lunar-go/calendar"
	"github.com/go-chi/chi/v5"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/calendar"
	"github.com/hotline12345/hotline/storage"
	"github.com/hotline12345/hotline/ticket"
)

// Administration: users and roles, the unit tree, the category tree, the
// dispatch catalogue, time-limit policies and the working-time calendar.
// Every page and post requires the admin role on the server; the storage
// layer validates the values.

var adminTabs = []struct{ Key, ZH, EN string }{
	{"users", "用户与角色", "Users"}, {"units", "单位", "Units"}, {"categories", "事项分类", "Categories"},
	{"catalogue", "派单目录", "Dispatch catalogue"}, {"policy", "时限策略", "Time limits"}, {"calendar", "工作日历", "Calendar"},
}

func (s *Server) requireAdmin(w http.ResponseWriter, r *http.Request) *hotline.User {
	u := s.requireUser(w, r)
	if u == nil {
		return nil
	}
	if !u.Has(hotline.RoleAdmin) {
		s.fail(w, r, hotline.Errorf(hotline.EFORBIDDEN, "只有系统管理员可以访问", "administrators only"))
		return nil
	}
	return u
}

type tab struct {
	Key, Name string
	Active    bool
}

type treeRow struct {
	ID                        int64
	Code, Name, Indent, Extra string
	Depth                     int
}

type calMonth struct {
	Name  string
	Weeks [][7]*calendar.DayInfo
}

func (s *Server) adminPage(w http.ResponseWriter, r *http.Request) {
	if s.requireAdmin(w, r) == nil {
		return
	}
	s.renderAdmin(w, r, "", http.StatusOK)
}

func (s *Server) renderAdmin(w http.ResponseWriter, r *http.Request, errMsg string, status int) {
	ctx := r.Context()
	key := chi.URLParam(r, "tab")
	if key == "" {
		key = "users"
	}
	p := s.newPage(w, r, "nav.admin")
	p.Error = errMsg
	if r.URL.Query().Get("done") != "" {
		p.Flash = p.T("done")
	}
	en := p.Lang == "en"
	d := map[string]any{"Tab": key}
	var tabs []tab
	found := false
	for _, t := range adminTabs {
		name := t.ZH
		if en {
			name = t.EN
		}
		tabs = append(tabs, tab{t.Key, name, t.Key == key})
		found = found || t.Key == key
	}
	if !found {
		s.fail(w, r, errNoPage)
		return
	}
	d["Tabs"] = tabs
	units, err := s.store.Units(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	unitRows := unitTree(units)
	d["UnitRows"] = unitRows
	unitName := map[int64]string{}
	for _, u := range units {
		unitName[u.ID] = u.Name
	}
	switch key {
	case "users":
		users, err := s.store.Users(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		type userRow struct {
			*hotline.User
			Unit, RoleNames string
		}
		var rows []userRow
		for _, u := range users {
			var names []string
			for _, ro := range u.Roles {
				names = append(names, roleName(ro, en))
			}
			rows = append(rows, userRow{u, unitName[u.UnitID], strings.Join(names, "、")})
		}
		d["Users"] = rows
		var roles []option
		for _, ro := range hotline.Roles {
			roles = append(roles, option{string(ro), roleName(ro, en)})
		}
		d["Roles"] = roles
	case "categories", "catalogue":
		cats, err := s.store.Categories(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d["Categories"] = categoryTree(cats)
		if key == "catalogue" {
			entries, err := s.store.Catalogue(ctx)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			paths := map[string]string{}
			for _, c := range cats {
				paths[c.Code] = c.Path
			}
			type entryRow struct {
				storage.CatalogueEntry
				Category, Region, Unit string
			}
			var rows []entryRow
			for _, e := range entries {
				region := unitName[e.RegionUnitID]
				if e.RegionUnitID == 0 {
					region = p.T("everywhere")
				}
				rows = append(rows, entryRow{e, paths[e.CategoryCode], region, unitName[e.UnitID]})
			}
			d["Entries"] = rows
			var districts []treeRow
			for _, u := range unitRows {
				if u.Extra == "district" {
					districts = append(districts, u)
				}
			}
			d["Districts"] = districts
		}
	case "policy":
		pol, err := s.store.Policy(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		text := r.PostFormValue("policy")
		if text == "" {
			b, _ := json.MarshalIndent(pol, "", "  ")
			text = string(b)
		}
		d["PolicyText"] = text
		type ruleRow struct {
			Match string
			ticket.Limits
		}
		var rules []ruleRow
		for _, ru := range pol.Rules {
			var m []string
			if ru.Type != "" {
				m = append(m, ticket.TypeNames[ru.Type])
			}
			if ru.Urgency != "" {
				m = append(m, ticket.UrgencyNames[ru.Urgency])
			}
			if ru.CategoryPrefix != "" {
				m = append(m, "分类 "+ru.CategoryPrefix)
			}
			if len(m) == 0 {
				m = append(m, p.T("policy.default"))
			}
			rules = append(rules, ruleRow{strings.Join(m, " · "), ru.Limits})
		}
		d["Rules"] = rules
		d["Policy"] = pol
	case "calendar":
		cal, err := s.store.Calendar(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		year := time.Now().In(calendar.China).Year()
		if y, err := strconv.Atoi(r.URL.Query().Get("year")); err == nil && y >= 2000 && y <= 2100 {
			year = y
		}
		d["Year"], d["PrevYear"], d["NextYear"] = year, year-1, year+1
		d["Loaded"] = slices.Contains(cal.LoadedYears(), year)
		d["LoadedYears"] = cal.LoadedYears()
		d["Months"] = yearView(cal.Year(year), en)
		d["Draft"] = holidayDraft(year)
		warnings, _ := s.store.Warnings(ctx)
		d["Warnings"] = warnings
	}
	p.Data = d
	s.render(w, status, "admin", p)
}

func roleName(r hotline.Role, en bool) string {
	names := map[hotline.Role][2]string{
		hotline.RoleAdmin: {"系统管理员", "administrator"}, hotline.RoleAgent: {"话务员", "call-taker"},
		hotline.RoleDispatcher: {"派单员", "dispatcher"}, hotline.RoleUnit: {"承办单位", "unit"},
		hotline.RoleRevisitor: {"回访员", "revisitor"}, hotline.RoleSupervisor: {"督办员", "supervisor"},
		hotline.RoleAnalyst: {"分析员", "analyst"}, hotline.RoleEditor: {"知识库编辑", "KB editor"},
	}
	n, ok := names[r]
	if !ok {
		return string(r)
	}
	if en {
		return n[1]
	}
	return n[0]
}

// unitTree lists units depth-first in code order (Extra: the unit's kind).
func unitTree(units []ticket.Unit) []treeRow {
	var out []treeRow
	walkTree(units, func(u ticket.Unit) (int64, int64, string) { return u.ID, u.ParentID, u.Code }, func(u ticket.Unit, depth int) {
		out = append(out, treeRow{ID: u.ID, Code: u.Code, Name: u.Name, Indent: strings.Repeat("　", depth), Extra: u.Kind, Depth: depth})
	})
	return out
}

// categoryTree lists categories depth-first in code order (Extra: the path).
func categoryTree(cats []storage.Category) []treeRow {
	var out []treeRow
	walkTree(cats, func(c storage.Category) (int64, int64, string) { return c.ID, c.ParentID, c.Code }, func(c storage.Category, depth int) {
		out = append(out, treeRow{ID: c.ID, Code: c.Code, Name: c.Name, Indent: strings.Repeat("　", depth), Extra: c.Path, Depth: depth})
	})
	return out
}

// walkTree visits items depth-first from the roots (parent 0), siblings in
// code order.
func walkTree[T any](items []T, key func(T) (id, parent int64, code string), visit func(item T, depth int)) {
	kids := map[int64][]T{}
	for _, it := range items {
		_, parent, _ := key(it)
		kids[parent] = append(kids[parent], it)
	}
	var walk func(parent int64, depth int)
	walk = func(parent int64, depth int) {
		k := kids[parent]
		slices.SortFunc(k, func(a, b T) int {
			_, _, ca := key(a)
			_, _, cb := key(b)
			return strings.Compare(ca, cb)
		})
		for _, it := range k {
			visit(it, depth)
			id, _, _ := key(it)
			walk(id, depth+1)
		}
	}
	walk(0, 0)
}

// yearView lays a year's days out as twelve month grids, weeks starting on
// Monday.
func yearView(days []calendar.DayInfo, en bool) []calMonth {
	var months []calMonth
	for i := range days {
		d := &days[i]
		m := int(d.Date.Month) - 1
		for len(months) <= m {
			name := fmt.Sprintf("%d月", len(months)+1)
			if en {
				name = time.Month(len(months) + 1).String()
			}
			months = append(months, calMonth{Name: name})
		}
		col := (int(d.Date.Weekday()) + 6) % 7
		mo := &months[m]
		if len(mo.Weeks) == 0 || col == 0 {
			mo.Weeks = append(mo.Weeks, [7]*calendar.DayInfo{})
		}
		mo.Weeks[len(mo.Weeks)-1][col] = d
	}
	return months
}

// holidayDraft proposes a year's lines from the lunar-go holiday table, for
// the administrator to check against the State Council's notice. For a year
// the table does not know yet (the notice comes out each November) it
// proposes the statutory days of the 2025 rules — 元旦 1, 春节 4 (除夕 to
// 初三), 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3 — computed on the lunar
// calendar, and leaves the 调休 lines to be copied from the notice.
func holidayDraft(year int) string {
	var b strings.Builder
	l := HolidayUtil.GetHolidaysByYear(year)
	for e := l.Front(); e != nil; e = e.Next() {
		h := e.Value.(*HolidayUtil.Holiday)
		if !strings.HasPrefix(h.GetDay(), strconv.Itoa(year)) {
			continue
		}
		kind := "off"
		if h.IsWork() {
			kind = "work"
		}
		fmt.Fprintf(&b, "%s %s %s\n", h.GetDay(), kind, h.GetName())
	}
	if b.Len() > 0 {
		return b.String()
	}
	return statutoryDraft(year)
}

// statutoryDraft lists the statutory holidays of year without the make-up
// arrangement, which only the State Council's notice can give.
func statutoryDraft(year int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %d年法定节假日草稿（按2025年起施行的《全国年节及纪念日放假办法》推算）\n", year)
	b.WriteString("# 调休与连休安排请按国务院办公厅通知补充，例如：YYYY-MM-DD work 春节调休\n")
	day := func(t time.Time, n int, name string) {
		end := t.AddDate(0, 0, n-1)
		if n == 1 {
			fmt.Fprintf(&b, "%s off %s\n", t.Format("2006-01-02"), name)
			return
		}
		fmt.Fprintf(&b, "%s~%s off %s\n", t.Format("2006-01-02"), end.Format("2006-01-02"), name)
	}
	solar := func(s *lunarcal.Solar) time.Time {
		return time.Date(s.GetYear(), time.Month(s.GetMonth()), s.GetDay(), 0, 0, 0, 0, time.UTC)
	}
	day(time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC), 1, "元旦")
	spring := solar(lunarcal.NewLunarFromYmd(year, 1, 1).GetSolar())
	day(spring.AddDate(0, 0, -1), 4, "春节")
	if q, ok := lunarcal.NewLunarFromYmd(year, 3, 1).GetJieQiTable()["清明"]; ok && q.GetYear() == year {
		day(solar(q), 1, "清明节")
	}
	day(time.Date(year, 5, 1, 0, 0, 0, 0, time.UTC), 2, "劳动节")
	day(solar(lunarcal.NewLunarFromYmd(year, 5, 5).GetSolar()), 1, "端午节")
	national := time.Date(year, 10, 1, 0, 0, 0, 0, time.UTC)
	if mid := solar(lunarcal.NewLunarFromYmd(year, 8, 15).GetSolar()); mid.Before(national) || mid.After(national.AddDate(0, 0, 2)) {
		day(mid, 1, "中秋节")
		day(national, 3, "国庆节")
	} else {
		// 中秋 inside 国庆: the two holidays add up to four days in a row.
		day(national, 4, "国庆节、中秋节")
	}
	return b.String()
}

func (s *Server) adminPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, hotline.Errorf(hotline.EINVALID, "表单无效", "invalid form"))
		return
	}
	u := s.staffPost(w, r)
	if u == nil {
		return
	}
	if !u.Has(hotline.RoleAdmin) {
		s.fail(w, r, hotline.Errorf(hotline.EFORBIDDEN, "只有系统管理员可以访问", "administrators only"))
		return
	}
	ctx := r.Context()
	f := r.PostFormValue
	id := func(k string) int64 { n, _ := strconv.ParseInt(f(k), 10, 64); return n }
	key := chi.URLParam(r, "tab")
	back := "/admin/" + key + "?done=1"
	var err error
	switch key {
	case "users":
		var roles []hotline.Role
		for _, ro := range r.PostForm["roles"] {
			roles = append(roles, hotline.Role(ro))
		}
		_, err = s.store.CreateUser(ctx, storage.NewUser{Username: strings.TrimSpace(f("username")), Password: f("password"),
			Name: f("name"), Roles: roles, UnitID: id("unit_id")})
	case "units":
		_, err = s.store.CreateUnit(ctx, ticket.Unit{Code: strings.TrimSpace(f("code")), Name: f("name"), ParentID: id("parent_id"),
			Kind: f("kind"), Region: f("region")})
	case "categories":
		_, err = s.store.CreateCategory(ctx, storage.Category{Code: strings.TrimSpace(f("code")), Name: f("name"), ParentID: id("parent_id")})
	case "catalogue":
		_, err = s.store.SetCatalogueEntry(ctx, storage.CatalogueEntry{CategoryCode: f("category_code"), RegionUnitID: id("region_unit_id"),
			UnitID: id("unit_id"), Note: f("note")})
	case "policy":
		var pol ticket.Policy
		dec := json.NewDecoder(strings.NewReader(f("policy")))
		dec.DisallowUnknownFields()
		if e := dec.Decode(&pol); e != nil {
			err = hotline.Errorf(hotline.EINVALID, "时限策略格式错误：%s", "invalid policy: %s", e.Error(), e.Error())
		} else {
			err = s.store.SetPolicy(ctx, pol)
		}
	case "calendar":
		year, _ := strconv.Atoi(f("year"))
		back = "/admin/calendar?done=1&year=" + url.QueryEscape(f("year"))
		switch f("op") {
		case "load":
			_, err = s.store.LoadCalendarYear(ctx, year, f("text"))
		case "day":
			err = s.store.SetCalendarDay(ctx, f("date"), strings.TrimSpace(f("region")), calendar.Kind(f("kind")), f("note"))
			if d, e := calendar.ParseDate(f("date")); e == nil {
				back = "/admin/calendar?done=1&year=" + strconv.Itoa(d.Year)
			}
		default:
			err = hotline.Errorf(hotline.EINVALID, "未知操作", "unknown operation")
		}
	default:
		err = errNoPage
	}
	if err != nil {
		if hotline.ErrorCode(err) == hotline.EINTERNAL || hotline.ErrorCode(err) == "" {
			s.fail(w, r, err)
			return
		}
		zh, en := hotline.ErrorMessages(err)
		msg := zh
		if c, e := r.Cookie("lang"); e == nil && c.Value == "en" {
			msg = en
		}
		s.renderAdmin(w, r, msg, http.StatusUnprocessableEntity)
		return
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
