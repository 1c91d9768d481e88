package callcenter

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/database"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestService(t *testing.T, db *database.DB) (*Service, *fakeClock) {
	clock := &fakeClock{t: t0}
	s, err := New(context.Background(), db, Options{DataDir: t.TempDir(), Now: clock.Now, WrapUp: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s, clock
}

func TestServiceCallFlow(t *testing.T) {
	database.ForEachTestDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, clock := newTestService(t, db)
		// A previous call from the same number shows in the screen pop.
		for _, e := range []Event{offered("old", "13900000001", -3600), ev(EvEnded, "old", -3500)} {
			e.Queue = DefaultQueue
			if _, err := s.Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		desk, cancel := s.Subscribe("li")
		defer cancel()
		if _, err := s.AgentDo("li", ActLogin, ""); err != nil {
			t.Fatal(err)
		}
		<-desk // state: ready

		e := Event{Type: EvOffered, CallID: "c1", At: clock.Now(), Caller: "13900000001", Queue: DefaultQueue}
		if _, err := s.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
		tk, err := s.Enqueue("c1", "13900000001", DefaultQueue)
		if err != nil {
			t.Fatal(err)
		}
		as := <-tk.Offers
		if as.Agent != "li" {
			t.Fatalf("offer: %+v", as)
		}
		var pop DeskEvent
		for pop.Type != "offered" {
			pop = <-desk
		}
		if len(pop.History) != 1 || pop.History[0].CallID != "old" || !strings.Contains(pop.ScreenPop, "caller=13900000001") {
			t.Fatalf("screen pop: %+v", pop)
		}
		clock.Add(5 * time.Second)
		if _, err := s.Record(ctx, Event{Type: EvAnswered, CallID: "c1", At: clock.Now(), Agent: "li"}); err != nil {
			t.Fatal(err)
		}
		if a := s.Agent("li"); a.State != Talking {
			t.Fatalf("after answer: %+v", a)
		}
		clock.Add(60 * time.Second)
		if _, err := s.Record(ctx, Event{Type: EvEnded, CallID: "c1", At: clock.Now()}); err != nil {
			t.Fatal(err)
		}
		if a := s.Agent("li"); a.State != WrapUp {
			t.Fatalf("after hang-up: %+v", a)
		}
		clock.Add(20 * time.Second)
		if a := s.Agent("li"); a.State != Ready {
			t.Fatalf("after wrap-up: %+v", a)
		}

		// A caller who hangs up while waiting leaves the queue and gets a
		// call-back task; so does one who pressed 1 for a call-back.
		for _, id := range []string{"c2", "c3"} {
			if _, err := s.Record(ctx, Event{Type: EvOffered, CallID: id, At: clock.Now(), Caller: "1370000" + id, Queue: DefaultQueue}); err != nil {
				t.Fatal(err)
			}
		}
		_, _ = s.AgentDo("li", ActNotReady, "休息")
		if _, err := s.Enqueue("c2", "1370000c2", DefaultQueue); err != nil {
			t.Fatal(err)
		}
		if p := s.Position("c2"); p != 1 {
			t.Fatalf("position %d", p)
		}
		clock.Add(30 * time.Second)
		if _, err := s.Record(ctx, Event{Type: EvEnded, CallID: "c2", At: clock.Now()}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Record(ctx, Event{Type: EvCallback, CallID: "c3", At: clock.Now()}); err != nil {
			t.Fatal(err)
		}
		if p := s.Position("c2"); p != 0 {
			t.Fatalf("abandoned call still queued at %d", p)
		}
		cbs, err := s.Store().Callbacks(ctx, CallbackOpen, 0)
		if err != nil || len(cbs) != 3 { // "old" was abandoned too
			t.Fatalf("callbacks: %+v %v", cbs, err)
		}
		if cbs[2].Reason != CallbackRequested || cbs[1].Reason != CallbackAbandoned {
			t.Fatalf("reasons: %+v", cbs)
		}
		if err := s.Store().CloseCallback(ctx, cbs[0].ID, CallbackDone, "li", "已回拨", clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.Store().CloseCallback(ctx, cbs[0].ID, CallbackDone, "li", "", clock.Now()); hotline.ErrorCode(err) != hotline.ENOTFOUND {
			t.Fatalf("closing twice: %v", err)
		}
		l, err := s.Live(ctx)
		if err != nil || l.ByState[NotReady] != 1 || l.Offered != 4 || l.Answered != 1 {
			t.Fatalf("live: %+v %v", l, err)
		}
	})
}

func TestSIPAccount(t *testing.T) {
	database.ForEachTestDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, _ := newTestService(t, db)
		if err := s.SetSIPPassword(ctx, 7, "li", "secret1"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSIPPassword(ctx, 7, "li", "secret2"); err != nil {
			t.Fatal(err)
		}
		a, err := s.Store().SIPAccount(ctx, "li")
		if err != nil || a.HA1 != HA1("li", "hotline", "secret2") || a.UserID != 7 {
			t.Fatalf("account: %+v %v", a, err)
		}
		for _, bad := range []struct{ user, pw string }{{"li wei", "secret1"}, {"li", "123"}, {"", "secret1"}} {
			if err := s.SetSIPPassword(ctx, 7, bad.user, bad.pw); hotline.ErrorCode(err) != hotline.EINVALID {
				t.Errorf("%q/%q: %v", bad.user, bad.pw, err)
			}
		}
		if _, err := s.Store().SIPAccount(ctx, "nobody"); hotline.ErrorCode(err) != hotline.ENOTFOUND {
			t.Fatalf("unknown account: %v", err)
		}
	})
}

// api serves the routes with the user named in the X-User header.
func api(s *Service) http.Handler {
	users := map[string]*hotline.User{
		"admin": {ID: 1, Username: "admin", Roles: []hotline.Role{hotline.RoleAdmin}},
		"li":    {ID: 2, Username: "li", Roles: []hotline.Role{hotline.RoleAgent}},
		"wang":  {ID: 3, Username: "wang", Roles: []hotline.Role{hotline.RoleAgent}},
		"boss":  {ID: 4, Username: "boss", Roles: []hotline.Role{hotline.RoleSupervisor}},
		"unit":  {ID: 5, Username: "unit", Roles: []hotline.Role{hotline.RoleUnit}},
	}
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if u := users[req.Header.Get("X-User")]; u != nil {
				req = req.WithContext(hotline.WithUser(req.Context(), u))
			}
			next.ServeHTTP(w, req)
		})
	})
	r.Route("/api/v1/calls", s.Routes)
	return r
}

func do(t *testing.T, h http.Handler, user, method, path, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("X-User", user)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var out map[string]any
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: %v %s", method, path, err, w.Body)
		}
	}
	return w.Code, out
}

func TestHTTP(t *testing.T) {
	database.ForEachTestDB(t, func(t *testing.T, db *database.DB) {
		s, clock := newTestService(t, db)
		h := api(s)
		at := clock.Now().Format(time.RFC3339)
		steps := []struct {
			user, method, path, body string
			status                   int
		}{
			{"", "GET", "/api/v1/calls/", "", 401},
			{"unit", "GET", "/api/v1/calls/", "", 403},
			{"li", "POST", "/api/v1/calls/cti/offered", `{"call_id":"pbx-1","caller":"13800000009","queue":"general","at":"` + at + `"}`, 200},
			{"li", "POST", "/api/v1/calls/cti/answered", `{"call_id":"pbx-1","agent":"li"}`, 200},
			{"li", "POST", "/api/v1/calls/cti/events", `{"type":"recording","call_id":"pbx-1","recording":"2026/pbx-1.wav"}`, 200},
			{"li", "POST", "/api/v1/calls/cti/ended", `{"call_id":"pbx-1"}`, 200},
			{"li", "POST", "/api/v1/calls/cti/satisfaction", `{"call_id":"pbx-1","satisfaction":5}`, 200},
			{"li", "POST", "/api/v1/calls/cti/satisfaction", `{"call_id":"pbx-1","satisfaction":9}`, 400},
			{"li", "POST", "/api/v1/calls/cti/answered", `{"call_id":"nope","agent":"li"}`, 404},
			{"li", "POST", "/api/v1/calls/cti/offered", `{"call_id":"pbx-2","caller":"1","bogus":1}`, 400},
			{"li", "POST", "/api/v1/calls/cti/recording", `{"call_id":"pbx-1","recording":"../../etc/passwd"}`, 400},
			{"li", "GET", "/api/v1/calls/stats", "", 403},
			{"boss", "GET", "/api/v1/calls/stats?by=agent", "", 200},
			{"boss", "GET", "/api/v1/calls/stats?by=week", "", 400},
			{"boss", "GET", "/api/v1/calls/?state=nope", "", 400},
			{"li", "PUT", "/api/v1/calls/agents/li/state", `{"state":"not_ready","reason":"休息"}`, 200},
			{"li", "PUT", "/api/v1/calls/agents/wang/state", `{"state":"ready"}`, 403},
			{"boss", "PUT", "/api/v1/calls/agents/wang/state", `{"state":"ready"}`, 200},
			{"li", "PUT", "/api/v1/calls/agents/li/state", `{"state":"not_ready"}`, 400},
			{"li", "PUT", "/api/v1/calls/agents/li/sip", `{"password":"abcdef1"}`, 200},
			{"li", "PUT", "/api/v1/calls/agents/wang/sip", `{"password":"abcdef1"}`, 403},
			{"admin", "PUT", "/api/v1/calls/agents/wang/sip", `{"user_id":3,"password":"abcdef1"}`, 200},
			{"boss", "PUT", "/api/v1/calls/overload", `{"on":true}`, 200},
			{"li", "PUT", "/api/v1/calls/overload", `{"on":false}`, 403},
			{"boss", "GET", "/api/v1/calls/live", "", 200},
			{"li", "GET", "/api/v1/calls/callbacks?state=open", "", 200},
			{"wang", "GET", "/api/v1/calls/pbx-1", "", 404}, // not wang's call
			{"li", "GET", "/api/v1/calls/pbx-1", "", 200},
		}
		for i, st := range steps {
			if code, out := do(t, h, st.user, st.method, st.path, st.body); code != st.status {
				t.Fatalf("step %d %s %s as %q: %d %v, want %d", i, st.method, st.path, st.user, code, out, st.status)
			} else if code >= 400 {
				e, _ := out["error"].(map[string]any)
				if e["code"] == "" || e["message"] == "" || e["message_en"] == "" {
					t.Fatalf("step %d: error body %v", i, out)
				}
			}
		}
		if !s.Overloaded() {
			t.Fatal("overload switch")
		}
		code, out := do(t, h, "boss", "GET", "/api/v1/calls/?state=answered&from="+url.QueryEscape(clock.Now().Add(-time.Hour).Format(time.RFC3339)), "")
		items, _ := out["items"].([]any)
		if code != 200 || len(items) != 1 {
			t.Fatalf("list: %d %v", code, out)
		}
		c := items[0].(map[string]any)
		if c["agent"] != "li" || c["satisfaction"].(float64) != 5 || c["recording"] != "2026/pbx-1.wav" {
			t.Fatalf("record: %v", c)
		}

		// The recording streams to the agent who took it and to
		// supervisors, not to another agent.
		p := filepath.Join(s.RecordingsDir(), "2026", "pbx-1.wav")
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("RIFFxxxxWAVE"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, u := range []struct {
			user   string
			status int
		}{{"li", 200}, {"boss", 200}, {"wang", 404}, {"unit", 403}} {
			req := httptest.NewRequest("GET", "/api/v1/calls/pbx-1/recording", nil)
			req.Header.Set("X-User", u.user)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != u.status || (w.Code == 200 && (w.Header().Get("Content-Type") != "audio/wav" || w.Body.String() != "RIFFxxxxWAVE")) {
				t.Fatalf("recording as %s: %d %s", u.user, w.Code, w.Header())
			}
		}
		// Retention: the recording goes, the record stays.
		clock.Add(181 * 24 * time.Hour)
		if n, err := s.PurgeRecordings(context.Background()); err != nil || n != 1 {
			t.Fatalf("purge: %d %v", n, err)
		}
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("file kept: %v", err)
		}
		if code, _ := do(t, h, "li", "GET", "/api/v1/calls/pbx-1/recording", ""); code != 404 {
			t.Fatalf("purged recording: %d", code)
		}
	})
}

// TestSSE checks that an agent's desk receives the screen pop as a
// server-sent event when a call is offered to her.
func TestSSE(t *testing.T) {
	db := database.OpenTestSQLite(t)
	s, clock := newTestService(t, db)
	srv := httptest.NewServer(api(s))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/calls/events", nil)
	req.Header.Set("X-User", "li")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rd := bufio.NewReader(res.Body)
	next := func() string {
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(line, "data: ") {
				return line
			}
		}
	}
	if l := next(); !strings.Contains(l, `"state":"offline"`) {
		t.Fatalf("first event: %s", l)
	}
	_, _ = s.AgentDo("li", ActLogin, "")
	ctx := context.Background()
	if _, err := s.Record(ctx, Event{Type: EvOffered, CallID: "s1", At: clock.Now(), Caller: "13700000000", Queue: DefaultQueue}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue("s1", "13700000000", DefaultQueue); err != nil {
		t.Fatal(err)
	}
	for {
		l := next()
		if strings.Contains(l, `"type":"offered"`) {
			if !strings.Contains(l, `"caller":"13700000000"`) || !strings.Contains(l, `"screen_pop":"/desk/new?caller=13700000000`) {
				t.Fatalf("screen pop: %s", l)
			}
			break
		}
	}
}

// fakeControl records the commands the HTTP API passes to the engine.
type fakeControl struct {
	mu   sync.Mutex
	done []string
}

func (f *fakeControl) do(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = append(f.done, s)
	return nil
}
func (f *fakeControl) Hold() error                { return f.do("hold") }
func (f *fakeControl) Resume() error              { return f.do("resume") }
func (f *fakeControl) Transfer(to string) error   { return f.do("transfer " + to) }
func (f *fakeControl) Consult(to string) error    { return f.do("consult " + to) }
func (f *fakeControl) CompleteTransfer() error    { return f.do("complete") }
func (f *fakeControl) CancelConsult() error       { return f.do("cancel") }
func (f *fakeControl) Conference(to string) error { return f.do("conference " + to) }
func (f *fakeControl) DropConference() error      { return f.do("drop") }

// TestCallControlHTTP: the during-call routes reach the engine's control
// for the agent on the call (and supervisors), nobody else.
func TestCallControlHTTP(t *testing.T) {
	database.ForEachTestDB(t, func(t *testing.T, db *database.DB) {
		s, clock := newTestService(t, db)
		h := api(s)
		ctx := context.Background()
		for _, e := range []Event{offered("c1", "13800000001", 0), answered("c1", "li", 3)} {
			e.Queue = DefaultQueue
			if _, err := s.Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		f := &fakeControl{}
		defer s.RegisterControl("c1", f)()
		clock.Add(10 * time.Second)
		for i, st := range []struct {
			user, path, body string
			status           int
		}{
			{"li", "/api/v1/calls/c1/consult", `{"to":"agent:wang"}`, 200},
			{"li", "/api/v1/calls/c1/consult/complete", ``, 200},
			{"li", "/api/v1/calls/c1/consult/cancel", ``, 200},
			{"li", "/api/v1/calls/c1/conference", `{"to":"12333"}`, 200},
			{"li", "/api/v1/calls/c1/conference/drop", ``, 200},
			{"boss", "/api/v1/calls/c1/transfer", `{"to":"queue:english"}`, 200},
			{"li", "/api/v1/calls/c1/conference", `{"to":1}`, 400},
			{"wang", "/api/v1/calls/c1/consult", `{"to":"agent:zhao"}`, 404},
		} {
			if code, out := do(t, h, st.user, "POST", st.path, st.body); code != st.status {
				t.Fatalf("step %d %s as %s: %d %v", i, st.path, st.user, code, out)
			}
		}
		want := "consult agent:wang,complete,cancel,conference 12333,drop,transfer queue:english"
		if got := strings.Join(f.done, ","); got != want {
			t.Fatalf("commands: %s, want %s", got, want)
		}
	})
}

// TestQueueTransferLive: after a transfer to a queue the call waits there
// (the transferred event does not take it out again), the first agent
// starts wrap-up and the agent who answers there is not wrapped up by the
// transferred event stored after she answered.
func TestQueueTransferLive(t *testing.T) {
	database.ForEachTestDB(t, func(t *testing.T, db *database.DB) {
		clock := &fakeClock{t: t0}
		s, err := New(context.Background(), db, Options{DataDir: t.TempDir(), Now: clock.Now, WrapUp: 20 * time.Second,
			Queues: []Queue{{Name: "general"}, {Name: "english"}}})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for _, a := range []string{"li", "zhang"} {
			if _, err := s.AgentDo(a, ActLogin, ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetSkills("zhang", []string{"english"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AgentDo("zhang", ActNotReady, "会议"); err != nil {
			t.Fatal(err)
		}
		e := offered("c1", "13800000001", 0)
		e.Queue = "general"
		if _, err := s.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Record(ctx, answered("c1", "li", 2)); err != nil {
			t.Fatal(err)
		}
		clock.Add(30 * time.Second)
		tr := Event{Type: EvTransferred, CallID: "c1", At: clock.Now(), Target: "queue:english"}
		s.EndTalk("c1", "li")
		tk, err := s.Requeue("c1", "13800000001", "english", t0)
		if err != nil {
			t.Fatal(err)
		}
		if a := s.Agent("li"); a.State != WrapUp {
			t.Fatalf("li after the transfer: %+v", a)
		}
		clock.Add(time.Second)
		if _, err := s.AgentDo("zhang", ActReady, ""); err != nil {
			t.Fatal(err)
		}
		as := <-tk.Offers
		if as.Agent != "zhang" || as.Queue != "english" {
			t.Fatalf("offer: %+v", as)
		}
		clock.Add(time.Second)
		s.Connected("c1", "zhang")
		// The batched writer stores the transferred event only now.
		if _, err := s.Record(ctx, tr); err != nil {
			t.Fatal(err)
		}
		if a := s.Agent("zhang"); a.State != Talking || a.CallID != "c1" {
			t.Fatalf("zhang after the late transferred event: %+v", a)
		}
		c, err := s.Record(ctx, answered("c1", "zhang", 33))
		if err != nil {
			t.Fatal(err)
		}
		if c.State != Transferred || c.Agent != "li" || c.LastAgent != "zhang" {
			t.Fatalf("record: %+v", c)
		}
	})
}

// TestGaveUpAfterQueueTransfer: a caller transferred to another queue who
// hangs up before an agent there answers gets a call-back task; one who was
// answered there does not.
func TestGaveUpAfterQueueTransfer(t *testing.T) {
	database.ForEachTestDB(t, func(t *testing.T, db *database.DB) {
		clock := &fakeClock{t: t0}
		s, err := New(context.Background(), db, Options{DataDir: t.TempDir(), Now: clock.Now, Queues: []Queue{{Name: "general"}, {Name: "english"}}})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		record := func(e Event) {
			t.Helper()
			if _, err := s.Record(ctx, e); err != nil {
				t.Fatalf("%s: %v", e.Type, err)
			}
		}
		for i, id := range []string{"gave-up", "answered-there"} {
			base := i * 100
			record(offered(id, "1380000000"+string(rune('1'+i)), base))
			record(answered(id, "li", base+2))
			record(Event{Type: EvTransferred, CallID: id, At: t0.Add(time.Duration(base+30) * time.Second), Agent: "li", Target: "queue:english"})
			if id == "answered-there" {
				record(answered(id, "zhang", base+40))
			}
			record(Event{Type: EvEnded, CallID: id, At: t0.Add(time.Duration(base+60) * time.Second)})
		}
		cbs, err := s.Store().Callbacks(ctx, CallbackOpen, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(cbs) != 1 || cbs[0].CallID != "gave-up" || cbs[0].Reason != CallbackAbandoned {
			t.Fatalf("call-back tasks: %+v", cbs)
		}
		// A repeated ended event (PBXs retry) adds nothing.
		record(Event{Type: EvEnded, CallID: "gave-up", At: t0.Add(70 * time.Second)})
		if cbs, _ := s.Store().Callbacks(ctx, CallbackOpen, 0); len(cbs) != 1 {
			t.Fatalf("a retry added a task: %+v", cbs)
		}
	})
}
