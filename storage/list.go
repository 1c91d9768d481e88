package storage

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/ticket"
)

// Filter selects orders for a list. Zero fields do not filter.
type Filter struct {
	States       []ticket.State
	UnitID       int64  // held, led or assisted by this unit or a unit below it
	CategoryCode string // prefix
	Type         ticket.Type
	Channel      ticket.Channel
	Urgency      ticket.Urgency
	From, To     time.Time // registration time
	Overdue      bool
	Warning      string // yellow (due soon) or red (overdue)
	Phone        string
	Text         string // in number, title, content or address
	Escalated    bool
	Provisional  bool
	Sort         string // "created" (newest first, default) or "due" (soonest first)
	Limit        int    // 1..200, default 20
	Page         int    // 1-based page for offset paging
	Cursor       string // opaque keyset cursor from a previous page (sort=created only)
	Viewer       *hotline.User
}

// Page is one page of a list.
type Page struct {
	Items      []*ticket.Ticket `json:"items"`
	NextCursor string           `json:"next_cursor,omitempty"`
	Page       int              `json:"page"`
	Limit      int              `json:"limit"`
	// Total counts matches up to TotalCap; TotalCapped says there are more.
	Total       int  `json:"total"`
	TotalCapped bool `json:"total_capped,omitempty"`
}

// TotalCap bounds counting so that a list over tens of millions of orders
// stays fast; the desks show "1000+" (nobody pages through a thousand
// orders; they filter).
const TotalCap = 1000

// ListTickets returns a filtered, sorted page of orders as f.Viewer may see
// them (unit users only see their units' orders).
func (s *Store) ListTickets(ctx context.Context, f Filter) (*Page, error) {
	units, err := s.UnitTree(ctx)
	if err != nil {
		return nil, err
	}
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	// A list scoped to one unit with no sub-units walks that unit's index
	// (newest first) and stops after a page; wider scopes test membership.
	from, single := "tickets", false
	inUnits := func(root int64) {
		ids := []int64{}
		for _, u := range units.All() {
			if units.Within(u.ID, root) {
				ids = append(ids, u.ID)
			}
		}
		if len(ids) == 0 {
			ids = append(ids, -1)
		}
		if len(ids) == 1 && !single && from == "tickets" {
			from, single = "ticket_units tu JOIN tickets ON tickets.id = tu.ticket_id", true
			add("tu.unit_id = ?", ids[0])
			return
		}
		ph := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
		a := make([]any, len(ids))
		for i, id := range ids {
			a[i] = id
		}
		add(`tickets.id IN (SELECT ticket_id FROM ticket_units WHERE unit_id IN (`+ph+`))`, a...)
	}
	v := f.Viewer
	if v == nil {
		return nil, hotline.Errorf(hotline.EUNAUTHORIZED, "请先登录", "please sign in")
	}
	if page, ok, err := s.unitInbox(ctx, f, units); ok || err != nil {
		return page, err
	}
	staff := v.Has(hotline.RoleAdmin, hotline.RoleAgent, hotline.RoleDispatcher, hotline.RoleRevisitor, hotline.RoleSupervisor, hotline.RoleAnalyst)
	if !staff {
		if !v.Has(hotline.RoleUnit) || v.UnitID == 0 {
			return nil, hotline.Errorf(hotline.EFORBIDDEN, "无权查看工单", "you may not list orders")
		}
		inUnits(v.UnitID)
	}
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, st := range f.States {
			if !st.Valid() {
				return nil, hotline.Errorf(hotline.EINVALID, "未知的工单状态：%q", "unknown state %q", st, st)
			}
			ph[i] = "?"
			args = append(args, string(st))
		}
		where = append(where, "state IN ("+strings.Join(ph, ",")+")")
	}
	if f.UnitID != 0 {
		inUnits(f.UnitID)
	}
	if f.CategoryCode != "" {
		// A prefix as a range, so that the category index serves it.
		if upper, ok := nextPrefix(f.CategoryCode); ok {
			add("category_code >= ? AND category_code < ?", f.CategoryCode, upper)
		} else {
			add("category_code >= ?", f.CategoryCode)
		}
	}
	if f.Type != "" {
		add("type = ?", string(f.Type))
	}
	if f.Channel != "" {
		add("channel = ?", string(f.Channel))
	}
	if f.Urgency != "" {
		add("urgency = ?", string(f.Urgency))
	}
	if !f.From.IsZero() {
		add("tickets.created_at >= ?", database.Millis(f.From))
	}
	if !f.To.IsZero() {
		add("tickets.created_at < ?", database.Millis(f.To))
	}
	now := database.Millis(s.now())
	switch {
	case f.Overdue || f.Warning == ticket.WarnRed:
		add("active_due < ?", now)
	case f.Warning == ticket.WarnYellow:
		add("warn_at <= ? AND active_due >= ?", now, now)
	case f.Warning != "" && f.Warning != ticket.WarnNone:
		return nil, hotline.Errorf(hotline.EINVALID, "预警级别须为yellow或red", "warning must be yellow or red")
	}
	if f.Phone != "" {
		add("citizen_phone = ?", f.Phone)
	}
	if f.Text != "" {
		p := likeContains(f.Text)
		add("(number = ? OR title LIKE ? ESCAPE '\\' OR address LIKE ? ESCAPE '\\' OR doc LIKE ? ESCAPE '\\')", f.Text, p, p, p)
	}
	if f.Escalated {
		add("escalated = 1")
	}
	if f.Provisional {
		add("provisional = 1")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 20
	}
	if limit > 200 {
		return nil, hotline.Errorf(hotline.EINVALID, "每页最多200条", "limit must be at most 200")
	}
	page := max(f.Page, 1)
	if page > 500 {
		return nil, hotline.Errorf(hotline.EINVALID, "页码过大，请缩小筛选范围", "page too deep; narrow the filter")
	}
	countWhere, countArgs := strings.Join(where, " AND "), append([]any(nil), args...)
	order := "tickets.created_at DESC, tickets.id DESC"
	if single {
		order = "tu.created_at DESC, tu.ticket_id DESC"
	}
	switch f.Sort {
	case "", "created":
		if f.Cursor != "" {
			var c, id int64
			b, err := base64.RawURLEncoding.DecodeString(f.Cursor)
			if err != nil {
				return nil, hotline.Errorf(hotline.EINVALID, "翻页游标无效", "invalid cursor")
			}
			if _, err := fmt.Sscanf(string(b), "%d:%d", &c, &id); err != nil {
				return nil, hotline.Errorf(hotline.EINVALID, "翻页游标无效", "invalid cursor")
			}
			add("(tickets.created_at < ? OR (tickets.created_at = ? AND tickets.id < ?))", c, c, id)
			page = 1
		}
	case "due":
		// Only orders with a running clock have a due time to sort by.
		add("active_due IS NOT NULL")
		order = "active_due, tickets.id"
	default:
		return nil, hotline.Errorf(hotline.EINVALID, "排序方式须为created或due", "sort must be created or due")
	}
	q := `SELECT tickets.id, tickets.created_at, doc, version, event_seq, last_hash FROM ` + from
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY %s LIMIT %d OFFSET %d", order, limit+1, (page-1)*limit)
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &Page{Page: page, Limit: limit, Items: []*ticket.Ticket{}}
	var lastCreated, lastID int64
	for rows.Next() {
		var id, created int64
		var doc, hash string
		var version, seq int
		if err := rows.Scan(&id, &created, &doc, &version, &seq, &hash); err != nil {
			return nil, err
		}
		if len(out.Items) == limit {
			if f.Sort == "" || f.Sort == "created" {
				out.NextCursor = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d:%d", lastCreated, lastID))
			}
			break
		}
		t, err := decodeTicket(doc, version, seq, hash)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, t.ViewFor(v))
		lastCreated, lastID = created, id
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	cq := `SELECT COUNT(*) FROM (SELECT 1 FROM ` + from
	if countWhere != "" {
		cq += " WHERE " + countWhere
	}
	cq += fmt.Sprintf(" LIMIT %d) c", TotalCap+1)
	if err := s.DB.QueryRow(ctx, cq, countArgs...).Scan(&out.Total); err != nil {
		return nil, err
	}
	if out.Total > TotalCap {
		out.Total, out.TotalCapped = TotalCap, true
	}
	return out, nil
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func likeContains(s string) string { return "%" + likeEscaper.Replace(s) + "%" }

// nextPrefix returns the smallest digit string greater than every string
// that starts with p ("0109" → "011"), false when there is none ("99").
func nextPrefix(p string) (string, bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// unitInbox serves the commonest unit list — one unit's orders (with its
// sub-units), optionally in some states, newest first, nothing else
// filtered — from the ticket_units index alone, so it costs the same for a
// unit with ten orders and one with a hundred thousand. ok is false when
// the filter needs the general query.
func (s *Store) unitInbox(ctx context.Context, f Filter, units *ticket.UnitTree) (*Page, bool, error) {
	v := f.Viewer
	staff := v.Has(hotline.RoleAdmin, hotline.RoleAgent, hotline.RoleDispatcher, hotline.RoleRevisitor, hotline.RoleSupervisor, hotline.RoleAnalyst)
	root := f.UnitID
	if !staff {
		if !v.Has(hotline.RoleUnit) || v.UnitID == 0 {
			return nil, false, nil
		}
		switch {
		case root == 0 || root == v.UnitID:
			root = v.UnitID
		case units.Within(root, v.UnitID):
		default:
			return nil, false, nil
		}
	}
	other := f.CategoryCode != "" || f.Type != "" || f.Channel != "" || f.Urgency != "" || !f.From.IsZero() || !f.To.IsZero() ||
		f.Overdue || f.Warning != "" || f.Phone != "" || f.Text != "" || f.Escalated || f.Provisional ||
		f.Sort != "" && f.Sort != "created" || f.Cursor != ""
	if root == 0 || other {
		return nil, false, nil
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 20
	}
	page := max(f.Page, 1)
	if limit > 200 || page > 500 {
		return nil, false, nil // the general query reports the error
	}
	var ids []any
	for _, u := range units.All() {
		if units.Within(u.ID, root) {
			ids = append(ids, u.ID)
		}
	}
	if len(ids) == 0 {
		ids = append(ids, int64(-1))
	}
	cond := "unit_id IN (" + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + ")"
	args := ids
	if len(f.States) > 0 {
		for _, st := range f.States {
			if !st.Valid() {
				return nil, false, nil
			}
			args = append(args, string(st))
		}
		cond += " AND state IN (" + strings.TrimSuffix(strings.Repeat("?,", len(f.States)), ",") + ")"
	}
	rows, err := s.DB.Query(ctx, fmt.Sprintf(`SELECT ticket_id, MAX(created_at) c FROM ticket_units WHERE %s
		GROUP BY ticket_id ORDER BY c DESC, ticket_id DESC LIMIT %d OFFSET %d`, cond, limit, (page-1)*limit), args...)
	if err != nil {
		return nil, true, err
	}
	var order []int64
	for rows.Next() {
		var id, c int64
		if err := rows.Scan(&id, &c); err != nil {
			rows.Close()
			return nil, true, err
		}
		order = append(order, id)
	}
	rows.Close()
	out := &Page{Page: page, Limit: limit, Items: []*ticket.Ticket{}}
	if len(order) > 0 {
		ph := strings.TrimSuffix(strings.Repeat("?,", len(order)), ",")
		targs := make([]any, len(order))
		for i, id := range order {
			targs[i] = id
		}
		trows, err := s.DB.Query(ctx, `SELECT id, doc, version, event_seq, last_hash FROM tickets WHERE id IN (`+ph+`)`, targs...)
		if err != nil {
			return nil, true, err
		}
		byID := map[int64]*ticket.Ticket{}
		for trows.Next() {
			var id int64
			var doc, hash string
			var version, seq int
			if err := trows.Scan(&id, &doc, &version, &seq, &hash); err != nil {
				trows.Close()
				return nil, true, err
			}
			t, err := decodeTicket(doc, version, seq, hash)
			if err != nil {
				trows.Close()
				return nil, true, err
			}
			byID[id] = t
		}
		trows.Close()
		for _, id := range order {
			if t := byID[id]; t != nil {
				out.Items = append(out.Items, t.ViewFor(v))
			}
		}
	}
	// Count distinct orders among the first entries of the index.
	err = s.DB.QueryRow(ctx, fmt.Sprintf(`SELECT COUNT(DISTINCT ticket_id) FROM (SELECT ticket_id FROM ticket_units WHERE %s LIMIT %d) c`,
		cond, 2*TotalCap+2), args...).Scan(&out.Total)
	if err != nil {
		return nil, true, err
	}
	if out.Total > TotalCap {
		out.Total, out.TotalCapped = TotalCap, true
	}
	return out, true, nil
}
