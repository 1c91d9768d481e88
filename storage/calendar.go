package storage

import (
	"context"
	"strconv"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/calendar"
	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/ticket"
)

// loadCalendar builds the calendar in force: the built-in national years,
// then the years and days administrators stored.
func (s *Store) loadCalendar(ctx context.Context) (*calendar.Calendar, error) {
	cal := calendar.Default()
	rows, err := s.DB.Query(ctx, `SELECT day, region, kind, note FROM calendar_days ORDER BY day`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type yearDays struct {
		off []calendar.HolidayDay
		on  []calendar.Date
	}
	years := map[int]*yearDays{}
	var overrides []func()
	for rows.Next() {
		var day, region, kind, note string
		if err := rows.Scan(&day, &region, &kind, &note); err != nil {
			return nil, err
		}
		d, err := calendar.ParseDate(day)
		if err != nil {
			continue
		}
		switch calendar.Kind(kind) {
		case calendar.Holiday, calendar.Makeup:
			y := years[d.Year]
			if y == nil {
				y = &yearDays{}
				years[d.Year] = y
			}
			if kind == string(calendar.Holiday) {
				y.off = append(y.off, calendar.HolidayDay{Date: d, Name: note})
			} else {
				y.on = append(y.on, d)
			}
		case calendar.OverrideOff, calendar.OverrideWork:
			working := kind == string(calendar.OverrideWork)
			overrides = append(overrides, func() { cal.SetOverride(d, working, note) })
		case calendar.RegionOff:
			cal.AddRegionDay(region, d, note)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for y, days := range years {
		if err := cal.LoadYear(y, days.off, days.on); err != nil {
			return nil, err
		}
	}
	for _, f := range overrides {
		f()
	}
	return cal, nil
}

func raiseWarning(ctx context.Context, tx *database.Tx, kind, msg string, at int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO admin_warnings (kind, message, created_at) VALUES (?, ?, ?)
		ON CONFLICT (kind) DO UPDATE SET resolved_at = NULL WHERE admin_warnings.resolved_at IS NOT NULL`, kind, msg, at)
	return err
}

// AdminWarning is something an administrator must act on.
type AdminWarning struct {
	Kind      string    `json:"kind"`
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
}

// Warnings lists unresolved administrator warnings.
func (s *Store) Warnings(ctx context.Context) ([]AdminWarning, error) {
	rows, err := s.DB.Query(ctx, `SELECT kind, message, created_at FROM admin_warnings WHERE resolved_at IS NULL ORDER BY created_at`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AdminWarning{}
	for rows.Next() {
		var w AdminWarning
		var at int64
		if err := rows.Scan(&w.Kind, &w.Message, &at); err != nil {
			return nil, err
		}
		w.CreatedAt = time.UnixMilli(at)
		out = append(out, w)
	}
	return out, rows.Err()
}

// LoadCalendarYear stores a year's national holidays and make-up days (as an
// administrator pastes them, see calendar.ParseYear), then recomputes every
// open order whose deadlines were provisional.
func (s *Store) LoadCalendarYear(ctx context.Context, year int, text string) (recomputed int, err error) {
	off, on, err := calendar.ParseYear(year, text)
	if err != nil {
		return 0, err
	}
	now := s.now()
	err = s.DB.Tx(ctx, func(tx *database.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM calendar_days WHERE day LIKE ? AND kind IN ('holiday', 'makeup')`, strconv.Itoa(year)+"-%"); err != nil {
			return err
		}
		for _, h := range off {
			if _, err := tx.Exec(ctx, `INSERT INTO calendar_days (day, region, kind, note, updated_at) VALUES (?, '', 'holiday', ?, ?)`,
				h.Date.String(), h.Name, database.Millis(now)); err != nil {
				return err
			}
		}
		for _, d := range on {
			if _, err := tx.Exec(ctx, `INSERT INTO calendar_days (day, region, kind, note, updated_at) VALUES (?, '', 'makeup', '调休上班', ?)`,
				d.String(), database.Millis(now)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO calendar_years (year, loaded_at) VALUES (?, ?) ON CONFLICT (year) DO UPDATE SET loaded_at = excluded.loaded_at`,
			year, database.Millis(now)); err != nil {
			return err
		}
		return bumpConfig(ctx, tx, now)
	})
	if err != nil {
		return 0, err
	}
	s.Invalidate()
	return s.RecomputeProvisional(ctx)
}

// SetCalendarDay marks one date off or working for everyone (region "") or
// off for one region, or clears the mark (kind "").
func (s *Store) SetCalendarDay(ctx context.Context, date, region string, kind calendar.Kind, note string) error {
	d, err := calendar.ParseDate(date)
	if err != nil {
		return err
	}
	switch {
	case kind == "":
	case region == "" && (kind == calendar.OverrideOff || kind == calendar.OverrideWork):
	case region != "" && kind == calendar.RegionOff:
	default:
		return hotline.Errorf(hotline.EINVALID, "类型须为override_off、override_work，或指定区域时为region_off", "kind must be override_off or override_work, or region_off with a region")
	}
	now := s.now()
	err = s.DB.Tx(ctx, func(tx *database.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM calendar_days WHERE day = ? AND region = ? AND kind NOT IN ('holiday', 'makeup')`, d.String(), region); err != nil {
			return err
		}
		if kind != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO calendar_days (day, region, kind, note, updated_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (day, region) DO UPDATE SET kind = excluded.kind, note = excluded.note, updated_at = excluded.updated_at`,
				d.String(), region, string(kind), note, database.Millis(now)); err != nil {
				return err
			}
		}
		return bumpConfig(ctx, tx, now)
	})
	s.Invalidate()
	return err
}

// RecomputeProvisional recalculates the deadlines of open orders that were
// computed past the last loaded year, one transaction per order.
func (s *Store) RecomputeProvisional(ctx context.Context) (int, error) {
	env, err := s.env(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var after int64
	for {
		rows, err := s.DB.Query(ctx, `SELECT id FROM tickets WHERE provisional = 1 AND id > ? AND state NOT IN ('closed', 'merged', 'withdrawn') ORDER BY id LIMIT 200`, after)
		if err != nil {
			return n, err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		if len(ids) == 0 {
			break
		}
		for _, id := range ids {
			after = id
			err := s.DB.Tx(ctx, func(tx *database.Tx) error {
				t, err := s.ticketBy(ctx, tx.QueryRow(ctx, `SELECT doc, version, event_seq, last_hash FROM tickets WHERE id = ?`, id))
				if err != nil {
					return err
				}
				nt, evs := ticket.Recompute(t, env)
				ticket.Seal(nt, evs)
				if err := writeTicket(ctx, tx, nt, t.Version); err != nil {
					return err
				}
				return insertEvents(ctx, tx, evs)
			})
			if err != nil && hotline.ErrorCode(err) != hotline.ECONFLICT {
				return n, err
			}
			n++
		}
	}
	if _, err := s.DB.Exec(ctx, `UPDATE admin_warnings SET resolved_at = ? WHERE kind = 'calendar_missing' AND resolved_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM tickets WHERE provisional = 1 AND state NOT IN ('closed', 'merged', 'withdrawn'))`, database.Millis(s.now())); err != nil {
		return n, err
	}
	return n, nil
}
