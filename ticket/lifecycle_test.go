package ticket

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/calendar"
)

// The test city: a hotline, a district with a street below it, and a
// department.
var (
	units = NewUnitTree([]Unit{
		{ID: 1, Code: "hl", Name: "热线中心", Kind: "hotline"},
		{ID: 10, Code: "d1", Name: "江北区", Kind: "district"},
		{ID: 11, Code: "d1s1", Name: "滨江街道", ParentID: 10, Kind: "street"},
		{ID: 12, Code: "d1s2", Name: "江岸街道", ParentID: 10, Kind: "street"},
		{ID: 20, Code: "zjj", Name: "住建局", Kind: "department"},
	})
	agent      = &hotline.User{ID: 1, Name: "话务员甲", Roles: []hotline.Role{hotline.RoleAgent}}
	dispatcher = &hotline.User{ID: 2, Name: "派单员乙", Roles: []hotline.Role{hotline.RoleDispatcher}}
	district   = &hotline.User{ID: 3, Name: "区承办人", Roles: []hotline.Role{hotline.RoleUnit}, UnitID: 10}
	street     = &hotline.User{ID: 4, Name: "街道承办人", Roles: []hotline.Role{hotline.RoleUnit}, UnitID: 11}
	street2    = &hotline.User{ID: 5, Name: "另一街道", Roles: []hotline.Role{hotline.RoleUnit}, UnitID: 12}
	zjj        = &hotline.User{ID: 6, Name: "住建局承办人", Roles: []hotline.Role{hotline.RoleUnit}, UnitID: 20}
	revisitor  = &hotline.User{ID: 7, Name: "回访员", Roles: []hotline.Role{hotline.RoleRevisitor}}
	supervisor = &hotline.User{ID: 8, Name: "督办员", Roles: []hotline.Role{hotline.RoleSupervisor}}
	admin      = &hotline.User{ID: 9, Name: "管理员", Roles: []hotline.Role{hotline.RoleAdmin}}
	analyst    = &hotline.User{ID: 10, Name: "分析员", Roles: []hotline.Role{hotline.RoleAnalyst}}
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func env(now string) Env {
	return Env{Now: at(now), Calendar: calendar.Default(), Policy: DefaultPolicy(), Units: units}
}

func draft(ty Type) Draft {
	return Draft{Channel: Phone, Type: ty, Title: "滨江路夜间施工噪音扰民", Content: "每晚十一点后仍在施工，严重影响休息。",
		Citizen: Citizen{Name: "王小明", Phone: "13812345678"}}
}

func register(t *testing.T, now string, ty Type) *Ticket {
	t.Helper()
	tk, evs, err := Register(draft(ty), agent, env(now))
	if err != nil {
		t.Fatal(err)
	}
	tk.ID, tk.Number = 1, "N1"
	Seal(tk, evs)
	return tk
}

// do applies an action and fails the test if it is refused.
func do(t *testing.T, tk *Ticket, now string, u *hotline.User, c Command) *Ticket {
	t.Helper()
	c.User, c.Version = u, tk.Version
	n, evs, err := Apply(tk, c, env(now))
	if err != nil {
		t.Fatalf("%s by %s at %s: %v", c.Action, u.Name, now, err)
	}
	Seal(n, evs)
	return n
}

func refused(t *testing.T, tk *Ticket, now string, u *hotline.User, c Command, code string) {
	t.Helper()
	c.User = u
	if c.Version == 0 {
		c.Version = tk.Version
	}
	before := *tk
	_, _, err := Apply(tk, c, env(now))
	if got := hotline.ErrorCode(err); got != code {
		t.Fatalf("%s by %s: got error %q (%v), want %q", c.Action, u.Name, got, err, code)
	}
	if tk.Version != before.Version || tk.State != before.State {
		t.Fatal("a refused command changed the order")
	}
}

var yes, no = true, false

func TestHappyPath(t *testing.T) {
	// Wednesday 2026-11-18 16:04: the worked example of DOMAIN.md §5.
	tk := register(t, "2026-11-18T15:00:00+08:00", Complaint)
	if tk.State != Registered || tk.DispatchDue.IsZero() {
		t.Fatalf("registered: %+v", tk)
	}
	tk = do(t, tk, "2026-11-18T16:04:00+08:00", dispatcher, Command{Action: ActDispatch, LeadUnitID: 10, AssistUnitIDs: []int64{20, 20}})
	if tk.State != Dispatched || tk.HandlerUnitID != 10 || !slices.Equal(tk.AssistUnitIDs, []int64{20}) {
		t.Fatalf("dispatched: %+v", tk)
	}
	if want := at("2026-11-19T11:04:00+08:00"); !tk.SignDue.Equal(want) {
		t.Errorf("sign due = %s, want %s (4 working hours)", tk.SignDue, want)
	}
	if want := at("2026-11-25T17:30:00+08:00"); !tk.ReplyDue.Equal(want) {
		t.Errorf("reply due = %s, want %s (5 working days)", tk.ReplyDue, want)
	}
	if want := at("2026-11-19T17:30:00+08:00"); !tk.ContactDue.Equal(want) {
		t.Errorf("contact due = %s, want %s", tk.ContactDue, want)
	}
	tk = do(t, tk, "2026-11-19T09:00:00+08:00", district, Command{Action: ActSign})
	tk = do(t, tk, "2026-11-19T10:00:00+08:00", district, Command{Action: ActContact, Content: "已电话联系市民，约定明日现场查看"})
	tk = do(t, tk, "2026-11-23T10:00:00+08:00", district, Command{Action: ActReply, Result: Solved, Content: "已责令施工单位夜间停工"})
	if tk.State != ReplyPending || tk.RepliedLate {
		t.Fatalf("reply: %+v", tk)
	}
	tk = do(t, tk, "2026-11-23T11:00:00+08:00", dispatcher, Command{Action: ActApproveReply})
	if want := at("2026-11-24T17:30:00+08:00"); tk.State != RevisitPending || !tk.RevisitDue.Equal(want) {
		t.Fatalf("approve: state %s revisit due %s, want %s", tk.State, tk.RevisitDue, want)
	}
	tk = do(t, tk, "2026-11-24T09:00:00+08:00", revisitor, Command{Action: ActRevisit, Satisfaction: 5, Solved: &yes})
	if tk.State != Closed || tk.Satisfaction != 5 || tk.ClosedAt.IsZero() || !tk.ActiveDue().IsZero() {
		t.Fatalf("revisit: %+v", tk)
	}
	if tk.EventSeq != 7 {
		t.Fatalf("events = %d, want 7", tk.EventSeq)
	}
}

// stateFixtures builds an order in each state through the lifecycle.
func stateFixtures(t *testing.T) map[State]*Ticket {
	t.Helper()
	now := "2026-11-18T10:00:00+08:00"
	out := map[State]*Ticket{}
	reg := register(t, now, Complaint)
	out[Registered] = reg
	disp := do(t, reg, now, dispatcher, Command{Action: ActDispatch, LeadUnitID: 10})
	out[Dispatched] = disp
	proc := do(t, disp, now, district, Command{Action: ActSign})
	out[Processing] = proc
	out[ReturnPending] = do(t, proc, now, district, Command{Action: ActReturn, Reason: "不属于本区职责"})
	rp := do(t, proc, now, district, Command{Action: ActReply, Result: Solved, Content: "已处理"})
	out[ReplyPending] = rp
	rv := do(t, rp, now, dispatcher, Command{Action: ActApproveReply})
	out[RevisitPending] = rv
	out[Closed] = do(t, rv, now, revisitor, Command{Action: ActRevisit, Satisfaction: 4, Solved: &yes})
	out[Merged] = do(t, register(t, now, Complaint), now, dispatcher, Command{Action: ActMerge, Into: "N0"})
	out[Withdrawn] = do(t, register(t, now, Complaint), now, agent, Command{Action: ActWithdraw, Reason: "市民来电撤回"})
	return out
}

// actor and a valid command for each action, so that only state decides.
func validCommand(a Action) (*hotline.User, Command) {
	c := Command{Action: a}
	u := dispatcher
	switch a {
	case ActAnswer:
		u, c.Content = agent, "已按政策解答"
	case ActDispose:
		u, c.Disposition = agent, LegalRoute
	case ActDispatch, ActRedispatch:
		c.LeadUnitID = 20
	case ActSubDispatch:
		u, c.UnitID = district, 11
	case ActSign:
		u = district
	case ActContact:
		u, c.Content = district, "已联系"
	case ActReturn:
		u, c.Reason = district, "非本单位职责"
	case ActRefuseReturn, ActRefuseExtension, ActRejectReply:
		c.Reason = "理由"
	case ActRequestExtension:
		u, c.WorkingDays, c.Reason = district, 3, "需协调多部门"
	case ActReply:
		u, c.Result, c.Content = district, Solved, "已办理"
	case ActRevisit:
		u, c.Satisfaction, c.Solved = revisitor, 5, &yes
	case ActReopen, ActClose:
		u, c.Reason = revisitor, "市民不满意"
	case ActUrge:
		u, c.Content = supervisor, "请尽快办理"
	case ActSupervise:
		u, c.Content, c.Due = supervisor, "限期办结", at("2026-12-30T17:30:00+08:00")
	case ActMerge:
		c.Into = "N0"
	case ActWithdraw:
		u = agent
	case ActComment:
		u, c.Content = agent, "市民补充：现场有照片"
	case ActRate:
		u, c.Satisfaction = nil, 5
		c.Citizen = true
	}
	return u, c
}

func TestEveryActionInEveryState(t *testing.T) {
	fx := stateFixtures(t)
	for _, st := range States {
		for _, a := range Actions {
			tk := fx[st]
			u, c := validCommand(a)
			c.User, c.Version = u, tk.Version
			allowed := slices.Contains(allowedFrom[a], st)
			_, _, err := Apply(tk, c, env("2026-11-18T11:00:00+08:00"))
			code := hotline.ErrorCode(err)
			switch {
			case allowed && err != nil && code == hotline.EUNPROCESSABLE:
				// allowed by state but refused by an extra rule (nothing
				// pending to approve, close before a dissatisfied revisit …)
				if extraStateRule(tk, a) == nil {
					t.Errorf("%s in %s: refused %v", a, st, err)
				}
			case allowed && err != nil:
				t.Errorf("%s in %s: %v", a, st, err)
			case !allowed && code == hotline.EFORBIDDEN && slices.Contains(unitActions, a) && tk.HandlerUnitID == 0:
				// no unit holds the order, so no unit may act on it
			case !allowed && code != hotline.EUNPROCESSABLE:
				t.Errorf("%s in %s: got %v, want refusal for state", a, st, err)
			}
		}
	}
}

func TestPermissions(t *testing.T) {
	fx := stateFixtures(t)
	now := "2026-11-18T11:00:00+08:00"
	cases := []struct {
		name  string
		state State
		user  *hotline.User
		a     Action
		code  string
	}{
		{"agent cannot sign", Dispatched, agent, ActSign, hotline.EFORBIDDEN},
		{"other unit cannot sign", Dispatched, zjj, ActSign, hotline.EFORBIDDEN},
		{"sibling street cannot sign", Dispatched, street2, ActSign, hotline.EFORBIDDEN},
		{"unit cannot dispatch", Registered, district, ActDispatch, hotline.EFORBIDDEN},
		{"unit cannot approve its own reply", ReplyPending, district, ActApproveReply, hotline.EFORBIDDEN},
		{"dispatcher cannot reply for the unit", Processing, dispatcher, ActReply, hotline.EFORBIDDEN},
		{"admin cannot reply for the unit", Processing, admin, ActReply, hotline.EFORBIDDEN},
		{"analyst reads only", Registered, analyst, ActDispatch, hotline.EFORBIDDEN},
		{"agent cannot revisit", RevisitPending, agent, ActRevisit, hotline.EFORBIDDEN},
		{"revisitor cannot supervise", Processing, revisitor, ActSupervise, hotline.EFORBIDDEN},
		{"staff cannot rate for the citizen", Closed, dispatcher, ActRate, hotline.EFORBIDDEN},
		{"nobody signed in", Registered, nil, ActDispatch, hotline.EUNAUTHORIZED},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, cmd := validCommand(c.a)
			cmd.Citizen = false
			refused(t, fx[c.state], now, c.user, cmd, c.code)
		})
	}
	// The citizen may only withdraw, comment and rate.
	_, cmd := validCommand(ActDispatch)
	cmd.Citizen, cmd.Version = true, fx[Registered].Version
	if _, _, err := Apply(fx[Registered], cmd, env(now)); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
		t.Fatalf("citizen dispatch: %v", err)
	}
	// Admin may do hotline-side actions.
	do(t, fx[Registered], now, admin, Command{Action: ActDispatch, LeadUnitID: 20})
}

func TestStaleVersionConflicts(t *testing.T) {
	tk := register(t, "2026-11-18T10:00:00+08:00", Help)
	refused(t, tk, "2026-11-18T10:00:00+08:00", dispatcher, Command{Action: ActDispatch, LeadUnitID: 10, Version: tk.Version + 1}, hotline.ECONFLICT)
}

func TestBadInputIsRefused(t *testing.T) {
	now := "2026-11-18T10:00:00+08:00"
	fx := stateFixtures(t)
	cases := []struct {
		state State
		user  *hotline.User
		cmd   Command
	}{
		{Registered, dispatcher, Command{Action: ActDispatch, LeadUnitID: 999}},
		{Registered, dispatcher, Command{Action: ActDispatch, LeadUnitID: 10, AssistUnitIDs: []int64{404}}},
		{Registered, agent, Command{Action: ActAnswer}},
		{Registered, agent, Command{Action: ActDispose, Disposition: "transfer_999"}},
		{Processing, district, Command{Action: ActReply, Result: "maybe", Content: "x"}},
		{Processing, district, Command{Action: ActReply, Result: Solved}},
		{Processing, district, Command{Action: ActReturn}},
		{Processing, district, Command{Action: ActRequestExtension, WorkingDays: 11, Reason: "太多"}},
		{Processing, district, Command{Action: ActRequestExtension, WorkingDays: 0, Reason: "零"}},
		{Processing, district, Command{Action: ActSubDispatch, UnitID: 20}}, // not below the district
		{RevisitPending, revisitor, Command{Action: ActRevisit, Satisfaction: 6, Solved: &yes}},
		{RevisitPending, revisitor, Command{Action: ActRevisit, Satisfaction: 4}},
		{Processing, supervisor, Command{Action: ActSupervise, Content: "督办", Due: at("2020-01-01T00:00:00Z")}},
		{Registered, dispatcher, Command{Action: ActMerge, Into: "N1"}}, // itself
		{Registered, agent, Command{Action: ActComment, Content: string(make([]rune, MaxText+1))}},
	}
	for i, c := range cases {
		refused(t, fx[c.state], now, c.user, c.cmd, hotline.EINVALID)
		_ = i
	}
	// Drafts.
	bad := []func(d *Draft){
		func(d *Draft) { d.Channel = "fax" },
		func(d *Draft) { d.Type = "rant" },
		func(d *Draft) { d.Urgency = "asap" },
		func(d *Draft) { d.Title = "  " },
		func(d *Draft) { d.Content = "" },
		func(d *Draft) { d.Title = string(make([]rune, MaxTitle+1)) },
		func(d *Draft) { d.Citizen.Phone = "12345" },
		func(d *Draft) { d.Citizen.Phone = "not a phone" },
		func(d *Draft) { v := 200.0; d.Lat, d.Lng = &v, &v },
		func(d *Draft) { v := 30.0; d.Lat = &v },
		func(d *Draft) { d.Content = "\xff\xfe" },
	}
	for i, f := range bad {
		d := draft(Help)
		f(&d)
		if _, _, err := Register(d, agent, env(now)); hotline.ErrorCode(err) != hotline.EINVALID {
			t.Errorf("bad draft %d: got %v", i, err)
		}
	}
	if _, _, err := Register(draft(Help), district, env(now)); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
		t.Errorf("unit user registered an order: %v", err)
	}
}

func TestPhoneNormalisation(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678": "13812345678", "+86 138 1234 5678": "13812345678", "010-62345678": "01062345678",
		"(0571) 8765 4321": "057187654321", "+852 9123 4567": "+85291234567", "": "",
	} {
		got, err := NormalizePhone(in)
		if err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestReturnStopsClockAndRedispatchStartsFresh(t *testing.T) {
	tk := register(t, "2026-11-16T09:00:00+08:00", Complaint) // Monday
	tk = do(t, tk, "2026-11-16T09:00:00+08:00", dispatcher, Command{Action: ActDispatch, LeadUnitID: 20})
	due0 := tk.ReplyDue // Monday 11-23 17:30 (5 wd)
	tk = do(t, tk, "2026-11-16T10:00:00+08:00", zjj, Command{Action: ActSign})
	tk = do(t, tk, "2026-11-16T11:00:00+08:00", zjj, Command{Action: ActReturn, Reason: "属地管理，应由区政府办理"})
	if tk.State != ReturnPending || !tk.ActiveDue().IsZero() || tk.ClockStoppedAt.IsZero() {
		t.Fatalf("return: state %s active due %s", tk.State, tk.ActiveDue())
	}
	// Refused a full working day later: the reply due moves by that day.
	refusedTk := do(t, tk, "2026-11-17T11:00:00+08:00", dispatcher, Command{Action: ActRefuseReturn, Reason: "属于本单位职责"})
	if refusedTk.State != Processing {
		t.Fatalf("refuse-return state = %s", refusedTk.State)
	}
	if want := at("2026-11-24T17:30:00+08:00"); !refusedTk.ReplyDue.Equal(want) {
		t.Errorf("after refused return reply due = %s, want %s (was %s, paused one working day)", refusedTk.ReplyDue, want, due0)
	}
	// Approved with a re-dispatch: fresh clocks from the approval.
	re := do(t, tk, "2026-11-17T11:00:00+08:00", dispatcher, Command{Action: ActApproveReturn, LeadUnitID: 10})
	if re.State != Dispatched || re.LeadUnitID != 10 || re.DispatchCount != 2 || re.FirstUnitID != 20 {
		t.Fatalf("approve-return: %+v", re)
	}
	if want := at("2026-11-24T17:30:00+08:00"); !re.ReplyDue.Equal(want) {
		t.Errorf("re-dispatch reply due = %s, want %s", re.ReplyDue, want)
	}
	// Approved without a unit: back to the dispatch queue.
	back := do(t, tk, "2026-11-17T11:00:00+08:00", dispatcher, Command{Action: ActApproveReturn})
	if back.State != Registered || back.LeadUnitID != 0 || back.DispatchDue.IsZero() {
		t.Fatalf("approve-return to queue: %+v", back)
	}
}

func TestExtension(t *testing.T) {
	tk := register(t, "2026-11-16T09:00:00+08:00", Complaint)
	tk = do(t, tk, "2026-11-16T09:00:00+08:00", dispatcher, Command{Action: ActDispatch, LeadUnitID: 10})
	tk = do(t, tk, "2026-11-16T09:30:00+08:00", district, Command{Action: ActSign})
	tk = do(t, tk, "2026-11-18T09:00:00+08:00", district, Command{Action: ActRequestExtension, WorkingDays: 3, Reason: "需要多部门联合执法"})
	refused(t, tk, "2026-11-18T09:00:00+08:00", district, Command{Action: ActRequestExtension, WorkingDays: 1, Reason: "再来"}, hotline.EUNPROCESSABLE)
	tk = do(t, tk, "2026-11-18T10:00:00+08:00", dispatcher, Command{Action: ActApproveExtension})
	if want := at("2026-11-26T17:30:00+08:00"); !tk.ReplyDue.Equal(want) || tk.ExtendedDays != 3 || tk.Extension != nil {
		t.Fatalf("extended reply due = %s (ext %d), want %s", tk.ReplyDue, tk.ExtendedDays, want)
	}
	// The total is capped at 10 working days.
	refused(t, tk, "2026-11-18T10:00:00+08:00", district, Command{Action: ActRequestExtension, WorkingDays: 8, Reason: "再延"}, hotline.EINVALID)
	tk = do(t, tk, "2026-11-18T10:00:00+08:00", district, Command{Action: ActRequestExtension, WorkingDays: 7, Reason: "再延"})
	tk = do(t, tk, "2026-11-18T11:00:00+08:00", dispatcher, Command{Action: ActRefuseExtension, Reason: "理由不充分"})
	if tk.ExtendedDays != 3 || tk.Extension != nil {
		t.Fatalf("refused extension changed the order: %+v", tk)
	}
}

func TestDissatisfiedRevisitReopensWithNewClockAndEscalates(t *testing.T) {
	tk := register(t, "2026-11-02T09:00:00+08:00", Complaint)
	tk = do(t, tk, "2026-11-02T09:00:00+08:00", dispatcher, Command{Action: ActDispatch, LeadUnitID: 10})
	for i := 1; i <= 3; i++ {
		tk = do(t, tk, "2026-11-02T10:00:00+08:00", district, Command{Action: ActSign})
		tk = do(t, tk, "2026-11-03T10:00:00+08:00", district, Command{Action: ActReply, Result: Explained, Content: "已解释"})
		tk = do(t, tk, "2026-11-03T11:00:00+08:00", dispatcher, Command{Action: ActApproveReply})
		tk = do(t, tk, "2026-11-04T09:00:00+08:00", revisitor, Command{Action: ActRevisit, Satisfaction: 1, Solved: &no, Content: "问题依旧"})
		if tk.State != RevisitPending || !tk.Dissatisfied {
			t.Fatalf("dissatisfied revisit: %+v", tk)
		}
		tk = do(t, tk, "2026-11-04T10:00:00+08:00", revisitor, Command{Action: ActReopen, Reason: "市民不满意"})
		if tk.State != Dispatched || tk.ReopenCount != i || tk.HandlerUnitID != 10 {
			t.Fatalf("reopen %d: %+v", i, tk)
		}
		if want := at("2026-11-11T17:30:00+08:00"); !tk.ReplyDue.Equal(want) {
			t.Fatalf("reopen reply due = %s, want %s", tk.ReplyDue, want)
		}
		if tk.Escalated != (i >= 3) {
			t.Fatalf("after %d reopens escalated = %v", i, tk.Escalated)
		}
	}
}

func TestUnreachableRevisitClosesAfterAttempts(t *testing.T) {
	fx := stateFixtures(t)
	tk := fx[RevisitPending]
	for i := 1; i <= 3; i++ {
		tk = do(t, tk, "2026-11-18T14:00:00+08:00", revisitor, Command{Action: ActRevisit, Unreachable: true})
		if want := i == 3; (tk.State == Closed) != want {
			t.Fatalf("attempt %d: state %s", i, tk.State)
		}
	}
	if !tk.Unreachable || tk.RevisitAttempts != 3 {
		t.Fatalf("%+v", tk)
	}
}

func TestSubDispatchAndVisibility(t *testing.T) {
	fx := stateFixtures(t)
	tk := do(t, fx[Processing], "2026-11-18T11:00:00+08:00", district, Command{Action: ActSubDispatch, UnitID: 11, Content: "请滨江街道办理"})
	if tk.State != Dispatched || tk.HandlerUnitID != 11 || tk.LeadUnitID != 10 {
		t.Fatalf("sub-dispatch: %+v", tk)
	}
	if !tk.CanSee(street, units) || !tk.CanSee(district, units) || tk.CanSee(street2, units) || tk.CanSee(zjj, units) {
		t.Fatal("visibility wrong after sub-dispatch")
	}
	tk = do(t, tk, "2026-11-18T12:00:00+08:00", street, Command{Action: ActSign})
	refused(t, tk, "2026-11-18T12:00:00+08:00", street2, Command{Action: ActReply, Result: Solved, Content: "x"}, hotline.EFORBIDDEN)
}

func TestConfidentialCitizenIsMaskedForUnits(t *testing.T) {
	d := draft(Report)
	d.Citizen.Confidential = true
	tk, _, err := Register(d, agent, env("2026-11-18T10:00:00+08:00"))
	if err != nil {
		t.Fatal(err)
	}
	tk.QueryCode = "123456"
	v := tk.ViewFor(district)
	if v.Citizen.Name == "王小明" || v.Citizen.Phone == "13812345678" || v.QueryCode != "" {
		t.Fatalf("unit sees %+v", v.Citizen)
	}
	if v.Citizen.Phone != "138****5678" {
		t.Fatalf("masked phone = %q", v.Citizen.Phone)
	}
	if s := tk.ViewFor(agent); s.Citizen.Name != "王小明" || s.QueryCode != "123456" {
		t.Fatalf("agent sees %+v", s.Citizen)
	}
	if tk.Citizen.Name != "王小明" {
		t.Fatal("ViewFor modified the order")
	}
}

func TestCriticalOrdersRunOnNaturalTime(t *testing.T) {
	d := draft(Help)
	d.Urgency = Critical
	e := env("2026-11-21T22:00:00+08:00") // Saturday night
	tk, _, err := Register(d, agent, e)
	if err != nil {
		t.Fatal(err)
	}
	if want := at("2026-11-21T23:00:00+08:00"); !tk.DispatchDue.Equal(want) {
		t.Fatalf("critical dispatch due %s, want %s", tk.DispatchDue, want)
	}
	tk.ID = 1
	tk = do(t, tk, "2026-11-21T22:10:00+08:00", dispatcher, Command{Action: ActDispatch, LeadUnitID: 20})
	if want := at("2026-11-21T22:40:00+08:00"); !tk.SignDue.Equal(want) {
		t.Errorf("critical sign due %s, want %s", tk.SignDue, want)
	}
	if want := at("2026-11-22T00:10:00+08:00"); !tk.ReplyDue.Equal(want) {
		t.Errorf("critical reply due %s, want %s", tk.ReplyDue, want)
	}
}

func TestWarningLevels(t *testing.T) {
	tk := register(t, "2026-11-16T09:00:00+08:00", Complaint)
	tk = do(t, tk, "2026-11-16T09:00:00+08:00", dispatcher, Command{Action: ActDispatch, LeadUnitID: 10})
	tk = do(t, tk, "2026-11-16T09:30:00+08:00", district, Command{Action: ActSign})
	// Reply due Mon 11-23 17:30; yellow for the last working day.
	if want := at("2026-11-23T17:30:00+08:00"); !tk.ReplyDue.Equal(want) {
		t.Fatalf("reply due %s, want %s", tk.ReplyDue, want)
	}
	for _, c := range []struct{ now, want string }{
		{"2026-11-17T10:00:00+08:00", WarnNone},
		{"2026-11-20T17:00:00+08:00", WarnNone},
		{"2026-11-22T12:00:00+08:00", WarnYellow}, // Sunday: less than a working day left
		{"2026-11-23T09:00:00+08:00", WarnYellow},
		{"2026-11-23T17:29:00+08:00", WarnYellow},
		{"2026-11-24T08:00:00+08:00", WarnRed},
	} {
		if got := tk.WarningAt(at(c.now)); got != c.want {
			t.Errorf("warning at %s = %s, want %s (warn_at %s, due %s)", c.now, got, c.want, tk.WarnAt, tk.ActiveDue())
		}
	}
}

func TestMergeAndWithdraw(t *testing.T) {
	fx := stateFixtures(t)
	if m := fx[Merged]; m.MergedInto != "N0" || m.State.Open() || !m.ActiveDue().IsZero() {
		t.Fatalf("merged: %+v", m)
	}
	w := fx[Withdrawn]
	if w.State != Withdrawn || w.ClosedAt.IsZero() {
		t.Fatalf("withdrawn: %+v", w)
	}
	// The citizen can withdraw and rate through the portal.
	c := Command{Action: ActWithdraw, Citizen: true, Version: fx[Processing].Version}
	n, evs, err := Apply(fx[Processing], c, env("2026-11-18T12:00:00+08:00"))
	if err != nil || n.State != Withdrawn || evs[0].Role != "citizen" {
		t.Fatalf("citizen withdraw: %v %+v", err, evs)
	}
	c = Command{Action: ActRate, Citizen: true, Version: fx[Closed].Version, Satisfaction: 4, Content: "处理及时"}
	n, _, err = Apply(fx[Closed], c, env("2026-11-18T12:00:00+08:00"))
	if err != nil || n.CitizenRating != 4 {
		t.Fatalf("rate: %v", err)
	}
	c.Version = n.Version
	if _, _, err := Apply(n, c, env("2026-11-18T12:00:00+08:00")); hotline.ErrorCode(err) != hotline.EUNPROCESSABLE {
		t.Fatalf("second rating: %v", err)
	}
}

func TestEventChain(t *testing.T) {
	var all []Event
	tk2, evs, _ := Register(draft(Complaint), agent, env("2026-11-16T09:00:00+08:00"))
	tk2.ID = 2
	Seal(tk2, evs)
	all = append(all, evs...)
	for _, c := range []struct {
		u *hotline.User
		c Command
	}{
		{dispatcher, Command{Action: ActDispatch, LeadUnitID: 10}},
		{district, Command{Action: ActSign}},
		{district, Command{Action: ActReply, Result: Solved, Content: "已处理"}},
	} {
		c.c.User, c.c.Version = c.u, tk2.Version
		n, evs, err := Apply(tk2, c.c, env("2026-11-16T10:00:00+08:00"))
		if err != nil {
			t.Fatal(err)
		}
		Seal(n, evs)
		all = append(all, evs...)
		tk2 = n
	}
	if err := VerifyChain(2, all, tk2.LastHash); err != nil {
		t.Fatalf("intact chain reported broken: %v", err)
	}
	altered := slices.Clone(all)
	altered[1].Text = "篡改"
	if err := VerifyChain(2, altered, tk2.LastHash); err == nil || err.Seq != 2 {
		t.Fatalf("altered event: %v", err)
	}
	if err := VerifyChain(2, append(slices.Clone(all[:1]), all[2:]...), tk2.LastHash); err == nil || err.Seq != 2 {
		t.Fatalf("missing middle event: %v", err)
	}
	if err := VerifyChain(2, all[:3], tk2.LastHash); err == nil || err.Seq != 4 {
		t.Fatalf("missing last event: %v", err)
	}
	var ce *ChainError
	if !errors.As(error(VerifyChain(2, altered, tk2.LastHash)), &ce) {
		t.Fatal("ChainError is not an error")
	}
}
