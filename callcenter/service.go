package callcenter

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/database"
)

// Options configure a Service. Zero values give the defaults documented
// on each field.
type Options struct {
	// DataDir holds recordings under DataDir/recordings (default: the
	// current directory).
	DataDir string
	// Realm is the SIP digest realm (default "hotline").
	Realm string
	// Queues (default: one queue "general", 普通话坐席 — no menu).
	Queues []Queue
	// WrapUp is the timed after-call work (default 30 s; negative: none).
	WrapUp time.Duration
	// RingTimeout is how long an agent's phone rings before the call goes
	// back to the queue and the agent to not-ready (default 15 s).
	RingTimeout time.Duration
	// Overload thresholds (default: only when a supervisor switches it on;
	// call-back offered after 60 s).
	Overload Overload
	// RecordingRetention: recordings older than this are deleted by
	// PurgeRecordings (default 180 days).
	RecordingRetention time.Duration
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// DefaultQueue is the queue every call enters when no menu is configured.
const DefaultQueue = "general"

func (o *Options) defaults() {
	if o.Realm == "" {
		o.Realm = "hotline"
	}
	if len(o.Queues) == 0 {
		o.Queues = []Queue{{Name: DefaultQueue, Title: "普通话坐席"}}
	}
	if o.WrapUp == 0 {
		o.WrapUp = 30 * time.Second
	}
	if o.WrapUp < 0 {
		o.WrapUp = 0
	}
	if o.RingTimeout <= 0 {
		o.RingTimeout = 15 * time.Second
	}
	if o.Overload.CallbackAfter <= 0 {
		o.Overload.CallbackAfter = 60 * time.Second
	}
	if o.RecordingRetention <= 0 {
		o.RecordingRetention = 180 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// DeskEvent is pushed to an agent's desk (and to supervisors): the screen
// pop the moment a call is offered, and every change after.
type DeskEvent struct {
	Type      string    `json:"type"` // offered, answered, ended, transferred, state, overload
	At        time.Time `json:"at"`
	CallID    string    `json:"call_id,omitempty"`
	Caller    string    `json:"caller,omitempty"`
	Queue     string    `json:"queue,omitempty"`
	Agent     string    `json:"agent,omitempty"`
	ScreenPop string    `json:"screen_pop,omitempty"` // desk URL that opens the intake form for the caller
	History   []Call    `json:"history,omitempty"`    // the caller's previous calls
	State     *Agent    `json:"agent_state,omitempty"`
	Overload  *bool     `json:"overload,omitempty"`
}

// Service is the call centre: records, agents, queues, call-backs.
type Service struct {
	store *Store
	opts  Options
	log   *slog.Logger

	mu       sync.Mutex
	acd      *ACD
	tickets  map[string]chan Assignment
	overload Overload
	timer    *time.Timer
	timerAt  time.Time
	subs     map[string]map[chan DeskEvent]struct{} // agent username, "*" for all
	controls map[string]CallControl
}

// New opens the call centre on db (migrating its tables).
func New(ctx context.Context, db *database.DB, opts Options) (*Service, error) {
	store, err := Open(ctx, db)
	if err != nil {
		return nil, err
	}
	return NewWithStore(store, opts), nil
}

// NewWithStore builds the service on an opened store.
func NewWithStore(store *Store, opts Options) *Service {
	opts.defaults()
	return &Service{
		store: store, opts: opts, log: opts.Logger,
		acd:      NewACD(opts.Queues),
		tickets:  map[string]chan Assignment{},
		overload: opts.Overload,
		subs:     map[string]map[chan DeskEvent]struct{}{},
	}
}

// Store returns the records store.
func (s *Service) Store() *Store { return s.store }

// Options returns the effective options.
func (s *Service) Options() Options { return s.opts }

// Now is the service clock.
func (s *Service) Now() time.Time { return s.opts.Now() }

// RecordingsDir is where recordings are written.
func (s *Service) RecordingsDir() string { return filepath.Join(s.opts.DataDir, "recordings") }

// Stats computes the call measures over [from, to) grouped by by.
func (s *Service) Stats(ctx context.Context, from, to time.Time, by string) ([]Stats, error) {
	return s.store.Stats(ctx, from, to, by)
}

// SetSIPPassword gives a platform user a SIP account for their phone. Only
// MD5(username:realm:password) is stored.
func (s *Service) SetSIPPassword(ctx context.Context, userID int64, username, password string) error {
	return s.store.SetSIPAccount(ctx, userID, username, s.opts.Realm, password, s.Now())
}

// Record stores a CTI event and applies it to the live state: an answered
// call leaves its queue and makes the agent talking, an ended call starts
// the agent's wrap-up, a call that ends while waiting leaves the queue and
// gets a call-back task. Built-in engine and external PBXs both come here.
func (s *Service) Record(ctx context.Context, e Event) (*Call, error) {
	c, err := s.store.Record(ctx, e)
	if err != nil {
		return nil, err
	}
	s.applyLive(ctx, []Event{e}, []*Call{c})
	return c, nil
}

// RecordBatch is Record for several events in one transaction (the SIP
// engine's writer batches the events of many calls). Events the domain
// refuses are skipped and reported in errs.
func (s *Service) RecordBatch(ctx context.Context, events []Event) (errs []error, err error) {
	calls, errs, err := s.store.RecordBatch(ctx, events)
	if err != nil {
		return nil, err
	}
	s.applyLive(ctx, events, calls)
	return errs, nil
}

func (s *Service) applyLive(ctx context.Context, events []Event, calls []*Call) {
	now := s.Now()
	var pops []DeskEvent
	s.mu.Lock()
	for i, e := range events {
		c := calls[i]
		if c == nil {
			continue
		}
		switch e.Type {
		case EvOffered:
			if e.Agent != "" { // an external ACD tells us whom it rings
				pops = append(pops, DeskEvent{Type: "offered", At: e.At, CallID: c.CallID, Caller: c.Caller, Queue: c.Queue, Agent: e.Agent})
			}
		case EvAnswered:
			if err := s.acd.Answered(c.CallID, e.Agent, now); err != nil {
				s.log.Warn("agent state on answer", "agent", e.Agent, "err", err)
			}
			s.publishLocked(DeskEvent{Type: "answered", At: e.At, CallID: c.CallID, Caller: c.Caller, Queue: c.Queue, Agent: e.Agent})
			s.publishStateLocked(e.Agent, now)
		case EvEnded, EvTransferred, EvCallback:
			toQueue := e.Type == EvTransferred && strings.HasPrefix(e.Target, QueuePrefix)
			if !toQueue { // a call sent to another queue waits there again
				s.acd.Remove(c.CallID, now)
				delete(s.tickets, c.CallID)
			}
			// Every agent on the call (the first, or the one it was
			// transferred to) starts wrap-up — except the transfer's target
			// and, after a transfer to a queue, the agent who took it there.
			for _, a := range s.acd.agents {
				if a.State == Talking && a.CallID == c.CallID && !(e.Type == EvTransferred && a.Username == e.Agent) &&
					!(toQueue && a.Since.After(e.At)) {
					_ = a.Do(ActHangup, now, c.CallID, "", s.opts.WrapUp)
					s.publishStateLocked(a.Username, now)
				}
			}
			s.publishLocked(DeskEvent{Type: string(e.Type), At: e.At, CallID: c.CallID, Caller: c.Caller, Queue: c.Queue, Agent: c.Agent})
			if e.Type == EvTransferred && e.Agent != "" && e.Agent != c.Agent {
				s.publishLocked(DeskEvent{Type: string(e.Type), At: e.At, CallID: c.CallID, Caller: c.Caller, Queue: c.Queue, Agent: e.Agent})
			}
		case EvConsult, EvConference, EvConferenceEnd:
			s.publishLocked(DeskEvent{Type: string(e.Type), At: e.At, CallID: c.CallID, Caller: c.Caller, Queue: c.Queue, Agent: c.Agent})
			if e.Agent != "" && e.Agent != c.Agent {
				s.publishLocked(DeskEvent{Type: string(e.Type), At: e.At, CallID: c.CallID, Caller: c.Caller, Queue: c.Queue, Agent: e.Agent})
			}
		}
	}
	pops = append(pops, s.dispatchLocked(now)...)
	s.mu.Unlock()
	s.screenPops(ctx, pops)
}

// Ticket is a call's place in a queue, held by the engine carrying it.
type Ticket struct {
	CallID string
	// Offers delivers the agent to ring. After a ring-out (NoAnswer) the
	// call waits again and may receive another offer.
	Offers <-chan Assignment
}

// Enqueue puts a call (already recorded as offered) into a queue. The
// engine waits on the ticket's Offers while playing comfort messages.
func (s *Service) Enqueue(callID, caller, queue string) (*Ticket, error) {
	return s.enqueue(callID, func(d *ACD, now time.Time) error {
		_, err := d.Enqueue(callID, caller, queue, now)
		return err
	})
}

// enqueue places a call with put, under the lock, and offers the queues'
// calls to ready agents at once.
func (s *Service) enqueue(callID string, put func(*ACD, time.Time) error) (*Ticket, error) {
	now := s.Now()
	ch := make(chan Assignment, 1)
	s.mu.Lock()
	if err := put(s.acd, now); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.tickets[callID] = ch
	pops := s.dispatchLocked(now)
	s.mu.Unlock()
	s.screenPops(context.Background(), pops)
	return &Ticket{CallID: callID, Offers: ch}, nil
}

// QueuePrefix marks a transfer target that is a queue ("queue:english").
const QueuePrefix = "queue:"

// HasQueue reports whether a queue of that name exists.
func (s *Service) HasQueue(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acd.HasQueue(name)
}

// Requeue puts a call that an agent transferred to another queue back in
// line there, ahead of the calls that arrived after it (since: when it
// first arrived). Its record says transferred to "queue:NAME"; the agent
// who answers it there is recorded by an answered event.
func (s *Service) Requeue(callID, caller, queue string, since time.Time) (*Ticket, error) {
	return s.enqueue(callID, func(d *ACD, _ time.Time) error {
		_, err := d.EnqueueAt(callID, caller, queue, since)
		return err
	})
}

// EndTalk tells the live state at once that agent left a call that goes on
// without her (she transferred it, cancelled a consultation, left or was
// dropped from a three-way call): her wrap-up starts.
func (s *Service) EndTalk(callID, agent string) {
	now := s.Now()
	s.mu.Lock()
	a := s.acd.Agent(agent)
	if a.State == Talking && a.CallID == callID {
		_ = a.Do(ActHangup, now, callID, "", s.opts.WrapUp)
		s.publishStateLocked(agent, now)
	}
	pops := s.dispatchLocked(now)
	s.mu.Unlock()
	s.screenPops(context.Background(), pops)
}

// Position is the call's 1-based place in its queue (0: not queued).
func (s *Service) Position(callID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acd.Position(callID)
}

// Leave takes a call out of its queue without recording anything (the
// engine records the event that explains why).
func (s *Service) Leave(callID string) {
	now := s.Now()
	s.mu.Lock()
	s.acd.Remove(callID, now)
	delete(s.tickets, callID)
	pops := s.dispatchLocked(now)
	s.mu.Unlock()
	s.screenPops(context.Background(), pops)
}

// NoAnswer reports that the agent offered the call did not answer in time
// (or rejected it): the agent becomes not ready and the call is offered
// again from its original place.
func (s *Service) NoAnswer(callID, agent string) {
	now := s.Now()
	s.mu.Lock()
	s.acd.NoAnswer(callID, agent, now)
	s.publishStateLocked(agent, now)
	pops := s.dispatchLocked(now)
	s.mu.Unlock()
	s.screenPops(context.Background(), pops)
}

// Connected tells the live state at once that agent answered the call
// (its answered event may be stored a moment later, batched).
func (s *Service) Connected(callID, agent string) {
	now := s.Now()
	s.mu.Lock()
	if err := s.acd.Answered(callID, agent, now); err != nil {
		s.log.Warn("agent state on answer", "agent", agent, "err", err)
	}
	s.publishStateLocked(agent, now)
	s.mu.Unlock()
}

// Reserve rings a specific agent for a call (a transfer to an agent): she
// must be ready. Release undoes it if the transfer fails.
func (s *Service) Reserve(agent, callID string) error {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acd.Agent(agent)
	a.Tick(now)
	if a.State != Ready {
		return hotline.Errorf(hotline.EUNPROCESSABLE, "坐席%s当前不空闲", "agent %s is not ready", agent, agent)
	}
	_ = a.Do(ActOffer, now, callID, "", 0)
	s.publishStateLocked(agent, now)
	return nil
}

// Release returns a reserved agent to ready (the transfer did not happen).
func (s *Service) Release(agent, callID string) {
	now := s.Now()
	s.mu.Lock()
	_ = s.acd.Agent(agent).Do(ActCancelOffer, now, callID, "", 0)
	s.publishStateLocked(agent, now)
	pops := s.dispatchLocked(now)
	s.mu.Unlock()
	s.screenPops(context.Background(), pops)
}

// CallControl is what the engine carrying a call can do during it.
type CallControl interface {
	Hold() error
	Resume() error
	// Transfer (blind) to "agent:NAME", an outside number such as 12333,
	// or "queue:NAME" (the caller waits in that queue for its agents).
	Transfer(to string) error
	// Consult starts an attended transfer: the caller hears hold music
	// while the agent is connected with to ("agent:NAME" or a number); it
	// returns once to answered (or with an error, the caller back with the
	// agent). CompleteTransfer bridges the caller with to and releases the
	// agent; CancelConsult hangs to up and brings the caller back.
	Consult(to string) error
	CompleteTransfer() error
	CancelConsult() error
	// Conference adds to as a third party (三方通话): caller, agent and to
	// all hear each other. DropConference hangs the third party up and
	// the two-way call goes on.
	Conference(to string) error
	DropConference() error
}

// RegisterControl makes a call controllable from the desk while it is
// connected; the returned function unregisters it.
func (s *Service) RegisterControl(callID string, c CallControl) func() {
	s.mu.Lock()
	if s.controls == nil {
		s.controls = map[string]CallControl{}
	}
	s.controls[callID] = c
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.controls, callID)
		s.mu.Unlock()
	}
}

// Control returns the control of a connected call carried by the built-in
// engine.
func (s *Service) Control(callID string) (CallControl, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.controls[callID]
	if c == nil {
		return nil, hotline.Errorf(hotline.EUNPROCESSABLE, "该通话未接通或不由内置交换机承载", "the call is not connected on the built-in engine")
	}
	return c, nil
}

// AgentDo applies a desk or phone action to an agent (login, logout,
// ready, not_ready with a reason).
func (s *Service) AgentDo(username string, act AgentAction, reason string) (Agent, error) {
	switch act {
	case ActLogin, ActLogout, ActReady, ActNotReady:
	default:
		return Agent{}, hotline.Errorf(hotline.EINVALID, "只能登录、登出、示闲或示忙", "only login, logout, ready or not_ready")
	}
	now := s.Now()
	s.mu.Lock()
	a := s.acd.Agent(username)
	if err := a.Do(act, now, "", reason, 0); err != nil {
		s.mu.Unlock()
		return *a, err
	}
	out := *a
	s.publishStateLocked(username, now)
	pops := s.dispatchLocked(now)
	s.mu.Unlock()
	s.screenPops(context.Background(), pops)
	return out, nil
}

// Agent returns an agent's live state.
func (s *Service) Agent(username string) Agent {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acd.Agent(username)
	a.Tick(s.Now())
	return *a
}

// SetSkills sets the queues an agent serves (empty: all).
func (s *Service) SetSkills(username string, skills []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sk := range skills {
		if _, ok := s.acd.queues[sk]; !ok {
			return hotline.Errorf(hotline.EINVALID, "队列不存在：%s", "no such queue: %s", sk, sk)
		}
	}
	s.acd.Agent(username).Skills = append([]string(nil), skills...)
	s.dispatchLocked(s.Now())
	return nil
}

// Overloaded reports whether the overload mode is on now.
func (s *Service) Overloaded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acd.Overloaded(s.overload, s.Now())
}

// OverloadConfig returns the overload thresholds in force.
func (s *Service) OverloadConfig() Overload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.overload
}

// SetOverload switches the manual overload mode on or off.
func (s *Service) SetOverload(on bool) {
	s.mu.Lock()
	s.overload.Manual = on
	s.publishLocked(DeskEvent{Type: "overload", At: s.Now(), Overload: &on})
	s.mu.Unlock()
}

// Live returns the supervisor's view, with today's service level from the
// records.
func (s *Service) Live(ctx context.Context) (Live, error) {
	now := s.Now()
	s.mu.Lock()
	l := s.acd.Snapshot(now)
	l.Overloaded = s.acd.Overloaded(s.overload, now)
	s.mu.Unlock()
	china := time.FixedZone("CST", 8*3600)
	y, m, d := now.In(china).Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, china)
	st, err := s.store.Stats(ctx, day, now.Add(time.Second), ByAll)
	if err != nil {
		return l, err
	}
	if len(st) == 1 {
		l.Offered, l.Answered = st[0].Offered, st[0].Answered
		if st[0].Offered > 0 {
			l.ServiceLevel = float64(st[0].AnsweredIn15s) / float64(st[0].Offered)
		}
	}
	return l, nil
}

// Subscribe returns the desk events of an agent ("*": all, for
// supervisors) until cancel is called. Slow readers lose events rather
// than stall calls.
func (s *Service) Subscribe(agent string) (<-chan DeskEvent, func()) {
	ch := make(chan DeskEvent, 32)
	s.mu.Lock()
	if s.subs[agent] == nil {
		s.subs[agent] = map[chan DeskEvent]struct{}{}
	}
	s.subs[agent][ch] = struct{}{}
	s.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.subs[agent], ch)
			if len(s.subs[agent]) == 0 {
				delete(s.subs, agent)
			}
			s.mu.Unlock()
		})
	}
}

func (s *Service) publishLocked(e DeskEvent) {
	send := func(key string) {
		for ch := range s.subs[key] {
			select {
			case ch <- e:
			default:
			}
		}
	}
	if e.Agent != "" {
		send(e.Agent)
	}
	send("*")
}

func (s *Service) publishStateLocked(agent string, now time.Time) {
	a := *s.acd.Agent(agent)
	s.publishLocked(DeskEvent{Type: "state", At: now, Agent: agent, State: &a})
}

// dispatchLocked routes waiting calls and returns the screen pops to send
// (outside the lock: they read the caller's history).
func (s *Service) dispatchLocked(now time.Time) []DeskEvent {
	var pops []DeskEvent
	for _, as := range s.acd.Dispatch(now) {
		if ch := s.tickets[as.CallID]; ch != nil {
			select {
			case ch <- as:
			default:
			}
		}
		s.publishStateLocked(as.Agent, now)
		pops = append(pops, DeskEvent{Type: "offered", At: now, CallID: as.CallID, Caller: as.Caller, Queue: as.Queue, Agent: as.Agent})
	}
	// Wake up for the next wrap-up end or overflow.
	if next := s.acd.NextEvent(now); !next.IsZero() && (s.timer == nil || !next.Equal(s.timerAt)) {
		if s.timer != nil {
			s.timer.Stop()
		}
		s.timerAt = next
		s.timer = time.AfterFunc(next.Sub(now), s.kick)
	}
	return pops
}

// kick re-runs routing when time alone changed something.
func (s *Service) kick() {
	now := s.Now()
	s.mu.Lock()
	s.timer = nil
	pops := s.dispatchLocked(now)
	s.mu.Unlock()
	s.screenPops(context.Background(), pops)
}

// ScreenPopURL is the desk page that opens the intake form for a call.
func ScreenPopURL(caller, callID string) string {
	return "/desk/new?caller=" + url.QueryEscape(caller) + "&call_id=" + url.QueryEscape(callID)
}

func (s *Service) screenPops(ctx context.Context, pops []DeskEvent) {
	for _, p := range pops {
		p.ScreenPop = ScreenPopURL(p.Caller, p.CallID)
		if h, err := s.store.History(ctx, p.Caller, 11); err == nil {
			for _, c := range h {
				if c.CallID != p.CallID && len(p.History) < 10 {
					p.History = append(p.History, c)
				}
			}
		}
		s.mu.Lock()
		s.publishLocked(p)
		s.mu.Unlock()
	}
}

// PurgeRecordings deletes recordings older than the retention period and
// forgets them in the records; it returns how many were deleted.
func (s *Service) PurgeRecordings(ctx context.Context) (int, error) {
	n := 0
	for {
		calls, err := s.store.ExpiredRecordings(ctx, s.Now().Add(-s.opts.RecordingRetention), 500)
		if err != nil || len(calls) == 0 {
			return n, err
		}
		for _, c := range calls {
			if err := os.Remove(filepath.Join(s.RecordingsDir(), c.Recording)); err != nil && !os.IsNotExist(err) {
				return n, err
			}
			if err := s.store.ClearRecording(ctx, c.ID); err != nil {
				return n, err
			}
			n++
		}
	}
}

// RecordingPath returns the file of a call's recording, checking that it
// stays inside the recordings directory.
func (s *Service) RecordingPath(c *Call) (string, error) {
	if c.Recording == "" {
		return "", hotline.Errorf(hotline.ENOTFOUND, "该通话没有录音", "this call has no recording")
	}
	dir := s.RecordingsDir()
	p := filepath.Join(dir, filepath.FromSlash(c.Recording))
	if rel, err := filepath.Rel(dir, p); err != nil || rel == ".." || len(rel) > 2 && rel[:3] == "../" {
		return "", hotline.Errorf(hotline.ENOTFOUND, "该通话没有录音", "this call has no recording")
	}
	return p, nil
}
