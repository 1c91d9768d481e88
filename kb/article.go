package kb

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hotline12345/hotline"
)

// State of an article.
type State string

const (
	Draft     State = "draft"     // 草稿
	Review    State = "review"    // 待审核
	Published State = "published" // 已发布
	Expired   State = "expired"   // 已过期
	Withdrawn State = "withdrawn" // 已撤回
)

// Kind of an article.
var Kinds = []string{"policy", "procedure", "duty", "faq"}

// Article is one piece of knowledge (知识).
type Article struct {
	ID        int64      `json:"id"`
	Title     string     `json:"title"`
	Body      string     `json:"body"` // Markdown
	Kind      string     `json:"kind"`
	Category  string     `json:"category_code,omitempty"`
	Tags      []string   `json:"tags,omitempty"`
	UnitID    int64      `json:"unit_id,omitempty"` // owning unit
	Source    string     `json:"source,omitempty"`  // source document
	Public    bool       `json:"public"`
	State     State      `json:"state"`
	Version   int        `json:"version"`
	Effective *time.Time `json:"effective_from,omitempty"`
	Expires   *time.Time `json:"expires_at,omitempty"`
	Uses      int        `json:"uses"` // calls it resolved
	Helpful   int        `json:"helpful"`
	Unhelpful int        `json:"unhelpful"`
	UpdatedAt time.Time  `json:"updated_at"`
	UpdatedBy string     `json:"updated_by,omitempty"`
	// Pending is a unit's proposed change to a published article, waiting
	// for an editor; the published text stays live meanwhile.
	Pending *Article `json:"pending,omitempty"`
}

// Live reports whether the article may be shown at t.
func (a *Article) Live(t time.Time) bool {
	return a.State == Published && (a.Effective == nil || !t.Before(*a.Effective)) && (a.Expires == nil || t.Before(*a.Expires))
}

// Validate checks an article's fields.
func (a *Article) Validate() error {
	a.Title = strings.TrimSpace(a.Title)
	bad := func(zh, en string) error { return hotline.Errorf(hotline.EINVALID, zh, en) }
	switch {
	case a.Title == "" || utf8.RuneCountInString(a.Title) > 200:
		return bad("标题不能为空且不超过200字", "title is required (at most 200 characters)")
	case strings.TrimSpace(a.Body) == "" || utf8.RuneCountInString(a.Body) > 50000:
		return bad("正文不能为空且不超过5万字", "body is required (at most 50,000 characters)")
	case !utf8.ValidString(a.Title + a.Body):
		return bad("包含无效字符", "invalid UTF-8")
	case a.Kind == "":
		a.Kind = "faq"
	}
	if !slices.Contains(Kinds, a.Kind) {
		return bad("类型须为policy、procedure、duty或faq", "kind must be policy, procedure, duty or faq")
	}
	if a.Effective != nil && a.Expires != nil && !a.Expires.After(*a.Effective) {
		return bad("失效日期须晚于生效日期", "expires_at must be after effective_from")
	}
	if len(a.Tags) > 20 {
		return bad("标签最多20个", "at most 20 tags")
	}
	return nil
}

// Transition is a lifecycle step.
type Transition string

const (
	Submit   Transition = "submit"   // draft → review
	Approve  Transition = "approve"  // review → published (editor)
	Reject   Transition = "reject"   // review → draft (editor)
	Withdraw Transition = "withdraw" // published → withdrawn (editor)
	Expire   Transition = "expire"   // published → expired (editor or the clock)
)

var transitions = map[Transition]struct {
	from   []State
	to     State
	editor bool
}{
	Submit:   {[]State{Draft}, Review, false},
	Approve:  {[]State{Review}, Published, true},
	Reject:   {[]State{Review}, Draft, true},
	Withdraw: {[]State{Published}, Withdrawn, true},
	Expire:   {[]State{Published}, Expired, true},
}

// isEditor: knowledge editors and administrators approve (共建共享: units
// propose, editors publish).
func isEditor(u *hotline.User) bool { return u.Has(hotline.RoleEditor, hotline.RoleAdmin) }

// CanEdit reports whether u may change a: editors always; a unit user only
// its own unit's articles.
func CanEdit(u *hotline.User, a *Article) bool {
	if isEditor(u) {
		return true
	}
	return u.Has(hotline.RoleUnit) && u.UnitID != 0 && a.UnitID == u.UnitID
}

// Step applies a transition to a copy of a. On a published article with a
// pending proposal, approve publishes the proposal and reject drops it.
func Step(a *Article, tr Transition, u *hotline.User) (*Article, error) {
	rule, ok := transitions[tr]
	if !ok {
		return nil, hotline.Errorf(hotline.EINVALID, "未知的操作", "unknown action")
	}
	if a.State == Published && a.Pending != nil && (tr == Approve || tr == Reject) {
		if !isEditor(u) {
			return nil, hotline.Errorf(hotline.EFORBIDDEN, "您无权执行此操作", "you are not allowed to do this")
		}
		n := *a
		if tr == Approve {
			n = *a.Pending
			n.State, n.Uses, n.Helpful, n.Unhelpful = Published, a.Uses, a.Helpful, a.Unhelpful
		}
		n.Pending = nil
		return &n, nil
	}
	if rule.editor && !isEditor(u) || !rule.editor && !CanEdit(u, a) {
		return nil, hotline.Errorf(hotline.EFORBIDDEN, "您无权执行此操作", "you are not allowed to do this")
	}
	if !slices.Contains(rule.from, a.State) {
		return nil, hotline.Errorf(hotline.EUNPROCESSABLE, "当前状态不能执行此操作", "not allowed in the article's current state")
	}
	n := *a
	n.State = rule.to
	return &n, nil
}
