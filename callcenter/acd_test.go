package callcenter

import (
	"testing"
	"time"

	"github.com/hotline12345/hotline"
)

func TestAgentDo(t *testing.T) {
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	type step struct {
		act    AgentAction
		at     int
		reason string
		want   AgentState
		code   string // expected error code ("" ok)
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"call with timed wrap-up", []step{
			{ActLogin, 0, "", Ready, ""},
			{ActOffer, 1, "", Ringing, ""},
			{ActAnswer, 3, "", Talking, ""},
			{ActHangup, 63, "", WrapUp, ""},
			{ActOffer, 70, "", WrapUp, hotline.EUNPROCESSABLE}, // still in wrap-up at 70 s
			{ActOffer, 93, "", Ringing, ""},                    // wrap-up (30 s) over at 93 s
		}},
		{"ring-out makes the agent not ready", []step{
			{ActLogin, 0, "", Ready, ""},
			{ActOffer, 1, "", Ringing, ""},
			{ActNoAnswer, 16, "", NotReady, ""},
			{ActOffer, 17, "", NotReady, hotline.EUNPROCESSABLE},
			{ActReady, 20, "", Ready, ""},
		}},
		{"not ready needs a reason", []step{
			{ActLogin, 0, "", Ready, ""},
			{ActNotReady, 1, " ", Ready, hotline.EINVALID},
			{ActNotReady, 1, "用餐", NotReady, ""},
		}},
		{"cannot leave a call in progress", []step{
			{ActLogin, 0, "", Ready, ""},
			{ActOffer, 1, "", Ringing, ""},
			{ActLogout, 2, "", Ringing, hotline.EUNPROCESSABLE},
			{ActNotReady, 2, "休息", Ringing, hotline.EUNPROCESSABLE},
			{ActCancelOffer, 3, "", Ready, ""},
			{ActLogout, 4, "", Offline, ""},
		}},
		{"external PBX reports an answer never offered", []step{
			{ActAnswer, 5, "", Talking, ""},
			{ActHangup, 10, "", WrapUp, ""},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := &Agent{Username: "a", State: Offline}
			for i, s := range tc.steps {
				err := a.Do(s.act, sec(s.at), "c1", s.reason, 30*time.Second)
				if hotline.ErrorCode(err) != s.code {
					t.Fatalf("step %d %s: err %v, want code %q", i, s.act, err, s.code)
				}
				a.Tick(sec(s.at))
				if a.State != s.want {
					t.Fatalf("step %d %s: state %s, want %s", i, s.act, a.State, s.want)
				}
			}
		})
	}
}

func TestACDRouting(t *testing.T) {
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	d := NewACD([]Queue{{Name: "general"}, {Name: "business", Overflow: "general", OverflowAfter: 30 * time.Second}})
	for i, name := range []string{"li", "wang", "zhao"} {
		_ = d.Agent(name).Do(ActLogin, sec(i), "", "", 0) // li idle longest
	}
	d.Agent("zhao").Skills = []string{"business"}
	d.Agent("li").Skills = []string{"general"}
	d.Agent("wang").Skills = []string{"general"}

	if _, err := d.Enqueue("c1", "138", "general", sec(10)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Enqueue("c1", "138", "general", sec(10)); hotline.ErrorCode(err) != hotline.ECONFLICT {
		t.Fatalf("double enqueue: %v", err)
	}
	if _, err := d.Enqueue("x", "138", "nope", sec(10)); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Fatalf("unknown queue: %v", err)
	}
	got := d.Dispatch(sec(10))
	if len(got) != 1 || got[0].Agent != "li" {
		t.Fatalf("longest idle first: %+v", got)
	}
	// li does not answer: the call goes back to its place, wang is next.
	d.NoAnswer("c1", "li", sec(25))
	if d.Agent("li").State != NotReady || d.Agent("li").Reason != ReasonNoAnswer {
		t.Fatalf("ring-out: %+v", d.Agent("li"))
	}
	if _, err := d.Enqueue("c2", "139", "general", sec(20)); err != nil {
		t.Fatal(err)
	}
	if p := d.Position("c2"); p != 2 {
		t.Fatalf("c2 position %d (c1 keeps its place)", p)
	}
	got = d.Dispatch(sec(25))
	if len(got) != 1 || got[0].CallID != "c1" || got[0].Agent != "wang" {
		t.Fatalf("re-queued call first: %+v", got)
	}
	if err := d.Answered("c1", "wang", sec(27)); err != nil {
		t.Fatal(err)
	}
	if p := d.Position("c2"); p != 1 {
		t.Fatalf("c2 position after c1 answered: %d", p)
	}
	// A business call overflows to general after 30 s; zhao only serves
	// business, li is not ready, wang talks: nobody yet.
	_ = d.Agent("zhao").Do(ActNotReady, sec(28), "", "会议", 0)
	if _, err := d.Enqueue("b1", "137", "business", sec(30)); err != nil {
		t.Fatal(err)
	}
	if got := d.Dispatch(sec(31)); len(got) != 0 {
		t.Fatalf("nobody free: %+v", got)
	}
	if next := d.NextEvent(sec(31)); !next.Equal(sec(60)) {
		t.Fatalf("next event %v, want overflow at 60 s", next)
	}
	// li becomes ready at 40 s: takes c2 (older, general).
	_ = d.Agent("li").Do(ActReady, sec(40), "", "", 0)
	got = d.Dispatch(sec(40))
	if len(got) != 1 || got[0].CallID != "c2" || got[0].Agent != "li" {
		t.Fatalf("li takes c2: %+v", got)
	}
	// wang hangs up at 50 with 5 s wrap-up, free at 55; at 60 b1 overflows.
	_ = d.Agent("wang").Do(ActHangup, sec(50), "c1", "", 5*time.Second)
	if got := d.Dispatch(sec(56)); len(got) != 0 {
		t.Fatalf("b1 should not overflow before 60 s: %+v", got)
	}
	got = d.Dispatch(sec(60))
	if len(got) != 1 || got[0].CallID != "b1" || got[0].Agent != "wang" {
		t.Fatalf("overflow to general: %+v", got)
	}
	// The caller hangs up while wang's phone rings: wang is ready again.
	if _, ok := d.Remove("b1", sec(61)); !ok || d.Agent("wang").State != Ready {
		t.Fatalf("abandon while ringing: %+v", d.Agent("wang"))
	}
	l := d.Snapshot(sec(61))
	if l.ByState[Ready] != 1 || l.ByState[Ringing] != 1 || l.ByState[NotReady] != 1 || len(l.Calls) != 1 {
		t.Fatalf("snapshot: %+v", l)
	}
}

func TestOverloaded(t *testing.T) {
	d := NewACD([]Queue{{Name: "general"}})
	for i := 0; i < 3; i++ {
		_, _ = d.Enqueue(string(rune('a'+i)), "1", "general", t0)
	}
	cases := []struct {
		o    Overload
		at   time.Duration
		want bool
	}{
		{Overload{}, time.Hour, false},
		{Overload{Manual: true}, 0, true},
		{Overload{MaxWaiting: 3}, 0, true},
		{Overload{MaxWaiting: 4}, 0, false},
		{Overload{MaxWait: time.Minute}, 59 * time.Second, false},
		{Overload{MaxWait: time.Minute}, time.Minute, true},
	}
	for i, c := range cases {
		if got := d.Overloaded(c.o, t0.Add(c.at)); got != c.want {
			t.Errorf("case %d: %v, want %v", i, got, c.want)
		}
	}
}

// TestEnqueueAt: a call transferred to a queue keeps its original arrival
// and goes ahead of calls that arrived after it.
func TestEnqueueAt(t *testing.T) {
	d := NewACD([]Queue{{Name: "general"}, {Name: "english"}})
	if _, err := d.Enqueue("later", "1", "english", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Enqueue("latest", "2", "english", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if p, err := d.EnqueueAt("transferred", "3", "english", t0); err != nil || p != 1 {
		t.Fatalf("position %d, %v", p, err)
	}
	if d.Position("later") != 2 || d.Position("latest") != 3 {
		t.Fatalf("positions: %d %d", d.Position("later"), d.Position("latest"))
	}
	if _, err := d.EnqueueAt("transferred", "3", "english", t0); err == nil {
		t.Fatal("queued twice")
	}
	if _, err := d.EnqueueAt("z", "4", "nosuch", t0); err == nil {
		t.Fatal("queue that does not exist accepted")
	}
}
