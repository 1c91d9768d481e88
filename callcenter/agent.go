package callcenter

import (
	"strings"
	"time"

	"github.com/hotline12345/hotline"
)

// AgentState is what an agent (坐席) is doing.
type AgentState string

const (
	Offline  AgentState = "offline"   // not signed in; no phone registered
	Ready    AgentState = "ready"     // 示闲: may be offered a call
	Ringing  AgentState = "ringing"   // a call is being offered
	Talking  AgentState = "talking"   // on a call (including hold)
	WrapUp   AgentState = "wrapup"    // 话后处理: timed after-call work
	NotReady AgentState = "not_ready" // 示忙, with a reason
)

// AgentAction is what may happen to an agent.
type AgentAction string

const (
	ActLogin       AgentAction = "login"     // phone registered / desk signed in
	ActLogout      AgentAction = "logout"    // phone unregistered / desk signed out
	ActReady       AgentAction = "ready"     // the agent makes herself available
	ActNotReady    AgentAction = "not_ready" // the agent takes a break (reason required)
	ActOffer       AgentAction = "offer"     // the ACD rings the agent
	ActAnswer      AgentAction = "answer"    // the agent picked up
	ActNoAnswer    AgentAction = "no_answer" // ring timeout or rejected: not ready, "未接听"
	ActCancelOffer AgentAction = "cancel"    // the caller hung up while ringing
	ActHangup      AgentAction = "hangup"    // the call ended: wrap-up starts
)

// Not-ready reasons the desk offers; any short text is accepted.
var NotReadyReasons = []string{"休息", "用餐", "培训", "会议", "整理工单", "未接听"}

// ReasonNoAnswer is set when an offered call rang out.
const ReasonNoAnswer = "未接听"

// Agent is one agent's live state.
type Agent struct {
	Username  string     `json:"username"`
	Skills    []string   `json:"skills,omitempty"` // queues served; empty: all
	State     AgentState `json:"state"`
	Reason    string     `json:"reason,omitempty"`  // not-ready reason
	CallID    string     `json:"call_id,omitempty"` // ringing or talking
	Since     time.Time  `json:"since"`             // in this state since
	IdleSince time.Time  `json:"idle_since"`        // ready since (longest idle goes first)
	WrapUntil time.Time  `json:"wrap_until,omitempty"`
}

// Serves reports whether the agent has the skill of queue.
func (a *Agent) Serves(queue string) bool {
	if len(a.Skills) == 0 {
		return true
	}
	for _, s := range a.Skills {
		if s == queue {
			return true
		}
	}
	return false
}

// Tick ends a wrap-up whose time is over: the agent becomes ready, idle
// since the moment wrap-up ended (not since now), so that routing order
// does not depend on when anyone looked.
func (a *Agent) Tick(now time.Time) {
	if a.State == WrapUp && !now.Before(a.WrapUntil) {
		a.State, a.Since, a.IdleSince, a.WrapUntil, a.CallID = Ready, a.WrapUntil, a.WrapUntil, time.Time{}, ""
	}
}

// Do applies an action at now. wrap is the after-call work time for
// ActHangup (0: ready at once); reason is for ActNotReady. A refused action
// leaves the agent unchanged and returns a typed error.
func (a *Agent) Do(act AgentAction, now time.Time, callID, reason string, wrap time.Duration) error {
	a.Tick(now)
	refuse := func() error {
		return hotline.Errorf(hotline.EUNPROCESSABLE, "坐席当前状态（%s）不能执行该操作（%s）", "agent in state %s cannot %s",
			stateNames[a.State], string(act), a.State, act)
	}
	set := func(s AgentState) {
		a.State, a.Since = s, now
		if s == Ready {
			a.IdleSince = now
		}
		if s != NotReady {
			a.Reason = ""
		}
	}
	switch act {
	case ActLogin:
		if a.State == Offline {
			set(Ready)
		}
	case ActLogout:
		if a.State == Ringing || a.State == Talking {
			return refuse()
		}
		set(Offline)
		a.CallID = ""
	case ActReady:
		switch a.State {
		case Ready:
		case Offline, NotReady, WrapUp:
			set(Ready)
			a.CallID, a.WrapUntil = "", time.Time{}
		default:
			return refuse()
		}
	case ActNotReady:
		reason = strings.TrimSpace(reason)
		if reason == "" || len(reason) > 60 {
			return hotline.Errorf(hotline.EINVALID, "示忙须说明原因（不超过60字符）", "not ready needs a reason (at most 60 characters)")
		}
		switch a.State {
		case Ready, NotReady, WrapUp, Offline:
			set(NotReady)
			a.Reason, a.CallID, a.WrapUntil = reason, "", time.Time{}
		default:
			return refuse()
		}
	case ActOffer:
		if a.State != Ready {
			return refuse()
		}
		a.State, a.Since, a.CallID = Ringing, now, callID
	case ActAnswer:
		// An external PBX may report an answer we never offered.
		switch a.State {
		case Talking:
			if a.CallID == callID {
				return nil
			}
			return refuse()
		case Ringing, Ready, NotReady, WrapUp, Offline:
			set(Talking)
			a.CallID = callID
		}
	case ActNoAnswer:
		if a.State != Ringing || a.CallID != callID {
			return refuse()
		}
		set(NotReady)
		a.Reason, a.CallID = ReasonNoAnswer, ""
	case ActCancelOffer:
		if a.State != Ringing || a.CallID != callID {
			return refuse()
		}
		// Back to ready keeping the place in the idle order.
		a.State, a.Since, a.CallID = Ready, now, ""
	case ActHangup:
		if a.State != Talking || a.CallID != callID {
			return refuse()
		}
		if wrap <= 0 {
			set(Ready)
			a.CallID = ""
			return nil
		}
		set(WrapUp)
		a.WrapUntil = now.Add(wrap)
	default:
		return hotline.Errorf(hotline.EINVALID, "未知的坐席操作", "unknown agent action")
	}
	return nil
}

var stateNames = map[AgentState]string{
	Offline: "离线", Ready: "示闲", Ringing: "振铃", Talking: "通话", WrapUp: "话后处理", NotReady: "示忙",
}

// StateName gives the Chinese name of a state.
func StateName(s AgentState) string { return stateNames[s] }
