package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/calendar"
	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/ticket"
)

// CreateTicket registers a new order. user is the agent (nil for the
// citizens' portal). A non-empty idempotencyKey makes retries safe: the same
// key in the same scope returns the order created first, with created=false.
func (s *Store) CreateTicket(ctx context.Context, d ticket.Draft, user *hotline.User, scope, idempotencyKey string) (t *ticket.Ticket, created bool, err error) {
	env, err := s.env(ctx)
	if err != nil {
		return nil, false, err
	}
	if d.CategoryCode != "" {
		if ok, err := s.categoryExists(ctx, d.CategoryCode); err != nil {
			return nil, false, err
		} else if !ok {
			return nil, false, hotline.Errorf(hotline.EINVALID, "分类编码“%s”不存在", "unknown category_code %q", d.CategoryCode, d.CategoryCode)
		}
	}
	if d.RegionUnitID != 0 && !env.Units.Exists(d.RegionUnitID) {
		return nil, false, hotline.Errorf(hotline.EINVALID, "所属区域单位不存在", "region_unit_id does not exist")
	}
	t, events, err := ticket.Register(d, user, env)
	if err != nil {
		return nil, false, err
	}
	if t.QueryCode, err = queryCode(); err != nil {
		return nil, false, err
	}
	var existing int64
	if s.batch != nil {
		job := &createJob{t: t, events: events, scope: scope, key: idempotencyKey, done: make(chan error, 1)}
		select {
		case s.batch <- job:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		err = <-job.done
		existing = job.existing
	} else {
		err = s.DB.Tx(ctx, func(tx *database.Tx) error {
			var err error
			existing, err = insertNew(ctx, tx, s.ids, t, events, scope, idempotencyKey)
			return err
		})
	}
	if database.IsUniqueViolation(err) && idempotencyKey != "" {
		// A concurrent retry with the same key won the race.
		err = s.DB.QueryRow(ctx, `SELECT ticket_id FROM idempotency_keys WHERE scope = ? AND key = ?`, scope, idempotencyKey).Scan(&existing)
	}
	if err != nil {
		return nil, false, err
	}
	if existing != 0 {
		t, err := s.ticketBy(ctx, s.DB.QueryRow(ctx, `SELECT doc, version, event_seq, last_hash FROM tickets WHERE id = ?`, existing))
		return t, false, err
	}
	return t, true, nil
}

// insertNew writes a newly registered order and its first event, or finds
// the order an earlier request with the same idempotency key created.
func insertNew(ctx context.Context, tx *database.Tx, ids *idSource, t *ticket.Ticket, events []ticket.Event, scope, key string) (existing int64, err error) {
	if key != "" {
		err := tx.QueryRow(ctx, `SELECT ticket_id FROM idempotency_keys WHERE scope = ? AND key = ?`, scope, key).Scan(&existing)
		if err == nil {
			return existing, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
	}
	if t.ID, err = ids.next(ctx, tx); err != nil {
		return 0, err
	}
	t.Number = Number(t.CreatedAt, t.Channel, t.ID)
	ticket.Seal(t, events)
	if err := insertTicket(ctx, tx, t); err != nil {
		return 0, err
	}
	if err := insertEvents(ctx, tx, events); err != nil {
		return 0, err
	}
	if key != "" {
		if _, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (scope, key, ticket_id, created_at) VALUES (?, ?, ?, ?)`,
			scope, key, t.ID, database.Millis(t.CreatedAt)); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// createJob is one registration waiting for the SQLite group commit.
type createJob struct {
	t        *ticket.Ticket
	events   []ticket.Event
	scope    string
	key      string
	existing int64
	done     chan error
}

// groupCommit is SQLite's single writer for registrations: it takes every
// registration waiting at the moment (up to 256) and writes them in one
// transaction, each inside its own savepoint so that one failure does not
// undo the others. One fsync then makes a whole batch durable, which is what
// lets a single SQLite file take well over a thousand durable orders a
// second. Nobody is answered before the commit returns.
func (s *Store) groupCommit() {
	ctx := context.Background()
	for job := range s.batch {
		jobs := []*createJob{job}
	drain:
		for len(jobs) < 256 {
			select {
			case j, ok := <-s.batch:
				if !ok {
					break drain
				}
				jobs = append(jobs, j)
			default:
				break drain
			}
		}
		errs := make([]error, len(jobs))
		err := s.DB.Tx(ctx, func(tx *database.Tx) error {
			for i, j := range jobs {
				if _, err := tx.Exec(ctx, "SAVEPOINT reg"); err != nil {
					return err
				}
				j.existing, errs[i] = insertNew(ctx, tx, s.ids, j.t, j.events, j.scope, j.key)
				if errs[i] != nil {
					if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT reg"); err != nil {
						return err
					}
				}
				if _, err := tx.Exec(ctx, "RELEASE SAVEPOINT reg"); err != nil {
					return err
				}
			}
			return nil
		})
		for i, j := range jobs {
			if err != nil {
				errs[i] = err
			}
			j.done <- errs[i]
		}
	}
}

func (s *Store) categoryExists(ctx context.Context, code string) (bool, error) {
	var n int
	err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM categories WHERE code = ?`, code).Scan(&n)
	return n > 0, err
}

// Number formats an order number: the registration date in China time, the
// channel's two-digit code and the order id, e.g. 20261124-01-0001234.
func Number(created time.Time, ch ticket.Channel, id int64) string {
	return fmt.Sprintf("%s%02d%07d", created.In(calendar.China).Format("20060102"), ch.Code(), id)
}

// queryCode returns the citizen's 6-digit query code (查询码).
func queryCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// projection lists the columns that mirror an order's fields for queries,
// in the order projectionValues returns them.
const projection = `number, query_code, channel, type, urgency, state, category_code, title, citizen_phone, address,
	lead_unit_id, handler_unit_id, region_unit_id, created_at, updated_at, closed_at, active_due, warn_at, provisional,
	escalated, first_unit_id, fcr, dispatch_count, return_count, reopen_count, extended_days, contacted, replied_at,
	replied_late, satisfaction, solved, unreachable, version, event_seq, last_hash, suggested_category, suggested_unit_id, place3, doc`

func projectionValues(t *ticket.Ticket) ([]any, error) {
	doc, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return []any{t.Number, t.QueryCode, string(t.Channel), string(t.Type), string(t.Urgency), string(t.State),
		t.CategoryCode, t.Title, t.Citizen.Phone, t.Address, t.LeadUnitID, t.HandlerUnitID, t.RegionUnitID,
		database.Millis(t.CreatedAt), database.Millis(t.UpdatedAt), database.NullMillis(t.ClosedAt),
		database.NullMillis(t.ActiveDue()), warnAt(t), boolInt(t.Provisional), boolInt(t.Escalated),
		t.FirstUnitID, boolInt(t.AnsweredAtIntake), t.DispatchCount, t.ReturnCount, t.ReopenCount, t.ExtendedDays,
		boolInt(!t.ContactedAt.IsZero()), database.NullMillis(t.RepliedAt), boolInt(t.RepliedLate), t.Satisfaction,
		solvedInt(t.Solved), boolInt(t.Unreachable), t.Version, t.EventSeq, t.LastHash, t.SuggestedCategory, t.SuggestedUnitID,
		placeColumnValue(t.Address), string(doc)}, nil
}

// warnAt is stored only while a clock runs, so that the index on it holds
// just the orders that can still turn yellow.
func warnAt(t *ticket.Ticket) sql.NullInt64 {
	if t.ActiveDue().IsZero() {
		return sql.NullInt64{}
	}
	return database.NullMillis(t.WarnAt)
}

var (
	insertSQL = "INSERT INTO tickets (id, " + projection + ") VALUES (?" + strings.Repeat(", ?", strings.Count(projection, ",")+1) + ")"
	updateSQL = "UPDATE tickets SET " + strings.Join(strings.Fields(strings.ReplaceAll(projection, ",", " ")), " = ?, ") +
		" = ? WHERE id = ? AND version = ?"
)

// insertTicket stores a new order's projection (its id already assigned).
func insertTicket(ctx context.Context, tx *database.Tx, t *ticket.Ticket) error {
	vals, err := projectionValues(t)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, insertSQL, append([]any{t.ID}, vals...)...); err != nil {
		return err
	}
	return afterWrite(ctx, tx, t, true)
}

// writeTicket stores a changed order's projection, refusing if another
// transaction changed it since oldVersion.
func writeTicket(ctx context.Context, tx *database.Tx, t *ticket.Ticket, oldVersion int) error {
	vals, err := projectionValues(t)
	if err != nil {
		return err
	}
	res, err := tx.Exec(ctx, updateSQL, append(vals, t.ID, oldVersion)...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return hotline.Errorf(hotline.ECONFLICT, "工单已被他人修改，请刷新后重试", "the order was changed concurrently; reload and retry")
	}
	return afterWrite(ctx, tx, t, false)
}

// afterWrite keeps the order's unit index and the calendar warning current.
func afterWrite(ctx context.Context, tx *database.Tx, t *ticket.Ticket, isNew bool) error {
	if t.Provisional {
		if err := raiseWarning(ctx, tx, "calendar_missing", "有工单的期限超出已加载的节假日年份，已按周末规则暂算；请加载下一年度节假日安排",
			database.Millis(t.UpdatedAt)); err != nil {
			return err
		}
	}
	if !isNew {
		if _, err := tx.Exec(ctx, `DELETE FROM ticket_units WHERE ticket_id = ?`, t.ID); err != nil {
			return err
		}
	}
	seen := map[int64]bool{}
	// The units that may see the order (ticket.CanSee): holder, lead and
	// assisting units; list queries walk this index per unit.
	for _, id := range append([]int64{t.LeadUnitID, t.HandlerUnitID}, t.AssistUnitIDs...) {
		if id == 0 || seen[id] {
			continue
		}
		seen[id] = true
		if _, err := tx.Exec(ctx, `INSERT INTO ticket_units (ticket_id, unit_id, state, created_at) VALUES (?, ?, ?, ?)`, t.ID, id, string(t.State), database.Millis(t.CreatedAt)); err != nil {
			return err
		}
	}
	return nil
}

func solvedInt(b *bool) int {
	if b == nil {
		return -1
	}
	return boolInt(*b)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func insertEvents(ctx context.Context, tx *database.Tx, events []ticket.Event) error {
	for i := range events {
		e := &events[i]
		if err := tx.QueryRow(ctx, `INSERT INTO ticket_events (ticket_id, seq, action, actor_id, actor_name, role, unit_id, at,
			from_state, to_state, text, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			e.TicketID, e.Seq, string(e.Action), e.ActorID, e.ActorName, e.Role, e.UnitID, database.Millis(e.At),
			string(e.From), string(e.To), e.Text, string(e.Data), e.PrevHash, e.Hash).Scan(&e.ID); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) ticketBy(ctx context.Context, row *sql.Row) (*ticket.Ticket, error) {
	var doc, hash string
	var version, seq int
	err := row.Scan(&doc, &version, &seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("工单不存在", "order not found")
	}
	if err != nil {
		return nil, err
	}
	return decodeTicket(doc, version, seq, hash)
}

func decodeTicket(doc string, version, seq int, hash string) (*ticket.Ticket, error) {
	var t ticket.Ticket
	if err := json.Unmarshal([]byte(doc), &t); err != nil {
		return nil, fmt.Errorf("decode order: %w", err)
	}
	t.Version, t.EventSeq, t.LastHash = version, seq, hash
	return &t, nil
}

// Ticket returns the order with number, without checking who may see it.
func (s *Store) Ticket(ctx context.Context, number string) (*ticket.Ticket, error) {
	return s.ticketBy(ctx, s.DB.QueryRow(ctx, `SELECT doc, version, event_seq, last_hash FROM tickets WHERE number = ?`, number))
}

// TicketFor returns the order as user may see it; an order outside a unit
// user's scope is reported as not found, so its existence does not leak.
func (s *Store) TicketFor(ctx context.Context, number string, user *hotline.User) (*ticket.Ticket, error) {
	t, err := s.Ticket(ctx, number)
	if err != nil {
		return nil, err
	}
	units, err := s.UnitTree(ctx)
	if err != nil {
		return nil, err
	}
	if !t.CanSee(user, units) {
		return nil, notFound("工单不存在", "order not found")
	}
	return t.ViewFor(user), nil
}

// Events returns the order's events in order.
func (s *Store) Events(ctx context.Context, ticketID int64) ([]ticket.Event, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, ticket_id, seq, action, actor_id, actor_name, role, unit_id, at, from_state, to_state,
		text, data, prev_hash, hash FROM ticket_events WHERE ticket_id = ? ORDER BY seq`, ticketID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ticket.Event
	for rows.Next() {
		var e ticket.Event
		var at int64
		var action, from, to, data string
		if err := rows.Scan(&e.ID, &e.TicketID, &e.Seq, &action, &e.ActorID, &e.ActorName, &e.Role, &e.UnitID, &at,
			&from, &to, &e.Text, &data, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.Action, e.From, e.To, e.At = ticket.Action(action), ticket.State(from), ticket.State(to), time.UnixMilli(at)
		if data != "" {
			e.Data = json.RawMessage(data)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Act performs one lifecycle step on the order with number and returns the
// updated order as the actor may see it. The order row and its events are
// written in one transaction; a stale version changes nothing.
func (s *Store) Act(ctx context.Context, number string, cmd ticket.Command) (*ticket.Ticket, error) {
	env, err := s.env(ctx)
	if err != nil {
		return nil, err
	}
	if cmd.Action == ticket.ActDispatch {
		// What the desk proposed for a first dispatch, kept to report how
		// often dispatchers follow it. Looked up before the transaction so
		// the history read does not hold the write lock; the category and
		// district it depends on do not change between the two.
		var code string
		var region, first int64
		if err := s.DB.QueryRow(ctx, `SELECT category_code, region_unit_id, first_unit_id FROM tickets WHERE number = ?`, number).
			Scan(&code, &region, &first); err == nil && first == 0 {
			if u, err := s.SuggestUnit(ctx, code, region); err == nil {
				cmd.SuggestedUnitID = u
			}
		}
	}
	var out *ticket.Ticket
	lock := ""
	if s.DB.Dialect == database.Postgres {
		lock = " FOR UPDATE"
	}
	err = s.DB.Tx(ctx, func(tx *database.Tx) error {
		t, err := s.ticketBy(ctx, tx.QueryRow(ctx, `SELECT doc, version, event_seq, last_hash FROM tickets WHERE number = ?`+lock, number))
		if err != nil {
			return err
		}
		if !cmd.Citizen && !t.CanSee(cmd.User, env.Units) {
			return notFound("工单不存在", "order not found")
		}
		n, events, err := ticket.Apply(t, cmd, env)
		if err != nil {
			return err
		}
		if cmd.Action == ticket.ActMerge {
			if err := s.mergeInto(ctx, tx, n, events[0], lock); err != nil {
				return err
			}
		}
		ticket.Seal(n, events)
		if err := writeTicket(ctx, tx, n, t.Version); err != nil {
			return err
		}
		if err := insertEvents(ctx, tx, events); err != nil {
			return err
		}
		out = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out.ViewFor(cmd.User), nil
}

// mergeInto records on the master order that dup was merged into it.
func (s *Store) mergeInto(ctx context.Context, tx *database.Tx, dup *ticket.Ticket, ev ticket.Event, lock string) error {
	m, err := s.ticketBy(ctx, tx.QueryRow(ctx, `SELECT doc, version, event_seq, last_hash FROM tickets WHERE number = ?`+lock, dup.MergedInto))
	if hotline.ErrorCode(err) == hotline.ENOTFOUND {
		return hotline.Errorf(hotline.EINVALID, "主工单 %s 不存在", "master order %s does not exist", dup.MergedInto, dup.MergedInto)
	}
	if err != nil {
		return err
	}
	if !m.State.Open() {
		return hotline.Errorf(hotline.EUNPROCESSABLE, "主工单 %s 已结束，不能并入", "master order %s is no longer open", m.Number, m.Number)
	}
	old := m.Version
	m.Duplicates = append(m.Duplicates, dup.Number)
	m.Version++
	m.UpdatedAt = ev.At
	data, _ := json.Marshal(map[string]any{"duplicate": dup.Number})
	mev := []ticket.Event{{Action: ticket.ActMergedFrom, ActorID: ev.ActorID, ActorName: ev.ActorName, Role: ev.Role, UnitID: ev.UnitID,
		At: ev.At, From: m.State, To: m.State, Text: "并入重复工单 " + dup.Number, Data: data}}
	ticket.Seal(m, mev)
	if err := writeTicket(ctx, tx, m, old); err != nil {
		return err
	}
	return insertEvents(ctx, tx, mev)
}

// PublicTicket returns an order to a citizen who knows its number and query
// code; a wrong code is reported as not found.
func (s *Store) PublicTicket(ctx context.Context, number, code string) (*ticket.Ticket, error) {
	t, err := s.Ticket(ctx, number)
	if err != nil || len(code) != len(t.QueryCode) || code != t.QueryCode {
		return nil, notFound("工单号或查询码不正确", "order number or query code is wrong")
	}
	return t, nil
}

// idSource hands out order ids. On PostgreSQL it reserves blocks of the
// identity sequence, so a registration needs no extra round trip and
// several nodes never collide; on SQLite (one writer) the next id is read
// inside the writing transaction.
type idSource struct {
	dialect database.Dialect
	db      *database.DB
	mu      sync.Mutex
	free    []int64
}

func (s *idSource) next(ctx context.Context, tx *database.Tx) (int64, error) {
	if s.dialect != database.Postgres {
		var id int64
		err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM tickets`).Scan(&id)
		return id, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.free) == 0 {
		rows, err := s.db.Query(ctx, `SELECT nextval(pg_get_serial_sequence('tickets', 'id')) FROM generate_series(1, 64)`)
		if err != nil {
			return 0, err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return 0, err
			}
			s.free = append(s.free, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
	}
	id := s.free[0]
	s.free = s.free[1:]
	return id, nil
}
