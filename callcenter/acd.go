package callcenter

import (
	"sort"
	"time"

	"github.com/hotline12345/hotline"
)

// Queue is a skill queue. The default configuration has one queue and no
// menu, as GB/T 33358 advises; a city adds queues for foreign-language,
// dialect or business (涉企) seats and reaches them by menu key.
type Queue struct {
	Name  string `json:"name"`  // also the skill agents need
	Title string `json:"title"` // Chinese display name
	// Overflow names a second queue whose agents may take a call that has
	// waited OverflowAfter here (0: no overflow).
	Overflow      string        `json:"overflow,omitempty"`
	OverflowAfter time.Duration `json:"overflow_after,omitempty"`
}

// Waiting is a call in a queue.
type Waiting struct {
	CallID  string    `json:"call_id"`
	Caller  string    `json:"caller"`
	Queue   string    `json:"queue"`
	Since   time.Time `json:"since"`             // entered the queue; kept on re-queue
	Offered string    `json:"offered,omitempty"` // agent being rung
}

// Assignment is the ACD's decision to ring Agent for CallID.
type Assignment struct {
	CallID string
	Agent  string
	Queue  string
	Caller string
}

// ACD (automatic call distributor) matches waiting calls with agents. It
// is pure: every method takes the time, and nothing happens between calls.
// It is not safe for concurrent use; Service guards it.
type ACD struct {
	queues  map[string]Queue
	agents  map[string]*Agent
	waiting []*Waiting // by Since, oldest first
}

// NewACD returns a distributor with the given queues.
func NewACD(queues []Queue) *ACD {
	d := &ACD{queues: map[string]Queue{}, agents: map[string]*Agent{}}
	for _, q := range queues {
		d.queues[q.Name] = q
	}
	return d
}

// Queues lists the queues by name.
func (d *ACD) Queues() []Queue {
	out := make([]Queue, 0, len(d.queues))
	for _, q := range d.queues {
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Agent returns the agent, creating an offline one on first sight.
func (d *ACD) Agent(username string) *Agent {
	a := d.agents[username]
	if a == nil {
		a = &Agent{Username: username, State: Offline}
		d.agents[username] = a
	}
	return a
}

// Enqueue puts a call at the back of a queue and returns its position.
func (d *ACD) Enqueue(callID, caller, queue string, now time.Time) (int, error) {
	if _, ok := d.queues[queue]; !ok {
		return 0, hotline.Errorf(hotline.EINVALID, "队列不存在：%s", "no such queue: %s", queue, queue)
	}
	if d.find(callID) >= 0 {
		return 0, hotline.Errorf(hotline.ECONFLICT, "该通话已在排队", "call already queued")
	}
	d.waiting = append(d.waiting, &Waiting{CallID: callID, Caller: caller, Queue: queue, Since: now})
	return d.Position(callID), nil
}

// EnqueueAt puts a call into a queue as if it had entered at since — a
// call transferred from another queue keeps its original arrival, so it
// goes ahead of calls that arrived after it (re-queue with priority).
func (d *ACD) EnqueueAt(callID, caller, queue string, since time.Time) (int, error) {
	if _, ok := d.queues[queue]; !ok {
		return 0, hotline.Errorf(hotline.EINVALID, "队列不存在：%s", "no such queue: %s", queue, queue)
	}
	if d.find(callID) >= 0 {
		return 0, hotline.Errorf(hotline.ECONFLICT, "该通话已在排队", "call already queued")
	}
	w := &Waiting{CallID: callID, Caller: caller, Queue: queue, Since: since}
	i := sort.Search(len(d.waiting), func(i int) bool { return d.waiting[i].Since.After(since) })
	d.waiting = append(d.waiting, nil)
	copy(d.waiting[i+1:], d.waiting[i:])
	d.waiting[i] = w
	return d.Position(callID), nil
}

// HasQueue reports whether the queue exists.
func (d *ACD) HasQueue(name string) bool {
	_, ok := d.queues[name]
	return ok
}

func (d *ACD) find(callID string) int {
	for i, w := range d.waiting {
		if w.CallID == callID {
			return i
		}
	}
	return -1
}

// Position is the 1-based place of a call among the calls of its queue
// (0: not waiting). A call being rung counts as first.
func (d *ACD) Position(callID string) int {
	i := d.find(callID)
	if i < 0 {
		return 0
	}
	me, n := d.waiting[i], 0
	for _, w := range d.waiting[:i+1] {
		if w.Queue == me.Queue {
			n++
		}
	}
	return n
}

// Remove takes a call out of the queue (answered elsewhere, abandoned,
// chose a call-back, transferred). An agent being rung for it goes back to
// ready at its old place in the idle order.
func (d *ACD) Remove(callID string, now time.Time) (Waiting, bool) {
	i := d.find(callID)
	if i < 0 {
		return Waiting{}, false
	}
	w := *d.waiting[i]
	d.waiting = append(d.waiting[:i], d.waiting[i+1:]...)
	if w.Offered != "" {
		_ = d.Agent(w.Offered).Do(ActCancelOffer, now, callID, "", 0)
	}
	return w, true
}

// NoAnswer records that the agent rung for a call did not pick up: the
// agent becomes not ready ("未接听") and the call waits again at its
// original place, so a ring-out never costs the caller their turn.
func (d *ACD) NoAnswer(callID, agent string, now time.Time) {
	if i := d.find(callID); i >= 0 && d.waiting[i].Offered == agent {
		d.waiting[i].Offered = ""
	}
	_ = d.Agent(agent).Do(ActNoAnswer, now, callID, "", 0)
}

// Answered records that agent took the call (also for calls the ACD did
// not route, reported by an external PBX).
func (d *ACD) Answered(callID, agent string, now time.Time) error {
	if i := d.find(callID); i >= 0 {
		if o := d.waiting[i].Offered; o != "" && o != agent {
			_ = d.Agent(o).Do(ActCancelOffer, now, callID, "", 0)
		}
		d.waiting = append(d.waiting[:i], d.waiting[i+1:]...)
	}
	return d.Agent(agent).Do(ActAnswer, now, callID, "", 0)
}

// skills a waiting call may be served by at now.
func (d *ACD) skills(w *Waiting, now time.Time) []string {
	q := d.queues[w.Queue]
	if q.Overflow != "" && q.OverflowAfter > 0 && now.Sub(w.Since) >= q.OverflowAfter {
		return []string{w.Queue, q.Overflow}
	}
	return []string{w.Queue}
}

// Dispatch ends timed wrap-ups and offers waiting calls, oldest first, to
// the longest-idle ready agent with one of the call's skills. The caller
// rings the agents of the returned assignments.
func (d *ACD) Dispatch(now time.Time) []Assignment {
	var ready []*Agent
	for _, a := range d.agents {
		a.Tick(now)
		if a.State == Ready {
			ready = append(ready, a)
		}
	}
	if len(ready) == 0 {
		return nil
	}
	sort.Slice(ready, func(i, j int) bool {
		if !ready[i].IdleSince.Equal(ready[j].IdleSince) {
			return ready[i].IdleSince.Before(ready[j].IdleSince)
		}
		return ready[i].Username < ready[j].Username
	})
	var out []Assignment
	for _, w := range d.waiting {
		if w.Offered != "" {
			continue
		}
		skills := d.skills(w, now)
		for _, a := range ready {
			if a.State != Ready || !servesAny(a, skills) {
				continue
			}
			if err := a.Do(ActOffer, now, w.CallID, "", 0); err != nil {
				continue
			}
			w.Offered = a.Username
			out = append(out, Assignment{CallID: w.CallID, Agent: a.Username, Queue: w.Queue, Caller: w.Caller})
			break
		}
	}
	return out
}

func servesAny(a *Agent, skills []string) bool {
	for _, s := range skills {
		if a.Serves(s) {
			return true
		}
	}
	return false
}

// NextEvent is the next moment the ACD's decisions may change without any
// call or agent action (a wrap-up ends, a call reaches its overflow time);
// zero if none.
func (d *ACD) NextEvent(now time.Time) time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, a := range d.agents {
		if a.State == WrapUp {
			consider(a.WrapUntil)
		}
	}
	for _, w := range d.waiting {
		if q := d.queues[w.Queue]; q.Overflow != "" && q.OverflowAfter > 0 {
			consider(w.Since.Add(q.OverflowAfter))
		}
	}
	return next
}

// QueueLive is one queue on the supervisor's wall board.
type QueueLive struct {
	Queue
	Waiting    int     `json:"waiting"`
	OldestWait float64 `json:"oldest_wait_seconds"`
	Ready      int     `json:"agents_ready"`
}

// Live is the supervisor's view of the call centre at a moment.
type Live struct {
	At         time.Time          `json:"at"`
	Queues     []QueueLive        `json:"queues"`
	Calls      []Waiting          `json:"waiting_calls"`
	Agents     []Agent            `json:"agents"`
	ByState    map[AgentState]int `json:"agents_by_state"`
	Overloaded bool               `json:"overloaded"`
	// Today's service level: answered within 15 s ÷ offered, from records.
	ServiceLevel float64 `json:"service_level"`
	Offered      int     `json:"offered_today"`
	Answered     int     `json:"answered_today"`
}

// Snapshot returns the live view (without the day's figures).
func (d *ACD) Snapshot(now time.Time) Live {
	l := Live{At: now, ByState: map[AgentState]int{}}
	idx := map[string]int{}
	for _, q := range d.Queues() {
		idx[q.Name] = len(l.Queues)
		l.Queues = append(l.Queues, QueueLive{Queue: q})
	}
	for _, a := range d.agents {
		a.Tick(now)
		l.Agents = append(l.Agents, *a)
		l.ByState[a.State]++
		if a.State == Ready {
			for name, i := range idx {
				if a.Serves(name) {
					l.Queues[i].Ready++
				}
			}
		}
	}
	sort.Slice(l.Agents, func(i, j int) bool { return l.Agents[i].Username < l.Agents[j].Username })
	for _, w := range d.waiting {
		l.Calls = append(l.Calls, *w)
		if i, ok := idx[w.Queue]; ok {
			q := &l.Queues[i]
			q.Waiting++
			q.OldestWait = max(q.OldestWait, now.Sub(w.Since).Seconds())
		}
	}
	return l
}

// Overload decides when the hotline switches to its emergency mode
// (大话务量应急): callers hear a topical announcement first and, after a
// wait, are offered a call-back.
type Overload struct {
	Manual        bool          `json:"manual"`         // a supervisor switched it on
	MaxWaiting    int           `json:"max_waiting"`    // waiting calls that switch it on (0: never)
	MaxWait       time.Duration `json:"max_wait"`       // oldest wait that switches it on (0: never)
	CallbackAfter time.Duration `json:"callback_after"` // offer a call-back after this wait in overload
}

// Overloaded reports whether the ACD is in overload under o.
func (d *ACD) Overloaded(o Overload, now time.Time) bool {
	if o.Manual {
		return true
	}
	if o.MaxWaiting > 0 && len(d.waiting) >= o.MaxWaiting {
		return true
	}
	if o.MaxWait > 0 && len(d.waiting) > 0 && now.Sub(d.waiting[0].Since) >= o.MaxWait {
		return true
	}
	return false
}
