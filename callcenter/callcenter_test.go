package callcenter

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/database"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

func ev(typ EventType, id string, sec int) Event {
	return Event{Type: typ, CallID: id, At: t0.Add(time.Duration(sec) * time.Second)}
}

func play(t *testing.T, events ...Event) *Call {
	t.Helper()
	var c *Call
	for _, e := range events {
		n, err := Apply(c, e)
		if err != nil {
			t.Fatalf("%s: %v", e.Type, err)
		}
		c = n
	}
	return c
}

func offered(id, caller string, sec int) Event {
	e := ev(EvOffered, id, sec)
	e.Caller, e.Queue = caller, "普通话"
	return e
}

func answered(id, agent string, sec int) Event {
	e := ev(EvAnswered, id, sec)
	e.Agent = agent
	return e
}

func rated(id string, sec, s int) Event {
	e := ev(EvSatisfaction, id, sec)
	e.Satisfaction = s
	return e
}

func TestApply(t *testing.T) {
	c := play(t, offered("a", "13800000001", 0), answered("a", "agent1", 12), ev(EvEnded, "a", 192), rated("a", 200, 5))
	if c.State != Answered || c.WaitSeconds != 12 || c.TalkSeconds != 180 || c.Satisfaction != 5 || c.Agent != "agent1" {
		t.Fatalf("answered call: %+v", c)
	}
	c = play(t, offered("b", "13800000002", 0), ev(EvEnded, "b", 40))
	if c.State != Abandoned || c.WaitSeconds != 40 {
		t.Fatalf("abandoned: %+v", c)
	}
	c = play(t, offered("c", "13800000003", 0), ev(EvCallback, "c", 90))
	if c.State != Callback || c.WaitSeconds != 90 {
		t.Fatalf("callback: %+v", c)
	}
	tr := ev(EvTransferred, "d", 60)
	tr.Target = "12333"
	c = play(t, offered("d", "13800000004", 0), answered("d", "agent2", 5), tr, ev(EvEnded, "d", 65))
	if c.State != Transferred || c.Target != "12333" || c.TalkSeconds != 60 {
		t.Fatalf("transferred: %+v", c)
	}
	// Retries are harmless; out-of-order and bad events are refused.
	c = play(t, offered("e", "13800000005", 0), answered("e", "agent1", 3), answered("e", "agent1", 3), ev(EvEnded, "e", 30), ev(EvEnded, "e", 31))
	if c.TalkSeconds != 27 {
		t.Fatalf("retries changed the record: %+v", c)
	}
	bad := []struct {
		prev *Call
		e    Event
		code string
	}{
		{nil, answered("x", "agent1", 1), hotline.ENOTFOUND},
		{c, answered("e", "agent2", 50), hotline.EUNPROCESSABLE},
		{play(t, offered("f", "1", 0)), rated("f", 5, 4), hotline.EUNPROCESSABLE},
		{nil, Event{Type: "ringing", CallID: "g", At: t0}, hotline.EINVALID},
		{nil, Event{Type: EvOffered, CallID: "", At: t0, Caller: "1"}, hotline.EINVALID},
		{nil, Event{Type: EvOffered, CallID: "h", Caller: "1"}, hotline.EINVALID},
		{play(t, offered("i", "1", 0)), rated("i", 5, 9), hotline.EINVALID},
	}
	for i, b := range bad {
		if _, err := Apply(b.prev, b.e); hotline.ErrorCode(err) != b.code {
			t.Errorf("bad %d: %v, want %s", i, err, b.code)
		}
	}
}

func TestCompute(t *testing.T) {
	calls := []*Call{
		play(t, offered("1", "A", 0), answered("1", "agent1", 10), ev(EvEnded, "1", 130), rated("1", 131, 5)),
		play(t, offered("2", "B", 60), answered("2", "agent2", 90), ev(EvEnded, "2", 330), rated("2", 331, 2)),
		play(t, offered("3", "A", 600), ev(EvEnded, "3", 630)),
		play(t, offered("4", "C", 700), ev(EvCallback, "4", 800)),
	}
	var cs []Call
	for _, c := range calls {
		cs = append(cs, *c)
	}
	st := Compute(cs, ByAll, 24*time.Hour)[0]
	want := Stats{Offered: 4, Answered: 2, AnsweredIn15s: 1, Abandoned: 1, Callbacks: 1, Rated: 2, Satisfied: 1, RepeatCalls: 1,
		ConnectionRate: 0.5, Rate15s: 0.5, ASA: 20, AbandonRate: 0.25, AHT: 180, AvgTalk: 180, Satisfaction: 0.5, RepeatRate: 0.25}
	if fmt.Sprint(st) != fmt.Sprint(want) {
		t.Fatalf("got  %+v\nwant %+v", st, want)
	}
	byAgent := Compute(cs, ByAgent, 24*time.Hour)
	if len(byAgent) != 3 || byAgent[1].Key != "agent1" || byAgent[1].AHT != 120 {
		t.Fatalf("by agent: %+v", byAgent)
	}
}

func TestStore(t *testing.T) {
	database.ForEachTestDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, err := Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20; i++ {
			id := fmt.Sprint("call-", i)
			evs := []Event{offered(id, fmt.Sprint("1380000000", i%7), i*60)}
			if i%4 != 3 {
				evs = append(evs, answered(id, fmt.Sprint("agent", i%2+1), i*60+i))
			}
			evs = append(evs, ev(EvEnded, id, i*60+40))
			for _, e := range evs {
				if _, err := s.Record(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := s.Record(ctx, answered("call-3", "agent1", 500)); hotline.ErrorCode(err) != hotline.EUNPROCESSABLE {
			t.Fatalf("answering an abandoned call: %v", err)
		}
		calls, err := s.List(ctx, Filter{From: t0.Add(-time.Hour), To: t0.Add(time.Hour), State: Abandoned})
		if err != nil || len(calls) != 5 {
			t.Fatalf("abandoned calls: %d %v", len(calls), err)
		}
		st, err := s.Stats(ctx, t0.Add(-time.Hour), t0.Add(time.Hour), ByAll)
		if err != nil || len(st) != 1 {
			t.Fatal(err)
		}
		if st[0].Offered != 20 || st[0].Answered != 15 || math.Abs(st[0].ConnectionRate-0.75) > 1e-9 || st[0].RepeatCalls != 13 {
			t.Fatalf("stats: %+v", st[0])
		}
		if _, err := s.Stats(ctx, t0, t0.Add(101*24*time.Hour), ByAll); hotline.ErrorCode(err) != hotline.EINVALID {
			t.Fatalf("101-day range: %v", err)
		}
	})
}

// TestApplyDuringCall: an attended transfer (consultation as hold, then
// transferred with the new agent), a transfer to a queue answered there,
// and a three-way call, with retries.
func TestApplyDuringCall(t *testing.T) {
	with := func(e Event, target, agent string) Event { e.Target, e.Agent = target, agent; return e }
	c := play(t, offered("a", "13800000001", 0), answered("a", "li", 5),
		ev(EvHold, "a", 10), with(ev(EvConsult, "a", 12), "agent:wang", "wang"),
		with(ev(EvTransferred, "a", 40), "agent:wang", "wang"), with(ev(EvTransferred, "a", 40), "agent:wang", "wang"),
		ev(EvEnded, "a", 100))
	if c.State != Transferred || c.Agent != "li" || c.LastAgent != "wang" || c.Target != "agent:wang" || c.HoldSeconds != 30 || c.HoldStarted != nil || c.TalkSeconds != 95 {
		t.Fatalf("attended transfer: %+v", c)
	}
	c = play(t, offered("b", "13800000002", 0), answered("b", "li", 5), ev(EvHold, "b", 10),
		with(ev(EvConsult, "b", 11), "12333", ""), ev(EvResume, "b", 20), ev(EvEnded, "b", 50))
	if c.State != Answered || c.LastAgent != "li" || c.HoldSeconds != 10 || c.Target != "" {
		t.Fatalf("cancelled consultation: %+v", c)
	}
	c = play(t, offered("q", "13800000003", 0), answered("q", "li", 5),
		with(ev(EvTransferred, "q", 20), "queue:english", ""), answered("q", "zhang", 50), answered("q", "zhang", 50),
		ev(EvEnded, "q", 80), rated("q", 85, 4))
	if c.State != Transferred || c.Agent != "li" || c.LastAgent != "zhang" || c.Target != "queue:english" || c.WaitSeconds != 5 || c.TalkSeconds != 75 || c.Satisfaction != 4 {
		t.Fatalf("queue transfer: %+v", c)
	}
	c = play(t, offered("m", "13800000004", 0), answered("m", "li", 5),
		with(ev(EvConference, "m", 10), "agent:wang", "wang"), ev(EvConferenceEnd, "m", 40),
		with(ev(EvConference, "m", 50), "12333", ""), ev(EvEnded, "m", 60))
	if c.State != Answered || c.Conference != "12333" || c.ConferenceSeconds != 40 || c.ConferenceStarted != nil {
		t.Fatalf("three-way: %+v", c)
	}
	for i, b := range []struct {
		prev *Call
		e    Event
	}{
		{play(t, offered("x", "1", 0)), with(ev(EvConference, "x", 1), "agent:wang", "wang")},
		{play(t, offered("y", "1", 0)), with(ev(EvConsult, "y", 1), "agent:wang", "wang")},
		{c, answered("m", "zhang", 70)},
	} {
		if _, err := Apply(b.prev, b.e); hotline.ErrorCode(err) != hotline.EUNPROCESSABLE {
			t.Errorf("bad %d: %v", i, err)
		}
	}
	if _, err := Apply(c, ev(EvConsult, "m", 70)); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Errorf("consult without a target: %v", err)
	}
}
