package storage

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/ticket"
)

// fixture is a small city in a fresh database.
type fixture struct {
	s                         *Store
	ctx                       context.Context
	district, street, dept    ticket.Unit
	agent, disp, unit, other  *hotline.User
	revisitor, admin, streetU *hotline.User
}

func newFixture(t *testing.T, db *database.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{s: s, ctx: ctx}
	must := func(u ticket.Unit, err error) ticket.Unit {
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	f.district = must(s.CreateUnit(ctx, ticket.Unit{Code: "jb", Name: "江北区", Kind: "district"}))
	f.street = must(s.CreateUnit(ctx, ticket.Unit{Code: "jb-bj", Name: "滨江街道", Kind: "street", ParentID: f.district.ID}))
	f.dept = must(s.CreateUnit(ctx, ticket.Unit{Code: "zjj", Name: "住建局", Kind: "department"}))
	user := func(name string, unit int64, roles ...hotline.Role) *hotline.User {
		u, err := s.CreateUser(ctx, NewUser{Username: name, Password: "password1", Name: name, Roles: roles, UnitID: unit})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	f.agent = user("agent", 0, hotline.RoleAgent)
	f.disp = user("disp", 0, hotline.RoleDispatcher)
	f.unit = user("jbuser", f.district.ID, hotline.RoleUnit)
	f.streetU = user("bjuser", f.street.ID, hotline.RoleUnit)
	f.other = user("zjjuser", f.dept.ID, hotline.RoleUnit)
	f.revisitor = user("rv", 0, hotline.RoleRevisitor)
	f.admin = user("admin", 0, hotline.RoleAdmin)
	for _, c := range []Category{{Code: "02", Name: "城乡建设"}, {Code: "0207", Name: "市容管理"}} {
		if c.Code == "0207" {
			cs, _ := s.Categories(ctx)
			c.ParentID = cs[0].ID
		}
		if _, err := s.CreateCategory(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func draft() ticket.Draft {
	return ticket.Draft{Channel: ticket.Phone, Type: ticket.Complaint, Title: "滨江路夜间施工噪音", Content: "每晚施工到凌晨",
		CategoryCode: "0207", Citizen: ticket.Citizen{Name: "王小明", Phone: "13812345678"}}
}

func (f *fixture) act(t *testing.T, tk *ticket.Ticket, u *hotline.User, c ticket.Command) *ticket.Ticket {
	t.Helper()
	c.User, c.Version = u, tk.Version
	n, err := f.s.Act(f.ctx, tk.Number, c)
	if err != nil {
		t.Fatalf("%s: %v", c.Action, err)
	}
	return n
}

func TestStorage(t *testing.T) {
	database.ForEachTestDB(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		t.Run("lifecycle", f.testLifecycle)
		t.Run("idempotency", f.testIdempotency)
		t.Run("concurrent writers", f.testConcurrentVersion)
		t.Run("list and scope", f.testList)
		t.Run("merge", f.testMerge)
		t.Run("audit", f.testAudit)
		t.Run("directory", f.testDirectory)
		t.Run("stats", f.testStats)
	})
}

func (f *fixture) testLifecycle(t *testing.T) {
	tk, created, err := f.s.CreateTicket(f.ctx, draft(), f.agent, "user:1", "")
	if err != nil || !created {
		t.Fatal(err)
	}
	if len(tk.Number) != 17 || len(tk.QueryCode) != 6 {
		t.Fatalf("number %q query code %q", tk.Number, tk.QueryCode)
	}
	tk = f.act(t, tk, f.disp, ticket.Command{Action: ticket.ActDispatch, LeadUnitID: f.district.ID})
	tk = f.act(t, tk, f.unit, ticket.Command{Action: ticket.ActSign})
	tk = f.act(t, tk, f.unit, ticket.Command{Action: ticket.ActReply, Result: ticket.Solved, Content: "已处理"})
	tk = f.act(t, tk, f.disp, ticket.Command{Action: ticket.ActApproveReply})
	yes := true
	tk = f.act(t, tk, f.revisitor, ticket.Command{Action: ticket.ActRevisit, Satisfaction: 5, Solved: &yes})
	got, err := f.s.Ticket(f.ctx, tk.Number)
	if err != nil || got.State != ticket.Closed || got.Version != tk.Version || got.Satisfaction != 5 {
		t.Fatalf("stored: %+v %v", got, err)
	}
	evs, err := f.s.Events(f.ctx, got.ID)
	if err != nil || len(evs) != 6 {
		t.Fatalf("events: %d %v", len(evs), err)
	}
	if evs[1].Action != ticket.ActDispatch || evs[1].ActorName != "disp" || evs[1].From != ticket.Registered || evs[1].To != ticket.Dispatched {
		t.Fatalf("event 2: %+v", evs[1])
	}
	// Stale version: 409 and nothing written.
	_, err = f.s.Act(f.ctx, tk.Number, ticket.Command{Action: ticket.ActComment, User: f.agent, Version: tk.Version - 1, Content: "x"})
	if hotline.ErrorCode(err) != hotline.ECONFLICT {
		t.Fatalf("stale: %v", err)
	}
	if evs2, _ := f.s.Events(f.ctx, got.ID); len(evs2) != 6 {
		t.Fatal("a refused action wrote an event")
	}
	// Another unit cannot see it at all.
	if _, err := f.s.TicketFor(f.ctx, tk.Number, f.other); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("other unit: %v", err)
	}
	if _, err := f.s.Act(f.ctx, tk.Number, ticket.Command{Action: ticket.ActComment, User: f.other, Version: tk.Version, Content: "x"}); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("other unit acting: %v", err)
	}
	// Events are append-only at the database.
	if _, err := f.s.DB.Exec(f.ctx, "UPDATE ticket_events SET text = 'x' WHERE ticket_id = ?", got.ID); err == nil {
		t.Fatal("ticket_events accepted an UPDATE")
	}
	if _, err := f.s.DB.Exec(f.ctx, "DELETE FROM ticket_events WHERE ticket_id = ?", got.ID); err == nil {
		t.Fatal("ticket_events accepted a DELETE")
	}
	// The citizen's view needs the right code.
	if _, err := f.s.PublicTicket(f.ctx, tk.Number, "000000x"); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatal("public lookup with a wrong code succeeded")
	}
	if _, err := f.s.PublicTicket(f.ctx, tk.Number, got.QueryCode); err != nil {
		t.Fatal(err)
	}
	// Bad category and region.
	d := draft()
	d.CategoryCode = "9999"
	if _, _, err := f.s.CreateTicket(f.ctx, d, f.agent, "u", ""); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Fatalf("unknown category: %v", err)
	}
}

func (f *fixture) testIdempotency(t *testing.T) {
	var wg sync.WaitGroup
	numbers := make([]string, 8)
	errs := make([]error, 8)
	for i := range numbers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, _, err := f.s.CreateTicket(f.ctx, draft(), f.agent, "user:1", "retry-key-1")
			if err == nil {
				numbers[i] = tk.Number
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i := range numbers {
		if errs[i] != nil || numbers[i] != numbers[0] {
			t.Fatalf("retry %d: %q %v (first %q)", i, numbers[i], errs[i], numbers[0])
		}
	}
	var n int
	f.s.DB.QueryRow(f.ctx, "SELECT COUNT(*) FROM idempotency_keys WHERE key = 'retry-key-1'").Scan(&n)
	if n != 1 {
		t.Fatalf("%d keys stored", n)
	}
	// Another scope with the same key is another order.
	tk, created, err := f.s.CreateTicket(f.ctx, draft(), f.agent, "user:2", "retry-key-1")
	if err != nil || !created || tk.Number == numbers[0] {
		t.Fatalf("other scope: %v %v", created, err)
	}
}

func (f *fixture) testConcurrentVersion(t *testing.T) {
	tk, _, err := f.s.CreateTicket(f.ctx, draft(), f.agent, "u", "")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ok := make(chan int, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.s.Act(f.ctx, tk.Number, ticket.Command{Action: ticket.ActComment, User: f.agent, Version: tk.Version, Content: fmt.Sprint("补充", i)})
			if err == nil {
				ok <- 1
			} else if hotline.ErrorCode(err) != hotline.ECONFLICT {
				t.Errorf("concurrent comment: %v", err)
			}
		}()
	}
	wg.Wait()
	close(ok)
	if len(ok) != 1 {
		t.Fatalf("%d of 10 writers with the same version succeeded, want exactly 1", len(ok))
	}
}

func (f *fixture) testList(t *testing.T) {
	var numbers []string
	for i := 0; i < 5; i++ {
		d := draft()
		d.Title = fmt.Sprintf("测试列表工单%d", i)
		d.Citizen.Phone = "13900000001"
		tk, _, err := f.s.CreateTicket(f.ctx, d, f.agent, "u", "")
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			tk = f.act(t, tk, f.disp, ticket.Command{Action: ticket.ActDispatch, LeadUnitID: f.district.ID})
			if i == 1 {
				tk = f.act(t, tk, f.unit, ticket.Command{Action: ticket.ActSubDispatch, UnitID: f.street.ID})
			}
		}
		numbers = append(numbers, tk.Number)
	}
	page, err := f.s.ListTickets(f.ctx, Filter{Viewer: f.disp, Phone: "13900000001", Limit: 2})
	if err != nil || len(page.Items) != 2 || page.Total != 5 || page.NextCursor == "" {
		t.Fatalf("page 1: %+v %v", page, err)
	}
	if page.Items[0].Number != numbers[4] {
		t.Fatalf("newest first: got %s", page.Items[0].Number)
	}
	seen := map[string]bool{}
	cursor := ""
	for i := 0; i < 5; i++ {
		p, err := f.s.ListTickets(f.ctx, Filter{Viewer: f.disp, Phone: "13900000001", Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			if seen[it.Number] {
				t.Fatalf("cursor paging repeated %s", it.Number)
			}
			seen[it.Number] = true
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if len(seen) != 5 {
		t.Fatalf("cursor paging saw %d of 5", len(seen))
	}
	// The district sees both dispatched orders; the street only its own; another unit none.
	for _, c := range []struct {
		u    *hotline.User
		want int
	}{{f.unit, 2}, {f.streetU, 1}, {f.other, 0}} {
		p, err := f.s.ListTickets(f.ctx, Filter{Viewer: c.u, Phone: "13900000001"})
		if err != nil || p.Total != c.want {
			t.Fatalf("%s sees %d, want %d (%v)", c.u.Username, p.Total, c.want, err)
		}
	}
	p, err := f.s.ListTickets(f.ctx, Filter{Viewer: f.disp, States: []ticket.State{ticket.Registered}, Text: "测试列表工单4"})
	if err != nil || p.Total != 1 {
		t.Fatalf("text+state: %+v %v", p, err)
	}
	if _, err := f.s.ListTickets(f.ctx, Filter{Viewer: f.disp, States: []ticket.State{"bogus"}}); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Fatalf("bad state: %v", err)
	}
	if _, err := f.s.ListTickets(f.ctx, Filter{Viewer: f.disp, Text: "100%_\\"}); err != nil {
		t.Fatalf("LIKE metacharacters: %v", err)
	}
	f.s.Now = func() time.Time { return time.Now().AddDate(0, 0, 30) }
	p, err = f.s.ListTickets(f.ctx, Filter{Viewer: f.disp, Overdue: true, Phone: "13900000001"})
	f.s.Now = time.Now
	if err != nil || p.Total != 5 {
		t.Fatalf("a month later all 5 are overdue: %d %v", p.Total, err)
	}
}

func (f *fixture) testMerge(t *testing.T) {
	master, _, _ := f.s.CreateTicket(f.ctx, draft(), f.agent, "u", "")
	dup, _, _ := f.s.CreateTicket(f.ctx, draft(), f.agent, "u", "")
	dup = f.act(t, dup, f.disp, ticket.Command{Action: ticket.ActMerge, Into: master.Number})
	if dup.State != ticket.Merged {
		t.Fatal(dup.State)
	}
	m, _ := f.s.Ticket(f.ctx, master.Number)
	if len(m.Duplicates) != 1 || m.Duplicates[0] != dup.Number || m.Version != master.Version+1 {
		t.Fatalf("master: %+v", m)
	}
	other, _, _ := f.s.CreateTicket(f.ctx, draft(), f.agent, "u", "")
	if _, err := f.s.Act(f.ctx, other.Number, ticket.Command{Action: ticket.ActMerge, User: f.disp, Version: other.Version, Into: dup.Number}); hotline.ErrorCode(err) != hotline.EUNPROCESSABLE {
		t.Fatalf("merge into a merged order: %v", err)
	}
	if _, err := f.s.Act(f.ctx, other.Number, ticket.Command{Action: ticket.ActMerge, User: f.disp, Version: other.Version, Into: "nope"}); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Fatalf("merge into nothing: %v", err)
	}
}

func (f *fixture) testAudit(t *testing.T) {
	res, err := f.s.VerifyAudit(f.ctx)
	if err != nil || res.First != nil || res.Orders == 0 {
		t.Fatalf("intact audit: %+v %v", res, err)
	}
	// An attacker with database access disables the guard and edits history.
	var id int64
	f.s.DB.QueryRow(f.ctx, "SELECT MAX(id) FROM tickets").Scan(&id)
	if f.s.DB.Dialect == database.Postgres {
		f.s.DB.Exec(f.ctx, "ALTER TABLE ticket_events DISABLE TRIGGER ticket_events_no_update")
		defer f.s.DB.Exec(f.ctx, "ALTER TABLE ticket_events ENABLE TRIGGER ticket_events_no_update")
	} else {
		f.s.DB.Exec(f.ctx, "DROP TRIGGER ticket_events_no_update")
	}
	if _, err := f.s.DB.Exec(f.ctx, "UPDATE ticket_events SET text = '改过的' WHERE ticket_id = ? AND seq = 1", id); err != nil {
		t.Fatal(err)
	}
	res, err = f.s.VerifyAudit(f.ctx)
	if err != nil || res.First == nil || res.First.TicketID != id || res.First.Seq != 1 {
		t.Fatalf("tampering not detected: %+v %v", res, err)
	}
}

func (f *fixture) testDirectory(t *testing.T) {
	if _, err := f.s.CreateUnit(f.ctx, ticket.Unit{Code: "jb", Name: "重复"}); hotline.ErrorCode(err) != hotline.ECONFLICT {
		t.Fatalf("duplicate unit code: %v", err)
	}
	if _, err := f.s.CreateCategory(f.ctx, Category{Code: "0308", Name: "错层"}); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Fatalf("category without parent: %v", err)
	}
	if _, err := f.s.CreateUser(f.ctx, NewUser{Username: "u1", Password: "short", Name: "x", Roles: []hotline.Role{hotline.RoleAgent}}); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Fatalf("short password: %v", err)
	}
	if _, err := f.s.CreateUser(f.ctx, NewUser{Username: "u2", Password: "password1", Name: "x", Roles: []hotline.Role{hotline.RoleUnit}}); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Fatalf("unit user without unit: %v", err)
	}
	if u, err := f.s.Authenticate(f.ctx, "agent", "password1"); err != nil || u.ID != f.agent.ID {
		t.Fatalf("login: %v", err)
	}
	if _, err := f.s.Authenticate(f.ctx, "agent", "wrong"); hotline.ErrorCode(err) != hotline.EUNAUTHORIZED {
		t.Fatalf("wrong password: %v", err)
	}
	tok, err := f.s.CreateSession(f.ctx, f.agent.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := f.s.SessionUser(f.ctx, tok); err != nil || u.Username != "agent" {
		t.Fatalf("session: %v", err)
	}
	f.s.DeleteSession(f.ctx, tok)
	if _, err := f.s.SessionUser(f.ctx, tok); hotline.ErrorCode(err) != hotline.EUNAUTHORIZED {
		t.Fatalf("signed-out session still valid: %v", err)
	}
	// Catalogue: a district entry beats the city-wide one; prefixes fall back.
	f.s.SetCatalogueEntry(f.ctx, CatalogueEntry{CategoryCode: "02", UnitID: f.dept.ID})
	f.s.SetCatalogueEntry(f.ctx, CatalogueEntry{CategoryCode: "0207", RegionUnitID: f.district.ID, UnitID: f.street.ID})
	for _, c := range []struct {
		code   string
		region int64
		want   int64
	}{{"0207", f.district.ID, f.street.ID}, {"0207", 0, f.dept.ID}, {"020799", f.district.ID, f.street.ID}, {"05", 0, 0}} {
		if got, err := f.s.SuggestUnit(f.ctx, c.code, c.region); err != nil || got != c.want {
			t.Errorf("SuggestUnit(%s, %d) = %d, %v; want %d", c.code, c.region, got, err, c.want)
		}
	}
}

func (f *fixture) testStats(t *testing.T) {
	st, err := f.s.OrderStats(f.ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), "")
	if err != nil || len(st) != 1 {
		t.Fatalf("%+v %v", st, err)
	}
	s := st[0]
	if s.Total == 0 || s.Replied != 1 || s.Revisited != 1 || s.SatisfactionRate != 1 || s.Dispatched < 3 {
		t.Fatalf("stats: %+v", s)
	}
	for _, by := range []string{"unit", "month", "category", "channel"} {
		if _, err := f.s.OrderStats(f.ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), by); err != nil {
			t.Fatalf("by %s: %v", by, err)
		}
	}
}

func TestNextPrefix(t *testing.T) {
	for in, want := range map[string]string{"0109": "011", "01": "02", "0199": "02", "99": "", "9": ""} {
		got, ok := nextPrefix(in)
		if got != want || ok != (want != "") {
			t.Errorf("nextPrefix(%q) = %q, %v", in, got, ok)
		}
	}
}

// TestTwoNodes runs two stores (two nodes) on one database: registrations
// from both never collide, and a configuration change made on one node is
// seen by the other.
func TestTwoNodes(t *testing.T) {
	database.ForEachTestDB(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		other, err := Open(f.ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		var wg sync.WaitGroup
		numbers := make(chan string, 200)
		for _, s := range []*Store{f.s, other} {
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 25; i++ {
						tk, _, err := s.CreateTicket(f.ctx, draft(), f.agent, "u", "")
						if err != nil {
							t.Error(err)
							return
						}
						numbers <- tk.Number
					}
				}()
			}
		}
		wg.Wait()
		close(numbers)
		seen := map[string]bool{}
		for n := range numbers {
			if seen[n] {
				t.Fatalf("order number %s issued twice", n)
			}
			seen[n] = true
		}
		if len(seen) != 200 {
			t.Fatalf("%d orders", len(seen))
		}
		// A unit created on one node is usable on the other at once after
		// its cache check (Invalidate stands in for the one-second tick).
		u, err := f.s.CreateUnit(f.ctx, ticket.Unit{Code: "new-node-unit", Name: "新单位"})
		if err != nil {
			t.Fatal(err)
		}
		other.Invalidate()
		tk, _, _ := other.CreateTicket(f.ctx, draft(), f.agent, "u", "")
		if _, err := other.Act(f.ctx, tk.Number, ticket.Command{Action: ticket.ActDispatch, User: f.disp, Version: tk.Version, LeadUnitID: u.ID}); err != nil {
			t.Fatalf("the other node does not know the new unit: %v", err)
		}
	})
}
