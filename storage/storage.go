// Package storage keeps the work-order core in SQL — units, categories, the
// dispatch catalogue, users and sessions, work orders with their append-only
// event chain, settings and the calendar — on SQLite or PostgreSQL through
// package database. It is where the pure ticket lifecycle meets a
// transaction: every change loads the order, applies the domain step, and
// writes the new row and its events in one transaction, guarded by the
// order's version.
//
// Several nodes may share one PostgreSQL database: nothing here is cached
// without a way to notice other nodes' changes (the unit tree, policy and
// calendar carry a generation counter in settings that each node checks).
package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/calendar"
	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/ticket"
)

// Store is the work-order core's storage.
type Store struct {
	DB  *database.DB
	Now func() time.Time

	mu       sync.RWMutex
	gen      int64 // config generation the caches were loaded at
	checked  time.Time
	units    *ticket.UnitTree
	policy   ticket.Policy
	cal      *calendar.Calendar
	calYears map[int]bool

	batch chan *createJob // SQLite group commit of registrations; nil on PostgreSQL
	ids   *idSource
}

// Open migrates the database and loads the configuration caches.
func Open(ctx context.Context, db *database.DB) (*Store, error) {
	ms := append([]database.Migration{}, migrations...)
	if db.Dialect == database.Postgres {
		ms = append(ms, appendOnlyPostgres)
	} else {
		ms = append(ms, appendOnlySQLite)
	}
	ms = append(ms, suggestionColumns, dispatchModels, regionIndex, placeColumn)
	if err := db.Migrate(ctx, "core", ms); err != nil {
		return nil, err
	}
	s := &Store{DB: db, Now: time.Now}
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	// Orders stored before the place column: fill it now if there are few,
	// in the background if there are many (a large upgrade).
	var pending int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM tickets WHERE place3 = '' AND address <> '' LIMIT 10001) p`).Scan(&pending); err != nil {
		return nil, err
	}
	if pending > 10000 {
		go func() {
			slog.Info("filling the place column of existing orders in the background")
			if err := s.backfillPlaces(context.Background()); err != nil {
				slog.Warn("place backfill", "err", err)
			}
		}()
	} else if pending > 0 {
		if err := s.backfillPlaces(ctx); err != nil {
			return nil, err
		}
	}
	s.ids = &idSource{dialect: db.Dialect, db: db}
	if db.Dialect == database.SQLite {
		s.batch = make(chan *createJob, 1024)
		go s.groupCommit()
	}
	return s, nil
}

// Close stops the store's background writer; the database stays open.
func (s *Store) Close() {
	if s.batch != nil {
		close(s.batch)
	}
}

func (s *Store) now() time.Time { return s.Now().Truncate(time.Millisecond) }

// bumpConfig marks the configuration changed so that every node reloads.
func bumpConfig(ctx context.Context, tx *database.Tx, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO settings (name, value, updated_at) VALUES ('config_gen', '1', ?)
		ON CONFLICT (name) DO UPDATE SET value = CAST(CAST(settings.value AS BIGINT) + 1 AS TEXT), updated_at = excluded.updated_at`,
		database.Millis(now))
	return err
}

func (s *Store) configGen(ctx context.Context) (int64, error) {
	var v string
	err := s.DB.QueryRow(ctx, `SELECT value FROM settings WHERE name = 'config_gen'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n int64
	fmt.Sscan(v, &n)
	return n, nil
}

// config returns the cached unit tree, policy and calendar, reloading them
// if another node (or this one) changed the configuration. The check costs
// one indexed read at most once a second.
func (s *Store) config(ctx context.Context) (*ticket.UnitTree, ticket.Policy, *calendar.Calendar, error) {
	s.mu.RLock()
	fresh := time.Since(s.checked) < time.Second
	u, p, c := s.units, s.policy, s.cal
	s.mu.RUnlock()
	if fresh {
		return u, p, c, nil
	}
	gen, err := s.configGen(ctx)
	if err != nil {
		return nil, ticket.Policy{}, nil, err
	}
	s.mu.RLock()
	same := gen == s.gen
	s.mu.RUnlock()
	if !same {
		if err := s.reload(ctx); err != nil {
			return nil, ticket.Policy{}, nil, err
		}
	} else {
		s.mu.Lock()
		s.checked = time.Now()
		s.mu.Unlock()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.units, s.policy, s.cal, nil
}

func (s *Store) reload(ctx context.Context) error {
	gen, err := s.configGen(ctx)
	if err != nil {
		return err
	}
	units, err := s.Units(ctx)
	if err != nil {
		return err
	}
	policy, err := s.loadPolicy(ctx)
	if err != nil {
		return err
	}
	cal, err := s.loadCalendar(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.gen, s.checked = gen, time.Now()
	s.units, s.policy, s.cal = ticket.NewUnitTree(units), policy, cal
	s.mu.Unlock()
	return nil
}

// Invalidate forces the next request to reload the configuration caches.
func (s *Store) Invalidate() {
	s.mu.Lock()
	s.checked = time.Time{}
	s.gen = -1
	s.mu.Unlock()
}

func (s *Store) env(ctx context.Context) (ticket.Env, error) {
	u, p, c, err := s.config(ctx)
	if err != nil {
		return ticket.Env{}, err
	}
	return ticket.Env{Now: s.now(), Calendar: c, Policy: p, Units: u}, nil
}

// Env returns the current lifecycle environment (time, calendar, policy,
// unit tree) for read-side computations such as warnings and the actions a
// user may take.
func (s *Store) Env(ctx context.Context) (ticket.Env, error) { return s.env(ctx) }

// Calendar returns the working-time calendar in force.
func (s *Store) Calendar(ctx context.Context) (*calendar.Calendar, error) {
	_, _, c, err := s.config(ctx)
	return c, err
}

// Policy returns the time-limit policy in force.
func (s *Store) Policy(ctx context.Context) (ticket.Policy, error) {
	_, p, _, err := s.config(ctx)
	return p, err
}

func (s *Store) loadPolicy(ctx context.Context) (ticket.Policy, error) {
	var v string
	err := s.DB.QueryRow(ctx, `SELECT value FROM settings WHERE name = 'policy'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return ticket.DefaultPolicy(), nil
	}
	if err != nil {
		return ticket.Policy{}, err
	}
	var p ticket.Policy
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return ticket.Policy{}, fmt.Errorf("stored policy: %w", err)
	}
	return p, nil
}

// SetPolicy replaces the time-limit policy (admin).
func (s *Store) SetPolicy(ctx context.Context, p ticket.Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	b, _ := json.Marshal(p)
	now := s.now()
	err := s.DB.Tx(ctx, func(tx *database.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO settings (name, value, updated_at) VALUES ('policy', ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, string(b), database.Millis(now)); err != nil {
			return err
		}
		return bumpConfig(ctx, tx, now)
	})
	s.Invalidate()
	return err
}

func notFound(zh, en string) error { return hotline.Errorf(hotline.ENOTFOUND, zh, en) }
