// Package ticket is the work order (工单) of the 12345 hotline: its fields, its
// lifecycle as a state machine, the time limits that run on it, and the
// events that record every change.
//
// The package is pure: no database, no HTTP, no clock. Apply takes an order,
// a command and an Env (the current time, the working-time calendar, the
// time-limit policy and the unit tree) and returns the changed order and the
// events to append, or a *hotline.Error saying why the command is refused.
// Storage writes the order row and its events in one transaction; the event
// list is the truth and the audit trail, the row is its projection.
package ticket

import (
	"slices"
	"time"

	"github.com/hotline12345/hotline"
)

// State of a work order.
type State string

const (
	Registered     State = "registered"      // 已受理, awaiting dispatch
	Dispatched     State = "dispatched"      // 已派单, awaiting the unit's sign
	Processing     State = "processing"      // 办理中
	ReturnPending  State = "return_pending"  // 退单待审
	ReplyPending   State = "reply_pending"   // 答复待审
	RevisitPending State = "revisit_pending" // 待回访
	Closed         State = "closed"          // 已办结
	Merged         State = "merged"          // 已并单
	Withdrawn      State = "withdrawn"       // 已撤单
)

// States lists every state in lifecycle order.
var States = []State{Registered, Dispatched, Processing, ReturnPending, ReplyPending, RevisitPending, Closed, Merged, Withdrawn}

// StateNames gives each state's Chinese name.
var StateNames = map[State]string{
	Registered: "待派单", Dispatched: "待签收", Processing: "办理中", ReturnPending: "退单待审",
	ReplyPending: "答复待审", RevisitPending: "待回访", Closed: "已办结", Merged: "已并单", Withdrawn: "已撤单",
}

// Open reports whether the order is still being worked.
func (s State) Open() bool { return s != Closed && s != Merged && s != Withdrawn }

// Valid reports whether s is a known state.
func (s State) Valid() bool { return slices.Contains(States, s) }

// Channel is where a request came in.
type Channel string

const (
	Phone   Channel = "phone"
	Web     Channel = "web"
	App     Channel = "app"
	WeChat  Channel = "wechat"
	Weibo   Channel = "weibo"
	SMS     Channel = "sms"
	Email   Channel = "email"
	Mailbox Channel = "mailbox" // 市长信箱
	WalkIn  Channel = "walkin"
	API     Channel = "api"
)

// Channels lists every channel; the index+1 is the channel's two-digit code
// inside an order number.
var Channels = []Channel{Phone, Web, App, WeChat, Weibo, SMS, Email, Mailbox, WalkIn, API}

// ChannelNames gives each channel's Chinese name.
var ChannelNames = map[Channel]string{
	Phone: "电话", Web: "网站", App: "APP", WeChat: "微信", Weibo: "微博", SMS: "短信",
	Email: "电子邮件", Mailbox: "市长信箱", WalkIn: "现场", API: "接口",
}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return slices.Contains(Channels, c) }

// Code is the channel's two-digit code used in order numbers.
func (c Channel) Code() int { return slices.Index(Channels, c) + 1 }

// Type is the kind of request (诉求类型), orthogonal to its subject category.
type Type string

const (
	Consultation Type = "consultation" // 咨询
	Help         Type = "help"         // 求助
	Complaint    Type = "complaint"    // 投诉
	Report       Type = "report"       // 举报
	Suggestion   Type = "suggestion"   // 建议
	Praise       Type = "praise"       // 表扬
	Other        Type = "other"        // 其他
)

// Types lists every request type.
var Types = []Type{Consultation, Help, Complaint, Report, Suggestion, Praise, Other}

// TypeNames gives each type's Chinese name.
var TypeNames = map[Type]string{
	Consultation: "咨询", Help: "求助", Complaint: "投诉", Report: "举报", Suggestion: "建议", Praise: "表扬", Other: "其他",
}

// Valid reports whether t is a known type.
func (t Type) Valid() bool { return slices.Contains(Types, t) }

// Urgency (紧急程度).
type Urgency string

const (
	Normal   Urgency = "normal"   // 一般
	Urgent   Urgency = "urgent"   // 紧急
	Critical Urgency = "critical" // 特急
)

// Urgencies lists every urgency.
var Urgencies = []Urgency{Normal, Urgent, Critical}

// UrgencyNames gives each urgency's Chinese name.
var UrgencyNames = map[Urgency]string{Normal: "一般", Urgent: "紧急", Critical: "特急"}

// Valid reports whether u is a known urgency.
func (u Urgency) Valid() bool { return slices.Contains(Urgencies, u) }

// Result of a unit's handling, stated in its reply.
type Result string

const (
	Solved    Result = "solved"    // 已解决
	Explained Result = "explained" // 已解释说明
	Unsolved  Result = "unsolved"  // 未解决
)

// ResultNames gives each result's Chinese name.
var ResultNames = map[Result]string{Solved: "已解决", Explained: "解释说明", Unsolved: "未解决"}

// Disposition closes an out-of-scope request at intake (DOMAIN.md §3).
type Disposition string

const (
	LegalRoute  Disposition = "legal_route"  // 诉讼/仲裁/纪检/行政复议/信息公开/信访: tell the citizen the legal route
	Transfer110 Disposition = "transfer_110" // 转110
	Transfer119 Disposition = "transfer_119" // 转119
	Transfer120 Disposition = "transfer_120" // 转120
	Transfer122 Disposition = "transfer_122" // 转122
)

// DispositionNames gives each disposition's Chinese name.
var DispositionNames = map[Disposition]string{
	LegalRoute: "告知法定途径", Transfer110: "转110", Transfer119: "转119", Transfer120: "转120", Transfer122: "转122",
}

// Satisfaction levels of the 5-level 好差评 scale.
var SatisfactionNames = map[int]string{5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}

// Citizen is the person or company behind a request (诉求人).
type Citizen struct {
	Name         string `json:"name"`
	Phone        string `json:"phone"`
	Confidential bool   `json:"confidential"` // 保密: units see the identity masked
}

// Masked returns the citizen as a handling unit sees a confidential order.
func (c Citizen) Masked() Citizen {
	if !c.Confidential {
		return c
	}
	m := Citizen{Confidential: true, Name: "（保密）"}
	if r := []rune(c.Name); len(r) > 0 {
		m.Name = string(r[0]) + "**（保密）"
	}
	if len(c.Phone) >= 7 {
		m.Phone = c.Phone[:3] + "****" + c.Phone[len(c.Phone)-4:]
	} else if c.Phone != "" {
		m.Phone = "****"
	}
	return m
}

// Deadlines of an order. A zero time means the clock is not running.
type Deadlines struct {
	DispatchDue time.Time `json:"dispatch_due,omitzero"`
	SignDue     time.Time `json:"sign_due,omitzero"`
	ContactDue  time.Time `json:"contact_due,omitzero"`
	ReplyDue    time.Time `json:"reply_due,omitzero"`
	RevisitDue  time.Time `json:"revisit_due,omitzero"`
	// ReplyStart is when the running reply clock started (dispatch, re-dispatch
	// or reopen); the yellow warning is measured against the whole limit.
	ReplyStart time.Time `json:"reply_start,omitzero"`
	// WarnAt is when the active clock turns yellow.
	WarnAt time.Time `json:"warn_at,omitzero"`
	// Provisional: some due time lies past the last loaded calendar year and
	// was computed on the weekend rule.
	Provisional bool `json:"provisional,omitempty"`
}

// Extension is a unit's request for more time (延期).
type Extension struct {
	WorkingDays int       `json:"working_days"`
	Reason      string    `json:"reason"`
	RequestedAt time.Time `json:"requested_at"`
	UnitID      int64     `json:"unit_id"`
}

// Supervision is a formal supervision order (督办) with its own deadline.
type Supervision struct {
	Content string    `json:"content"`
	Due     time.Time `json:"due"`
	At      time.Time `json:"at"`
	By      string    `json:"by"`
}

// Ticket is a work order. It is a projection of its events.
type Ticket struct {
	ID           int64     `json:"id"`
	Number       string    `json:"number"`
	QueryCode    string    `json:"query_code,omitempty"`
	Channel      Channel   `json:"channel"`
	Type         Type      `json:"type"`
	Urgency      Urgency   `json:"urgency"`
	Title        string    `json:"title"`
	Content      string    `json:"content"`
	CategoryCode string    `json:"category_code,omitempty"`
	Citizen      Citizen   `json:"citizen"`
	Address      string    `json:"address,omitempty"`
	Lat          *float64  `json:"lat,omitempty"`
	Lng          *float64  `json:"lng,omitempty"`
	RegionUnitID int64     `json:"region_unit_id,omitempty"` // the district the address lies in, if known
	CallID       string    `json:"call_id,omitempty"`        // the phone call it was registered from
	State        State     `json:"state"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	CreatedBy    int64     `json:"created_by,omitempty"`

	// Intake.
	AnsweredAtIntake bool        `json:"answered_at_intake,omitempty"` // 直接答复 (counts toward FCR)
	ArticleID        int64       `json:"article_id,omitempty"`         // knowledge-base article used at intake
	Disposition      Disposition `json:"disposition,omitempty"`

	// Dispatch.
	LeadUnitID    int64   `json:"lead_unit_id,omitempty"`    // 主办单位
	AssistUnitIDs []int64 `json:"assist_unit_ids,omitempty"` // 协办单位
	HandlerUnitID int64   `json:"handler_unit_id,omitempty"` // unit now holding it (a sub-unit after 二级派单)
	FirstUnitID   int64   `json:"first_unit_id,omitempty"`   // the first unit it was sent to
	// What smart dispatch proposed: the category model's top suggestion at
	// intake and the catalogue's unit at the first dispatch.
	SuggestedCategory string    `json:"suggested_category,omitempty"`
	SuggestedUnitID   int64     `json:"suggested_unit_id,omitempty"`
	DispatchCount     int       `json:"dispatch_count,omitempty"` // >1 means re-dispatched (二次派单)
	DispatchedAt      time.Time `json:"dispatched_at,omitzero"`
	SignedAt          time.Time `json:"signed_at,omitzero"`
	ContactedAt       time.Time `json:"contacted_at,omitzero"`
	ReturnCount       int       `json:"return_count,omitempty"`
	ReturnReason      string    `json:"return_reason,omitempty"`
	ReturnFrom        State     `json:"return_from,omitempty"`     // state to resume if the return is refused
	ClockStoppedAt    time.Time `json:"clock_stopped_at,omitzero"` // set while a return is pending

	Extension     *Extension `json:"extension,omitempty"`     // pending request
	ExtendedDays  int        `json:"extended_days,omitempty"` // approved in total
	ExtensionsAsk int        `json:"extensions_asked,omitempty"`

	// Reply and review.
	Result      Result    `json:"result,omitempty"`
	Reply       string    `json:"reply,omitempty"`
	RepliedAt   time.Time `json:"replied_at,omitzero"`
	RepliedLate bool      `json:"replied_late,omitempty"`
	ReplyCount  int       `json:"reply_count,omitempty"`
	ApprovedAt  time.Time `json:"approved_at,omitzero"`
	RejectCount int       `json:"reject_count,omitempty"`

	// Revisit.
	Satisfaction    int       `json:"satisfaction,omitempty"` // 1–5, 0 = not rated
	Solved          *bool     `json:"solved,omitempty"`
	RevisitAttempts int       `json:"revisit_attempts,omitempty"`
	RevisitedAt     time.Time `json:"revisited_at,omitzero"`
	Unreachable     bool      `json:"unreachable,omitempty"`
	Dissatisfied    bool      `json:"dissatisfied,omitempty"` // revisit found the citizen unhappy; awaiting reopen or close
	ReopenCount     int       `json:"reopen_count,omitempty"`
	CitizenRating   int       `json:"citizen_rating,omitempty"` // the citizen's own 1–5 rating from the portal
	CitizenComment  string    `json:"citizen_comment,omitempty"`

	// Supervision.
	UrgeCount   int          `json:"urge_count,omitempty"`
	Supervision *Supervision `json:"supervision,omitempty"`
	Escalated   bool         `json:"escalated,omitempty"` // problem order: ≥3 reopens or ≥3 units passed it on

	MergedInto string   `json:"merged_into,omitempty"`
	Duplicates []string `json:"duplicates,omitempty"` // numbers merged into this one

	ClosedAt time.Time `json:"closed_at,omitzero"`
	Deadlines
	Version int `json:"version"`
	// LastHash is the hash of the newest event: it seals the event chain so
	// that deleting the last event is detected too.
	LastHash string `json:"-"`
	EventSeq int    `json:"-"`
}

// ActiveDue is the due time of the clock that matters now, zero if none runs.
func (t *Ticket) ActiveDue() time.Time {
	switch t.State {
	case Registered:
		return t.DispatchDue
	case Dispatched:
		if !t.SignDue.IsZero() && (t.ReplyDue.IsZero() || t.SignDue.Before(t.ReplyDue)) {
			return t.SignDue
		}
		return t.ReplyDue
	case Processing, ReplyPending:
		return t.ReplyDue
	case RevisitPending:
		return t.RevisitDue
	}
	return time.Time{}
}

// Overdue reports whether the active clock has run out at now.
func (t *Ticket) Overdue(now time.Time) bool {
	d := t.ActiveDue()
	return !d.IsZero() && now.After(d)
}

// Warning levels.
const (
	WarnNone   = "none"
	WarnYellow = "yellow"
	WarnRed    = "red"
)

// CanSee reports whether u may see the order at all. Hotline staff see
// every order; unit users see orders held by, led by or assisted by their
// unit or any unit below it.
func (t *Ticket) CanSee(u *hotline.User, units *UnitTree) bool {
	if u == nil {
		return false
	}
	if u.Has(hotline.RoleAdmin, hotline.RoleAgent, hotline.RoleDispatcher, hotline.RoleRevisitor,
		hotline.RoleSupervisor, hotline.RoleAnalyst) {
		return true
	}
	if !u.Has(hotline.RoleUnit) || u.UnitID == 0 {
		return false
	}
	for _, id := range t.unitIDs() {
		if units.Within(id, u.UnitID) {
			return true
		}
	}
	return false
}

func (t *Ticket) unitIDs() []int64 {
	ids := make([]int64, 0, 2+len(t.AssistUnitIDs))
	if t.HandlerUnitID != 0 {
		ids = append(ids, t.HandlerUnitID)
	}
	if t.LeadUnitID != 0 {
		ids = append(ids, t.LeadUnitID)
	}
	return append(ids, t.AssistUnitIDs...)
}

// ViewFor returns the order as u may see it: confidential citizens masked
// for unit users, the query code only for hotline staff.
func (t *Ticket) ViewFor(u *hotline.User) *Ticket {
	c := *t
	c.AssistUnitIDs = slices.Clone(t.AssistUnitIDs)
	staff := u.Has(hotline.RoleAdmin, hotline.RoleAgent, hotline.RoleDispatcher, hotline.RoleRevisitor, hotline.RoleSupervisor)
	if !staff {
		c.QueryCode = ""
		c.Citizen = t.Citizen.Masked()
	}
	return &c
}
