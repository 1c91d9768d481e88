// Package callcenter is the telephone side of the hotline, apart from the
// wire protocol: agents and their states, skill queues and routing, the
// record of every call, call-back tasks, overload mode, and the measures
// national standards judge a hotline by — connection rate, 15-second answer
// rate, average speed of answer, abandon rate, average handle time, IVR
// satisfaction and repeat callers — by hour, day, queue and agent.
//
// The design has three layers:
//
//   - Pure domain, no I/O. Apply folds CTI events (offered, answered, hold,
//     resume, consult, transferred, conference, conference_end, recording,
//     wrapup, ended, satisfaction, callback)
//     into a call record. Agent.Do is the agent state machine (offline,
//     ready, ringing, talking, wrap-up, not-ready with a reason). ACD holds
//     the waiting calls and picks the longest-idle ready agent with the
//     queue's skill, re-queues a call whose agent did not answer (at its
//     original place), and lets a call overflow to a second queue after a
//     wait. Compute derives the measures from records.
//   - Store: SQL tables calls, call_events (append-only truth), callbacks,
//     sip_accounts (HA1 digests, never passwords) on SQLite or PostgreSQL.
//   - Service ties them together for the two drivers of calls: the built-in
//     SIP engine (package sip) and any external PBX posting CTI events to
//     the HTTP API (Routes). Both go through Service.Record, so the records,
//     the agent states, the call-back tasks and the desk's screen pops
//     (server-sent events per agent) are the same whichever phone system
//     carries the audio.
//
// The ACD lives in memory in one process: a node owns the calls it answers.
// Several nodes behind a SIP proxy share the load by call, each with its own
// agents registered to it, and share the one database (records, callbacks,
// accounts).
package callcenter

import (
	"strings"
	"time"

	"github.com/hotline12345/hotline"
)

// State is the outcome of a call so far.
type State string

const (
	Queued      State = "queued"      // offered, waiting for an agent
	Answered    State = "answered"    // an agent is talking (or talked) to the caller
	Abandoned   State = "abandoned"   // the caller hung up before an agent answered
	Callback    State = "callback"    // the caller chose a call-back instead of waiting
	Transferred State = "transferred" // passed to another agent, queue, hotline or number (e.g. 12333)
)

// EventType names a CTI event.
type EventType string

const (
	EvOffered      EventType = "offered"
	EvAnswered     EventType = "answered"
	EvEnded        EventType = "ended"
	EvSatisfaction EventType = "satisfaction"
	EvTransferred  EventType = "transferred"
	EvCallback     EventType = "callback"
	EvHold         EventType = "hold"      // the agent put the caller on hold
	EvResume       EventType = "resume"    // back from hold
	EvRecording    EventType = "recording" // the call's recording is stored (Recording: file name)
	EvWrapup       EventType = "wrapup"    // the agent finished after-call work
	// EvConsult: the agent put the caller on hold and reached Target (Agent
	// when it is an agent) to speak first — an attended transfer. It ends
	// with transferred (completed) or resume (cancelled, not answered).
	EvConsult EventType = "consult"
	// EvConference: Target (Agent) joined caller and agent in a three-way
	// call (三方通话); EvConferenceEnd: the three-way call is over.
	EvConference    EventType = "conference"
	EvConferenceEnd EventType = "conference_end"
)

// Event is one CTI event as a phone system reports it.
type Event struct {
	Type         EventType `json:"type"`
	CallID       string    `json:"call_id"`
	At           time.Time `json:"at"`
	Caller       string    `json:"caller,omitempty"`       // offered
	Queue        string    `json:"queue,omitempty"`        // offered
	Agent        string    `json:"agent,omitempty"`        // answered: the agent's user name; transferred, consult, conference: the target agent
	Satisfaction int       `json:"satisfaction,omitempty"` // 1–5 pressed after the call
	Target       string    `json:"target,omitempty"`       // transferred, consult, conference: where to ("agent:NAME", a number, "queue:NAME")
	MenuSeconds  int       `json:"menu_seconds,omitempty"` // offered: time spent in the greeting/menu
	Recording    string    `json:"recording,omitempty"`    // recording: file name under the recordings directory
}

// Call is the record of one call.
type Call struct {
	ID           int64      `json:"id"`
	CallID       string     `json:"call_id"`
	Caller       string     `json:"caller"`
	Queue        string     `json:"queue"`
	Agent        string     `json:"agent,omitempty"`
	State        State      `json:"state"`
	ArrivedAt    time.Time  `json:"arrived_at"`
	AnsweredAt   *time.Time `json:"answered_at,omitempty"`
	EndedAt      *time.Time `json:"ended_at,omitempty"`
	WaitSeconds  int        `json:"wait_seconds"`
	TalkSeconds  int        `json:"talk_seconds"`
	Satisfaction int        `json:"satisfaction,omitempty"`
	Target       string     `json:"target,omitempty"`
	MenuSeconds  int        `json:"menu_seconds"`
	HoldSeconds  int        `json:"hold_seconds"`
	WrapSeconds  int        `json:"wrap_seconds"`
	HoldStarted  *time.Time `json:"hold_started_at,omitempty"` // set while on hold
	Recording    string     `json:"recording,omitempty"`
	// LastAgent is the agent who had the call last (after transfers; empty
	// when it went to an outside number). Agent stays the first one.
	LastAgent string `json:"last_agent,omitempty"`
	// Conference is the last third party of a three-way call (empty: none)
	// and ConferenceSeconds the time spent three-way.
	Conference        string     `json:"conference,omitempty"`
	ConferenceSeconds int        `json:"conference_seconds"`
	ConferenceStarted *time.Time `json:"conference_started_at,omitempty"` // set while three-way
}

func invalid(zh, en string) error { return hotline.Errorf(hotline.EINVALID, zh, en) }

// Validate checks an event's fields.
func (e *Event) Validate() error {
	e.CallID = strings.TrimSpace(e.CallID)
	if e.CallID == "" || len(e.CallID) > 128 {
		return invalid("call_id不能为空且不超过128字符", "call_id is required (at most 128 characters)")
	}
	if e.At.IsZero() {
		return invalid("请提供事件时间at", "at is required")
	}
	switch e.Type {
	case EvOffered:
		if strings.TrimSpace(e.Caller) == "" || len(e.Caller) > 40 || len(e.Queue) > 60 {
			return invalid("来电事件须有主叫号码caller", "offered needs the caller number")
		}
		if e.Queue == "" {
			e.Queue = "default"
		}
		if e.MenuSeconds < 0 || e.MenuSeconds > 3600 {
			return invalid("菜单时长无效", "menu_seconds must be 0..3600")
		}
	case EvRecording:
		if strings.TrimSpace(e.Recording) == "" || len(e.Recording) > 200 || strings.Contains(e.Recording, "..") {
			return invalid("录音文件名无效", "recording needs a file name (no ..)")
		}
	case EvAnswered:
		if strings.TrimSpace(e.Agent) == "" || len(e.Agent) > 60 {
			return invalid("接听事件须有坐席agent", "answered needs the agent")
		}
	case EvSatisfaction:
		if e.Satisfaction < 1 || e.Satisfaction > 5 {
			return invalid("满意度须为1至5", "satisfaction must be 1..5")
		}
	case EvTransferred, EvConsult, EvConference:
		if strings.TrimSpace(e.Target) == "" || len(e.Target) > 60 || len(e.Agent) > 60 {
			return invalid("转接、咨询或三方事件须有目标target", "transferred, consult and conference need a target")
		}
	case EvEnded, EvCallback, EvHold, EvResume, EvWrapup, EvConferenceEnd:
	default:
		return invalid("未知的事件类型", "unknown event type (offered, answered, hold, resume, consult, transferred, conference, conference_end, recording, wrapup, ended, satisfaction, callback)")
	}
	return nil
}

// Apply folds an event into a call record (nil for a call not seen yet) and
// returns the new record. Events out of order are refused with a clear
// error; a repeated event that changes nothing is accepted (PBXs retry).
func Apply(c *Call, e Event) (*Call, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	conflict := func(zh, en string) error { return hotline.Errorf(hotline.EUNPROCESSABLE, zh, en) }
	if c == nil {
		if e.Type != EvOffered {
			return nil, hotline.Errorf(hotline.ENOTFOUND, "通话不存在（须先有来电事件）", "unknown call: offered must come first")
		}
		return &Call{CallID: e.CallID, Caller: e.Caller, Queue: e.Queue, State: Queued, ArrivedAt: e.At, MenuSeconds: e.MenuSeconds}, nil
	}
	n := *c
	at := e.At
	switch e.Type {
	case EvOffered:
		return &n, nil // retry
	case EvAnswered:
		if n.State == Answered && n.Agent == e.Agent {
			return &n, nil
		}
		if n.State == Transferred && n.AnsweredAt != nil && n.EndedAt == nil {
			// Transferred to a queue and answered there: the agent who has
			// the call now.
			n.LastAgent = e.Agent
			return &n, nil
		}
		if n.State != Queued {
			return nil, conflict("该通话已不在排队中", "the call is no longer queued")
		}
		if at.Before(n.ArrivedAt) {
			return nil, invalid("接听时间早于来电时间", "answered before it arrived")
		}
		n.State, n.Agent, n.LastAgent, n.AnsweredAt = Answered, e.Agent, e.Agent, &at
		n.WaitSeconds = int(at.Sub(n.ArrivedAt) / time.Second)
	case EvEnded:
		if n.EndedAt != nil {
			return &n, nil
		}
		if at.Before(n.ArrivedAt) {
			return nil, invalid("结束时间早于来电时间", "ended before it arrived")
		}
		n.EndedAt = &at
		endHold(&n, at)
		endConference(&n, at)
		switch n.State {
		case Queued:
			n.State = Abandoned
			n.WaitSeconds = int(at.Sub(n.ArrivedAt) / time.Second)
		case Answered, Transferred:
			if n.AnsweredAt != nil {
				n.TalkSeconds = int(at.Sub(*n.AnsweredAt) / time.Second)
			}
		}
	case EvSatisfaction:
		if n.State != Answered && n.State != Transferred {
			return nil, conflict("未接通的通话不能评价", "only answered calls can be rated")
		}
		n.Satisfaction = e.Satisfaction
	case EvTransferred:
		if n.State == Transferred && n.Target == e.Target && n.LastAgent == e.Agent {
			return &n, nil // retry
		}
		n.State, n.Target, n.LastAgent = Transferred, e.Target, e.Agent
		if n.AnsweredAt == nil {
			n.WaitSeconds = int(at.Sub(n.ArrivedAt) / time.Second)
		}
		endHold(&n, at) // an attended transfer ends the consultation hold
	case EvHold, EvConsult:
		if n.AnsweredAt == nil || n.EndedAt != nil {
			return nil, conflict("只有通话中的来电可以保持", "only a call in progress can be held")
		}
		if n.HoldStarted == nil {
			n.HoldStarted = &at
		}
	case EvResume:
		endHold(&n, at)
	case EvConference:
		if n.AnsweredAt == nil || n.EndedAt != nil {
			return nil, conflict("只有通话中的来电可以加入三方", "only a call in progress can become three-way")
		}
		n.Conference = e.Target
		if n.ConferenceStarted == nil {
			n.ConferenceStarted = &at
		}
	case EvConferenceEnd:
		endConference(&n, at)
	case EvRecording:
		n.Recording = e.Recording
	case EvWrapup:
		if n.AnsweredAt == nil {
			return nil, conflict("未接通的通话没有话后处理", "only answered calls have after-call work")
		}
		if n.EndedAt != nil {
			n.WrapSeconds = max(0, int(at.Sub(*n.EndedAt)/time.Second))
		}
	case EvCallback:
		if n.State != Queued {
			return nil, conflict("只有排队中的来电可以选择回拨", "only a queued call can choose a call-back")
		}
		n.State = Callback
		n.WaitSeconds = int(at.Sub(n.ArrivedAt) / time.Second)
		n.EndedAt = &at
	}
	return &n, nil
}

func endHold(n *Call, at time.Time) {
	if n.HoldStarted != nil {
		n.HoldSeconds += max(0, int(at.Sub(*n.HoldStarted)/time.Second))
		n.HoldStarted = nil
	}
}

func endConference(n *Call, at time.Time) {
	if n.ConferenceStarted != nil {
		n.ConferenceSeconds += max(0, int(at.Sub(*n.ConferenceStarted)/time.Second))
		n.ConferenceStarted = nil
	}
}
