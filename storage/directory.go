package storage

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/ticket"
)

// Category is a node of the subject tree (事项分类), 2 digits a level:
// "02" 城乡建设, "0207" 市容管理, "020799" 其他市容管理.
type Category struct {
	ID       int64  `json:"id"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	ParentID int64  `json:"parent_id,omitempty"`
	Path     string `json:"path,omitempty"` // 城乡建设-市容管理-其他市容管理
}

// CatalogueEntry maps a category (in a region, or everywhere when
// RegionUnitID is 0) to the unit responsible (派单目录).
type CatalogueEntry struct {
	ID           int64  `json:"id"`
	CategoryCode string `json:"category_code"`
	RegionUnitID int64  `json:"region_unit_id"`
	UnitID       int64  `json:"unit_id"`
	Note         string `json:"note,omitempty"`
}

func validName(field, zh, v string, max int) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return hotline.Errorf(hotline.EINVALID, "%s不能为空", "%s is required", zh, field)
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max {
		return hotline.Errorf(hotline.EINVALID, "%s无效或过长（最多%d字）", "%s is invalid or too long (at most %d characters)", zh, max, field, max)
	}
	return nil
}

// CreateUnit adds a unit under ParentID (0 for a top-level unit).
func (s *Store) CreateUnit(ctx context.Context, u ticket.Unit) (ticket.Unit, error) {
	if err := validName("code", "单位编码", u.Code, 50); err != nil {
		return u, err
	}
	if err := validName("name", "单位名称", u.Name, 100); err != nil {
		return u, err
	}
	now := s.now()
	err := s.DB.Tx(ctx, func(tx *database.Tx) error {
		if u.ParentID != 0 {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM units WHERE id = ?`, u.ParentID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return hotline.Errorf(hotline.EINVALID, "上级单位不存在", "parent unit does not exist")
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO units (code, name, parent_id, kind, region, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			strings.TrimSpace(u.Code), strings.TrimSpace(u.Name), nullID(u.ParentID), u.Kind, u.Region, database.Millis(now)).Scan(&u.ID)
		if database.IsUniqueViolation(err) {
			return hotline.Errorf(hotline.ECONFLICT, "单位编码“%s”已存在", "unit code %q already exists", u.Code, u.Code)
		}
		if err != nil {
			return err
		}
		return bumpConfig(ctx, tx, now)
	})
	s.Invalidate()
	return u, err
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// Units lists every unit ordered by code.
func (s *Store) Units(ctx context.Context) ([]ticket.Unit, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, code, name, parent_id, kind, region FROM units ORDER BY code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ticket.Unit
	for rows.Next() {
		var u ticket.Unit
		var parent sql.NullInt64
		if err := rows.Scan(&u.ID, &u.Code, &u.Name, &parent, &u.Kind, &u.Region); err != nil {
			return nil, err
		}
		u.ParentID = parent.Int64
		out = append(out, u)
	}
	return out, rows.Err()
}

// UnitTree returns the cached unit tree.
func (s *Store) UnitTree(ctx context.Context) (*ticket.UnitTree, error) {
	u, _, _, err := s.config(ctx)
	return u, err
}

// CreateCategory adds a category; its code must extend its parent's by two
// digits.
func (s *Store) CreateCategory(ctx context.Context, c Category) (Category, error) {
	if err := validName("name", "分类名称", c.Name, 100); err != nil {
		return c, err
	}
	if len(c.Code) < 2 || len(c.Code)%2 != 0 || len(c.Code) > 8 || strings.Trim(c.Code, "0123456789") != "" {
		return c, hotline.Errorf(hotline.EINVALID, "分类编码须为2、4、6或8位数字", "category code must be 2, 4, 6 or 8 digits")
	}
	now := s.now()
	err := s.DB.Tx(ctx, func(tx *database.Tx) error {
		if c.ParentID != 0 {
			var pcode string
			err := tx.QueryRow(ctx, `SELECT code FROM categories WHERE id = ?`, c.ParentID).Scan(&pcode)
			if errors.Is(err, sql.ErrNoRows) {
				return hotline.Errorf(hotline.EINVALID, "上级分类不存在", "parent category does not exist")
			}
			if err != nil {
				return err
			}
			if len(c.Code) != len(pcode)+2 || !strings.HasPrefix(c.Code, pcode) {
				return hotline.Errorf(hotline.EINVALID, "分类编码须以上级编码%s开头并多两位", "category code must be the parent's code %s plus two digits", pcode, pcode)
			}
		} else if len(c.Code) != 2 {
			return hotline.Errorf(hotline.EINVALID, "一级分类编码须为2位数字", "a top-level category code has 2 digits")
		}
		err := tx.QueryRow(ctx, `INSERT INTO categories (code, name, parent_id, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			c.Code, strings.TrimSpace(c.Name), nullID(c.ParentID), database.Millis(now)).Scan(&c.ID)
		if database.IsUniqueViolation(err) {
			return hotline.Errorf(hotline.ECONFLICT, "分类编码“%s”已存在", "category code %q already exists", c.Code, c.Code)
		}
		return err
	})
	return c, err
}

// Categories lists the category tree in code order, each with its path.
func (s *Store) Categories(ctx context.Context) ([]Category, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, code, name, parent_id FROM categories ORDER BY code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Category
	names := map[string]string{}
	for rows.Next() {
		var c Category
		var parent sql.NullInt64
		if err := rows.Scan(&c.ID, &c.Code, &c.Name, &parent); err != nil {
			return nil, err
		}
		c.ParentID = parent.Int64
		c.Path = c.Name
		if p, ok := names[c.Code[:len(c.Code)-2]]; ok && len(c.Code) > 2 {
			c.Path = p + "-" + c.Name
		}
		names[c.Code] = c.Path
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetCatalogueEntry creates or replaces the unit for a category in a region.
func (s *Store) SetCatalogueEntry(ctx context.Context, e CatalogueEntry) (CatalogueEntry, error) {
	units, err := s.UnitTree(ctx)
	if err != nil {
		return e, err
	}
	if !units.Exists(e.UnitID) || e.RegionUnitID != 0 && !units.Exists(e.RegionUnitID) {
		return e, hotline.Errorf(hotline.EINVALID, "单位不存在", "unit does not exist")
	}
	if e.CategoryCode == "" {
		return e, hotline.Errorf(hotline.EINVALID, "请填写分类编码", "category_code is required")
	}
	err = s.DB.Tx(ctx, func(tx *database.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO catalogue (category_code, region_unit_id, unit_id, note) VALUES (?, ?, ?, ?)
			ON CONFLICT (category_code, region_unit_id) DO UPDATE SET unit_id = excluded.unit_id, note = excluded.note RETURNING id`,
			e.CategoryCode, e.RegionUnitID, e.UnitID, e.Note).Scan(&e.ID)
	})
	return e, err
}

// Catalogue lists the dispatch catalogue.
func (s *Store) Catalogue(ctx context.Context) ([]CatalogueEntry, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, category_code, region_unit_id, unit_id, note FROM catalogue ORDER BY category_code, region_unit_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CatalogueEntry
	for rows.Next() {
		var e CatalogueEntry
		if err := rows.Scan(&e.ID, &e.CategoryCode, &e.RegionUnitID, &e.UnitID, &e.Note); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// SuggestUnit returns the unit smart dispatch proposes for an order of
// this category and district (see Suggestion); 0 when it has no answer.
func (s *Store) SuggestUnit(ctx context.Context, categoryCode string, regionUnitID int64) (int64, error) {
	sg, err := s.Suggestion(ctx, categoryCode, regionUnitID)
	return sg.UnitID, err
}

// UnitSuggestion is a proposed lead unit and why.
type UnitSuggestion struct {
	UnitID int64  `json:"unit_id"`
	Source string `json:"source"` // catalogue | history | ""
	// Kept/Returned: of the recent orders of this category and district
	// first sent to the unit, how many stayed and how many came back.
	Kept     int `json:"kept"`
	Returned int `json:"returned"`
}

// historyDays is how far back dispatch history is read.
const historyDays = 180

// Suggestion proposes the lead unit. The dispatch catalogue comes first
// (the most specific category prefix wins, a region's entry before the
// city-wide one). The platform's own history can overrule it: over the
// last 180 days, orders of the same category and district that a unit kept
// count for it, and orders returned as wrongly sent count against their
// first unit and for the unit that finally took them. When the history's
// best unit has a clear lead (net score ≥ 5 and at least 3 above the
// catalogue's unit) it is proposed instead; with no catalogue entry, any
// positive history answers.
func (s *Store) Suggestion(ctx context.Context, categoryCode string, regionUnitID int64) (UnitSuggestion, error) {
	var cat UnitSuggestion
	for code := categoryCode; len(code) >= 2; code = code[:len(code)-2] {
		var unit int64
		err := s.DB.QueryRow(ctx, `SELECT unit_id FROM catalogue WHERE category_code = ? AND region_unit_id IN (?, 0)
			ORDER BY region_unit_id DESC LIMIT 1`, code, regionUnitID).Scan(&unit)
		if err == nil {
			cat = UnitSuggestion{UnitID: unit, Source: "catalogue"}
			break
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return UnitSuggestion{}, err
		}
	}
	if categoryCode == "" {
		return cat, nil
	}
	since := database.Millis(s.now().AddDate(0, 0, -historyDays))
	rows, err := s.DB.Query(ctx, `SELECT first_unit_id, lead_unit_id, return_count FROM tickets
		WHERE category_code = ? AND region_unit_id = ? AND created_at >= ? AND first_unit_id <> 0 ORDER BY created_at DESC LIMIT 2000`,
		categoryCode, regionUnitID, since)
	if err != nil {
		return UnitSuggestion{}, err
	}
	defer rows.Close()
	score := map[int64]int{}
	kept := map[int64]int{}
	returned := map[int64]int{}
	for rows.Next() {
		var first, lead int64
		var ret int
		if err := rows.Scan(&first, &lead, &ret); err != nil {
			return UnitSuggestion{}, err
		}
		if ret == 0 || first == lead {
			score[first]++
			kept[first]++
			continue
		}
		score[first]--
		returned[first]++
		score[lead]++
	}
	if err := rows.Err(); err != nil {
		return UnitSuggestion{}, err
	}
	var best int64
	for u, sc := range score {
		if best == 0 || sc > score[best] || sc == score[best] && u < best {
			best = u
		}
	}
	cat.Kept, cat.Returned = kept[cat.UnitID], returned[cat.UnitID]
	switch {
	case best == 0 || best == cat.UnitID || score[best] <= 0:
		return cat, nil
	case cat.UnitID == 0 || score[best] >= 5 && score[best] >= score[cat.UnitID]+3:
		return UnitSuggestion{UnitID: best, Source: "history", Kept: kept[best], Returned: returned[best]}, nil
	}
	return cat, nil
}
