package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/callcenter"
	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/jsonhttp"
	"github.com/hotline12345/hotline/kb"
	"github.com/hotline12345/hotline/storage"
	"github.com/hotline12345/hotline/ticket"
)

type apiFixture struct {
	t      *testing.T
	srv    *httptest.Server
	store  *storage.Store
	tokens map[string]string
	units  map[string]int64
}

func newAPI(t *testing.T, db *database.DB) *apiFixture {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	f := &apiFixture{t: t, store: store, tokens: map[string]string{}, units: map[string]int64{}}
	for _, u := range []ticket.Unit{{Code: "jb", Name: "江北区", Kind: "district"}, {Code: "zjj", Name: "住建局", Kind: "department"}} {
		u, err := store.CreateUnit(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		f.units[u.Code] = u.ID
	}
	users := []storage.NewUser{
		{Username: "admin", Roles: []hotline.Role{hotline.RoleAdmin}},
		{Username: "agent", Roles: []hotline.Role{hotline.RoleAgent}},
		{Username: "disp", Roles: []hotline.Role{hotline.RoleDispatcher}},
		{Username: "jb", Roles: []hotline.Role{hotline.RoleUnit}, UnitID: f.units["jb"]},
		{Username: "zjj", Roles: []hotline.Role{hotline.RoleUnit}, UnitID: f.units["zjj"]},
		{Username: "rv", Roles: []hotline.Role{hotline.RoleRevisitor}},
		{Username: "sup", Roles: []hotline.Role{hotline.RoleSupervisor}},
		{Username: "ana", Roles: []hotline.Role{hotline.RoleAnalyst}},
		{Username: "ed", Roles: []hotline.Role{hotline.RoleEditor}},
	}
	for _, nu := range users {
		nu.Password, nu.Name = "password1", nu.Username
		if _, err := store.CreateUser(ctx, nu); err != nil {
			t.Fatal(err)
		}
	}
	api := New(store)
	if api.Calls, err = callcenter.Open(ctx, db); err != nil {
		t.Fatal(err)
	}
	if api.KB, err = kb.Open(ctx, db); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(api.Handler())
	t.Cleanup(f.srv.Close)
	for _, nu := range users {
		var out struct{ Token string }
		f.must("POST", "/api/v1/auth/login", "", map[string]string{"username": nu.Username, "password": "password1"}, 200, &out)
		f.tokens[nu.Username] = out.Token
	}
	return f
}

// call sends a request as user ("" for anonymous) and returns status and body.
func (f *apiFixture) call(method, path, user string, body any, hdr ...string) (int, []byte) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, r)
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[user])
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

func (f *apiFixture) must(method, path, user string, body any, status int, out any) {
	f.t.Helper()
	got, data := f.call(method, path, user, body)
	if got != status {
		f.t.Fatalf("%s %s as %q: status %d, want %d: %s", method, path, user, got, status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			f.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

type tv struct {
	Number    string   `json:"number"`
	QueryCode string   `json:"query_code"`
	State     string   `json:"state"`
	Version   int      `json:"version"`
	Actions   []string `json:"actions"`
	Warning   string   `json:"warning"`
	Citizen   struct{ Name, Phone string }
}

func (f *apiFixture) create(user string) tv {
	var t tv
	f.must("POST", "/api/v1/tickets", user, map[string]any{"channel": "phone", "type": "complaint", "title": "滨江路夜间施工噪音",
		"content": "每晚施工到凌晨两点", "citizen": map[string]any{"name": "王小明", "phone": "13812345678", "confidential": true}}, 201, &t)
	return t
}

func (f *apiFixture) act(number, action, user string, body map[string]any, status int) tv {
	f.t.Helper()
	var cur tv
	f.must("GET", "/api/v1/tickets/"+number, "disp", nil, 200, &cur)
	if body == nil {
		body = map[string]any{}
	}
	if _, ok := body["version"]; !ok {
		body["version"] = cur.Version
	}
	var out tv
	got, data := f.call("POST", "/api/v1/tickets/"+number+"/"+action, user, body)
	if got != status {
		f.t.Fatalf("%s by %s: status %d, want %d: %s", action, user, got, status, data)
	}
	json.Unmarshal(data, &out)
	return out
}

func TestAPI(t *testing.T) {
	database.ForEachTestDB(t, func(t *testing.T, db *database.DB) {
		f := newAPI(t, db)
		for _, c := range []struct {
			name string
			fn   func(*testing.T)
		}{{"lifecycle over HTTP", f.testLifecycle}, {"permission matrix", f.testPermissions}, {"bad input", f.testBadInput},
			{"idempotency", f.testIdempotency}, {"public", f.testPublic}, {"misc", f.testMisc}, {"cti", f.testCTI}, {"related", f.testRelated}, {"kb report", f.testKBReport}} {
			t.Run(c.name, func(t *testing.T) { f.t = t; c.fn(t) })
		}
	})
}

func (f *apiFixture) testLifecycle(t *testing.T) {
	tk := f.create("agent")
	if tk.State != "registered" || len(tk.Number) != 17 || tk.QueryCode == "" {
		t.Fatalf("%+v", tk)
	}
	jb := f.units["jb"]
	f.act(tk.Number, "dispatch", "disp", map[string]any{"lead_unit_id": jb, "assist_unit_ids": []int64{f.units["zjj"]}}, 200)
	// Units see the confidential citizen masked.
	var seen tv
	f.must("GET", "/api/v1/tickets/"+tk.Number, "jb", nil, 200, &seen)
	if seen.Citizen.Phone != "138****5678" || seen.QueryCode != "" {
		t.Fatalf("unit sees %+v", seen)
	}
	if fmt.Sprint(seen.Actions) != "[sub-dispatch sign return comment]" {
		t.Fatalf("unit may %v", seen.Actions)
	}
	f.act(tk.Number, "sign", "jb", nil, 200)
	f.act(tk.Number, "contact", "jb", map[string]any{"content": "已电话联系"}, 200)
	f.act(tk.Number, "request-extension", "jb", map[string]any{"working_days": 2, "reason": "需协调"}, 200)
	f.act(tk.Number, "approve-extension", "disp", nil, 200)
	f.act(tk.Number, "reply", "jb", map[string]any{"result": "solved", "content": "已责令停工"}, 200)
	f.act(tk.Number, "reject-reply", "disp", map[string]any{"reason": "答复过于简单"}, 200)
	f.act(tk.Number, "reply", "jb", map[string]any{"result": "solved", "content": "已责令夜间停工并罚款"}, 200)
	f.act(tk.Number, "approve-reply", "disp", nil, 200)
	out := f.act(tk.Number, "revisit", "rv", map[string]any{"satisfaction": 2, "solved": false}, 200)
	if out.State != "revisit_pending" {
		t.Fatalf("dissatisfied: %s", out.State)
	}
	f.act(tk.Number, "reopen", "rv", map[string]any{"reason": "市民不满意"}, 200)
	f.act(tk.Number, "sign", "jb", nil, 200)
	f.act(tk.Number, "reply", "jb", map[string]any{"result": "solved", "content": "已彻底解决"}, 200)
	f.act(tk.Number, "approve-reply", "disp", nil, 200)
	out = f.act(tk.Number, "revisit", "rv", map[string]any{"satisfaction": 5, "solved": true}, 200)
	if out.State != "closed" {
		t.Fatalf("final state %s", out.State)
	}
	var evs struct{ Items []ticket.Event }
	f.must("GET", "/api/v1/tickets/"+tk.Number+"/events", "disp", nil, 200, &evs)
	if len(evs.Items) != 16 || evs.Items[0].Action != ticket.ActRegister || evs.Items[15].To != ticket.Closed {
		t.Fatalf("%d events", len(evs.Items))
	}
	// Stale version.
	f.act(tk.Number, "comment", "agent", map[string]any{"content": "x", "version": 1}, 409)
}

func (f *apiFixture) testPermissions(t *testing.T) {
	tk := f.create("agent")
	jb, zjj := f.units["jb"], f.units["zjj"]
	// Who may dispatch a registered order.
	// A unit does not even see an order not sent to it (404).
	for user, status := range map[string]int{"jb": 404, "rv": 403, "ana": 403, "sup": 403} {
		f.act(tk.Number, "dispatch", user, map[string]any{"lead_unit_id": jb}, status)
	}
	f.act(tk.Number, "dispatch", "disp", map[string]any{"lead_unit_id": jb}, 200)
	// Another unit cannot see or touch it (404: existence does not leak).
	if s, _ := f.call("GET", "/api/v1/tickets/"+tk.Number, "zjj", nil); s != 404 {
		t.Fatalf("other unit GET: %d", s)
	}
	f.act(tk.Number, "sign", "zjj", nil, 404)
	f.act(tk.Number, "sign", "disp", nil, 403)
	f.act(tk.Number, "sign", "jb", nil, 200)
	f.act(tk.Number, "approve-reply", "jb", nil, 403)
	f.act(tk.Number, "reply", "jb", map[string]any{"result": "solved", "content": "ok"}, 200)
	f.act(tk.Number, "revisit", "agent", map[string]any{"satisfaction": 5, "solved": true}, 403)
	f.act(tk.Number, "revisit", "rv", map[string]any{"satisfaction": 5, "solved": true}, 422) // not approved yet
	// Lists: a unit sees only its own orders.
	var list struct {
		Items []tv
		Total int
	}
	f.must("GET", "/api/v1/tickets?limit=200", "zjj", nil, 200, &list)
	for _, it := range list.Items {
		if it.Number == tk.Number {
			t.Fatal("another unit's list shows the order")
		}
	}
	// Admin-only endpoints.
	for _, u := range []string{"agent", "disp", "jb", "ana"} {
		if s, _ := f.call("POST", "/api/v1/units", u, map[string]any{"code": "x" + u, "name": "新单位"}); s != 403 {
			t.Fatalf("%s created a unit: %d", u, s)
		}
		if s, _ := f.call("GET", "/api/v1/users", u, nil); s != 403 {
			t.Fatalf("%s listed users: %d", u, s)
		}
	}
	if s, _ := f.call("POST", "/api/v1/units", "admin", map[string]any{"code": "new", "name": "新单位", "parent_id": zjj}); s != 201 {
		t.Fatalf("admin create unit: %d", s)
	}
	if s, _ := f.call("GET", "/api/v1/tickets", "", nil); s != 401 {
		t.Fatalf("anonymous list: %d", s)
	}
	if s, _ := f.call("POST", "/api/v1/tickets", "jb", map[string]any{"channel": "phone", "type": "help", "title": "t", "content": "c"}); s != 403 {
		t.Fatalf("unit registered an order: %d", s)
	}
	if s, _ := f.call("GET", "/api/v1/tickets", "nobody-token", nil); s != 401 {
		t.Fatalf("bad token: %d", s)
	}
}

func (f *apiFixture) testBadInput(t *testing.T) {
	cases := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"malformed", `{"channel":`, 400, "invalid"},
		{"empty", ``, 400, "invalid"},
		{"two objects", `{"channel":"phone"}{}`, 400, "invalid"},
		{"unknown field", map[string]any{"channel": "phone", "type": "help", "title": "t", "content": "c", "colour": "red"}, 400, "invalid"},
		{"wrong type", map[string]any{"channel": 7}, 400, "invalid"},
		{"bad channel", map[string]any{"channel": "fax", "type": "help", "title": "t", "content": "c"}, 400, "invalid"},
		{"too long", map[string]any{"channel": "phone", "type": "help", "title": "t", "content": strings.Repeat("长", 10001)}, 400, "invalid"},
		{"bad phone", map[string]any{"channel": "phone", "type": "help", "title": "t", "content": "c", "citizen": map[string]any{"phone": "12345"}}, 400, "invalid"},
		{"huge body", `{"content":"` + strings.Repeat("x", 2<<20) + `"}`, 400, "invalid"},
	}
	for _, c := range cases {
		s, data := f.call("POST", "/api/v1/tickets", "agent", c.body)
		var e jsonhttp.ErrorBody
		json.Unmarshal(data, &e)
		if s != c.status || e.Error.Code != c.code || e.Error.Message == "" || e.Error.MessageEN == "" {
			t.Errorf("%s: %d %s", c.name, s, data)
		}
	}
	tk := f.create("agent")
	for _, c := range []struct {
		path   string
		body   any
		status int
	}{
		{"/dispatch", map[string]any{"lead_unit_id": 99999, "version": tk.Version}, 400},
		{"/dispatch", map[string]any{"lead_unit_id": f.units["jb"]}, 400}, // no version
		{"/fly", map[string]any{"version": tk.Version}, 404},
		{"/sign", map[string]any{"version": tk.Version}, 403},
		{"/answer", map[string]any{"version": tk.Version, "content": ""}, 400},
	} {
		user := "disp"
		if c.path == "/answer" {
			user = "agent"
		}
		if s, data := f.call("POST", "/api/v1/tickets/"+tk.Number+c.path, user, c.body); s != c.status {
			t.Errorf("%s: %d %s", c.path, s, data)
		}
	}
	if s, _ := f.call("GET", "/api/v1/tickets/nope", "disp", nil); s != 404 {
		t.Errorf("missing order: %d", s)
	}
	for _, q := range []string{"state=bogus", "limit=500", "from=yesterday", "phone=abc", "category=abc", "warning=blue", "unit=-1", "sort=random", "cursor=@@@"} {
		if s, data := f.call("GET", "/api/v1/tickets?"+q, "disp", nil); s != 400 {
			t.Errorf("list ?%s: %d %s", q, s, data)
		}
	}
	// Nothing half-written: the failed creates left no order behind.
	var list struct{ Total int }
	f.must("GET", "/api/v1/tickets?q=%E9%95%BF%E9%95%BF", "disp", nil, 200, &list)
	if list.Total != 0 {
		t.Errorf("a refused create left %d orders", list.Total)
	}
}

func (f *apiFixture) testIdempotency(t *testing.T) {
	body := map[string]any{"channel": "web", "type": "help", "title": "重试测试", "content": "网络重试"}
	s1, d1 := f.call("POST", "/api/v1/tickets", "agent", body, "Idempotency-Key", "k-123")
	s2, d2 := f.call("POST", "/api/v1/tickets", "agent", body, "Idempotency-Key", "k-123")
	var a, b tv
	json.Unmarshal(d1, &a)
	json.Unmarshal(d2, &b)
	if s1 != 201 || s2 != 200 || a.Number == "" || a.Number != b.Number {
		t.Fatalf("retry: %d %d %s %s", s1, s2, a.Number, b.Number)
	}
}

func (f *apiFixture) testPublic(t *testing.T) {
	var created struct {
		Number    string `json:"number"`
		QueryCode string `json:"query_code"`
	}
	s, data := f.call("POST", "/api/v1/public/requests", "", map[string]any{"type": "complaint", "title": "<script>alert(1)</script>路灯不亮",
		"content": "幸福里小区路灯坏了一周", "citizen": map[string]any{"name": "李四", "phone": "13900001111"}})
	json.Unmarshal(data, &created)
	if s != 201 || created.QueryCode == "" {
		t.Fatalf("public create: %d %s", s, data)
	}
	if s, _ := f.call("GET", "/api/v1/public/requests/"+created.Number+"?code=000000x", "", nil); s != 404 {
		t.Fatalf("wrong code: %d", s)
	}
	var pv PublicTicket
	f.must("GET", "/api/v1/public/requests/"+created.Number+"?code="+created.QueryCode, "", nil, 200, &pv)
	if pv.State != ticket.Registered || len(pv.Timeline) != 1 || !pv.CanWithdraw {
		t.Fatalf("%+v", pv)
	}
	if strings.Contains(string(data), "李四") {
		t.Fatal("public response leaks the name")
	}
	// The JSON escapes markup.
	_, raw := f.call("GET", "/api/v1/public/requests/"+created.Number+"?code="+created.QueryCode, "", nil)
	if bytes.Contains(raw, []byte("<script>")) {
		t.Fatal("unescaped markup in JSON")
	}
	// The citizen withdraws.
	if s, data := f.call("POST", "/api/v1/public/requests/"+created.Number+"/withdraw", "", map[string]any{"code": created.QueryCode, "version": pv.Version}); s != 200 {
		t.Fatalf("withdraw: %d %s", s, data)
	}
	if s, _ := f.call("POST", "/api/v1/public/requests/"+created.Number+"/dispatch", "", map[string]any{"code": created.QueryCode, "version": 2}); s != 404 {
		t.Fatalf("citizen dispatch: %d", s)
	}
	// Rate limit: the 31st public request in a minute from one address is refused.
	got429 := false
	for i := 0; i < 40 && !got429; i++ {
		s, _ := f.call("GET", "/api/v1/public/requests/x?code=1", "", nil)
		got429 = s == 429
	}
	if !got429 {
		t.Fatal("public endpoints are not rate limited")
	}
}

func (f *apiFixture) testMisc(t *testing.T) {
	var spec map[string]any
	f.must("GET", "/api/v1/openapi.json", "", nil, 200, &spec)
	paths := spec["paths"].(map[string]any)
	for _, p := range []string{"/tickets", "/tickets/{number}/{action}", "/public/requests", "/auth/login", "/units", "/users"} {
		if paths[p] == nil {
			t.Errorf("openapi lacks %s", p)
		}
	}
	if s, _ := f.call("GET", "/healthz", "", nil); s != 200 {
		t.Fatalf("healthz %d", s)
	}
	if s, data := f.call("GET", "/metrics", "", nil); s != 200 || !bytes.Contains(data, []byte("hotline_tickets_created_total")) {
		t.Fatalf("metrics %d", s)
	}
	var st struct{ Items []storage.OrderStats }
	f.must("GET", "/api/v1/stats/orders?by=unit", "ana", nil, 200, &st)
	if s, _ := f.call("GET", "/api/v1/stats/orders", "jb", nil); s != 403 {
		t.Fatalf("unit reads city stats: %d", s)
	}
	// Login throttling: five wrong passwords, then 429 even for the right one.
	for i := 0; i < 5; i++ {
		f.call("POST", "/api/v1/auth/login", "", map[string]string{"username": "ana", "password": "wrong"})
	}
	if s, _ := f.call("POST", "/api/v1/auth/login", "", map[string]string{"username": "ana", "password": "password1"}); s != 429 {
		t.Fatalf("throttled login: %d", s)
	}
	// Calendar: load 2027 and see it.
	s, data := f.call("POST", "/api/v1/calendar/2027", "admin", "2027-01-01 off 元旦\n2027-02-06 work 调休")
	if s != 200 {
		t.Fatalf("load 2027: %d %s", s, data)
	}
	var y struct {
		Loaded bool
		Days   []map[string]any
	}
	f.must("GET", "/api/v1/calendar/2027", "admin", nil, 200, &y)
	if !y.Loaded || y.Days[0]["kind"] != "holiday" {
		t.Fatalf("2027: %+v", y.Days[0])
	}
}

func (f *apiFixture) testCTI(t *testing.T) {
	at := "2026-11-24T09:00:00+08:00"
	post := func(user string, body map[string]any) (int, []byte) {
		return f.call("POST", "/api/v1/cti/events", user, body)
	}
	if s, data := post("agent", map[string]any{"type": "offered", "call_id": "pbx-1", "at": at, "caller": "13812345678", "queue": "普通话"}); s != 200 || !bytes.Contains(data, []byte("/desk/new?caller=13812345678")) {
		t.Fatalf("offered: %d %s", s, data)
	}
	if s, data := post("agent", map[string]any{"type": "answered", "call_id": "pbx-1", "at": "2026-11-24T09:00:08+08:00", "agent": "agent"}); s != 200 {
		t.Fatalf("answered: %d %s", s, data)
	}
	post("agent", map[string]any{"type": "ended", "call_id": "pbx-1", "at": "2026-11-24T09:03:08+08:00"})
	post("agent", map[string]any{"type": "satisfaction", "call_id": "pbx-1", "at": "2026-11-24T09:03:20+08:00", "satisfaction": 5})
	for _, c := range []struct {
		user   string
		body   map[string]any
		status int
	}{
		{"jb", map[string]any{"type": "offered", "call_id": "x", "at": at, "caller": "1"}, 403},
		{"agent", map[string]any{"type": "answered", "call_id": "never", "at": at, "agent": "a"}, 404},
		{"agent", map[string]any{"type": "offered", "call_id": "y", "at": at}, 400},
		{"agent", map[string]any{"type": "teleport", "call_id": "y", "at": at}, 400},
		{"agent", map[string]any{"type": "satisfaction", "call_id": "pbx-1", "at": at, "satisfaction": 7}, 400},
	} {
		if s, data := post(c.user, c.body); s != c.status {
			t.Errorf("%v: %d %s", c.body, s, data)
		}
	}
	var list struct{ Items []callcenter.Call }
	f.must("GET", "/api/v1/calls?from=2026-11-24&to=2026-11-24", "sup", nil, 200, &list)
	if len(list.Items) != 1 || list.Items[0].State != callcenter.Answered || list.Items[0].TalkSeconds != 180 || list.Items[0].Satisfaction != 5 {
		t.Fatalf("calls: %+v", list.Items)
	}
	var st struct{ Items []callcenter.Stats }
	f.must("GET", "/api/v1/calls/stats?from=2026-11-24&to=2026-11-24&by=agent", "ana", nil, 200, &st)
	if len(st.Items) != 1 || st.Items[0].Key != "agent" || st.Items[0].ConnectionRate != 1 || st.Items[0].Rate15s != 1 {
		t.Fatalf("stats: %+v", st.Items)
	}
	if s, _ := f.call("GET", "/api/v1/calls/stats", "jb", nil); s != 403 {
		t.Fatalf("unit reads call stats: %d", s)
	}
}

func (f *apiFixture) testRelated(t *testing.T) {
	var master, other tv
	f.must("POST", "/api/v1/tickets", "agent", map[string]any{"channel": "phone", "type": "complaint", "title": "望湖花园北门积水",
		"content": "望湖花园北门一下雨就积水半米，居民出行困难。", "address": "江北区望湖花园北门",
		"citizen": map[string]any{"name": "陈静", "phone": "13700001111"}}, 201, &master)
	f.must("POST", "/api/v1/tickets", "agent", map[string]any{"channel": "phone", "type": "consultation", "title": "养老保险转移",
		"content": "养老保险关系如何从外省转入？", "citizen": map[string]any{"name": "李强", "phone": "13700002222"}}, 201, &other)
	var out struct {
		Items []struct {
			Number     string  `json:"number"`
			Score      float64 `json:"score"`
			Place      string  `json:"place"`
			SameCaller bool    `json:"same_caller"`
			Reasons    []struct{ Code, ZH, EN string }
		} `json:"items"`
	}
	draft := map[string]any{"title": "望湖花园积水严重", "content": "望湖花园北门口又积水了，老人孩子过不去。", "address": "望湖花园", "phone": "137-0000-1111"}
	f.must("POST", "/api/v1/related", "agent", draft, 200, &out)
	if len(out.Items) == 0 || out.Items[0].Number != master.Number || !out.Items[0].SameCaller || out.Items[0].Place != "望湖花园" {
		t.Fatalf("related: %+v", out)
	}
	for _, it := range out.Items {
		if it.Number == other.Number {
			t.Fatal("an unrelated order suggested")
		}
	}
	// The registered order sees the master but never itself.
	var dup tv
	f.must("POST", "/api/v1/tickets", "agent", map[string]any{"channel": "wechat", "type": "complaint", "title": draft["title"], "content": draft["content"],
		"address": draft["address"], "citizen": map[string]any{"name": "王芳", "phone": "13700003333"}}, 201, &dup)
	f.must("GET", "/api/v1/tickets/"+dup.Number+"/related", "disp", nil, 200, &out)
	if len(out.Items) == 0 || out.Items[0].Number != master.Number {
		t.Fatalf("related to %s: %+v", dup.Number, out)
	}
	for _, it := range out.Items {
		if it.Number == dup.Number {
			t.Fatal("an order is its own duplicate")
		}
	}
	// Merge in one action; the duplicate is closed into the master.
	merged := f.act(dup.Number, "merge", "disp", map[string]any{"into": master.Number}, 200)
	if merged.State != "merged" {
		t.Fatalf("merge: %+v", merged)
	}
	for _, c := range []struct {
		method, path, user string
		body               any
		want               int
	}{
		{"POST", "/api/v1/related", "jb", draft, 403},
		{"POST", "/api/v1/related", "", draft, 401},
		{"POST", "/api/v1/related", "agent", map[string]any{}, 400},
		{"POST", "/api/v1/related", "agent", map[string]any{"title": "x", "window_days": 9999}, 400},
		{"POST", "/api/v1/related", "agent", map[string]any{"title": strings.Repeat("长", 30000)}, 400},
		{"GET", "/api/v1/tickets/" + master.Number + "/related?window_days=abc", "disp", nil, 400},
		{"GET", "/api/v1/tickets/99999999999999999/related", "disp", nil, 404},
	} {
		if got, body := f.call(c.method, c.path, c.user, c.body); got != c.want {
			t.Errorf("%s %s as %q: %d, want %d: %s", c.method, c.path, c.user, got, c.want, body)
		}
	}
}

func (f *apiFixture) testKBReport(t *testing.T) {
	var a struct{ ID int64 }
	f.must("POST", "/api/v1/kb/articles", "ed", map[string]any{"title": "居住证办理流程", "body": "携带身份证和居住登记凭证到所在街道派出所办理。",
		"kind": "procedure", "public": true, "publish": true}, 201, &a)
	var tk tv
	f.must("POST", "/api/v1/tickets", "agent", map[string]any{"channel": "phone", "type": "consultation", "title": "咨询居住证怎么办",
		"content": "外地户口，想办居住证。", "citizen": map[string]any{"phone": "13700004444"}}, 201, &tk)
	f.act(tk.Number, "answer", "agent", map[string]any{"content": "已告知到街道派出所办理居住证。", "article_id": a.ID}, 200)
	f.must("GET", "/api/v1/kb/search?q="+url.QueryEscape("宠物狗疫苗哪里打"), "agent", nil, 200, nil)
	var used struct {
		Items []struct {
			ArticleID int64 `json:"article_id"`
			Resolved  int
		}
	}
	f.must("GET", "/api/v1/kb/usage?days=7", "ed", nil, 200, &used)
	if len(used.Items) == 0 || used.Items[0].ArticleID != a.ID || used.Items[0].Resolved != 1 {
		t.Errorf("articles that resolved calls: %+v", used.Items)
	}
	var misses struct{ Items []struct{ Query string } }
	f.must("GET", "/api/v1/kb/misses?days=7", "ed", nil, 200, &misses)
	found := false
	for _, m := range misses.Items {
		found = found || strings.Contains(m.Query, "宠物狗")
	}
	if !found {
		t.Errorf("the unanswered question is not reported: %+v", misses.Items)
	}
	// Synonyms: editors replace them and search uses them at once.
	f.must("PUT", "/api/v1/kb/synonyms", "ed", map[string]any{"groups": [][]string{{"暂住证", "居住证"}}}, 200, nil)
	var hits struct {
		Items []struct{ Article struct{ ID int64 } }
	}
	f.must("GET", "/api/v1/kb/search?q="+url.QueryEscape("暂住证"), "agent", nil, 200, &hits)
	if len(hits.Items) == 0 || hits.Items[0].Article.ID != a.ID {
		t.Errorf("a synonym does not find the article: %+v", hits)
	}
	if got, _ := f.call("PUT", "/api/v1/kb/synonyms", "agent", map[string]any{"groups": [][]string{{"a", "b"}}}); got != 403 {
		t.Errorf("a call-taker changed the synonyms: %d", got)
	}
	if got, _ := f.call("PUT", "/api/v1/kb/synonyms", "ed", map[string]any{"groups": [][]string{{"孤词"}}}); got != 400 {
		t.Errorf("a one-word group: %d", got)
	}
	for _, c := range []struct {
		path, user string
		want       int
	}{{"/api/v1/kb/usage?days=0", "ed", 400}, {"/api/v1/kb/usage", "jb", 403}, {"/api/v1/kb/misses", "", 401}} {
		if got, body := f.call("GET", c.path, c.user, nil); got != c.want {
			t.Errorf("%s as %q: %d, want %d: %s", c.path, c.user, got, c.want, body)
		}
	}
}

// TestPublicKnowledgeBase: citizens reach public articles without signing
// in, never internal ones, and may say whether one helped.
func TestPublicKnowledgeBase(t *testing.T) {
	f := newAPI(t, database.OpenTestSQLite(t))
	var pub, internal struct{ ID int64 }
	f.must("POST", "/api/v1/kb/articles", "ed", map[string]any{"title": "居住证办理流程", "body": "携带身份证到街道派出所办理居住证。",
		"public": true, "publish": true}, 201, &pub)
	f.must("POST", "/api/v1/kb/articles", "ed", map[string]any{"title": "居住证内部口径", "body": "居住证争议件转公安分局。",
		"public": false, "publish": true}, 201, &internal)
	var hits struct {
		Items []struct{ Article struct{ ID int64 } }
	}
	f.must("GET", "/api/v1/public/kb/search?q="+url.QueryEscape("居住证"), "", nil, 200, &hits)
	if len(hits.Items) != 1 || hits.Items[0].Article.ID != pub.ID {
		t.Fatalf("public search: %+v", hits)
	}
	for _, c := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", fmt.Sprintf("/api/v1/public/kb/articles/%d", pub.ID), nil, 200},
		{"GET", fmt.Sprintf("/api/v1/public/kb/articles/%d", internal.ID), nil, 404},
		{"POST", fmt.Sprintf("/api/v1/public/kb/articles/%d/feedback", pub.ID), map[string]any{"helpful": true}, 204},
		{"POST", "/api/v1/public/kb/articles", map[string]any{"title": "x", "body": "y"}, 404}, // no writing without signing in
	} {
		if got, body := f.call(c.method, c.path, "", c.body); got != c.want {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, got, c.want, body)
		}
	}
}
