package ticket

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/calendar"
)

// Action names a step of the lifecycle; it is also the last segment of the
// API path POST /api/v1/tickets/{number}/{action}.
type Action string

const (
	ActRegister         Action = "register"
	ActAnswer           Action = "answer"            // 直接答复 at intake → closed
	ActDispose          Action = "dispose"           // out of scope: legal route, 110/119/120/122
	ActDispatch         Action = "dispatch"          // 派单
	ActRedispatch       Action = "redispatch"        // 转派 by the hotline while a unit holds it
	ActSubDispatch      Action = "sub-dispatch"      // 二级派单 by a unit to its sub-unit
	ActSign             Action = "sign"              // 签收
	ActContact          Action = "contact"           // 先行联系
	ActReturn           Action = "return"            // 退单
	ActApproveReturn    Action = "approve-return"    // → re-dispatch (or back to the dispatch queue)
	ActRefuseReturn     Action = "refuse-return"     // → unit keeps it
	ActRequestExtension Action = "request-extension" // 延期申请
	ActApproveExtension Action = "approve-extension"
	ActRefuseExtension  Action = "refuse-extension"
	ActReply            Action = "reply"         // 答复
	ActApproveReply     Action = "approve-reply" // 审核通过 → revisit
	ActRejectReply      Action = "reject-reply"  // 退回重答
	ActRevisit          Action = "revisit"       // 回访
	ActReopen           Action = "reopen"        // 重办
	ActClose            Action = "close"         // close after a dissatisfied revisit the hotline accepts
	ActUrge             Action = "urge"          // 催办
	ActSupervise        Action = "supervise"     // 督办
	ActMerge            Action = "merge"         // 并单 (this order is the duplicate)
	ActMergedFrom       Action = "merged-from"   // recorded on the master order
	ActWithdraw         Action = "withdraw"      // 撤单
	ActComment          Action = "comment"       // 补充
	ActRate             Action = "rate"          // the citizen's own rating from the portal
	ActRecompute        Action = "recompute"     // deadlines recomputed after a calendar year was loaded
)

// ActionNames gives each action's Chinese name, for timelines.
var ActionNames = map[Action]string{
	ActRegister: "受理", ActAnswer: "直接答复", ActDispose: "不予受理/转办", ActDispatch: "派单",
	ActRedispatch: "改派", ActSubDispatch: "二级派单", ActSign: "签收", ActContact: "先行联系",
	ActReturn: "退单", ActApproveReturn: "同意退单", ActRefuseReturn: "驳回退单",
	ActRequestExtension: "申请延期", ActApproveExtension: "同意延期", ActRefuseExtension: "驳回延期",
	ActReply: "答复", ActApproveReply: "审核通过", ActRejectReply: "退回重办", ActRevisit: "回访",
	ActReopen: "重办", ActClose: "办结", ActUrge: "催办", ActSupervise: "督办", ActMerge: "并单",
	ActMergedFrom: "并入重复件", ActWithdraw: "撤单", ActComment: "补充说明", ActRate: "市民评价",
	ActRecompute: "重算时限",
}

// Actions lists the actions a client may post (register, merged-from and
// recompute are done by the platform itself).
var Actions = []Action{ActAnswer, ActDispose, ActDispatch, ActRedispatch, ActSubDispatch, ActSign, ActContact,
	ActReturn, ActApproveReturn, ActRefuseReturn, ActRequestExtension, ActApproveExtension, ActRefuseExtension,
	ActReply, ActApproveReply, ActRejectReply, ActRevisit, ActReopen, ActClose, ActUrge, ActSupervise,
	ActMerge, ActWithdraw, ActComment, ActRate}

// Limits on free text, in characters.
const (
	MaxTitle   = 200
	MaxContent = 10000
	MaxText    = 5000
)

// Clock is the working-time calendar as the lifecycle needs it.
type Clock interface {
	Add(t time.Time, s calendar.Span) (time.Time, bool)
	WorkingDuration(from, to time.Time) time.Duration
}

// Env is everything outside the order that a step depends on.
type Env struct {
	Now      time.Time
	Calendar Clock
	Policy   Policy
	Units    *UnitTree
}

// Command asks for one step. User is the acting staff member; Citizen is set
// instead when the citizen acts through the portal with the query code.
type Command struct {
	Action  Action
	User    *hotline.User
	Citizen bool
	Version int

	Content       string
	Reason        string
	LeadUnitID    int64
	AssistUnitIDs []int64
	UnitID        int64 // sub-dispatch target
	Result        Result
	WorkingDays   int
	Satisfaction  int
	Solved        *bool
	Unreachable   bool
	Due           time.Time
	Into          string // merge: the master order's number
	Disposition   Disposition
	ArticleID     int64
	// SuggestedUnitID is the unit the dispatch catalogue proposed when the
	// order is first dispatched (filled in by storage), kept to measure how
	// often dispatchers follow the suggestion.
	SuggestedUnitID int64
}

// Draft is a new request as registered by an agent, the portal or a channel.
type Draft struct {
	Channel      Channel  `json:"channel"`
	Type         Type     `json:"type"`
	Urgency      Urgency  `json:"urgency"`
	Title        string   `json:"title"`
	Content      string   `json:"content"`
	CategoryCode string   `json:"category_code"`
	Citizen      Citizen  `json:"citizen"`
	Address      string   `json:"address"`
	Lat          *float64 `json:"lat"`
	Lng          *float64 `json:"lng"`
	RegionUnitID int64    `json:"region_unit_id"`
	CallID       string   `json:"call_id"`
	// SuggestedCategory is the category code smart dispatch proposed first
	// for this text when it was registered (optional; the desk fills it).
	SuggestedCategory string `json:"suggested_category,omitempty"`
}

func invalid(zh, en string, args ...any) error {
	return hotline.Errorf(hotline.EINVALID, zh, en, args...)
}

func checkText(field, zhField, s string, max int, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return invalid("%s不能为空", "%s is required", zhField, field)
	}
	if !utf8.ValidString(s) {
		return invalid("%s包含无效字符", "%s is not valid UTF-8", zhField, field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return invalid("%s过长（最多%d字，实际%d字）", "%s is too long (at most %d characters, got %d)", zhField, max, n, field, max, n)
	}
	return nil
}

// Validate checks a draft. Phone numbers are checked by the caller (the
// adapter that knows the number format rules); here only presence.
func (d *Draft) Validate() error {
	if d.Urgency == "" {
		d.Urgency = Normal
	}
	if !d.Channel.Valid() {
		return invalid("未知的受理渠道：%q", "unknown channel %q", d.Channel)
	}
	if !d.Type.Valid() {
		return invalid("未知的诉求类型：%q", "unknown request type %q", d.Type)
	}
	if !d.Urgency.Valid() {
		return invalid("未知的紧急程度：%q", "unknown urgency %q", d.Urgency)
	}
	d.Title = strings.TrimSpace(d.Title)
	if err := checkText("title", "标题", d.Title, MaxTitle, true); err != nil {
		return err
	}
	if err := checkText("content", "诉求内容", d.Content, MaxContent, true); err != nil {
		return err
	}
	if err := checkText("address", "地址", d.Address, 500, false); err != nil {
		return err
	}
	if err := checkText("citizen.name", "诉求人姓名", d.Citizen.Name, 100, false); err != nil {
		return err
	}
	phone, err := NormalizePhone(d.Citizen.Phone)
	if err != nil {
		return err
	}
	d.Citizen.Phone = phone
	if (d.Lat == nil) != (d.Lng == nil) || d.Lat != nil && (*d.Lat < -90 || *d.Lat > 90 || *d.Lng < -180 || *d.Lng > 180) {
		return invalid("经纬度无效", "lat/lng must both be given and lie in range")
	}
	if len(d.CallID) > 100 {
		return invalid("通话编号过长", "call_id is too long")
	}
	if len(d.SuggestedCategory) > 20 || strings.Trim(d.SuggestedCategory, "0123456789") != "" {
		return invalid("建议分类须为分类编码（数字）", "suggested_category must be a category code (digits)")
	}
	return nil
}

// Register creates an order from a validated draft; the storage assigns id,
// number and query code before sealing the event.
func Register(d Draft, user *hotline.User, env Env) (*Ticket, []Event, error) {
	if err := d.Validate(); err != nil {
		return nil, nil, err
	}
	now := env.Now.Truncate(time.Millisecond)
	t := &Ticket{
		Channel: d.Channel, Type: d.Type, Urgency: d.Urgency, Title: d.Title, Content: d.Content,
		CategoryCode: d.CategoryCode, Citizen: d.Citizen, Address: d.Address, Lat: d.Lat, Lng: d.Lng,
		RegionUnitID: d.RegionUnitID, CallID: d.CallID, State: Registered, CreatedAt: now, UpdatedAt: now, Version: 1,
		SuggestedCategory: d.SuggestedCategory,
	}
	actor := actorOf(user, false, "")
	if user != nil {
		t.CreatedBy = user.ID
		if !user.Has(hotline.RoleAgent, hotline.RoleAdmin, hotline.RoleDispatcher) {
			return nil, nil, hotline.Errorf(hotline.EFORBIDDEN, "只有话务员可以登记工单", "only call-takers may register orders")
		}
		actor.role = string(firstRole(user, hotline.RoleAgent, hotline.RoleDispatcher, hotline.RoleAdmin))
	} else {
		actor.role = "citizen"
		actor.name = "市民"
	}
	limits := env.Policy.For(t.Type, t.Urgency, t.CategoryCode)
	var err error
	if t.DispatchDue, t.Provisional, err = due(env, now, limits.Dispatch); err != nil {
		return nil, nil, err
	}
	t.WarnAt = yellowAt(t, env, now)
	ev := newEvent(ActRegister, actor, now, "", Registered, d.Title, map[string]any{"channel": d.Channel, "type": d.Type, "urgency": d.Urgency})
	return t, []Event{ev}, nil
}

func due(env Env, from time.Time, span string) (time.Time, bool, error) {
	if span == "" {
		return time.Time{}, false, nil
	}
	s, err := calendar.ParseSpan(span)
	if err != nil {
		return time.Time{}, false, err
	}
	d, prov := env.Calendar.Add(from, s)
	return d, prov, nil
}

type actor struct {
	id     int64
	name   string
	role   string
	unitID int64
}

func actorOf(u *hotline.User, citizen bool, role hotline.Role) actor {
	if citizen || u == nil {
		return actor{name: "市民", role: "citizen"}
	}
	return actor{id: u.ID, name: u.Name, role: string(role), unitID: u.UnitID}
}

func firstRole(u *hotline.User, roles ...hotline.Role) hotline.Role {
	for _, r := range roles {
		if u.Has(r) {
			return r
		}
	}
	return ""
}

func newEvent(a Action, ac actor, at time.Time, from, to State, text string, data map[string]any) Event {
	e := Event{Action: a, ActorID: ac.id, ActorName: ac.name, Role: ac.role, UnitID: ac.unitID, At: at, From: from, To: to, Text: text}
	if len(data) > 0 {
		e.Data, _ = json.Marshal(data)
	}
	return e
}

// who may do what (besides state rules). Unit actions additionally need the
// order to be held by the user's unit or a unit below it.
var permissions = map[Action][]hotline.Role{
	ActAnswer:           {hotline.RoleAgent, hotline.RoleDispatcher},
	ActDispose:          {hotline.RoleAgent, hotline.RoleDispatcher},
	ActDispatch:         {hotline.RoleDispatcher, hotline.RoleAgent},
	ActRedispatch:       {hotline.RoleDispatcher},
	ActSubDispatch:      {hotline.RoleUnit},
	ActSign:             {hotline.RoleUnit},
	ActContact:          {hotline.RoleUnit},
	ActReturn:           {hotline.RoleUnit},
	ActApproveReturn:    {hotline.RoleDispatcher},
	ActRefuseReturn:     {hotline.RoleDispatcher},
	ActRequestExtension: {hotline.RoleUnit},
	ActApproveExtension: {hotline.RoleDispatcher},
	ActRefuseExtension:  {hotline.RoleDispatcher},
	ActReply:            {hotline.RoleUnit},
	ActApproveReply:     {hotline.RoleDispatcher},
	ActRejectReply:      {hotline.RoleDispatcher},
	ActRevisit:          {hotline.RoleRevisitor},
	ActReopen:           {hotline.RoleRevisitor, hotline.RoleDispatcher, hotline.RoleSupervisor},
	ActClose:            {hotline.RoleRevisitor, hotline.RoleDispatcher, hotline.RoleSupervisor},
	ActUrge:             {hotline.RoleSupervisor, hotline.RoleDispatcher},
	ActSupervise:        {hotline.RoleSupervisor},
	ActMerge:            {hotline.RoleDispatcher, hotline.RoleAgent},
	ActWithdraw:         {hotline.RoleAgent, hotline.RoleDispatcher},
	ActComment:          {hotline.RoleAgent, hotline.RoleDispatcher, hotline.RoleUnit, hotline.RoleRevisitor, hotline.RoleSupervisor, hotline.RoleAdmin},
}

// citizenActions may be done by the citizen through the portal.
var citizenActions = []Action{ActWithdraw, ActComment, ActRate}

// unitActions need the order to be held by the acting unit.
var unitActions = []Action{ActSubDispatch, ActSign, ActContact, ActReturn, ActRequestExtension, ActReply}

// from which states each action is allowed.
var allowedFrom = map[Action][]State{
	ActAnswer:           {Registered},
	ActDispose:          {Registered},
	ActDispatch:         {Registered},
	ActRedispatch:       {Dispatched, Processing},
	ActSubDispatch:      {Dispatched, Processing},
	ActSign:             {Dispatched},
	ActContact:          {Processing},
	ActReturn:           {Dispatched, Processing},
	ActApproveReturn:    {ReturnPending},
	ActRefuseReturn:     {ReturnPending},
	ActRequestExtension: {Processing},
	ActApproveExtension: {Processing, ReplyPending},
	ActRefuseExtension:  {Processing, ReplyPending},
	ActReply:            {Processing},
	ActApproveReply:     {ReplyPending},
	ActRejectReply:      {ReplyPending},
	ActRevisit:          {RevisitPending},
	ActReopen:           {RevisitPending, Closed},
	ActClose:            {RevisitPending},
	ActUrge:             {Registered, Dispatched, Processing, ReturnPending, ReplyPending},
	ActSupervise:        {Registered, Dispatched, Processing, ReturnPending, ReplyPending, RevisitPending},
	ActMerge:            {Registered, Dispatched, Processing},
	ActWithdraw:         {Registered, Dispatched, Processing, ReturnPending, ReplyPending},
	ActComment:          {Registered, Dispatched, Processing, ReturnPending, ReplyPending, RevisitPending, Closed},
	ActRate:             {RevisitPending, Closed},
}

func forbidden(a Action) error {
	return hotline.Errorf(hotline.EFORBIDDEN, "您无权执行“%s”操作", "you are not allowed to %s this order", ActionNames[a], string(a))
}

// Allowed reports whether u may do action a on t in its current state (the
// desks show only these actions). It does not validate the command's fields.
func Allowed(t *Ticket, a Action, u *hotline.User, units *UnitTree) bool {
	_, err := authorize(t, Command{Action: a, User: u}, units)
	if err != nil {
		return false
	}
	return slices.Contains(allowedFrom[a], t.State) && extraStateRule(t, a) == nil
}

func authorize(t *Ticket, cmd Command, units *UnitTree) (actor, error) {
	a := cmd.Action
	if cmd.Citizen {
		if !slices.Contains(citizenActions, a) {
			return actor{}, forbidden(a)
		}
		return actorOf(nil, true, ""), nil
	}
	u := cmd.User
	if u == nil {
		return actor{}, hotline.Errorf(hotline.EUNAUTHORIZED, "请先登录", "please sign in")
	}
	roles := permissions[a]
	if a == ActRate {
		return actor{}, forbidden(a)
	}
	// Administrators may do every hotline-side action (not a unit's own work).
	if u.Has(hotline.RoleAdmin) && !slices.Contains(unitActions, a) {
		return actorOf(u, false, hotline.RoleAdmin), nil
	}
	role := firstRole(u, roles...)
	if role == "" {
		return actor{}, forbidden(a)
	}
	if role == hotline.RoleUnit {
		if u.UnitID == 0 {
			return actor{}, forbidden(a)
		}
		held := t.HandlerUnitID
		if held == 0 {
			held = t.LeadUnitID
		}
		ok := units.Within(held, u.UnitID)
		if a == ActComment {
			ok = t.CanSee(u, units)
		}
		if !ok {
			return actor{}, hotline.Errorf(hotline.EFORBIDDEN, "该工单不由贵单位承办", "this order is not held by your unit")
		}
	}
	return actorOf(u, false, role), nil
}

func extraStateRule(t *Ticket, a Action) error {
	switch a {
	case ActRequestExtension:
		if t.Extension != nil {
			return hotline.Errorf(hotline.EUNPROCESSABLE, "已有待审核的延期申请", "an extension request is already pending")
		}
	case ActApproveExtension, ActRefuseExtension:
		if t.Extension == nil {
			return hotline.Errorf(hotline.EUNPROCESSABLE, "没有待审核的延期申请", "there is no pending extension request")
		}
	case ActClose:
		if !t.Dissatisfied {
			return hotline.Errorf(hotline.EUNPROCESSABLE, "请先完成回访", "record the revisit first")
		}
	case ActRate:
		if t.CitizenRating != 0 {
			return hotline.Errorf(hotline.EUNPROCESSABLE, "您已评价过该工单", "this order has already been rated")
		}
	case ActReopen:
		if t.State == Closed && (t.Disposition != "" || t.AnsweredAtIntake || t.LeadUnitID == 0) {
			return hotline.Errorf(hotline.EUNPROCESSABLE, "该工单未派单，不能重办", "this order was never dispatched and cannot be reopened")
		}
	}
	return nil
}

// Apply performs cmd on a copy of t and returns the changed order and the
// events to append (not yet sealed). t itself is never modified. The
// command's Version must equal the order's.
func Apply(t *Ticket, cmd Command, env Env) (*Ticket, []Event, error) {
	a := cmd.Action
	if _, ok := allowedFrom[a]; !ok {
		return nil, nil, hotline.Errorf(hotline.ENOTFOUND, "未知的操作：%q", "unknown action %q", string(a))
	}
	ac, err := authorize(t, cmd, env.Units)
	if err != nil {
		return nil, nil, err
	}
	if cmd.Version != t.Version {
		return nil, nil, hotline.Errorf(hotline.ECONFLICT, "工单已被他人修改（当前版本 %d），请刷新后重试",
			"the order was changed by someone else (now version %d); reload and retry", t.Version, t.Version)
	}
	if !slices.Contains(allowedFrom[a], t.State) {
		return nil, nil, hotline.Errorf(hotline.EUNPROCESSABLE, "工单当前状态为“%s”，不能执行“%s”",
			"cannot %s an order in state %s", StateNames[t.State], ActionNames[a], string(a), string(t.State))
	}
	if err := extraStateRule(t, a); err != nil {
		return nil, nil, err
	}
	for _, f := range []struct{ en, zh, v string }{{"content", "内容", cmd.Content}, {"reason", "理由", cmd.Reason}} {
		if err := checkText(f.en, f.zh, f.v, MaxText, false); err != nil {
			return nil, nil, err
		}
	}
	n := clone(t)
	now := env.Now.Truncate(time.Millisecond)
	s := &step{t: n, cmd: cmd, env: env, now: now, actor: ac}
	if err := s.run(); err != nil {
		return nil, nil, err
	}
	n.UpdatedAt = now
	n.Version++
	if !n.ActiveDue().Equal(t.ActiveDue()) || n.State != t.State {
		n.WarnAt = yellowAt(n, env, now)
	}
	ev := newEvent(a, ac, now, t.State, n.State, s.text, s.data)
	return n, append([]Event{ev}, s.extra...), nil
}

func clone(t *Ticket) *Ticket {
	n := *t
	n.AssistUnitIDs = slices.Clone(t.AssistUnitIDs)
	n.Duplicates = slices.Clone(t.Duplicates)
	if t.Extension != nil {
		e := *t.Extension
		n.Extension = &e
	}
	if t.Supervision != nil {
		s := *t.Supervision
		n.Supervision = &s
	}
	if t.Solved != nil {
		b := *t.Solved
		n.Solved = &b
	}
	return &n
}

type step struct {
	t     *Ticket
	cmd   Command
	env   Env
	now   time.Time
	actor actor
	text  string
	data  map[string]any
	extra []Event
}

func (s *step) require(v, en, zh string) error {
	if strings.TrimSpace(v) == "" {
		return invalid("请填写%s", "%s is required", zh, en)
	}
	return nil
}

func (s *step) run() error {
	t, c := s.t, s.cmd
	switch c.Action {
	case ActAnswer:
		if err := s.require(c.Content, "content", "答复内容"); err != nil {
			return err
		}
		t.AnsweredAtIntake = true
		t.ArticleID = c.ArticleID
		t.Reply, t.Result, t.RepliedAt = c.Content, Explained, s.now
		s.close()
		s.text = c.Content
		if c.ArticleID != 0 {
			s.data = map[string]any{"article_id": c.ArticleID}
		}
	case ActDispose:
		if _, ok := DispositionNames[c.Disposition]; !ok {
			return invalid("请选择处置方式（告知法定途径或转110/119/120/122）", "disposition must be one of legal_route, transfer_110, transfer_119, transfer_120, transfer_122")
		}
		t.Disposition = c.Disposition
		t.Reply = c.Content
		s.close()
		s.text = DispositionNames[c.Disposition] + " " + c.Content
		s.data = map[string]any{"disposition": c.Disposition}
	case ActDispatch, ActRedispatch:
		if t.FirstUnitID == 0 && c.SuggestedUnitID != 0 {
			t.SuggestedUnitID = c.SuggestedUnitID
		}
		return s.dispatch(c.LeadUnitID, c.AssistUnitIDs)
	case ActSubDispatch:
		if !s.env.Units.Exists(c.UnitID) || c.UnitID == s.actor.unitID || !s.env.Units.Within(c.UnitID, s.actor.unitID) {
			return invalid("只能派给本单位的下级单位", "an order can only be sub-dispatched to a unit below yours")
		}
		t.HandlerUnitID = c.UnitID
		t.State = Dispatched
		t.SignedAt = time.Time{}
		l := s.limits()
		var p bool
		t.SignDue, p, _ = due(s.env, s.now, l.Sign)
		t.Provisional = t.Provisional || p
		s.text = c.Content
		s.data = map[string]any{"unit_id": c.UnitID}
	case ActSign:
		t.State = Processing
		t.SignedAt = s.now
		t.SignDue = time.Time{}
	case ActContact:
		if err := s.require(c.Content, "content", "联系情况"); err != nil {
			return err
		}
		if t.ContactedAt.IsZero() {
			t.ContactedAt = s.now
		}
		t.ContactDue = time.Time{}
		s.text = c.Content
	case ActReturn:
		if err := s.require(c.Reason, "reason", "退单理由"); err != nil {
			return err
		}
		late := false
		if t.DispatchedAt.IsZero() {
			late = false
		} else if end, _, err := due(s.env, t.DispatchedAt, s.env.Policy.ReturnWindow); err == nil && !end.IsZero() && s.now.After(end) {
			late = true
		}
		t.ReturnFrom = t.State
		t.State = ReturnPending
		t.ReturnReason = c.Reason
		t.ReturnCount++
		t.ClockStoppedAt = s.now
		s.text = c.Reason
		s.data = map[string]any{"late": late, "unit_id": t.HandlerUnitID}
	case ActApproveReturn:
		t.ClockStoppedAt = time.Time{}
		s.text = c.Reason
		if c.LeadUnitID != 0 {
			return s.dispatch(c.LeadUnitID, c.AssistUnitIDs)
		}
		// Back to the dispatch queue; a fresh dispatch clock starts now.
		t.State = Registered
		t.HandlerUnitID, t.LeadUnitID, t.AssistUnitIDs = 0, 0, nil
		t.SignDue, t.ContactDue, t.ReplyDue, t.ReplyStart = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		var p bool
		t.DispatchDue, p, _ = due(s.env, s.now, s.limits().Dispatch)
		t.Provisional = t.Provisional || p
	case ActRefuseReturn:
		if err := s.require(c.Reason, "reason", "驳回理由"); err != nil {
			return err
		}
		// The unit keeps the order; its clocks resume, shifted by the working
		// time the return was pending.
		paused := s.env.Calendar.WorkingDuration(t.ClockStoppedAt, s.now)
		t.SignDue = s.shift(t.SignDue, paused)
		t.ContactDue = s.shift(t.ContactDue, paused)
		t.ReplyDue = s.shift(t.ReplyDue, paused)
		t.State, t.ReturnFrom, t.ClockStoppedAt = t.ReturnFrom, "", time.Time{}
		s.text = c.Reason
	case ActRequestExtension:
		if err := s.require(c.Reason, "reason", "延期理由"); err != nil {
			return err
		}
		max := s.env.Policy.MaxExtensionDays
		if c.WorkingDays < 1 || c.WorkingDays+t.ExtendedDays > max {
			return invalid("延期天数须为1至%d个工作日（已延期%d个工作日）", "working_days must be 1..%d in total (already extended %d)",
				max-t.ExtendedDays, t.ExtendedDays, max-t.ExtendedDays, t.ExtendedDays)
		}
		t.Extension = &Extension{WorkingDays: c.WorkingDays, Reason: c.Reason, RequestedAt: s.now, UnitID: s.actor.unitID}
		t.ExtensionsAsk++
		s.text = c.Reason
		s.data = map[string]any{"working_days": c.WorkingDays}
	case ActApproveExtension:
		days := t.Extension.WorkingDays
		span := calendar.Span{N: days, Unit: calendar.WorkingDays}
		d, p := s.env.Calendar.Add(t.ReplyDue, span)
		t.ReplyDue, t.Provisional = d, t.Provisional || p
		t.ExtendedDays += days
		t.Extension = nil
		s.text = c.Reason
		s.data = map[string]any{"working_days": days, "reply_due": d}
	case ActRefuseExtension:
		if err := s.require(c.Reason, "reason", "驳回理由"); err != nil {
			return err
		}
		t.Extension = nil
		s.text = c.Reason
	case ActReply:
		if _, ok := ResultNames[c.Result]; !ok {
			return invalid("请选择办理结果（已解决、解释说明或未解决）", "result must be solved, explained or unsolved")
		}
		if err := s.require(c.Content, "content", "答复内容"); err != nil {
			return err
		}
		t.State = ReplyPending
		t.Result, t.Reply, t.RepliedAt = c.Result, c.Content, s.now
		t.ReplyCount++
		t.RepliedLate = !t.ReplyDue.IsZero() && s.now.After(t.ReplyDue)
		t.Extension = nil
		s.text = c.Content
		s.data = map[string]any{"result": c.Result, "late": t.RepliedLate}
	case ActApproveReply:
		t.State = RevisitPending
		t.ApprovedAt = s.now
		var p bool
		t.RevisitDue, p, _ = due(s.env, s.now, s.limits().Revisit)
		t.Provisional = t.Provisional || p
		t.Dissatisfied, t.RevisitAttempts = false, 0
		s.text = c.Content
	case ActRejectReply:
		if err := s.require(c.Reason, "reason", "退回理由"); err != nil {
			return err
		}
		t.State = Processing
		t.RejectCount++
		s.text = c.Reason
	case ActRevisit:
		return s.revisit()
	case ActReopen:
		t.ReopenCount++
		if t.ReopenCount >= s.env.Policy.EscalateAfter && s.env.Policy.EscalateAfter > 0 {
			t.Escalated = true
		}
		t.State = Dispatched
		t.HandlerUnitID = t.LeadUnitID
		t.ClosedAt, t.Dissatisfied, t.SignedAt = time.Time{}, false, time.Time{}
		t.RevisitDue = time.Time{}
		s.startClocks(false)
		s.text = c.Reason + c.Content
		s.data = map[string]any{"reopen_count": t.ReopenCount}
	case ActClose:
		s.close()
		s.text = c.Reason + c.Content
	case ActUrge:
		t.UrgeCount++
		s.text = c.Content
	case ActSupervise:
		if err := s.require(c.Content, "content", "督办意见"); err != nil {
			return err
		}
		if c.Due.IsZero() || !c.Due.After(s.now) {
			return invalid("督办期限必须晚于当前时间", "supervision due must be in the future")
		}
		t.Supervision = &Supervision{Content: c.Content, Due: c.Due.Truncate(time.Millisecond), At: s.now, By: s.actor.name}
		s.text = c.Content
		s.data = map[string]any{"due": t.Supervision.Due}
	case ActMerge:
		if strings.TrimSpace(c.Into) == "" || c.Into == t.Number {
			return invalid("请指定另一张主工单", "into must name another (master) order")
		}
		t.State = Merged
		t.MergedInto = c.Into
		s.stopClocks()
		s.text = c.Content
		s.data = map[string]any{"into": c.Into}
	case ActWithdraw:
		t.State = Withdrawn
		t.ClosedAt = s.now
		s.stopClocks()
		s.text = c.Reason + c.Content
	case ActComment:
		if err := s.require(c.Content, "content", "补充内容"); err != nil {
			return err
		}
		s.text = c.Content
	case ActRate:
		if c.Satisfaction < 1 || c.Satisfaction > 5 {
			return invalid("评价须为1至5", "satisfaction must be 1..5")
		}
		t.CitizenRating, t.CitizenComment = c.Satisfaction, c.Content
		s.text = c.Content
		s.data = map[string]any{"satisfaction": c.Satisfaction}
	}
	return nil
}

func (s *step) limits() Limits { return s.env.Policy.For(s.t.Type, s.t.Urgency, s.t.CategoryCode) }

func (s *step) shift(d time.Time, by time.Duration) time.Time {
	if d.IsZero() || by <= 0 {
		return d
	}
	mins := int(by / time.Minute)
	if mins == 0 {
		return d
	}
	nd, p := s.env.Calendar.Add(d, calendar.Span{N: mins, Unit: calendar.WorkingMinutes})
	s.t.Provisional = s.t.Provisional || p
	return nd
}

func (s *step) dispatch(lead int64, assist []int64) error {
	t, units := s.t, s.env.Units
	if !units.Exists(lead) {
		return invalid("请选择有效的主办单位", "lead_unit_id must name an existing unit")
	}
	seen := map[int64]bool{lead: true}
	var clean []int64
	for _, id := range assist {
		if !units.Exists(id) {
			return invalid("协办单位 %d 不存在", "assisting unit %d does not exist", id, id)
		}
		if !seen[id] {
			seen[id] = true
			clean = append(clean, id)
		}
	}
	if len(clean) > 10 {
		return invalid("协办单位最多10个", "at most 10 assisting units")
	}
	if t.FirstUnitID == 0 {
		t.FirstUnitID = lead
	}
	t.LeadUnitID, t.HandlerUnitID, t.AssistUnitIDs = lead, lead, clean
	t.DispatchCount++
	if t.DispatchCount >= 1+s.env.Policy.EscalateAfter && s.env.Policy.EscalateAfter > 0 {
		t.Escalated = true // passed on between ≥3 units
	}
	t.State = Dispatched
	t.DispatchedAt = s.now
	t.DispatchDue = time.Time{}
	t.SignedAt, t.ContactedAt = time.Time{}, time.Time{}
	t.Extension, t.ExtendedDays = nil, 0
	s.startClocks(true)
	s.data = map[string]any{"lead_unit_id": lead, "assist_unit_ids": clean, "dispatch_count": t.DispatchCount}
	if s.text == "" {
		s.text = s.cmd.Content
	}
	return nil
}

// startClocks starts sign and reply clocks (and first contact when contact
// is true) from now: dispatch and re-dispatch start fresh clocks, a reopen
// starts a new reply clock.
func (s *step) startClocks(contact bool) {
	t, l := s.t, s.limits()
	var p1, p2, p3 bool
	t.SignDue, p1, _ = due(s.env, s.now, l.Sign)
	t.ReplyDue, p2, _ = due(s.env, s.now, l.Reply)
	if contact {
		t.ContactDue, p3, _ = due(s.env, s.now, l.Contact)
	}
	t.ReplyStart = s.now
	t.Provisional = p1 || p2 || p3
}

func (s *step) stopClocks() {
	s.t.DispatchDue, s.t.SignDue, s.t.ContactDue, s.t.ReplyDue, s.t.RevisitDue = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
}

func (s *step) close() {
	s.t.State = Closed
	s.t.ClosedAt = s.now
	s.stopClocks()
}

func (s *step) revisit() error {
	t, c := s.t, s.cmd
	t.RevisitAttempts++
	if c.Unreachable {
		t.Unreachable = true
		s.text = c.Content
		s.data = map[string]any{"unreachable": true, "attempt": t.RevisitAttempts}
		if t.RevisitAttempts >= s.env.Policy.RevisitAttempts {
			s.close() // 多次联系不上: closed as unreachable
		}
		return nil
	}
	if c.Satisfaction < 1 || c.Satisfaction > 5 {
		return invalid("请记录满意度（1非常不满意至5非常满意）", "satisfaction must be 1 (very dissatisfied) .. 5 (very satisfied)")
	}
	if c.Solved == nil {
		return invalid("请记录问题是否解决", "solved (true/false) is required")
	}
	t.Unreachable = false
	t.Satisfaction = c.Satisfaction
	b := *c.Solved
	t.Solved = &b
	t.RevisitedAt = s.now
	s.text = c.Content
	s.data = map[string]any{"satisfaction": c.Satisfaction, "solved": b}
	if c.Satisfaction <= 2 {
		// Not satisfied: the order waits for the hotline to reopen it to the
		// unit or to close it with a reason.
		t.Dissatisfied = true
		t.RevisitDue = time.Time{}
		return nil
	}
	s.close()
	return nil
}

// Recompute recalculates the running clocks after the calendar changed (a
// new year loaded, an override). Only provisional orders need it.
func Recompute(t *Ticket, env Env) (*Ticket, []Event) {
	n := clone(t)
	s := &step{t: n, env: env, now: env.Now.Truncate(time.Millisecond)}
	l := s.limits()
	n.Provisional = false
	re := func(d *time.Time, from time.Time, span string) {
		if d.IsZero() || from.IsZero() {
			return
		}
		nd, p, err := due(env, from, span)
		if err == nil {
			*d = nd
			n.Provisional = n.Provisional || p
		}
	}
	re(&n.DispatchDue, n.CreatedAt, l.Dispatch)
	re(&n.ReplyDue, n.ReplyStart, l.Reply)
	if n.ExtendedDays > 0 && !n.ReplyDue.IsZero() {
		n.ReplyDue, _ = env.Calendar.Add(n.ReplyDue, calendar.Span{N: n.ExtendedDays, Unit: calendar.WorkingDays})
	}
	re(&n.SignDue, n.DispatchedAt, l.Sign)
	re(&n.ContactDue, n.DispatchedAt, l.Contact)
	re(&n.RevisitDue, n.ApprovedAt, l.Revisit)
	n.WarnAt = yellowAt(n, env, s.now)
	n.Version++
	n.UpdatedAt = s.now
	ev := newEvent(ActRecompute, actor{name: "系统", role: "system"}, s.now, t.State, n.State, "日历更新后重算时限", nil)
	return n, []Event{ev}
}
