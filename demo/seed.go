package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/calendar"
	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/kb"
	"github.com/hotline12345/hotline/storage"
	"github.com/hotline12345/hotline/ticket"
)

// Password of every demo account.
const Password = "demo12345"

// Options of a seed.
type Options struct {
	Now    time.Time // "today" of the demo (default time.Now)
	Orders int       // default 2000
	Days   int       // spread over this many days back (default 90)
	Seed   uint64    // random seed (default 12345)
	// KB, when set, gets the demo articles before the orders, and the
	// consultations answered at intake cite the article of their category
	// (its use counted at the simulated time).
	KB *kb.Service
}

// Account is a demo login.
type Account struct {
	Username string `json:"username"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Unit     string `json:"unit,omitempty"`
}

// Summary says what the demo holds.
type Summary struct {
	Accounts []Account     `json:"accounts"`
	Orders   int           `json:"orders"`
	Took     time.Duration `json:"took"`
	Created  bool          `json:"created"` // false when the demo was already there
}

const marker = "demo_city"

// Seed creates the demo city in store, unless it is already there.
func Seed(ctx context.Context, store *storage.Store, opts Options) (*Summary, error) {
	start := time.Now()
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Orders == 0 {
		opts.Orders = 2000
	}
	if opts.Days == 0 {
		opts.Days = 90
	}
	if opts.Seed == 0 {
		opts.Seed = 12345
	}
	var v string
	err := store.DB.QueryRow(ctx, `SELECT value FROM settings WHERE name = ?`, marker).Scan(&v)
	if err == nil {
		s, err := summary(ctx, store)
		return s, err
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	g := &gen{ctx: ctx, s: store, rng: rand.New(rand.NewPCG(opts.Seed, 2026)), opts: opts,
		units: map[string]int64{}, unitUser: map[int64]*hotline.User{}}
	defer func() { store.Now = time.Now }()
	steps := []func() error{g.seedUnits, g.seedCategories, g.seedCatalogue, g.seedUsers, g.seedKnowledge, g.seedOrders}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	store.Now = time.Now
	if _, err := store.DB.Exec(ctx, `INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)`, marker,
		fmt.Sprintf("%d orders", g.orders), database.Millis(time.Now())); err != nil {
		return nil, err
	}
	s, err := summary(ctx, store)
	if err != nil {
		return nil, err
	}
	s.Created, s.Took = true, time.Since(start)
	return s, nil
}

func summary(ctx context.Context, store *storage.Store) (*Summary, error) {
	users, err := store.Users(ctx)
	if err != nil {
		return nil, err
	}
	units, err := store.UnitTree(ctx)
	if err != nil {
		return nil, err
	}
	s := &Summary{}
	for _, u := range users {
		a := Account{Username: u.Username, Name: u.Name}
		for _, r := range u.Roles {
			a.Role = string(r)
		}
		if un, ok := units.Get(u.UnitID); ok {
			a.Unit = un.Name
		}
		s.Accounts = append(s.Accounts, a)
	}
	err = store.DB.QueryRow(ctx, `SELECT COUNT(*) FROM tickets`).Scan(&s.Orders)
	return s, err
}

type gen struct {
	ctx      context.Context
	s        *storage.Store
	rng      *rand.Rand
	opts     Options
	units    map[string]int64
	unitUser map[int64]*hotline.User
	articles map[string][]int64 // second-level category code → its articles
	users    map[string]*hotline.User
	leaves   []leaf
	orders   int
	phones   []string
}

type leaf struct {
	cat    category
	parent category
}

func (g *gen) seedUnits() error {
	var add func(u unitSpec, parent int64) error
	add = func(u unitSpec, parent int64) error {
		created, err := g.s.CreateUnit(g.ctx, ticket.Unit{Code: u.code, Name: u.name, Kind: u.kind, ParentID: parent})
		if err != nil {
			return err
		}
		g.units[u.code] = created.ID
		for _, c := range u.children {
			if err := add(c, created.ID); err != nil {
				return err
			}
		}
		return nil
	}
	all := append([]unitSpec{{code: "hotline", name: "江城市12345政务服务便民热线中心", kind: "hotline"}}, departments...)
	all = append(all, utilities...)
	all = append(all, districts...)
	for _, u := range all {
		if err := add(u, 0); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) seedCategories() error {
	var add func(c category, parent int64, up category) error
	add = func(c category, parent int64, up category) error {
		created, err := g.s.CreateCategory(g.ctx, storage.Category{Code: c.code, Name: c.name, ParentID: parent})
		if err != nil {
			return err
		}
		if len(c.children) == 0 && len(c.matters) > 0 {
			g.leaves = append(g.leaves, leaf{cat: c, parent: up})
		}
		for _, ch := range c.children {
			if err := add(ch, created.ID, c); err != nil {
				return err
			}
		}
		return nil
	}
	for _, c := range categories {
		if err := add(c, 0, category{}); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) seedCatalogue() error {
	set := func(code string, region int64, unit string) error {
		_, err := g.s.SetCatalogueEntry(g.ctx, storage.CatalogueEntry{CategoryCode: code, RegionUnitID: region, UnitID: g.units[unit]})
		return err
	}
	var walk func(c category) error
	walk = func(c category) error {
		if c.dept != "" {
			if err := set(c.code, 0, c.dept); err != nil {
				return err
			}
		}
		if c.local {
			fallback := "cgj"
			if strings.HasPrefix(c.code, "0102") {
				fallback = "zjj"
			}
			if err := set(c.code, 0, fallback); err != nil {
				return err
			}
			for _, d := range districts {
				if err := set(c.code, g.units[d.code], d.code); err != nil {
					return err
				}
			}
		}
		for _, ch := range c.children {
			if err := walk(ch); err != nil {
				return err
			}
		}
		return nil
	}
	for _, c := range categories {
		if err := walk(c); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) seedUsers() error {
	g.users = map[string]*hotline.User{}
	staff := []storage.NewUser{
		{Username: "admin", Name: "系统管理员", Roles: []hotline.Role{hotline.RoleAdmin}},
		{Username: "agent1", Name: "话务员 张晓燕", Roles: []hotline.Role{hotline.RoleAgent}},
		{Username: "agent2", Name: "话务员 李明", Roles: []hotline.Role{hotline.RoleAgent}},
		{Username: "dispatcher1", Name: "派单员 王建华", Roles: []hotline.Role{hotline.RoleDispatcher}},
		{Username: "revisit1", Name: "回访员 赵丽", Roles: []hotline.Role{hotline.RoleRevisitor}},
		{Username: "super1", Name: "值班长 陈刚", Roles: []hotline.Role{hotline.RoleSupervisor}},
		{Username: "analyst1", Name: "分析员 周敏", Roles: []hotline.Role{hotline.RoleAnalyst}},
		{Username: "editor1", Name: "知识库管理员 吴静", Roles: []hotline.Role{hotline.RoleEditor}},
	}
	for _, nu := range staff {
		nu.Password = Password
		u, err := g.s.CreateUser(g.ctx, nu)
		if err != nil {
			return err
		}
		g.users[u.Username] = u
	}
	units, err := g.s.Units(g.ctx)
	if err != nil {
		return err
	}
	for _, un := range units {
		if un.Kind == "hotline" || un.Kind == "community" {
			continue
		}
		u, err := g.s.CreateUser(g.ctx, storage.NewUser{Username: un.Code, Password: Password, Name: un.Name + "承办人",
			Roles: []hotline.Role{hotline.RoleUnit}, UnitID: un.ID})
		if err != nil {
			return err
		}
		g.unitUser[un.ID] = u
	}
	return nil
}

// seedKnowledge publishes the demo articles when a knowledge base is given.
func (g *gen) seedKnowledge() error {
	g.articles = map[string][]int64{}
	if g.opts.KB == nil {
		return nil
	}
	if _, err := SeedArticles(g.ctx, g.s, g.opts.KB); err != nil {
		return err
	}
	list, err := g.opts.KB.List(g.ctx, kb.Published, 0)
	if err != nil {
		return err
	}
	for _, a := range list {
		if len(a.Category) >= 4 {
			g.articles[a.Category[:4]] = append(g.articles[a.Category[:4]], a.ID)
		}
	}
	return nil
}

func (g *gen) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

func (g *gen) name() string {
	return string(surnames[g.rng.IntN(len(surnames))]) + g.pick(givenNames)
}

func (g *gen) phone() string {
	// A fifth of callers call again: they come from a small pool.
	if len(g.phones) > 50 && g.rng.IntN(5) == 0 {
		return g.phones[g.rng.IntN(50)]
	}
	prefixes := []string{"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156", "158", "159", "177", "180", "186", "187", "188", "189", "199"}
	p := fmt.Sprintf("%s%08d", g.pick(prefixes), g.rng.IntN(100_000_000))
	g.phones = append(g.phones, p)
	return p
}

// createdAt draws a registration time: more in working hours, some at night
// and on weekends (the hotline is 7×24).
func (g *gen) createdAt() time.Time {
	day := g.opts.Now.In(calendar.China).AddDate(0, 0, -g.rng.IntN(g.opts.Days))
	d := calendar.DateOf(day)
	minute := 8*60 + g.rng.IntN(10*60) // 08:00–18:00
	if g.rng.IntN(5) == 0 {
		minute = g.rng.IntN(24 * 60)
	}
	if g.rng.IntN(100) < 8 { // the last three days: orders still in flight
		d = calendar.DateOf(g.opts.Now.AddDate(0, 0, -g.rng.IntN(3)))
	}
	t := d.At(minute).Add(time.Duration(g.rng.IntN(60)) * time.Second)
	if t.After(g.opts.Now) {
		t = g.opts.Now.Add(-time.Duration(1+g.rng.IntN(600)) * time.Minute)
	}
	return t
}

var channels = []struct {
	c ticket.Channel
	w int
}{{ticket.Phone, 62}, {ticket.Web, 10}, {ticket.App, 8}, {ticket.WeChat, 10}, {ticket.Mailbox, 4}, {ticket.SMS, 3}, {ticket.Weibo, 2}, {ticket.Email, 1}}

func (g *gen) channel() ticket.Channel {
	n := g.rng.IntN(100)
	for _, c := range channels {
		if n < c.w {
			return c.c
		}
		n -= c.w
	}
	return ticket.Phone
}

func (g *gen) seedOrders() error {
	type planned struct {
		at time.Time
		d  ticket.Draft
		l  leaf
	}
	var plan []planned
	// Consultations are a third or more of a hotline's requests.
	type consult struct {
		l leaf
		m [2]string
	}
	var consults []consult
	for _, l := range g.leaves {
		for _, m := range l.cat.matters {
			if strings.HasPrefix(m[0], "咨询") {
				consults = append(consults, consult{l, m})
			}
		}
	}
	for i := 0; i < g.opts.Orders; i++ {
		l := g.leaves[g.rng.IntN(len(g.leaves))]
		dist := districts[g.rng.IntN(len(districts))]
		place := dist.name + g.pick(places[dist.code])
		m := l.cat.matters[g.rng.IntN(len(l.cat.matters))]
		ty := l.cat.types[g.rng.IntN(len(l.cat.types))]
		if g.rng.IntN(100) < 30 {
			c := consults[g.rng.IntN(len(consults))]
			l, m, ty = c.l, c.m, ticket.Consultation
		}
		if g.rng.IntN(12) == 0 {
			ty = ticket.Other
		}
		urg := ticket.Normal
		switch n := g.rng.IntN(100); {
		case n < 2:
			urg = ticket.Critical
		case n < 10:
			urg = ticket.Urgent
		}
		d := ticket.Draft{Channel: g.channel(), Type: ty, Urgency: urg,
			Title: strings.ReplaceAll(m[0], "{p}", place), Content: strings.ReplaceAll(m[1], "{p}", place),
			CategoryCode: l.cat.code, Address: place, RegionUnitID: g.units[dist.code],
			Citizen: ticket.Citizen{Name: g.name(), Phone: g.phone(), Confidential: g.rng.IntN(12) == 0}}
		if d.Channel == ticket.Phone && len(l.cat.code) >= 4 {
			// The call-taker's desk showed the model's first suggestion; it
			// names the chosen second-level category about nine times in ten.
			d.SuggestedCategory = l.cat.code[:4]
			if g.rng.IntN(100) < 11 {
				other := g.leaves[g.rng.IntN(len(g.leaves))].cat.code
				d.SuggestedCategory = other[:min(4, len(other))]
			}
		}
		plan = append(plan, planned{at: g.createdAt(), d: d, l: l})
	}
	sort.Slice(plan, func(i, j int) bool { return plan[i].at.Before(plan[j].at) })
	for _, p := range plan {
		if err := g.order(p.at, p.d); err != nil {
			return fmt.Errorf("demo order %q: %w", p.d.Title, err)
		}
	}
	return nil
}

// life drives one order as far as the simulated clock allows.
type life struct {
	g     *gen
	t     *ticket.Ticket
	now   time.Time // the simulated time of the next step
	steps int       // steps left before the story pauses (staff have not got to it yet); <0 unlimited
}

// errFuture stops an order's story at the demo's "today".
var errFuture = errors.New("in the future")

func (lf *life) do(after time.Duration, u *hotline.User, c ticket.Command) error {
	lf.now = lf.now.Add(after)
	if lf.now.After(lf.g.opts.Now) || lf.steps == 0 {
		return errFuture
	}
	lf.steps--
	at := lf.now
	lf.g.s.Now = func() time.Time { return at }
	c.User, c.Version = u, lf.t.Version
	t, err := lf.g.s.Act(lf.g.ctx, lf.t.Number, c)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Action, err)
	}
	lf.t = t
	return nil
}

func (g *gen) minutes(lo, hi int) time.Duration {
	return time.Duration(lo+g.rng.IntN(hi-lo+1)) * time.Minute
}

var yes, no = true, false

func (g *gen) order(at time.Time, d ticket.Draft) error {
	g.s.Now = func() time.Time { return at }
	agent := g.users["agent1"]
	if g.rng.IntN(2) == 0 {
		agent = g.users["agent2"]
	}
	t, _, err := g.s.CreateTicket(g.ctx, d, agent, "demo", "")
	if err != nil {
		return err
	}
	g.orders++
	lf := &life{g: g, t: t, now: at, steps: -1}
	if g.opts.Now.Sub(at) < 72*time.Hour {
		lf.steps = g.rng.IntN(7)
	}
	err = g.story(lf, agent)
	if errors.Is(err, errFuture) {
		return nil
	}
	return err
}

func (g *gen) story(lf *life, agent *hotline.User) error {
	disp, rv, sup := g.users["dispatcher1"], g.users["revisit1"], g.users["super1"]
	t := lf.t
	n := g.rng.IntN(100)
	// Answered at intake: most consultations.
	if t.Type == ticket.Consultation && n < 45 {
		var article int64
		if len(t.CategoryCode) >= 4 {
			if ids := g.articles[t.CategoryCode[:4]]; len(ids) > 0 {
				article = ids[g.rng.IntN(len(ids))]
			}
		}
		if err := lf.do(g.minutes(2, 8), agent, ticket.Command{Action: ticket.ActAnswer, ArticleID: article,
			Content: "已根据知识库向市民解答相关政策和办理流程，市民表示清楚。"}); err != nil || article == 0 {
			return err
		}
		at := lf.now
		g.opts.KB.Now = func() time.Time { return at }
		defer func() { g.opts.KB.Now = time.Now }()
		return g.opts.KB.RecordUse(g.ctx, article, t.Number)
	}
	if n < 1 {
		return lf.do(g.minutes(2, 5), agent, ticket.Command{Action: ticket.ActDispose, Disposition: ticket.LegalRoute,
			Content: "该事项已进入诉讼程序，已告知市民通过司法途径解决。"})
	}
	if n < 2 {
		return lf.do(g.minutes(10, 300), agent, ticket.Command{Action: ticket.ActWithdraw, Reason: "市民来电表示问题已自行解决，申请撤单。"})
	}
	// A duplicate from another caller, merged into this one.
	if n < 5 {
		dup := ticket.Draft{Channel: ticket.Phone, Type: t.Type, Urgency: t.Urgency, Title: t.Title, Content: "同一问题再次反映：" + t.Content,
			CategoryCode: t.CategoryCode, Address: t.Address, RegionUnitID: t.RegionUnitID,
			Citizen: ticket.Citizen{Name: g.name(), Phone: g.phone()}}
		dat := lf.now.Add(g.minutes(5, 50))
		if !dat.After(g.opts.Now) {
			g.s.Now = func() time.Time { return dat }
			dt, _, err := g.s.CreateTicket(g.ctx, dup, agent, "demo", "")
			if err != nil {
				return err
			}
			g.orders++
			dl := &life{g: g, t: dt, now: dat, steps: -1}
			if err := dl.do(g.minutes(1, 5), disp, ticket.Command{Action: ticket.ActMerge, Into: t.Number, Content: "与主工单反映同一事项"}); err != nil {
				return err
			}
			lf.t, _ = g.s.Ticket(g.ctx, t.Number)
			lf.now = dl.now
		}
	}
	// Dispatch as smart dispatch proposes, except that now and then the
	// dispatcher knows better and sends it straight to the district.
	lead, err := g.s.SuggestUnit(g.ctx, t.CategoryCode, t.RegionUnitID)
	if err != nil || lead == 0 {
		lead = g.units["cgj"]
	}
	if g.rng.IntN(100) < 7 {
		if tree, err := g.s.UnitTree(g.ctx); err == nil {
			if d := tree.District(t.RegionUnitID); d != 0 {
				lead = d
			}
		}
	}
	delay := g.minutes(5, 180)
	if t.Urgency != ticket.Normal {
		delay = g.minutes(3, 30)
	}
	if err := lf.do(delay, disp, ticket.Command{Action: ticket.ActDispatch, LeadUnitID: lead}); err != nil {
		return err
	}
	units, _ := g.s.UnitTree(g.ctx)
	// Wrongly sent: the unit returns it and the hotline re-dispatches.
	if g.rng.IntN(100) < 6 || lf.steps > 0 && g.rng.IntN(100) < 15 {
		u := g.unitUser[lead]
		if err := lf.do(g.minutes(30, 600), u, ticket.Command{Action: ticket.ActReturn, Reason: "该事项不属于本单位职责范围，建议转属地政府办理。"}); err != nil {
			return err
		}
		if lf.steps >= 0 && g.rng.IntN(2) == 0 {
			return nil // the return waits for the hotline's review
		}
		if g.rng.IntN(4) == 0 {
			return lf.do(g.minutes(30, 240), disp, ticket.Command{Action: ticket.ActRefuseReturn, Reason: "经核实属于贵单位职责，请继续办理。"})
		}
		newLead := units.District(t.RegionUnitID)
		if newLead == 0 || newLead == lead {
			newLead = g.units["cgj"]
		}
		lead = newLead
		if err := lf.do(g.minutes(30, 240), disp, ticket.Command{Action: ticket.ActApproveReturn, LeadUnitID: lead, Reason: "同意退单，改派属地办理"}); err != nil {
			return err
		}
	}
	handler := lead
	u := g.unitUser[lead]
	// Districts forward local matters to a street (二级派单).
	if un, _ := units.Get(lead); un.Kind == "district" && g.rng.IntN(2) == 0 {
		kids := units.Children(lead)
		if len(kids) > 0 {
			k := kids[g.rng.IntN(len(kids))]
			if g.unitUser[k.ID] != nil {
				if err := lf.do(g.minutes(20, 240), u, ticket.Command{Action: ticket.ActSubDispatch, UnitID: k.ID, Content: "请属地街道核实处理"}); err != nil {
					return err
				}
				handler, u = k.ID, g.unitUser[k.ID]
			}
		}
	}
	_ = handler
	slow := g.rng.IntN(100) < 12 // units that let orders run overdue
	signAfter := g.minutes(15, 300)
	if slow {
		signAfter = g.minutes(300, 1800)
	}
	if err := lf.do(signAfter, u, ticket.Command{Action: ticket.ActSign}); err != nil {
		return err
	}
	if g.rng.IntN(100) < 88 {
		if err := lf.do(g.minutes(30, 900), u, ticket.Command{Action: ticket.ActContact, Content: "已电话联系诉求人，了解具体情况并约定现场核实时间。"}); err != nil {
			return err
		}
	}
	if g.rng.IntN(100) < 5 {
		if err := lf.do(g.minutes(60, 1440), u, ticket.Command{Action: ticket.ActRequestExtension, WorkingDays: 3 + g.rng.IntN(5),
			Reason: "涉及多个部门联合处置，需协调后答复。"}); err != nil {
			return err
		}
		if err := lf.do(g.minutes(60, 480), disp, ticket.Command{Action: ticket.ActApproveExtension, Reason: "同意延期"}); err != nil {
			return err
		}
	}
	work := g.minutes(600, 4*1440)
	if slow {
		work = g.minutes(8*1440, 16*1440)
		if g.rng.IntN(2) == 0 {
			lf.now = lf.now.Add(work / 2)
			if lf.now.Before(g.opts.Now) {
				if err := lf.do(0, sup, ticket.Command{Action: ticket.ActUrge, Content: "该工单即将超期，请抓紧办理。"}); err != nil {
					return err
				}
			}
			if g.rng.IntN(3) == 0 {
				due := lf.now.Add(72 * time.Hour)
				if err := lf.do(g.minutes(60, 240), sup, ticket.Command{Action: ticket.ActSupervise, Content: "群众反映强烈，请限期办结并书面报告。", Due: due}); err != nil {
					return err
				}
			}
			work /= 2
		}
	}
	for round := 0; ; round++ {
		result, text := ticket.Solved, "经现场核实，已督促责任方整改完毕，问题已解决。"
		if g.rng.IntN(5) == 0 {
			result, text = ticket.Explained, "经核实，该事项符合相关规定，已向市民做好政策解释。"
		}
		if err := lf.do(work, u, ticket.Command{Action: ticket.ActReply, Result: result, Content: text}); err != nil {
			return err
		}
		if g.rng.IntN(100) < 4 {
			if err := lf.do(g.minutes(30, 300), disp, ticket.Command{Action: ticket.ActRejectReply, Reason: "答复内容过于简单，请补充处理过程。"}); err != nil {
				return err
			}
			if err := lf.do(g.minutes(120, 1440), u, ticket.Command{Action: ticket.ActReply, Result: result, Content: text + "已补充现场照片和整改记录。"}); err != nil {
				return err
			}
		}
		if err := lf.do(g.minutes(30, 480), disp, ticket.Command{Action: ticket.ActApproveReply}); err != nil {
			return err
		}
		if g.rng.IntN(100) < 6 {
			for i := 0; i < 3; i++ {
				if err := lf.do(g.minutes(60, 600), rv, ticket.Command{Action: ticket.ActRevisit, Unreachable: true, Content: "电话无人接听"}); err != nil {
					return err
				}
			}
			return nil
		}
		sat := []int{5, 5, 5, 4, 4, 4, 4, 3, 3, 2, 1}[g.rng.IntN(11)]
		if round > 0 {
			sat = 4 + g.rng.IntN(2)
		}
		solved := &yes
		if sat <= 2 {
			solved = &no
		}
		if err := lf.do(g.minutes(60, 1200), rv, ticket.Command{Action: ticket.ActRevisit, Satisfaction: sat, Solved: solved,
			Content: "回访市民，记录评价。"}); err != nil {
			return err
		}
		if sat > 2 {
			return nil
		}
		if g.rng.IntN(3) == 0 {
			return lf.do(g.minutes(60, 600), disp, ticket.Command{Action: ticket.ActClose, Reason: "诉求超出政策范围，已充分解释，按规定办结。"})
		}
		if err := lf.do(g.minutes(60, 600), rv, ticket.Command{Action: ticket.ActReopen, Reason: "市民对处理结果不满意，退回重办。"}); err != nil {
			return err
		}
		u = g.unitUser[lf.t.HandlerUnitID]
		if u == nil {
			u = g.unitUser[lead]
		}
		if err := lf.do(g.minutes(30, 300), u, ticket.Command{Action: ticket.ActSign}); err != nil {
			return err
		}
		work = g.minutes(600, 3*1440)
	}
}
