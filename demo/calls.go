package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hotline12345/hotline/calendar"
	"github.com/hotline12345/hotline/callcenter"
)

// SeedCalls records a realistic call history for the last days: more calls
// in working hours, most answered within 15 seconds, some abandoned or
// choosing a call-back, a few transferred to 12333, satisfaction pressed
// after most answered calls. It does nothing if calls exist already.
func SeedCalls(ctx context.Context, calls *callcenter.Store, now time.Time, days int) (int, error) {
	if existing, err := calls.List(ctx, callcenter.Filter{From: now.AddDate(0, 0, -days-1), To: now.Add(time.Hour), Limit: 1}); err != nil || len(existing) > 0 {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(7, 12345))
	agents := []string{"agent1", "agent2"}
	queues := []string{"普通话", "普通话", "普通话", "涉企服务", "English"}
	var callers []string
	n := 0
	for d := days; d >= 0; d-- {
		day := calendar.DateOf(now.AddDate(0, 0, -d))
		perDay := 40 + rng.IntN(30)
		for i := 0; i < perDay; i++ {
			minute := 7*60 + rng.IntN(14*60)
			at := day.At(minute).Add(time.Duration(rng.IntN(60)) * time.Second)
			if at.After(now) {
				continue
			}
			caller := fmt.Sprintf("13%09d", rng.IntN(1e9))
			if len(callers) > 20 && rng.IntN(6) == 0 {
				caller = callers[rng.IntN(len(callers))]
			}
			callers = append(callers, caller)
			id := fmt.Sprintf("demo-%s-%d", day, i)
			evs := []callcenter.Event{{Type: callcenter.EvOffered, CallID: id, At: at, Caller: caller, Queue: queues[rng.IntN(len(queues))]}}
			wait := time.Duration(2+rng.IntN(14)) * time.Second
			if rng.IntN(10) == 0 {
				wait = time.Duration(15+rng.IntN(90)) * time.Second
			}
			switch r := rng.IntN(100); {
			case r < 4: // hung up while waiting
				evs = append(evs, callcenter.Event{Type: callcenter.EvEnded, CallID: id, At: at.Add(wait)})
			case r < 6:
				evs = append(evs, callcenter.Event{Type: callcenter.EvCallback, CallID: id, At: at.Add(wait)})
			default:
				ans := at.Add(wait)
				talk := time.Duration(60+rng.IntN(360)) * time.Second
				evs = append(evs, callcenter.Event{Type: callcenter.EvAnswered, CallID: id, At: ans, Agent: agents[rng.IntN(len(agents))]})
				if rng.IntN(50) == 0 {
					evs = append(evs, callcenter.Event{Type: callcenter.EvTransferred, CallID: id, At: ans.Add(talk / 2), Target: "12333"})
				}
				evs = append(evs, callcenter.Event{Type: callcenter.EvEnded, CallID: id, At: ans.Add(talk)})
				if rng.IntN(10) < 7 {
					evs = append(evs, callcenter.Event{Type: callcenter.EvSatisfaction, CallID: id, At: ans.Add(talk + 10*time.Second),
						Satisfaction: []int{5, 5, 5, 5, 4, 4, 4, 3, 2, 1}[rng.IntN(10)]})
				}
			}
			for _, e := range evs {
				if _, err := calls.Record(ctx, e); err != nil {
					return n, err
				}
			}
			n++
		}
	}
	return n, nil
}
