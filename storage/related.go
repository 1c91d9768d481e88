package storage

import (
	"context"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/related"
	"github.com/hotline12345/hotline/ticket"
)

// RelatedQuery is a request being registered, or an order already
// registered (Number set), whose likely duplicates are wanted.
type RelatedQuery struct {
	Number                         string
	Title, Content, Address, Phone string
	RegionUnitID                   int64
	Window                         time.Duration // default 30 days
	Limit                          int           // default 5
}

// relatedPool bounds the open orders a ranking looks at: the same caller's,
// those at the same place, and the newest in the same district.
const relatedPool = 1000

// Related returns open orders that are probably the same matter as q,
// ranked, each with its reasons (package related). Only staff who register
// or dispatch orders may ask; the candidates come back as the viewer may
// see them (a confidential citizen stays masked).
func (s *Store) Related(ctx context.Context, viewer *hotline.User, q RelatedQuery) ([]related.Match, error) {
	if viewer == nil || !viewer.Has(hotline.RoleAgent, hotline.RoleDispatcher, hotline.RoleSupervisor, hotline.RoleAdmin) {
		return nil, hotline.Errorf(hotline.EFORBIDDEN, "只有话务员、派单员和督办员可以查看疑似重复工单", "only call-takers, dispatchers and supervisors may look for duplicates")
	}
	if q.Number != "" {
		t, err := s.Ticket(ctx, q.Number)
		if err != nil {
			return nil, err
		}
		q.Title, q.Content, q.Address, q.Phone, q.RegionUnitID = t.Title, t.Content, t.Address, t.Citizen.Phone, t.RegionUnitID
	}
	if q.Phone != "" {
		if p, err := ticket.NormalizePhone(q.Phone); err == nil {
			q.Phone = p
		}
	}
	if len([]rune(q.Title+q.Content)) > 20000 {
		return nil, hotline.Errorf(hotline.EINVALID, "内容过长", "text too long")
	}
	window := q.Window
	if window <= 0 {
		window = 30 * 24 * time.Hour
	}
	now := s.now()
	since := database.Millis(now.Add(-window))
	open := `state NOT IN ('closed', 'merged', 'withdrawn') AND created_at >= ?`
	seen := map[string]bool{}
	var cands []related.Order
	// Only the fields the ranking needs; the content is read out of the
	// JSON document by the database, not decoded here.
	content := `json_extract(doc, '$.content')`
	if s.DB.Dialect == database.Postgres {
		content = `(doc::jsonb ->> 'content')`
	}
	collect := func(query string, args ...any) error {
		rows, err := s.DB.Query(ctx, `SELECT number, title, COALESCE(`+content+`, ''), address, citizen_phone, created_at, state FROM tickets WHERE `+open+` AND `+query,
			append([]any{since}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var o related.Order
			var at int64
			if err := rows.Scan(&o.Number, &o.Title, &o.Content, &o.Address, &o.Phone, &at, &o.State); err != nil {
				return err
			}
			if seen[o.Number] {
				continue
			}
			seen[o.Number] = true
			o.At = time.UnixMilli(at)
			cands = append(cands, o)
		}
		return rows.Err()
	}
	if q.Phone != "" {
		if err := collect(`citizen_phone = ? ORDER BY created_at DESC LIMIT 50`, q.Phone); err != nil {
			return nil, err
		}
	}
	if key := place3(q.Address); key != "" {
		if err := collect(`place3 = ? ORDER BY created_at DESC LIMIT 200`, key); err != nil {
			return nil, err
		}
	}
	if q.RegionUnitID != 0 {
		if err := collect(`region_unit_id = ? ORDER BY created_at DESC LIMIT ?`, q.RegionUnitID, relatedPool); err != nil {
			return nil, err
		}
	} else if err := collect(`1 = 1 ORDER BY created_at DESC LIMIT ?`, relatedPool); err != nil {
		return nil, err
	}
	matches := related.Rank(related.Query{Title: q.Title, Content: q.Content, Address: q.Address, Phone: q.Phone, At: now, Exclude: q.Number},
		cands, related.Options{Window: window, Limit: q.Limit})
	units, err := s.UnitTree(ctx)
	if err != nil {
		return nil, err
	}
	for i := range matches {
		t, err := s.Ticket(ctx, matches[i].Number)
		if err != nil {
			return nil, err
		}
		if id := t.HandlerUnitID; id != 0 {
			if u, ok := units.Get(id); ok {
				matches[i].Unit = u.Name
			}
		}
		if !t.CanSee(viewer, units) {
			matches[i].Title, matches[i].Address = "（无权查看）", ""
		}
	}
	return matches, nil
}

// place3 is the first three characters of the place part of an address
// (without city and district): orders sharing it are fetched as candidates
// at the same place. Shorter places give "".
func place3(addr string) string {
	r := []rune(related.PlaceKey(addr))
	if len(r) < 3 {
		return ""
	}
	return string(r[:3])
}

// placeColumnValue is what the place3 column holds: the key, or "-" for an
// address without a usable place (so that the backfill passes it by).
func placeColumnValue(addr string) string {
	if k := place3(addr); k != "" || addr == "" {
		return k
	}
	return "-"
}

// backfillPlaces fills place3 for orders stored before the column existed,
// a batch at a time, until none is left or ctx ends.
func (s *Store) backfillPlaces(ctx context.Context) error {
	for {
		rows, err := s.DB.Query(ctx, `SELECT id, address FROM tickets WHERE place3 = '' AND address <> '' ORDER BY id LIMIT 1000`)
		if err != nil {
			return err
		}
		type row struct {
			id   int64
			addr string
		}
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.addr); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		err = s.DB.Tx(ctx, func(tx *database.Tx) error {
			for _, r := range batch {
				key := placeColumnValue(r.addr)
				if _, err := tx.Exec(ctx, `UPDATE tickets SET place3 = ? WHERE id = ? AND place3 = ''`, key, r.id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(batch) < 1000 {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}
