package kb

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/database"
)

var (
	editor = &hotline.User{ID: 1, Username: "editor1", Roles: []hotline.Role{hotline.RoleEditor}}
	unitA  = &hotline.User{ID: 2, Username: "rsj", Roles: []hotline.Role{hotline.RoleUnit}, UnitID: 7}
	unitB  = &hotline.User{ID: 3, Username: "zjj", Roles: []hotline.Role{hotline.RoleUnit}, UnitID: 8}
	agent  = &hotline.User{ID: 4, Username: "agent1", Roles: []hotline.Role{hotline.RoleAgent}}
)

func TestService(t *testing.T) {
	database.ForEachTestDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, err := Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := s.Create(ctx, Article{Title: "灵活就业人员如何缴纳社会保险", Body: "灵活就业人员可在户籍地或居住地社保经办机构办理参保登记，按月或按年缴纳养老保险和医疗保险。",
			Kind: "procedure", Category: "0501", Public: true}, true, editor)
		if err != nil || pub.State != Published {
			t.Fatalf("editor publish: %+v %v", pub, err)
		}
		internal, _ := s.Create(ctx, Article{Title: "<script>alert(1)</script>噪声投诉处理口径", Body: "夜间施工噪声由生态环境部门受理，<b>白天</b>施工由城管处理。", Public: false}, true, editor)
		// A unit proposes; it is a draft of its own unit until an editor approves.
		draft, err := s.Create(ctx, Article{Title: "退休养老金领取手续", Body: "达到法定退休年龄后携带身份证到社保经办机构办理退休手续，次月起按月领取养老金。", Public: true}, true, unitA)
		if err != nil || draft.State != Draft || draft.UnitID != 7 {
			t.Fatalf("unit create: %+v %v", draft, err)
		}
		if _, err := s.Act(ctx, draft.ID, Approve, "", unitA); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
			t.Fatalf("unit approved its own article: %v", err)
		}
		if _, err := s.Act(ctx, draft.ID, Submit, "", unitB); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
			t.Fatalf("another unit submitted it: %v", err)
		}
		if _, err := s.Act(ctx, draft.ID, Submit, "请审核", unitA); err != nil {
			t.Fatal(err)
		}
		if res, _ := s.Search(ctx, "退休 养老金", SearchOptions{}); len(res) > 0 && res[0].Article.ID == draft.ID {
			t.Fatal("an unapproved article is searchable")
		}
		if _, err := s.Act(ctx, draft.ID, Approve, "", editor); err != nil {
			t.Fatal(err)
		}
		// Synonym: 社保 finds 社会保险; words, not only characters.
		res, err := s.Search(ctx, "灵活就业怎么交社保", SearchOptions{PublicOnly: true})
		if err != nil || len(res) == 0 || res[0].Article.ID != pub.ID {
			t.Fatalf("search: %+v %v", res, err)
		}
		if !strings.Contains(res[0].Snippet, "<mark>") {
			t.Fatalf("no highlight: %s", res[0].Snippet)
		}
		// Citizens never see internal articles; staff do; markup comes back escaped.
		if res, _ := s.Search(ctx, "噪声投诉", SearchOptions{PublicOnly: true}); len(res) > 0 && res[0].Article.ID == internal.ID {
			t.Fatal("an internal article reached the public search")
		}
		res, _ = s.Search(ctx, "噪声投诉", SearchOptions{})
		if len(res) == 0 || res[0].Article.ID != internal.ID || strings.Contains(res[0].Snippet, "<b>") {
			t.Fatalf("staff search: %+v", res)
		}
		if _, err := s.Get(ctx, internal.ID, nil); hotline.ErrorCode(err) != hotline.ENOTFOUND {
			t.Fatalf("citizen read an internal article: %v", err)
		}
		// A unit's edit of its published article is a proposal: the
		// published text stays live until an editor approves.
		up, err := s.Update(ctx, draft.ID, 1, Article{Title: "退休养老金领取手续（2026版）", Body: "可在网上办理退休申请。", Public: true}, unitA)
		if err != nil || up.State != Published || up.Version != 1 || up.Pending == nil || up.Pending.Version != 2 {
			t.Fatalf("unit update: %+v %v", up, err)
		}
		if res, _ := s.Search(ctx, "网上办理退休申请", SearchOptions{}); len(res) > 0 && res[0].Article.Title != draft.Title {
			t.Fatalf("a proposal went live before approval: %+v", res[0].Article)
		}
		if _, err := s.Act(ctx, draft.ID, Approve, "", unitA); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
			t.Fatalf("unit approved its own proposal: %v", err)
		}
		if ap, err := s.Act(ctx, draft.ID, Approve, "", editor); err != nil || ap.Version != 2 || ap.Pending != nil || ap.Title != "退休养老金领取手续（2026版）" {
			t.Fatalf("approve proposal: %+v %v", ap, err)
		}
		hist, err := s.History(ctx, draft.ID, editor)
		if err != nil {
			t.Fatal(err)
		}
		var steps []string
		for _, v := range hist {
			steps = append(steps, fmt.Sprintf("%s:%d:%s", v.Action, v.Version, v.State))
		}
		if got := strings.Join(steps, " "); got != "create:1:draft submit:1:review approve:1:published propose:1:review approve:2:published" {
			t.Fatalf("history: %s", got)
		}
		if _, err := s.Update(ctx, draft.ID, 1, Article{Title: "x", Body: "y"}, editor); hotline.ErrorCode(err) != hotline.ECONFLICT {
			t.Fatalf("stale update: %v", err)
		}
		// Usage counts and feedback.
		if err := s.RecordUse(ctx, pub.ID, "20261124010000001"); err != nil {
			t.Fatal(err)
		}
		s.RecordUse(ctx, pub.ID, "20261124010000001")
		s.Feedback(ctx, pub.ID, true)
		a, _ := s.Get(ctx, pub.ID, agent)
		if a.Uses != 1 || a.Helpful != 1 {
			t.Fatalf("uses %d helpful %d", a.Uses, a.Helpful)
		}
		// Bad input.
		for _, q := range []string{"", "   ", "\xff"} {
			if _, err := s.Search(ctx, q, SearchOptions{}); hotline.ErrorCode(err) != hotline.EINVALID {
				t.Errorf("query %q: %v", q, err)
			}
		}
		if _, err := s.Search(ctx, strings.Repeat("社保", 5000), SearchOptions{}); err != nil {
			t.Fatalf("10,000-character query: %v", err)
		}
		s.Search(ctx, "火星移民补贴", SearchOptions{})
		if m, _ := s.MissReport(ctx, s.Now().Add(-time.Hour), 10); len(m) == 0 || m[0].Query != "火星移民补贴" {
			t.Fatalf("a question without an article was not kept: %+v", m)
		}
		// The index is rebuilt from the database, and a second node sees edits.
		other, err := Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if res, _ := other.Search(ctx, "社会保险", SearchOptions{}); len(res) == 0 {
			t.Fatal("a fresh node's index is empty")
		}
		if _, err := s.Act(ctx, pub.ID, Withdraw, "政策调整", editor); err != nil {
			t.Fatal(err)
		}
		other.Interval = 0
		if res, _ := other.Search(ctx, "灵活就业 社会保险", SearchOptions{}); len(res) > 0 && res[0].Article.ID == pub.ID {
			t.Fatal("the other node still serves a withdrawn article")
		}
	})
}
