package callcenter

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/database"
)

var migrations = []database.Migration{{Version: 1, Name: "calls", SQL: `
CREATE TABLE calls (
	id {{id}},
	call_id TEXT NOT NULL UNIQUE,
	caller TEXT NOT NULL,
	queue TEXT NOT NULL,
	agent TEXT NOT NULL DEFAULT '',
	state TEXT NOT NULL,
	arrived_at BIGINT NOT NULL,
	answered_at BIGINT,
	ended_at BIGINT,
	wait_seconds INTEGER NOT NULL DEFAULT 0,
	talk_seconds INTEGER NOT NULL DEFAULT 0,
	satisfaction INTEGER NOT NULL DEFAULT 0,
	target TEXT NOT NULL DEFAULT ''
);
CREATE INDEX calls_arrived ON calls (arrived_at DESC, id DESC);
CREATE INDEX calls_caller ON calls (caller, arrived_at);
CREATE INDEX calls_agent ON calls (agent, arrived_at);
CREATE TABLE call_events (
	id {{id}},
	call_id TEXT NOT NULL,
	type TEXT NOT NULL,
	at BIGINT NOT NULL,
	data TEXT NOT NULL
);
CREATE INDEX call_events_call ON call_events (call_id, id)`}, {Version: 2, Name: "telephony", SQL: `
ALTER TABLE calls ADD COLUMN menu_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN hold_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN wrap_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN hold_started_at BIGINT;
ALTER TABLE calls ADD COLUMN recording TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_recording ON calls (arrived_at) WHERE recording <> '';
CREATE TABLE callbacks (
	id {{id}},
	call_id TEXT NOT NULL,
	caller TEXT NOT NULL,
	queue TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'open',
	created_at BIGINT NOT NULL,
	done_at BIGINT,
	done_by TEXT NOT NULL DEFAULT '',
	note TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX callbacks_call ON callbacks (call_id);
CREATE INDEX callbacks_open ON callbacks (state, created_at);
CREATE TABLE sip_accounts (
	username TEXT PRIMARY KEY,
	user_id BIGINT NOT NULL,
	realm TEXT NOT NULL,
	ha1 TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX sip_accounts_user ON sip_accounts (user_id)`}, {Version: 3, Name: "transfers and three-way calls", SQL: `
ALTER TABLE calls ADD COLUMN last_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN conference TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN conference_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN conference_started_at BIGINT;
UPDATE calls SET last_agent = agent WHERE state = 'answered'`}}

// Store keeps call records.
type Store struct{ db *database.DB }

// Open migrates the call tables.
func Open(ctx context.Context, db *database.DB) (*Store, error) {
	if err := db.Migrate(ctx, "callcenter", migrations); err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

const cols = `id, call_id, caller, queue, agent, state, arrived_at, answered_at, ended_at, wait_seconds, talk_seconds, satisfaction, target,
	menu_seconds, hold_seconds, wrap_seconds, hold_started_at, recording,
	last_agent, conference, conference_seconds, conference_started_at`

func scan(row interface{ Scan(...any) error }) (*Call, error) {
	var c Call
	var arrived int64
	var answered, ended, held, conf sql.NullInt64
	var state string
	if err := row.Scan(&c.ID, &c.CallID, &c.Caller, &c.Queue, &c.Agent, &state, &arrived, &answered, &ended,
		&c.WaitSeconds, &c.TalkSeconds, &c.Satisfaction, &c.Target,
		&c.MenuSeconds, &c.HoldSeconds, &c.WrapSeconds, &held, &c.Recording,
		&c.LastAgent, &c.Conference, &c.ConferenceSeconds, &conf); err != nil {
		return nil, err
	}
	if conf.Valid {
		t := time.UnixMilli(conf.Int64)
		c.ConferenceStarted = &t
	}
	if held.Valid {
		t := time.UnixMilli(held.Int64)
		c.HoldStarted = &t
	}
	c.State, c.ArrivedAt = State(state), time.UnixMilli(arrived)
	if answered.Valid {
		t := time.UnixMilli(answered.Int64)
		c.AnsweredAt = &t
	}
	if ended.Valid {
		t := time.UnixMilli(ended.Int64)
		c.EndedAt = &t
	}
	return &c, nil
}

func ms(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// Record applies a CTI event and stores the event and the new record in one
// transaction.
func (s *Store) Record(ctx context.Context, e Event) (*Call, error) {
	var out *Call
	err := s.db.Tx(ctx, func(tx *database.Tx) error {
		c, err := s.recordTx(ctx, tx, e)
		out = c
		return err
	})
	return out, err
}

// RecordBatch stores several events in one transaction, in order (one
// fsync for many events: what a busy engine needs). An event refused by
// the domain (out of order, invalid) is skipped with its error in errs;
// a database error fails the whole batch.
func (s *Store) RecordBatch(ctx context.Context, events []Event) (calls []*Call, errs []error, err error) {
	err = s.db.Tx(ctx, func(tx *database.Tx) error {
		calls, errs = make([]*Call, len(events)), make([]error, len(events))
		for i, e := range events {
			c, err := s.recordTx(ctx, tx, e)
			var he *hotline.Error
			if errors.As(err, &he) {
				errs[i] = err
				continue
			}
			if err != nil {
				return err
			}
			calls[i] = c
		}
		return nil
	})
	return calls, errs, err
}

func (s *Store) recordTx(ctx context.Context, tx *database.Tx, e Event) (*Call, error) {
	lock := ""
	if s.db.Dialect == database.Postgres {
		lock = " FOR UPDATE"
	}
	old, err := scan(tx.QueryRow(ctx, `SELECT `+cols+` FROM calls WHERE call_id = ?`+lock, e.CallID))
	if errors.Is(err, sql.ErrNoRows) {
		old, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := Apply(old, e)
	if err != nil {
		return nil, err
	}
	if old == nil {
		err = tx.QueryRow(ctx, `INSERT INTO calls (call_id, caller, queue, state, arrived_at, menu_seconds) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			c.CallID, c.Caller, c.Queue, string(c.State), c.ArrivedAt.UnixMilli(), c.MenuSeconds).Scan(&c.ID)
		if database.IsUniqueViolation(err) {
			return nil, hotline.Errorf(hotline.ECONFLICT, "通话已存在", "call already recorded")
		}
	} else {
		_, err = tx.Exec(ctx, `UPDATE calls SET agent = ?, state = ?, answered_at = ?, ended_at = ?, wait_seconds = ?, talk_seconds = ?,
			satisfaction = ?, target = ?, hold_seconds = ?, wrap_seconds = ?, hold_started_at = ?, recording = ?,
			last_agent = ?, conference = ?, conference_seconds = ?, conference_started_at = ? WHERE id = ?`,
			c.Agent, string(c.State), ms(c.AnsweredAt), ms(c.EndedAt), c.WaitSeconds,
			c.TalkSeconds, c.Satisfaction, c.Target, c.HoldSeconds, c.WrapSeconds, ms(c.HoldStarted), c.Recording,
			c.LastAgent, c.Conference, c.ConferenceSeconds, ms(c.ConferenceStarted), c.ID)
	}
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(e)
	if _, err := tx.Exec(ctx, `INSERT INTO call_events (call_id, type, at, data) VALUES (?, ?, ?, ?)`, e.CallID, string(e.Type), e.At.UnixMilli(), string(data)); err != nil {
		return nil, err
	}
	// A caller who gave up waiting, or chose to be called back, gets a
	// call-back task (漏接电话回拨) in the same transaction.
	gaveUp := (old == nil || (old.State != Abandoned && old.State != Callback)) && (c.State == Abandoned || c.State == Callback)
	if !gaveUp && e.Type == EvEnded && old != nil && old.EndedAt == nil && c.State == Transferred && strings.HasPrefix(c.Target, "queue:") {
		// Transferred to another queue and hung up there before an agent
		// of that queue answered: as much a missed call as any other.
		answered, err := answeredSinceTransfer(ctx, tx, c.CallID)
		if err != nil {
			return nil, err
		}
		gaveUp = !answered
	}
	if gaveUp {
		reason := CallbackAbandoned
		if c.State == Callback {
			reason = CallbackRequested
		}
		if _, err := tx.Exec(ctx, `INSERT INTO callbacks (call_id, caller, queue, reason, created_at) VALUES (?, ?, ?, ?, ?)`,
			c.CallID, c.Caller, c.Queue, reason, e.At.UnixMilli()); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Filter selects calls.
type Filter struct {
	From, To time.Time
	State    State
	Agent    string
	Queue    string
	Caller   string
	Limit    int
	Page     int
}

// List returns calls newest first.
func (s *Store) List(ctx context.Context, f Filter) ([]Call, error) {
	q := `SELECT ` + cols + ` FROM calls WHERE arrived_at >= ? AND arrived_at < ?`
	args := []any{f.From.UnixMilli(), f.To.UnixMilli()}
	for _, c := range []struct{ col, v string }{{"state", string(f.State)}, {"agent", f.Agent}, {"queue", f.Queue}, {"caller", f.Caller}} {
		if c.v != "" {
			q += " AND " + c.col + " = ?"
			args = append(args, c.v)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	q += fmt.Sprintf(" ORDER BY arrived_at DESC, id DESC LIMIT %d OFFSET %d", limit, max(f.Page-1, 0)*limit)
	return s.query(ctx, q, args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]Call, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Call{}
	for rows.Next() {
		c, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// MaxStatsRange bounds a statistics request (the measures are computed from
// the records of the period).
const MaxStatsRange = 100 * 24 * time.Hour

// Stats computes the measures over [from, to).
func (s *Store) Stats(ctx context.Context, from, to time.Time, by string) ([]Stats, error) {
	if to.Sub(from) > MaxStatsRange || !to.After(from) {
		return nil, hotline.Errorf(hotline.EINVALID, "统计区间须在100天以内", "the range must be positive and at most 100 days")
	}
	switch by {
	case ByAll, ByHour, ByDay, ByQueue, ByAgent:
	default:
		return nil, hotline.Errorf(hotline.EINVALID, "分组方式须为hour、day、queue或agent", "by must be hour, day, queue or agent")
	}
	// Include the preceding week so repeat callers at the start count.
	calls, err := s.query(ctx, `SELECT `+cols+` FROM calls WHERE arrived_at >= ? AND arrived_at < ?`,
		from.Add(-7*24*time.Hour).UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, err
	}
	prior := map[string]time.Time{}
	var in []Call
	for _, c := range calls {
		if c.ArrivedAt.Before(from) {
			if c.ArrivedAt.After(prior[c.Caller]) {
				prior[c.Caller] = c.ArrivedAt
			}
			continue
		}
		in = append(in, c)
	}
	return computeWithPrior(in, by, 7*24*time.Hour, prior), nil
}

// Get returns the call with the given row id.
func (s *Store) Get(ctx context.Context, id int64) (*Call, error) {
	c, err := scan(s.db.QueryRow(ctx, `SELECT `+cols+` FROM calls WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.Errorf(hotline.ENOTFOUND, "通话记录不存在", "call not found")
	}
	return c, err
}

// GetByCallID returns the call with the given phone-system call id.
func (s *Store) GetByCallID(ctx context.Context, callID string) (*Call, error) {
	c, err := scan(s.db.QueryRow(ctx, `SELECT `+cols+` FROM calls WHERE call_id = ?`, callID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.Errorf(hotline.ENOTFOUND, "通话记录不存在", "call not found")
	}
	return c, err
}

// History returns the latest calls from a number, newest first: what the
// desk shows the moment a call is offered.
func (s *Store) History(ctx context.Context, caller string, limit int) ([]Call, error) {
	return s.query(ctx, `SELECT `+cols+` FROM calls WHERE caller = ? ORDER BY arrived_at DESC, id DESC LIMIT ?`, caller, limit)
}

// answeredSinceTransfer reports whether an agent answered the call after
// its last transfer.
func answeredSinceTransfer(ctx context.Context, tx *database.Tx, callID string) (bool, error) {
	rows, err := tx.Query(ctx, `SELECT type FROM call_events WHERE call_id = ? ORDER BY id DESC`, callID)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return false, err
		}
		switch EventType(t) {
		case EvAnswered:
			return true, nil
		case EvTransferred:
			return false, nil
		}
	}
	return false, rows.Err()
}
