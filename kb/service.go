package kb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/database"
)

var migrations = []database.Migration{{Version: 1, Name: "knowledge base", SQL: `
CREATE TABLE kb_articles (
	id {{id}},
	doc TEXT NOT NULL,
	state TEXT NOT NULL,
	public INTEGER NOT NULL,
	unit_id BIGINT NOT NULL DEFAULT 0,
	category_code TEXT NOT NULL DEFAULT '',
	version INTEGER NOT NULL,
	uses INTEGER NOT NULL DEFAULT 0,
	updated_at BIGINT NOT NULL
);
CREATE INDEX kb_articles_updated ON kb_articles (updated_at);
CREATE INDEX kb_articles_state ON kb_articles (state, updated_at);
CREATE TABLE kb_versions (
	id {{id}},
	article_id BIGINT NOT NULL,
	version INTEGER NOT NULL,
	state TEXT NOT NULL,
	doc TEXT NOT NULL,
	by_user TEXT NOT NULL,
	note TEXT NOT NULL DEFAULT '',
	at BIGINT NOT NULL,
	UNIQUE (article_id, version, state)
);
CREATE TABLE kb_uses (
	article_id BIGINT NOT NULL,
	ticket_number TEXT NOT NULL,
	at BIGINT NOT NULL,
	PRIMARY KEY (article_id, ticket_number)
);
CREATE TABLE kb_feedback (
	id {{id}},
	article_id BIGINT NOT NULL,
	helpful INTEGER NOT NULL,
	at BIGINT NOT NULL
);
CREATE TABLE kb_misses (
	id {{id}},
	query TEXT NOT NULL,
	at BIGINT NOT NULL
);
CREATE TABLE kb_synonyms (
	id {{id}},
	words TEXT NOT NULL
)`}, {Version: 2, Name: "append-only history; action and actor per step", SQL: `
CREATE TABLE kb_history (
	id {{id}},
	article_id BIGINT NOT NULL,
	version INTEGER NOT NULL,
	state TEXT NOT NULL,
	action TEXT NOT NULL DEFAULT '',
	doc TEXT NOT NULL,
	by_user TEXT NOT NULL,
	note TEXT NOT NULL DEFAULT '',
	at BIGINT NOT NULL
);
INSERT INTO kb_history (article_id, version, state, doc, by_user, note, at)
	SELECT article_id, version, state, doc, by_user, note, at FROM kb_versions ORDER BY id;
DROP TABLE kb_versions;
CREATE INDEX kb_history_article ON kb_history (article_id, id);
CREATE INDEX kb_articles_expiry ON kb_articles (state, id);
CREATE INDEX kb_uses_at ON kb_uses (at);
CREATE INDEX kb_misses_at ON kb_misses (at)`}}

// DefaultSynonyms are the groups a new installation starts with; editors
// change them with SetSynonyms (stored in kb_synonyms).
var DefaultSynonyms = [][]string{
	{"社保", "社会保险"}, {"医保", "医疗保险", "基本医疗保险"}, {"公积金", "住房公积金"}, {"养老金", "养老保险金", "退休金"},
	{"低保", "最低生活保障"}, {"城管", "城市管理", "综合执法"}, {"噪音", "噪声"}, {"居住证", "暂住证"}, {"网约车", "网络预约出租汽车"},
	{"户口", "户籍"}, {"身份证", "居民身份证"}, {"驾照", "驾驶证"}, {"物业", "物业公司", "物业服务企业"},
}

// Service is the knowledge base: articles in the database, a search index
// in memory.
type Service struct {
	db *database.DB
	// Now is the clock (tests set it).
	Now func() time.Time
	// Interval is how stale the index may be before a search first folds
	// in other nodes' changes. Default 2 s.
	Interval time.Duration

	mu      sync.Mutex // guards the fields below and serialises syncs
	ix      *Index
	synced  int64           // newest updated_at folded in
	seen    map[int64]int64 // article → updated_at folded in
	synSig  string          // kb_synonyms fingerprint folded in
	checked time.Time
}

// lookback re-reads rows this much older than the newest one seen: another
// node's transaction may commit after a newer one with an earlier clock.
const lookback = 30 * time.Second

// Open migrates the tables and builds the index from the database. It loads
// the gse dictionary on first use (seconds), once per process.
func Open(ctx context.Context, db *database.DB) (*Service, error) {
	if err := db.Migrate(ctx, "kb", migrations); err != nil {
		return nil, err
	}
	s := &Service{db: db, Now: time.Now, Interval: 2 * time.Second}
	if err := s.Reindex(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Reindex rebuilds the search index from the database (the CLI's `hotline
// kb reindex`; also what a node does on start).
func (s *Service) Reindex(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ix, s.synced, s.seen, s.synSig = NewIndex(), 0, map[int64]int64{}, ""
	return s.syncLocked(ctx)
}

// DropIndex forgets the in-memory index, as after a crash; the next search
// rebuilds it from the database.
func (s *Service) DropIndex() {
	s.mu.Lock()
	s.ix = nil
	s.mu.Unlock()
}

// IndexSize is the number of searchable (published) articles indexed.
func (s *Service) IndexSize() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ix == nil {
		return 0
	}
	return s.ix.Len()
}

// syncLocked folds articles changed since the last sync, and changed
// synonyms, into the index.
func (s *Service) syncLocked(ctx context.Context) error {
	if s.ix == nil {
		s.ix, s.synced, s.seen, s.synSig = NewIndex(), 0, map[int64]int64{}, ""
	}
	var sig string
	var n, maxID int64
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(MAX(id), 0) FROM kb_synonyms`).Scan(&n, &maxID); err != nil {
		return err
	}
	if sig = strings.Join([]string{itoa(n), itoa(maxID)}, "/"); sig != s.synSig {
		syn, err := s.Synonyms(ctx)
		if err != nil {
			return err
		}
		s.ix.SetSynonyms(syn)
		s.synSig = sig
	}
	from := s.synced - lookback.Milliseconds()
	rows, err := s.db.Query(ctx, `SELECT id, doc, updated_at FROM kb_articles WHERE updated_at >= ? ORDER BY updated_at`, from)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, at int64
		var doc string
		if err := rows.Scan(&id, &doc, &at); err != nil {
			return err
		}
		s.synced = max(s.synced, at)
		if s.seen[id] == at {
			continue
		}
		s.seen[id] = at
		var a Article
		if json.Unmarshal([]byte(doc), &a) != nil {
			continue
		}
		if a.State == Published {
			s.ix.Put(indexDoc(&a))
		} else {
			s.ix.Remove(a.ID)
		}
	}
	s.checked = time.Now()
	return rows.Err()
}

func indexDoc(a *Article) Doc {
	d := Doc{ID: a.ID, Title: a.Title, Body: plain(a.Body) + " " + strings.Join(a.Tags, " "), Public: a.Public,
		Category: a.Category, UnitID: a.UnitID, Uses: a.Uses}
	if a.Effective != nil {
		d.Effective = database.Millis(*a.Effective)
	}
	if a.Expires != nil {
		d.Expires = database.Millis(*a.Expires)
	}
	return d
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// index returns the current index, first folding in other nodes' changes if
// the last check is older than Interval.
func (s *Service) index(ctx context.Context) (*Index, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ix == nil || time.Since(s.checked) >= s.Interval {
		if err := s.syncLocked(ctx); err != nil {
			return nil, err
		}
	}
	return s.ix, nil
}

// afterWrite folds this node's own write in at once.
func (s *Service) afterWrite(ctx context.Context) {
	s.mu.Lock()
	s.syncLocked(ctx) // on error the next search retries
	s.mu.Unlock()
}

func (s *Service) load(ctx context.Context, q database.Querier, id int64) (*Article, error) {
	var doc string
	err := q.QueryRow(ctx, `SELECT doc FROM kb_articles WHERE id = ?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound()
	}
	if err != nil {
		return nil, err
	}
	var a Article
	return &a, json.Unmarshal([]byte(doc), &a)
}

func errNotFound() error {
	return hotline.Errorf(hotline.ENOTFOUND, "知识不存在", "article not found")
}

// save writes the article row and appends a history record, in one
// transaction.
func (s *Service) save(ctx context.Context, tx *database.Tx, a *Article, action, by, note string) error {
	a.UpdatedAt, a.UpdatedBy = s.Now().Truncate(time.Millisecond), by
	at := database.Millis(a.UpdatedAt)
	if a.ID == 0 {
		if err := tx.QueryRow(ctx, `INSERT INTO kb_articles (doc, state, public, unit_id, category_code, version, updated_at)
			VALUES ('{}', ?, ?, ?, ?, ?, ?) RETURNING id`, string(a.State), boolInt(a.Public), a.UnitID, a.Category, a.Version, at).Scan(&a.ID); err != nil {
			return err
		}
	}
	doc, _ := json.Marshal(a)
	if _, err := tx.Exec(ctx, `UPDATE kb_articles SET doc = ?, state = ?, public = ?, unit_id = ?, category_code = ?, version = ?, uses = ?, updated_at = ? WHERE id = ?`,
		string(doc), string(a.State), boolInt(a.Public), a.UnitID, a.Category, a.Version, a.Uses, at, a.ID); err != nil {
		return err
	}
	state := a.State
	if a.Pending != nil && action == "propose" {
		doc, _ = json.Marshal(a.Pending)
		state = Review
	}
	_, err := tx.Exec(ctx, `INSERT INTO kb_history (article_id, version, state, action, doc, by_user, note, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Version, string(state), action, string(doc), by, note, at)
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func needUser(u *hotline.User) error {
	if u == nil {
		return hotline.Errorf(hotline.EUNAUTHORIZED, "请先登录", "sign in first")
	}
	return nil
}

// Create adds an article. Editors may publish at once; a unit's article
// starts as a draft of its own unit.
func (s *Service) Create(ctx context.Context, a Article, publish bool, u *hotline.User) (*Article, error) {
	if err := needUser(u); err != nil {
		return nil, err
	}
	if !isEditor(u) && !u.Has(hotline.RoleUnit) {
		return nil, hotline.Errorf(hotline.EFORBIDDEN, "只有知识库管理员和承办单位可以编写知识", "only knowledge editors and units write articles")
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	a.ID, a.Version, a.Uses, a.Helpful, a.Unhelpful, a.State, a.Pending = 0, 1, 0, 0, 0, Draft, nil
	if !isEditor(u) {
		a.UnitID = u.UnitID
	} else if publish {
		a.State = Published
	}
	err := s.db.Tx(ctx, func(tx *database.Tx) error { return s.save(ctx, tx, &a, "create", u.Username, "") })
	if err != nil {
		return nil, err
	}
	s.afterWrite(ctx)
	return &a, nil
}

// Update changes an article's content as a new version; version is the one
// the caller edited (ECONFLICT if it moved). An editor's change applies at
// once. A unit's change to its published article becomes a proposal
// (Pending) for an editor to approve, the published text staying live; its
// change to a draft or an article under review applies to it directly.
func (s *Service) Update(ctx context.Context, id int64, version int, in Article, u *hotline.User) (*Article, error) {
	if err := needUser(u); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var out *Article
	err := s.db.Tx(ctx, func(tx *database.Tx) error {
		a, err := s.load(ctx, tx, id)
		if err != nil {
			return err
		}
		if !CanEdit(u, a) {
			return hotline.Errorf(hotline.EFORBIDDEN, "只能修改本单位的知识", "you may only change your unit's articles")
		}
		if version != a.Version {
			return hotline.Errorf(hotline.ECONFLICT, "知识已被他人修改，请刷新后再改", "the article changed meanwhile; reload it")
		}
		n := *a
		n.Title, n.Body, n.Kind, n.Category, n.Tags, n.Source, n.Public, n.Effective, n.Expires =
			in.Title, in.Body, in.Kind, in.Category, in.Tags, in.Source, in.Public, in.Effective, in.Expires
		n.Version++
		n.Pending = nil
		action := "edit"
		switch {
		case !isEditor(u) && a.State == Published:
			p := n
			p.State = Review
			p.UpdatedBy = u.Username
			n = *a
			n.Pending = &p
			action = "propose"
		case !isEditor(u) && a.State != Draft && a.State != Review:
			return hotline.Errorf(hotline.EUNPROCESSABLE, "已过期或撤回的知识只能由知识库管理员修改", "only editors change expired or withdrawn articles")
		}
		out = &n
		return s.save(ctx, tx, &n, action, u.Username, "")
	})
	if err != nil {
		return nil, err
	}
	s.afterWrite(ctx)
	return out, nil
}

// Act performs a lifecycle step (submit, approve, reject, withdraw, expire).
func (s *Service) Act(ctx context.Context, id int64, tr Transition, note string, u *hotline.User) (*Article, error) {
	if err := needUser(u); err != nil {
		return nil, err
	}
	var out *Article
	err := s.db.Tx(ctx, func(tx *database.Tx) error {
		a, err := s.load(ctx, tx, id)
		if err != nil {
			return err
		}
		n, err := Step(a, tr, u)
		if err != nil {
			return err
		}
		out = n
		return s.save(ctx, tx, n, string(tr), u.Username, note)
	})
	if err != nil {
		return nil, err
	}
	s.afterWrite(ctx)
	return out, nil
}

// ExpireDue marks published articles past their expiry date as expired
// (search already hides them from that moment); run it from a periodic
// job. It returns how many it marked.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	all, err := s.List(ctx, Published, 0)
	if err != nil {
		return 0, err
	}
	now, n := s.Now(), 0
	for _, a := range all {
		if a.Expires == nil || now.Before(*a.Expires) {
			continue
		}
		err := s.db.Tx(ctx, func(tx *database.Tx) error {
			cur, err := s.load(ctx, tx, a.ID)
			if err != nil || cur.State != Published {
				return err
			}
			cur.State = Expired
			return s.save(ctx, tx, cur, string(Expire), "system", "到期自动失效")
		})
		if err != nil {
			return n, err
		}
		n++
	}
	if n > 0 {
		s.afterWrite(ctx)
	}
	return n, nil
}

// canRead: citizens read live public articles; editors and admins
// everything; a unit its own articles in any state; other staff published
// and expired ones.
func (s *Service) canRead(u *hotline.User, a *Article) bool {
	switch {
	case !isStaff(u):
		return a.Public && a.Live(s.Now())
	case isEditor(u), u.Has(hotline.RoleUnit) && u.UnitID != 0 && u.UnitID == a.UnitID:
		return true
	}
	return a.State == Published || a.State == Expired
}

// isStaff: a signed-in user with a platform role (citizen accounts have
// none).
func isStaff(u *hotline.User) bool { return u != nil && len(u.Roles) > 0 }

// Get returns an article the user may read.
func (s *Service) Get(ctx context.Context, id int64, u *hotline.User) (*Article, error) {
	a, err := s.load(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if !s.canRead(u, a) {
		return nil, errNotFound()
	}
	if !isEditor(u) && !(u.Has(hotline.RoleUnit) && u.UnitID == a.UnitID) {
		a.Pending = nil
	}
	return a, nil
}

// List returns articles in a state (the review queue, drafts …), newest
// change first; limit ≤ 0 means all.
func (s *Service) List(ctx context.Context, state State, limit int) ([]Article, error) {
	q := `SELECT doc FROM kb_articles WHERE state = ? ORDER BY updated_at DESC`
	args := []any{string(state)}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	return s.docs(ctx, q, args...)
}

func (s *Service) docs(ctx context.Context, q string, args ...any) ([]Article, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Article{}
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		var a Article
		if json.Unmarshal([]byte(doc), &a) == nil {
			out = append(out, a)
		}
	}
	return out, rows.Err()
}

// Pending lists published articles with a unit's proposal waiting.
func (s *Service) PendingProposals(ctx context.Context) ([]Article, error) {
	all, err := s.List(ctx, Published, 0)
	if err != nil {
		return nil, err
	}
	out := []Article{}
	for _, a := range all {
		if a.Pending != nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// Stale lists published articles that expire within days, or were not
// reviewed (changed) for a year: the editors' review list, soonest first.
func (s *Service) Stale(ctx context.Context, days int) ([]Article, error) {
	all, err := s.List(ctx, Published, 0)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	out := []Article{}
	for _, a := range all {
		if a.Expires != nil && a.Expires.Before(now.AddDate(0, 0, days)) || a.UpdatedAt.Before(now.AddDate(-1, 0, 0)) {
			out = append(out, a)
		}
	}
	return out, nil
}

// Version is one step in an article's history.
type Version struct {
	Version int       `json:"version"`
	State   State     `json:"state"`
	Action  string    `json:"action"`
	By      string    `json:"by"`
	Note    string    `json:"note,omitempty"`
	At      time.Time `json:"at"`
	Article Article   `json:"article"` // the content as of this step
}

// History returns an article's steps, oldest first.
func (s *Service) History(ctx context.Context, id int64, u *hotline.User) ([]Version, error) {
	if _, err := s.Get(ctx, id, u); err != nil {
		return nil, err
	}
	if !isStaff(u) {
		return nil, hotline.Errorf(hotline.EFORBIDDEN, "您无权查看修订历史", "you may not see the history")
	}
	rows, err := s.db.Query(ctx, `SELECT version, state, action, by_user, note, at, doc FROM kb_history WHERE article_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Version{}
	for rows.Next() {
		var v Version
		var at int64
		var doc string
		if err := rows.Scan(&v.Version, &v.State, &v.Action, &v.By, &v.Note, &at, &doc); err != nil {
			return nil, err
		}
		v.At = time.UnixMilli(at)
		json.Unmarshal([]byte(doc), &v.Article)
		out = append(out, v)
	}
	return out, rows.Err()
}

// Result is a search hit.
type Result struct {
	Article *Article `json:"article"`
	Score   float64  `json:"score"`
	// TitleHTML and Snippet are escaped text with <mark> around matched
	// words; safe to insert as HTML.
	TitleHTML string `json:"title_html"`
	Snippet   string `json:"snippet"`
}

// SearchOptions narrow a search.
type SearchOptions struct {
	PublicOnly bool   // citizens: public articles only
	Category   string // category code prefix
	UnitID     int64
	Limit      int // default 10, at most 50
}

// MaxQuery is the longest query read, in characters; the rest of a pasted
// complaint is ignored (its beginning carries the matter).
const MaxQuery = 500

// Search finds published, currently effective articles for a question.
// Queries that find nothing are kept (Misses), so editors see which
// questions have no article.
func (s *Service) Search(ctx context.Context, q string, o SearchOptions) ([]Result, error) {
	if !utf8.ValidString(q) {
		return nil, hotline.Errorf(hotline.EINVALID, "查询包含无效字符", "the query is not valid text")
	}
	q = strings.TrimSpace(q)
	if r := []rune(q); len(r) > MaxQuery {
		q = string(r[:MaxQuery])
	}
	if strings.TrimSpace(normalize(q)) == "" {
		return nil, hotline.Errorf(hotline.EINVALID, "请输入要查询的问题", "enter a question")
	}
	limit := o.Limit
	if limit <= 0 || limit > 50 {
		limit = 10
	}
	ix, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	hits := ix.Search(q, limit, Filter{PublicOnly: o.PublicOnly, Category: o.Category, UnitID: o.UnitID, Now: database.Millis(now)})
	if len(hits) == 0 {
		if _, err := s.db.Exec(ctx, `INSERT INTO kb_misses (query, at) VALUES (?, ?)`, truncate(q, 200), database.Millis(now)); err != nil {
			return nil, err
		}
		return []Result{}, nil
	}
	arts, err := s.byIDs(ctx, hits)
	if err != nil {
		return nil, err
	}
	out := []Result{}
	for _, h := range hits {
		a := arts[h.ID]
		if a == nil || a.State != Published || o.PublicOnly && !a.Public {
			continue // changed since the index saw it
		}
		a.Pending = nil
		out = append(out, Result{Article: a, Score: h.Score, TitleHTML: Highlight(a.Title, h.Terms), Snippet: Snippet(a.Body, h.Terms, 120)})
	}
	return out, nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

func (s *Service) byIDs(ctx context.Context, hits []Hit) (map[int64]*Article, error) {
	args := make([]any, len(hits))
	for i, h := range hits {
		args[i] = h.ID
	}
	list, err := s.docs(ctx, `SELECT doc FROM kb_articles WHERE id IN (?`+strings.Repeat(", ?", len(hits)-1)+`)`, args...)
	if err != nil {
		return nil, err
	}
	m := make(map[int64]*Article, len(list))
	for i := range list {
		m[list[i].ID] = &list[i]
	}
	return m, nil
}

// Feedback records whether an article answered the question ("did this
// answer it?"), from citizens and staff alike.
func (s *Service) Feedback(ctx context.Context, id int64, helpful bool) error {
	return s.db.Tx(ctx, func(tx *database.Tx) error {
		a, err := s.load(ctx, tx, id)
		if err != nil {
			return err
		}
		if helpful {
			a.Helpful++
		} else {
			a.Unhelpful++
		}
		doc, _ := json.Marshal(a)
		if _, err := tx.Exec(ctx, `UPDATE kb_articles SET doc = ? WHERE id = ?`, string(doc), id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO kb_feedback (article_id, helpful, at) VALUES (?, ?, ?)`, id, boolInt(helpful), database.Millis(s.Now()))
		return err
	})
}

// RecordUse links an article to the order it resolved at intake ("answer
// at intake"); the order side calls it on closing. Idempotent per order.
// The count raises the article in search.
func (s *Service) RecordUse(ctx context.Context, id int64, ticketNumber string) error {
	if ticketNumber = strings.TrimSpace(ticketNumber); ticketNumber == "" || len(ticketNumber) > 64 {
		return hotline.Errorf(hotline.EINVALID, "工单编号无效", "invalid order number")
	}
	changed := false
	err := s.db.Tx(ctx, func(tx *database.Tx) error {
		a, err := s.load(ctx, tx, id)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `INSERT INTO kb_uses (article_id, ticket_number, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			id, ticketNumber, database.Millis(s.Now()))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		changed = true
		a.Uses++
		doc, _ := json.Marshal(a)
		_, err = tx.Exec(ctx, `UPDATE kb_articles SET doc = ?, uses = ?, updated_at = ? WHERE id = ?`, string(doc), a.Uses, database.Millis(s.Now()), id)
		return err
	})
	if err == nil && changed {
		s.afterWrite(ctx)
	}
	return err
}

// Miss is a question that found no article.
type Miss struct {
	Query string    `json:"query"`
	Count int       `json:"count"`
	Last  time.Time `json:"last"`
}

// MissReport returns the questions that found no article since a time,
// most asked first: what the knowledge base lacks.
func (s *Service) MissReport(ctx context.Context, since time.Time, limit int) ([]Miss, error) {
	rows, err := s.db.Query(ctx, `SELECT query, COUNT(*), MAX(at) FROM kb_misses WHERE at >= ? GROUP BY query ORDER BY COUNT(*) DESC, MAX(at) DESC LIMIT ?`,
		database.Millis(since), min(max(limit, 1), 1000))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Miss{}
	for rows.Next() {
		var m Miss
		var at int64
		if err := rows.Scan(&m.Query, &m.Count, &at); err != nil {
			return nil, err
		}
		m.Last = time.UnixMilli(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Usage is how an article served: calls resolved in a period and feedback.
type Usage struct {
	ArticleID int64  `json:"article_id"`
	Title     string `json:"title"`
	Resolved  int    `json:"resolved"` // orders closed with it in the period
	Uses      int    `json:"uses"`     // all time
	Helpful   int    `json:"helpful"`
	Unhelpful int    `json:"unhelpful"`
}

// TopUsed returns the articles that resolved the most calls since a time.
func (s *Service) TopUsed(ctx context.Context, since time.Time, limit int) ([]Usage, error) {
	rows, err := s.db.Query(ctx, `SELECT a.doc, COUNT(*) FROM kb_uses u JOIN kb_articles a ON a.id = u.article_id
		WHERE u.at >= ? GROUP BY a.id, a.doc ORDER BY COUNT(*) DESC, a.id LIMIT ?`, database.Millis(since), min(max(limit, 1), 1000))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Usage{}
	for rows.Next() {
		var doc string
		var n int
		if err := rows.Scan(&doc, &n); err != nil {
			return nil, err
		}
		var a Article
		json.Unmarshal([]byte(doc), &a)
		out = append(out, Usage{ArticleID: a.ID, Title: a.Title, Resolved: n, Uses: a.Uses, Helpful: a.Helpful, Unhelpful: a.Unhelpful})
	}
	return out, rows.Err()
}

// Synonyms returns the synonym groups in force.
func (s *Service) Synonyms(ctx context.Context) ([][]string, error) {
	rows, err := s.db.Query(ctx, `SELECT words FROM kb_synonyms ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out, set := [][]string{}, false
	for rows.Next() {
		var w string
		if err := rows.Scan(&w); err != nil {
			return nil, err
		}
		set = true // an empty row records "cleared", distinct from "never set"
		if f := strings.Fields(w); len(f) > 1 {
			out = append(out, f)
		}
	}
	if !set {
		out = DefaultSynonyms
	}
	return out, rows.Err()
}

// SetSynonyms replaces the synonym groups (editors); every node picks them
// up within Interval.
func (s *Service) SetSynonyms(ctx context.Context, groups [][]string, u *hotline.User) error {
	if err := needUser(u); err != nil {
		return err
	}
	if !isEditor(u) {
		return hotline.Errorf(hotline.EFORBIDDEN, "只有知识库管理员可以维护同义词", "only knowledge editors maintain synonyms")
	}
	var clean [][]string
	for _, g := range groups {
		var ws []string
		for _, w := range g {
			if w = strings.TrimSpace(w); w != "" && !strings.ContainsAny(w, " \t\n") && utf8.ValidString(w) && utf8.RuneCountInString(w) <= 30 {
				ws = append(ws, w)
			}
		}
		if len(ws) < 2 {
			return hotline.Errorf(hotline.EINVALID, "每组同义词至少两个词，词内不含空格", "each synonym group needs two or more words without spaces")
		}
		clean = append(clean, ws)
	}
	if len(clean) > 5000 {
		return hotline.Errorf(hotline.EINVALID, "同义词组过多", "too many synonym groups")
	}
	err := s.db.Tx(ctx, func(tx *database.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM kb_synonyms`); err != nil {
			return err
		}
		for _, g := range clean {
			if _, err := tx.Exec(ctx, `INSERT INTO kb_synonyms (words) VALUES (?)`, strings.Join(g, " ")); err != nil {
				return err
			}
		}
		if len(clean) == 0 { // keep "no synonyms" distinct from "never set"
			_, err := tx.Exec(ctx, `INSERT INTO kb_synonyms (words) VALUES ('')`)
			return err
		}
		return nil
	})
	if err == nil {
		s.afterWrite(ctx)
	}
	return err
}
