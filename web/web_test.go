package web

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/xuri/excelize/v2"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/calendar"
	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/demo"
	"github.com/hotline12345/hotline/httpapi"
	"github.com/hotline12345/hotline/kb"
	"github.com/hotline12345/hotline/storage"
	"github.com/hotline12345/hotline/ticket"
)

// fixture is a seeded demo city behind the web routes.
type fixture struct {
	store  *storage.Store
	server *Server
	router http.Handler
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open(ctx, database.OpenTestSQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ctx, store, demo.Options{Orders: 60}); err != nil {
		t.Fatal(err)
	}
	s, err := New(store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	s.Routes(r)
	return &fixture{store: store, server: s, router: r}
}

// client is a browser stand-in: it keeps cookies and knows its CSRF token.
type client struct {
	t       *testing.T
	f       *fixture
	cookies map[string]string
	csrf    string
}

func (f *fixture) anon(t *testing.T) *client {
	c := &client{t: t, f: f, cookies: map[string]string{}}
	c.get("/")
	c.csrf = c.cookies[anonCookie]
	return c
}

func (f *fixture) as(t *testing.T, username string) *client {
	t.Helper()
	ctx := context.Background()
	u, err := f.store.Authenticate(ctx, username, demo.Password)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.store.CreateSession(ctx, u.ID, httpapi.SessionTTL)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, f: f, cookies: map[string]string{httpapi.SessionCookie: tok}, csrf: csrfToken(tok)}
}

func (c *client) do(req *http.Request) *httptest.ResponseRecorder {
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	w := httptest.NewRecorder()
	c.f.router.ServeHTTP(w, req)
	for _, ck := range w.Result().Cookies() {
		c.cookies[ck.Name] = ck.Value
	}
	return w
}

func (c *client) get(path string) *httptest.ResponseRecorder {
	return c.do(httptest.NewRequest("GET", path, nil))
}

func (c *client) post(path string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// multipart posts fields and files (name → content).
func (c *client) multipart(path string, form url.Values, files map[string][]byte) *httptest.ResponseRecorder {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for name, data := range files {
		fw, _ := mw.CreateFormFile("files", name)
		fw.Write(data)
	}
	mw.Close()
	req := httptest.NewRequest("POST", path, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// dispatchedTo registers a fresh order and dispatches it to the unit with
// the given code, so tests never depend on what the generator happened to
// leave in a state.
func (f *fixture) dispatchedTo(t *testing.T, unitCode string) string {
	t.Helper()
	ctx := context.Background()
	tk, _, err := f.store.CreateTicket(ctx, ticket.Draft{Channel: ticket.Phone, Type: ticket.Complaint, Title: "路灯不亮",
		Content: "滨江路两盏路灯连续一周不亮，夜间行人不便。", Address: "江北区滨江路",
		Citizen: ticket.Citizen{Name: "刘洋", Phone: "13900002222"}}, nil, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	units, err := f.store.UnitTree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var unitID int64
	for _, u := range units.All() {
		if u.Code == unitCode {
			unitID = u.ID
		}
	}
	if unitID == 0 {
		t.Fatalf("no unit %q in the demo city", unitCode)
	}
	disp, err := f.store.Authenticate(ctx, "dispatcher1", demo.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Act(ctx, tk.Number, ticket.Command{Action: ticket.ActDispatch, User: disp, Version: tk.Version, LeadUnitID: unitID}); err != nil {
		t.Fatal(err)
	}
	return tk.Number
}

// A 1×1 PNG.
var png1 = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")

func TestSecurityHeadersOnEveryPage(t *testing.T) {
	f := newFixture(t)
	anon, staff := f.anon(t), f.as(t, "dispatcher1")
	for _, tc := range []struct {
		c    *client
		path string
	}{
		{anon, "/"}, {anon, "/login"}, {anon, "/track"}, {anon, "/stats"}, {anon, "/static/site.css"}, {anon, "/orders/x"},
		{staff, "/desk"}, {staff, "/desk/new"}, {staff, "/desk?queue=extensions"}, {staff, "/nope"},
	} {
		w := tc.c.get(tc.path)
		h := w.Header()
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", tc.path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: missing nosniff or frame denial: %v", tc.path, h)
		}
		if strings.HasPrefix(h.Get("Content-Type"), "text/html") && regexp.MustCompile(`<script>|style="| on[a-z]+="`).MatchString(w.Body.String()) {
			t.Errorf("%s: inline script or style in the page", tc.path)
		}
	}
}

func TestSessionCookieFlags(t *testing.T) {
	f := newFixture(t)
	for _, secure := range []bool{false, true} {
		f.server.Secure = secure
		c := f.anon(t)
		w := c.post("/login", url.Values{"username": {"agent1"}, "password": {demo.Password}, "csrf": {c.csrf}, "next": {"/desk"}})
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/desk" {
			t.Fatalf("login: %d %s", w.Code, w.Body)
		}
		var sc *http.Cookie
		for _, ck := range w.Result().Cookies() {
			if ck.Name == httpapi.SessionCookie {
				sc = ck
			}
		}
		if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Secure != secure {
			t.Errorf("secure=%v: session cookie %+v", secure, sc)
		}
	}
	f.server.Secure = false
}

func TestLoginRedirectStaysOnSite(t *testing.T) {
	for in, want := range map[string]string{"/desk?queue=new": "/desk?queue=new", "//evil.example": "/desk", "https://evil.example": "/desk", "/\\evil": "/desk", "": "/desk"} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSRFRejected(t *testing.T) {
	f := newFixture(t)
	number := f.dispatchedTo(t, "jb")
	unit := f.as(t, "jb")
	anon := f.anon(t)
	for _, tc := range []struct {
		name string
		c    *client
		path string
		form url.Values
	}{
		{"action without token", unit, "/orders/" + number + "/sign", url.Values{"version": {"1"}}},
		{"action with another session's token", unit, "/orders/" + number + "/sign", url.Values{"csrf": {f.as(t, "jb").csrf}}},
		{"sign-in without token", anon, "/login", url.Values{"username": {"admin"}, "password": {demo.Password}}},
		{"portal without token", anon, "/requests", url.Values{"title": {"x"}, "content": {"y"}, "phone": {"13800000000"}, "type": {"help"}}},
		{"admin without token", f.as(t, "admin"), "/admin/categories", url.Values{"code": {"99"}, "name": {"伪造"}}},
		{"logout without token", unit, "/logout", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if w := tc.c.post(tc.path, tc.form); w.Code != http.StatusForbidden {
				t.Errorf("status %d, want 403", w.Code)
			}
		})
	}
	before, _ := f.store.Ticket(context.Background(), number)
	if before.State != ticket.Dispatched {
		t.Fatalf("a forged post changed the order: %s", before.State)
	}
}

func TestAuthorisationOnTheServer(t *testing.T) {
	f := newFixture(t)
	jbOrder := f.dispatchedTo(t, "jb")
	other := f.as(t, "zjj")
	for _, tc := range []struct {
		name   string
		c      *client
		method string
		path   string
		form   url.Values
		want   int
	}{
		{"anonymous desk goes to sign-in", f.anon(t), "GET", "/desk", nil, http.StatusSeeOther},
		{"anonymous order goes to sign-in", f.anon(t), "GET", "/orders/" + jbOrder, nil, http.StatusSeeOther},
		{"another unit cannot open the order", other, "GET", "/orders/" + jbOrder, nil, http.StatusNotFound},
		{"another unit cannot act on it", other, "POST", "/orders/" + jbOrder + "/sign", url.Values{}, http.StatusNotFound},
		{"a unit cannot dispatch", f.as(t, "jb"), "POST", "/orders/" + jbOrder + "/redispatch", url.Values{"lead_unit_id": {"1"}}, http.StatusUnprocessableEntity},
		{"a unit cannot open administration", f.as(t, "jb"), "GET", "/admin/users", nil, http.StatusForbidden},
		{"a dispatcher cannot administer", f.as(t, "dispatcher1"), "POST", "/admin/categories", url.Values{"code": {"98"}, "name": {"x"}}, http.StatusForbidden},
		{"a unit has no intake desk", f.as(t, "jb"), "GET", "/desk/new", nil, http.StatusForbidden},
		{"a revisitor has no dispatch queue", f.as(t, "revisit1"), "GET", "/desk?queue=new", nil, http.StatusNotFound},
		{"anonymous events refused", f.anon(t), "GET", "/desk/events", nil, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w *httptest.ResponseRecorder
			if tc.method == "GET" {
				w = tc.c.get(tc.path)
			} else {
				tc.form.Set("csrf", tc.c.csrf)
				tc.form.Set("version", "0")
				w = tc.c.post(tc.path, tc.form)
			}
			if w.Code != tc.want {
				t.Errorf("status %d, want %d", w.Code, tc.want)
			}
			if w.Code == http.StatusNotFound && strings.Contains(w.Body.String(), "诉求内容") {
				t.Error("a refused page shows the order")
			}
		})
	}
	if st, _ := f.store.Ticket(context.Background(), jbOrder); st.State != ticket.Dispatched {
		t.Fatalf("a refused action changed the order: %s", st.State)
	}
}

func TestCitizenTextIsEscapedAndConfidentialMasked(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	evil := `<img src=x onerror=alert(1)><script>alert("x")</script>`
	tk, _, err := f.store.CreateTicket(ctx, ticket.Draft{Channel: ticket.Web, Type: ticket.Complaint, Title: evil, Content: evil,
		Address: evil, Citizen: ticket.Citizen{Name: "王秀英", Phone: "13800138000", Confidential: true}}, nil, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	jb, _ := f.store.UnitTree(ctx)
	var jbID int64
	for _, u := range jb.All() {
		if u.Code == "jb" {
			jbID = u.ID
		}
	}
	disp, _ := f.store.Authenticate(ctx, "dispatcher1", demo.Password)
	if _, err := f.store.Act(ctx, tk.Number, ticket.Command{Action: ticket.ActDispatch, User: disp, Version: tk.Version, LeadUnitID: jbID}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who, path string
		masked    bool
	}{
		{"dispatcher1", "/orders/" + tk.Number, false},
		{"jb", "/orders/" + tk.Number, true},
		{"dispatcher1", "/desk?queue=all&q=" + url.QueryEscape("onerror"), false},
	} {
		body := f.as(t, tc.who).get(tc.path).Body.String()
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s %s: citizen markup is not escaped", tc.who, tc.path)
		}
		if !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("%s %s: citizen text missing", tc.who, tc.path)
		}
		if tc.masked && (strings.Contains(body, "王秀英") || strings.Contains(body, "13800138000")) {
			t.Errorf("%s sees a confidential citizen", tc.who)
		}
	}
}

func TestPortalAttachments(t *testing.T) {
	f := newFixture(t)
	c := f.anon(t)
	form := url.Values{"csrf": {c.csrf}, "type": {"help"}, "title": {"井盖缺失"}, "content": {"人民路口井盖缺失，很危险。"}, "phone": {"13900001111"}}
	// Type is decided by the bytes: an HTML page named .png is refused.
	if w := c.multipart("/requests", form, map[string][]byte{"photo.png": []byte("<html><script>alert(1)</script></html>")}); w.Code != http.StatusBadRequest {
		t.Fatalf("disguised html accepted: %d", w.Code)
	}
	if w := c.multipart("/requests", form, map[string][]byte{"big.png": append(png1, make([]byte, maxFileSize)...)}); w.Code != http.StatusBadRequest {
		t.Fatalf("oversized file accepted: %d", w.Code)
	}
	w := c.multipart("/requests", form, map[string][]byte{`../../etc/现场"照片.png`: png1})
	if w.Code != http.StatusCreated {
		t.Fatalf("submit: %d %s", w.Code, w.Body)
	}
	m := regexp.MustCompile(`number=(\d+)&amp;code=(\d+)`).FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatal("no number and code on the receipt")
	}
	number, code := m[1], m[2]
	track := c.get("/track?number=" + number + "&code=" + code).Body.String()
	link := regexp.MustCompile(`/track/files/([0-9a-f]{32})`).FindStringSubmatch(track)
	if link == nil || !strings.Contains(track, "现场照片.png") {
		t.Fatalf("the citizen does not see the upload: %s", track)
	}
	dl := c.get("/track/files/" + link[1] + "?number=" + number + "&code=" + code)
	if dl.Code != 200 || !bytes.Equal(dl.Body.Bytes(), png1) {
		t.Fatalf("download: %d", dl.Code)
	}
	if h := dl.Header(); h.Get("Content-Type") != "image/png" || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("download headers: %v", h)
	}
	if w := c.get("/track/files/" + link[1] + "?number=" + number + "&code=000000"); w.Code != http.StatusNotFound {
		t.Errorf("wrong query code: %d", w.Code)
	}
	// Staff who may see the order get it; a unit that does not hold it does not.
	if w := f.as(t, "dispatcher1").get("/orders/" + number + "/files/" + link[1]); w.Code != 200 {
		t.Errorf("dispatcher download: %d", w.Code)
	}
	if w := f.as(t, "zjj").get("/orders/" + number + "/files/" + link[1]); w.Code != http.StatusNotFound {
		t.Errorf("unrelated unit download: %d", w.Code)
	}
}

func TestExportMatchesTheDeskList(t *testing.T) {
	f := newFixture(t)
	c := f.as(t, "jb")
	w := c.get("/desk/export.xlsx?queue=all")
	if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("export: %d %s", w.Code, w.Header())
	}
	x, err := excelize.OpenReader(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := x.GetRows("工单")
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != "工单号" {
		t.Fatalf("header %v", rows[0])
	}
	u, _ := f.store.Authenticate(context.Background(), "jb", demo.Password)
	pg, _ := f.store.ListTickets(context.Background(), storage.Filter{Viewer: u, Limit: 200})
	if len(rows)-1 != len(pg.Items) {
		t.Errorf("export has %d rows, the unit's list %d", len(rows)-1, len(pg.Items))
	}
	units, _ := f.store.UnitTree(context.Background())
	for _, r := range rows[1:] {
		tk, err := f.store.Ticket(context.Background(), r[0])
		if err != nil || !tk.CanSee(u, units) {
			t.Fatalf("exported an order the unit may not see: %s", r[0])
		}
	}
}

func TestLiveEventsReachOnlyThoseWhoMaySee(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	number := f.dispatchedTo(t, "jb")
	who := func(name string) *hotline.User {
		u, err := f.store.Authenticate(ctx, name, demo.Password)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	disp, jb, zjj := f.server.live.subscribe(who("dispatcher1")), f.server.live.subscribe(who("jb")), f.server.live.subscribe(who("zjj"))
	defer func() {
		for _, ch := range []chan string{disp, jb, zjj} {
			f.server.live.unsubscribe(ch)
		}
	}()
	f.server.publish(number)
	for name, ch := range map[string]chan string{"dispatcher": disp, "holding unit": jb} {
		select {
		case ev := <-ch:
			if !strings.HasPrefix(ev, number+" ") {
				t.Errorf("%s got %q", name, ev)
			}
		default:
			t.Errorf("%s was not told", name)
		}
	}
	select {
	case ev := <-zjj:
		t.Errorf("an unrelated unit heard about %s", ev)
	default:
	}
	// The poller finds changes made elsewhere (another node writing the same database).
	_, numbers, err := f.server.changedSince(ctx, f.store.Now().Add(-f.server.poll))
	if err != nil {
		t.Fatal(err)
	}
	_ = numbers // the demo data may be older than a poll; the query must simply work
}

func TestAdministration(t *testing.T) {
	f := newFixture(t)
	admin := f.as(t, "admin")
	for _, tab := range []string{"users", "units", "categories", "catalogue", "policy", "calendar"} {
		if w := admin.get("/admin/" + tab); w.Code != 200 {
			t.Errorf("%s: %d", tab, w.Code)
		}
	}
	cal := admin.get("/admin/calendar?year=2027").Body.String()
	if !strings.Contains(cal, "2027-01-01 off") {
		t.Error("no holiday draft for next year")
	}
	for _, tc := range []struct {
		tab  string
		form url.Values
		want int
	}{
		{"categories", url.Values{"code": {"09"}, "name": {"测试分类"}}, http.StatusSeeOther},
		{"users", url.Values{"username": {"newagent"}, "name": {"新话务员"}, "password": {"a-long-password"}, "roles": {"agent"}}, http.StatusSeeOther},
		{"users", url.Values{"username": {"newagent"}, "name": {"重复"}, "password": {"a-long-password"}, "roles": {"agent"}}, http.StatusUnprocessableEntity},
		{"policy", url.Values{"policy": {`{"rules": "nope"}`}}, http.StatusUnprocessableEntity},
		{"calendar", url.Values{"op": {"day"}, "date": {"2027-03-02"}, "kind": {"override_off"}, "note": {"台风停工"}}, http.StatusSeeOther},
	} {
		tc.form.Set("csrf", admin.csrf)
		if w := admin.post("/admin/"+tc.tab, tc.form); w.Code != tc.want {
			t.Errorf("%s %v: %d, want %d: %s", tc.tab, tc.form, w.Code, tc.want, w.Body)
		}
	}
	if !strings.Contains(admin.get("/admin/categories").Body.String(), "测试分类") {
		t.Error("new category not listed")
	}
	if !strings.Contains(admin.get("/admin/calendar?year=2027").Body.String(), `class="day override_off" title="2027-03-02 台风停工"`) {
		t.Error("marked day not shown in the year view")
	}
}

func TestEnglishSwitch(t *testing.T) {
	f := newFixture(t)
	c := f.anon(t)
	body := c.get("/?lang=en").Body.String()
	if !strings.Contains(body, "Tell us what happened") || !strings.Contains(body, `lang="en"`) {
		t.Fatal("no English portal")
	}
	if body := c.get("/track").Body.String(); !strings.Contains(body, "Track progress") {
		t.Error("the language choice does not stick")
	}
	_ = io.Discard
}

func TestStatutoryDraftParses(t *testing.T) {
	for y := 2025; y <= 2060; y++ {
		text := statutoryDraft(y)
		off, _, err := calendar.ParseYear(y, text)
		if err != nil {
			t.Fatalf("%d: %v\n%s", y, err, text)
		}
		if len(off) != 13 {
			t.Errorf("%d: %d statutory days, want 13\n%s", y, len(off), text)
		}
	}
	// 2026 against the State Council's notice: 春节 2026-02-16 (除夕) is a statutory day.
	if !strings.Contains(statutoryDraft(2026), "2026-02-16~2026-02-19 off 春节") {
		t.Error("2026 春节 misplaced")
	}
}

func TestDuplicatesAtIntakeMergeInOneStep(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	master, _, err := f.store.CreateTicket(ctx, ticket.Draft{Channel: ticket.Phone, Type: ticket.Complaint, Title: "望湖花园北门积水",
		Content: "望湖花园北门一下雨就积水半米，居民出行困难。", Address: "江北区望湖花园北门",
		Citizen: ticket.Citizen{Name: "陈静", Phone: "13700001111"}}, nil, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	agent := f.as(t, "agent1")
	form := url.Values{"csrf": {agent.csrf}, "phone": {"13600002222"}, "name": {"赵敏"}, "type": {"complaint"}, "urgency": {"normal"},
		"channel": {"phone"}, "title": {"望湖花园积水严重"}, "content": {"望湖花园北门口又积水了，老人孩子过不去。"}, "address": {"望湖花园"}, "op": {"suggest"}}
	page := agent.post("/desk/new", form).Body.String()
	i := strings.Index(page, `id="related"`)
	if i < 0 || !strings.Contains(page[i:], master.Number) || !strings.Contains(page[i:], "地点相同：望湖花园") {
		t.Fatalf("the desk does not offer the open order at the same place")
	}
	form.Set("op", "merge:"+master.Number)
	w := agent.post("/desk/new", form)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("register and merge: %d %s", w.Code, w.Body)
	}
	dupNumber := strings.TrimPrefix(strings.SplitN(w.Header().Get("Location"), "?", 2)[0], "/orders/")
	dup, err := f.store.Ticket(ctx, dupNumber)
	if err != nil || dup.State != ticket.Merged || dup.MergedInto != master.Number {
		t.Fatalf("duplicate %s: %+v %v", dupNumber, dup, err)
	}
	m, _ := f.store.Ticket(ctx, master.Number)
	if !slices.Contains(m.Duplicates, dupNumber) {
		t.Fatalf("master does not list the duplicate: %v", m.Duplicates)
	}
	// The duplicate's citizen follows the master's progress, without the other citizen's words.
	track := f.anon(t).get("/track?number=" + dup.Number + "&code=" + dup.QueryCode).Body.String()
	if !strings.Contains(track, `id="master"`) || !strings.Contains(track, master.Number) || strings.Contains(track, "积水半米") {
		t.Fatalf("track page of a merged order: master shown=%v, other citizen's text leaked=%v",
			strings.Contains(track, `id="master"`), strings.Contains(track, "积水半米"))
	}
	// The revisitor sees whom else to tell; a unit never sees the other citizen.
	if body := f.as(t, "revisit1").get("/orders/" + master.Number).Body.String(); !strings.Contains(body, "13600002222") {
		t.Error("the revisitor is not shown the duplicate's citizen")
	}
}

func TestIntakeAnswersFromTheKnowledgeBase(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	know, err := kb.Open(ctx, f.store.DB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.SeedArticles(ctx, f.store, know); err != nil {
		t.Fatal(err)
	}
	f.server.KB = know
	agent := f.as(t, "agent1")
	form := url.Values{"csrf": {agent.csrf}, "phone": {"13600005555"}, "name": {"孙丽"}, "type": {"consultation"}, "urgency": {"normal"},
		"channel": {"phone"}, "title": {"异地就医怎么备案"}, "content": {"我父亲要去外省住院，医保异地就医备案怎么办理？"}, "op": {"suggest"}}
	page := agent.post("/desk/new", form).Body.String()
	m := regexp.MustCompile(`value="use:(\d+)"`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "医保异地就医备案办理") {
		t.Fatal("the desk offers no knowledge-base answer")
	}
	form.Set("op", "use:"+m[1])
	page = agent.post("/desk/new", form).Body.String()
	if !strings.Contains(page, `name="article_id" value="`+m[1]+`"`) {
		t.Fatal("the chosen article is not carried with the answer")
	}
	answer := regexp.MustCompile(`(?s)<textarea id="answer"[^>]*>(.*?)</textarea>`).FindStringSubmatch(page)
	if answer == nil || strings.TrimSpace(answer[1]) == "" || strings.Contains(answer[1], "##") {
		t.Fatalf("no plain draft answer from the article: %v", answer)
	}
	form.Set("op", "answer")
	form.Set("article_id", m[1])
	form.Set("answer", "已告知市民通过医保服务平台办理异地就医备案，备案后直接结算。")
	w := agent.post("/desk/new", form)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("answer: %d %s", w.Code, w.Body)
	}
	number := strings.TrimPrefix(strings.SplitN(w.Header().Get("Location"), "?", 2)[0], "/orders/")
	tk, _ := f.store.Ticket(ctx, number)
	id, _ := strconv.ParseInt(m[1], 10, 64)
	if tk.State != ticket.Closed || tk.ArticleID != id {
		t.Fatalf("order %s: state %s, article %d", number, tk.State, tk.ArticleID)
	}
	a, _ := know.Get(ctx, id, nil)
	if a == nil || a.Uses != 1 {
		t.Fatalf("the article's use was not counted: %+v", a)
	}
	if body := f.as(t, "editor1").get("/kb/manage?tab=top").Body.String(); !strings.Contains(body, "医保异地就医备案办理") {
		t.Error("the most-used list does not show the article that closed the call")
	}
}

func TestBilingualLabels(t *testing.T) {
	for _, c := range []struct{ in, zh, en string }{
		{"先行联系 Contact", "先行联系", "Contact"},
		{"附件（图片或PDF，每个≤10MB）Attachments", "附件（图片或PDF，每个≤10MB）", "Attachments"},
		{"协办单位（可多选）Assisting units", "协办单位（可多选）", "Assisting units"},
		{"说明", "说明", "说明"}, {"Note", "Note", "Note"}, {"", "", ""},
	} {
		if got := bilingual(c.in, false); got != c.zh {
			t.Errorf("zh %q → %q", c.in, got)
		}
		if got := bilingual(c.in, true); got != c.en {
			t.Errorf("en %q → %q", c.in, got)
		}
	}
}

func TestEveryActionHasAnEnglishName(t *testing.T) {
	for d := range ticket.DispositionNames {
		if dispositionEN[d] == "" {
			t.Errorf("no English name for disposition %s", d)
		}
	}
	for r := range ticket.ResultNames {
		if resultEN[r] == "" {
			t.Errorf("no English name for result %s", r)
		}
	}
	for l := range ticket.SatisfactionNames {
		if satisfactionEN[l] == "" {
			t.Errorf("no English name for satisfaction %d", l)
		}
	}
	for a := range ticket.ActionNames {
		if actionEN[a] == "" {
			t.Errorf("no English name for %s", a)
		}
	}
	for _, st := range ticket.States {
		if stateEN[st] == "" {
			t.Errorf("no English name for state %s", st)
		}
	}
}

func TestScreenPopCarriesTheCall(t *testing.T) {
	f := newFixture(t)
	agent := f.as(t, "agent1")
	page := agent.get("/desk/new?caller=13700009999&call_id=" + url.QueryEscape("c-42@hotline")).Body.String()
	if !strings.Contains(page, `name="call_id" value="c-42@hotline"`) || !strings.Contains(page, `value="13700009999"`) {
		t.Fatal("the popped desk does not carry the caller and the call")
	}
	form := url.Values{"csrf": {agent.csrf}, "phone": {"13700009999"}, "type": {"help"}, "urgency": {"normal"}, "channel": {"phone"},
		"title": {"小区停水"}, "content": {"锦绣花园今天一直停水，没有通知。"}, "call_id": {"c-42@hotline"}, "op": {"register"}}
	w := agent.post("/desk/new", form)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("register: %d %s", w.Code, w.Body)
	}
	number := strings.TrimPrefix(strings.SplitN(w.Header().Get("Location"), "?", 2)[0], "/orders/")
	tk, _ := f.store.Ticket(context.Background(), number)
	if tk.CallID != "c-42@hotline" {
		t.Fatalf("the order does not record its call: %q", tk.CallID)
	}
	if body := agent.get("/orders/" + number).Body.String(); !strings.Contains(body, `/api/v1/calls/c-42@hotline/recording`) {
		t.Error("the order page does not offer the call's recording")
	}
	// Dispatched to 江北区: the unit sees the order but is not offered the recording.
	units, _ := f.store.UnitTree(context.Background())
	disp, _ := f.store.Authenticate(context.Background(), "dispatcher1", demo.Password)
	for _, un := range units.All() {
		if un.Code == "jb" {
			if _, err := f.store.Act(context.Background(), number, ticket.Command{Action: ticket.ActDispatch, User: disp, Version: tk.Version, LeadUnitID: un.ID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	body := f.as(t, "jb").get("/orders/" + number).Body.String()
	if !strings.Contains(body, "锦绣花园今天一直停水") || strings.Contains(body, "/recording") {
		t.Error("the unit does not see the order, or is offered the recording")
	}
}

func TestKnowledgeDesk(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	know, err := kb.Open(ctx, f.store.DB)
	if err != nil {
		t.Fatal(err)
	}
	f.server.KB = know
	units, _ := f.store.UnitTree(ctx)
	var gjj int64
	for _, u := range units.All() {
		if u.Code == "gjj" {
			gjj = u.ID
		}
	}
	// A unit writes a draft of its own and submits it.
	unit := f.as(t, "gjj")
	w := unit.post("/kb/manage/new", url.Values{"csrf": {unit.csrf}, "title": {"公积金提取所需材料"}, "body": {"## 材料\n- 身份证\n- 银行卡"},
		"kind": {"procedure"}, "tags": {"公积金，提取"}, "public": {"1"}, "expires": {"2030-01-01"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("unit creates: %d %s", w.Code, w.Body)
	}
	id := strings.TrimPrefix(strings.SplitN(w.Header().Get("Location"), "?", 2)[0], "/kb/manage/")
	if w := unit.post("/kb/manage/"+id+"/submit", url.Values{"csrf": {unit.csrf}}); w.Code != http.StatusSeeOther {
		t.Fatalf("submit: %d", w.Code)
	}
	// A unit cannot publish; another unit cannot see it; bad dates are refused.
	if w := unit.post("/kb/manage/"+id+"/approve", url.Values{"csrf": {unit.csrf}}); w.Code != http.StatusForbidden {
		t.Errorf("a unit approved its own article: %d", w.Code)
	}
	if w := f.as(t, "jb").get("/kb/manage/" + id); w.Code != http.StatusNotFound && w.Code != http.StatusForbidden {
		t.Errorf("another unit opened the draft: %d", w.Code)
	}
	if w := unit.post("/kb/manage/new", url.Values{"csrf": {unit.csrf}, "title": {"x"}, "body": {"y"}, "expires": {"明年"}}); w.Code != http.StatusBadRequest {
		t.Errorf("bad date: %d", w.Code)
	}
	if w := f.as(t, "agent1").get("/kb/manage"); w.Code != http.StatusForbidden {
		t.Errorf("a call-taker maintains the knowledge base: %d", w.Code)
	}
	// The editor sees it waiting and publishes it.
	editor := f.as(t, "editor1")
	if body := editor.get("/kb/manage?tab=review").Body.String(); !strings.Contains(body, "公积金提取所需材料") {
		t.Fatal("the editor's review queue does not list it")
	}
	if w := editor.post("/kb/manage/"+id+"/approve", url.Values{"csrf": {editor.csrf}, "note": {"核对无误"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", w.Code, w.Body)
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	a, _ := know.Get(ctx, n, nil)
	if a == nil || a.State != kb.Published || a.UnitID != gjj || a.Expires == nil {
		t.Fatalf("article after approval: %+v", a)
	}
	// A unit's change to its published article becomes a proposal; the text stays live.
	w = unit.post("/kb/manage/"+id, url.Values{"csrf": {unit.csrf}, "version": {strconv.Itoa(a.Version)}, "title": {"公积金提取所需材料（2027版）"},
		"body": {"身份证、银行卡、提取申请表"}, "kind": {"procedure"}, "public": {"1"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("propose: %d %s", w.Code, w.Body)
	}
	a, _ = know.Get(ctx, n, nil)
	if a.Title != "公积金提取所需材料" {
		t.Fatalf("the proposal replaced the live text: %q", a.Title)
	}
	if body := editor.get("/kb/manage/" + id).Body.String(); !strings.Contains(body, "2027版") || !strings.Contains(body, "有修改建议") {
		t.Fatal("the editor does not see the proposal")
	}
	// The editor adds a synonym; search finds the article by it.
	if w := editor.post("/kb/synonyms", url.Values{"csrf": {editor.csrf}, "synonyms": {"公积金 住房公积金\n提取，支取"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("synonyms: %d %s", w.Code, w.Body)
	}
	if body := editor.get("/kb/manage?tab=synonyms").Body.String(); !strings.Contains(body, "提取 支取") {
		t.Error("the synonyms are not shown back")
	}
	if w := unit.post("/kb/synonyms", url.Values{"csrf": {unit.csrf}, "synonyms": {"a b"}}); w.Code != http.StatusForbidden {
		t.Errorf("a unit changed the synonyms: %d", w.Code)
	}
	// Citizens search it and say whether it helped.
	c := f.anon(t)
	if body := c.get("/kb?q=" + url.QueryEscape("公积金提取")).Body.String(); !strings.Contains(body, `action="/kb/feedback/`+id+`"`) {
		t.Fatal("no feedback form on the public result")
	}
	if w := c.post("/kb/feedback/"+id, url.Values{"csrf": {c.csrf}, "helpful": {"1"}, "q": {"公积金提取"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("feedback: %d", w.Code)
	}
	if a, _ = know.Get(ctx, n, nil); a.Helpful != 1 {
		t.Fatalf("feedback not counted: %+v", a)
	}
	if w := c.post("/kb/feedback/"+id, url.Values{"helpful": {"1"}}); w.Code != http.StatusForbidden {
		t.Errorf("feedback without a token: %d", w.Code)
	}
}
