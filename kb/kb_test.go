package kb

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/database"
)

func TestStep(t *testing.T) {
	own := &Article{UnitID: 7}
	tests := []struct {
		from State
		tr   Transition
		u    *hotline.User
		want State
		code string
	}{
		{Draft, Submit, unitA, Review, ""},
		{Draft, Submit, unitB, "", hotline.EFORBIDDEN},
		{Draft, Submit, agent, "", hotline.EFORBIDDEN},
		{Draft, Approve, editor, "", hotline.EUNPROCESSABLE},
		{Review, Approve, editor, Published, ""},
		{Review, Approve, unitA, "", hotline.EFORBIDDEN},
		{Review, Reject, editor, Draft, ""},
		{Published, Withdraw, editor, Withdrawn, ""},
		{Published, Withdraw, unitA, "", hotline.EFORBIDDEN},
		{Published, Expire, editor, Expired, ""},
		{Withdrawn, Approve, editor, "", hotline.EUNPROCESSABLE},
		{Expired, Submit, unitA, "", hotline.EUNPROCESSABLE},
		{Draft, "publish-now", editor, "", hotline.EINVALID},
		{Draft, Submit, nil, "", hotline.EFORBIDDEN},
	}
	for _, tt := range tests {
		a := *own
		a.State = tt.from
		n, err := Step(&a, tt.tr, tt.u)
		if hotline.ErrorCode(err) != tt.code || err == nil && n.State != tt.want {
			t.Errorf("%s --%s--> by %v: got %v %v, want %q %q", tt.from, tt.tr, tt.u, n, err, tt.want, tt.code)
		}
	}
}

func TestRenderHTML(t *testing.T) {
	tests := []struct{ in, want string }{
		{"# 办理流程\n\n1. 带**身份证**\n2. 到窗口", "<h2>办理流程</h2>\n<ol>\n<li>带<strong>身份证</strong></li>\n<li>到窗口</li>\n</ol>\n"},
		{"<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"},
		{"[点我](javascript:alert(1))", "<p>点我)</p>\n"},
		{"[官网](https://example.gov.cn/a?b=1&c=2)", `<p><a href="https://example.gov.cn/a?b=1&amp;c=2" rel="noopener noreferrer nofollow">官网</a></p>` + "\n"},
		{`[x](https://a.cn/"onmouseover="alert(1))`, `<p><a href="https://a.cn/&#34;onmouseover=&#34;alert(1" rel="noopener noreferrer nofollow">x</a>)</p>` + "\n"},
		{"<img src=x onerror=alert(1)> `<b>`", "<p>&lt;img src=x onerror=alert(1)&gt; <code>&lt;b&gt;</code></p>\n"},
		{"- 社保\n- 医保\n\n> 注意", "<ul>\n<li>社保</li>\n<li>医保</li>\n</ul>\n<blockquote>注意</blockquote>\n"},
	}
	for _, tt := range tests {
		if got := RenderHTML(tt.in); got != tt.want {
			t.Errorf("RenderHTML(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

var (
	allowedTags = regexp.MustCompile(`</?(p|br|h[234]|ul|ol|li|blockquote|strong|em|code|mark|a)>|<a href="(https?://|mailto:|tel:|/)[^"<>]*" rel="noopener noreferrer nofollow">`)
)

// FuzzRenderHTML: whatever the input, the output holds only the allowed
// tags, and links only to allowed schemes.
func FuzzRenderHTML(f *testing.F) {
	f.Add("<script>x</script>[a](javascript:x) **b** `c`")
	f.Add("[x](//evil.com) [y](JaVaScRiPt:alert(1)) <a href=x>")
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{RenderHTML(s), Snippet(s, []string{"script", "a", "<"}, 50), Highlight(s, []string{"mark"})} {
			if rest := allowedTags.ReplaceAllString(out, ""); strings.ContainsAny(rest, "<>") {
				t.Fatalf("%q rendered unsafe: %q", s, out)
			}
		}
	})
}

func TestSnippet(t *testing.T) {
	tests := []struct {
		text  string
		terms []string
		want  string
	}{
		{"<script>alert(1)</script>噪声投诉", []string{"噪声"}, "&lt;script&gt;alert(1)&lt;/script&gt;<mark>噪声</mark>投诉"},
		{"请带ＩＤ卡和Mark办理", []string{"id", "mark"}, "请带<mark>ＩＤ</mark>卡和<mark>Mark</mark>办理"},
		{"养老金和养老", []string{"养老金", "养老"}, "<mark>养老金</mark>和<mark>养老</mark>"},
		{"**社保**转移", []string{"社保"}, "<mark>社保</mark>转移"},
	}
	for _, tt := range tests {
		if got := Snippet(tt.text, tt.terms, 100); got != tt.want {
			t.Errorf("Snippet(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestSearchAndIndex(t *testing.T) {
	database.ForEachTestDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, err := Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.Local)
		s.Now = func() time.Time { return now }
		expires := now.Add(24 * time.Hour)
		mk := func(a Article) *Article {
			t.Helper()
			out, err := s.Create(ctx, a, true, editor)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		gjj := mk(Article{Title: "住房公积金提取条件", Body: "购房、租房、退休可提取住房公积金。", Category: "0502", UnitID: 9, Public: true, Expires: &expires})
		hk := mk(Article{Title: "<script>alert(1)</script>新生儿落户", Body: "新生儿户口登记需出生医学证明。", Category: "0101", Public: true})
		tests := []struct {
			q    string
			o    SearchOptions
			want int64
		}{
			{"公积金怎么取", SearchOptions{}, gjj.ID}, // synonym 公积金 ≈ 住房公积金
			{"新生儿户籍", SearchOptions{PublicOnly: true}, hk.ID},
			{"公积金", SearchOptions{Category: "05"}, gjj.ID},
			{"公积金", SearchOptions{Category: "01"}, 0},
			{"公积金", SearchOptions{UnitID: 8}, 0},
			{"ＳＣＲＩＰＴ　新生儿", SearchOptions{}, hk.ID},
		}
		for _, tt := range tests {
			res, err := s.Search(ctx, tt.q, tt.o)
			if err != nil {
				t.Fatalf("%q: %v", tt.q, err)
			}
			if got := int64(0); len(res) > 0 {
				got = res[0].Article.ID
				if got != tt.want {
					t.Errorf("%q %+v: top %d, want %d", tt.q, tt.o, got, tt.want)
				}
			} else if tt.want != 0 {
				t.Errorf("%q %+v: nothing found", tt.q, tt.o)
			}
		}
		res, _ := s.Search(ctx, "新生儿落户", SearchOptions{})
		if len(res) == 0 || !strings.HasPrefix(res[0].TitleHTML, "&lt;script&gt;") || !strings.Contains(res[0].TitleHTML, "<mark>新生儿") {
			t.Fatalf("title highlight: %+v", res)
		}
		// Expiry applies at query time, before any job marks the article.
		now = expires.Add(time.Minute)
		if res, _ := s.Search(ctx, "住房公积金提取", SearchOptions{}); len(res) > 0 && res[0].Article.ID == gjj.ID {
			t.Fatal("an expired article is served")
		}
		if n, err := s.ExpireDue(ctx); err != nil || n != 1 {
			t.Fatalf("ExpireDue: %d %v", n, err)
		}
		// Editable synonyms: 娃 ≈ 新生儿 after the editor says so, on another node too.
		other, err := Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		other.Interval = 0
		if err := s.SetSynonyms(ctx, [][]string{{"小孩", "新生儿"}}, unitA); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
			t.Fatalf("unit set synonyms: %v", err)
		}
		if err := s.SetSynonyms(ctx, [][]string{{"小孩", "新生儿"}}, editor); err != nil {
			t.Fatal(err)
		}
		if res, _ := other.Search(ctx, "小孩上户口", SearchOptions{}); len(res) == 0 || res[0].Article.ID != hk.ID {
			t.Fatalf("synonym on the other node: %+v", res)
		}
		// The index is lost and rebuilt from the database.
		s.DropIndex()
		if s.IndexSize() != 0 {
			t.Fatal("index not dropped")
		}
		if res, _ := s.Search(ctx, "新生儿", SearchOptions{}); len(res) == 0 || res[0].Article.ID != hk.ID {
			t.Fatalf("after losing the index: %+v", res)
		}
		if err := s.Reindex(ctx); err != nil || s.IndexSize() != 1 {
			t.Fatalf("reindex: %d %v", s.IndexSize(), err)
		}
		// Bad input.
		for _, q := range []string{"", "  \t", "\xff\xfe", "？！。，", "\u200b\u200d"} {
			if _, err := s.Search(ctx, q, SearchOptions{}); hotline.ErrorCode(err) != hotline.EINVALID {
				t.Errorf("query %q: %v", q, err)
			}
		}
		for _, q := range []string{strings.Repeat("新生儿落户", 2000), "𠀀𪚥😀新生儿", "a" + strings.Repeat("\u0301", 5000)} {
			if _, err := s.Search(ctx, q, SearchOptions{}); err != nil {
				t.Errorf("query of %d bytes: %v", len(q), err)
			}
		}
		if m, err := s.MissReport(ctx, now.Add(-time.Hour), 10); err != nil || len(m) == 0 {
			t.Fatalf("misses: %+v %v", m, err)
		}
	})
}

func TestHTTP(t *testing.T) {
	db := database.OpenTestSQLite(t)
	ctx := context.Background()
	s, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := s.Create(ctx, Article{Title: "灵活就业人员缴纳社会保险", Body: "到社保经办机构登记。<script>x</script>", Public: true}, true, editor)
	internal, _ := s.Create(ctx, Article{Title: "社保系统内部口径", Body: "内部答复社会保险口径。"}, true, editor)
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			users := map[string]*hotline.User{"editor": editor, "unitA": unitA, "agent": agent}
			if u := users[req.Header.Get("X-Test-User")]; u != nil {
				req = req.WithContext(hotline.WithUser(req.Context(), u))
			}
			next.ServeHTTP(w, req)
		})
	})
	r.Route("/api/v1/kb", s.Routes)
	r.Get("/api/v1/public/kb/search", s.PublicSearch)
	do := func(method, path, user, body string) (int, map[string]any) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("X-Test-User", user)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		var out map[string]any
		json.Unmarshal(w.Body.Bytes(), &out)
		return w.Code, out
	}
	ids := func(out map[string]any) []float64 {
		var ids []float64
		items, _ := out["items"].([]any)
		for _, it := range items {
			ids = append(ids, it.(map[string]any)["article"].(map[string]any)["id"].(float64))
		}
		return ids
	}
	if code, out := do("GET", "/api/v1/public/kb/search?q=社保", "agent", ""); code != 200 || len(ids(out)) != 1 || ids(out)[0] != float64(pub.ID) {
		t.Fatalf("public search: %d %v", code, out)
	}
	if code, out := do("GET", "/api/v1/kb/search?q=社保", "agent", ""); code != 200 || len(ids(out)) != 2 {
		t.Fatalf("staff search: %d %v", code, out)
	}
	if code, out := do("GET", "/api/v1/kb/search?q=社保", "", ""); code != 200 || len(ids(out)) != 1 {
		t.Fatalf("anonymous search: %d %v", code, out)
	}
	tests := []struct {
		method, path, user, body string
		status                   int
		code                     string
	}{
		{"GET", "/api/v1/kb/search?q=", "agent", "", 400, hotline.EINVALID},
		{"GET", "/api/v1/kb/search?q=x&limit=999", "agent", "", 400, hotline.EINVALID},
		{"GET", "/api/v1/kb/articles/abc", "agent", "", 400, hotline.EINVALID},
		{"GET", "/api/v1/kb/articles/999", "agent", "", 404, hotline.ENOTFOUND},
		{"GET", "/api/v1/kb/articles/" + itoa(internal.ID), "", "", 404, hotline.ENOTFOUND},
		{"GET", "/api/v1/kb/articles", "", "", 401, hotline.EUNAUTHORIZED},
		{"POST", "/api/v1/kb/articles", "agent", `{"title":"t","body":"b"}`, 403, hotline.EFORBIDDEN},
		{"POST", "/api/v1/kb/articles", "editor", `{"title":"","body":"b"}`, 400, hotline.EINVALID},
		{"POST", "/api/v1/kb/articles", "editor", `{"title":`, 400, hotline.EINVALID},
		{"PUT", "/api/v1/kb/articles/" + itoa(pub.ID), "editor", `{"title":"t","body":"b","version":7}`, 409, hotline.ECONFLICT},
		{"POST", "/api/v1/kb/articles/" + itoa(pub.ID) + "/submit", "editor", "", 422, hotline.EUNPROCESSABLE},
		{"POST", "/api/v1/kb/articles/" + itoa(pub.ID) + "/withdraw", "unitA", "", 403, hotline.EFORBIDDEN},
		{"GET", "/api/v1/kb/misses", "agent", "", 403, hotline.EFORBIDDEN},
		{"POST", "/api/v1/kb/articles/" + itoa(pub.ID) + "/feedback", "", `{}`, 400, hotline.EINVALID},
		{"POST", "/api/v1/kb/articles/" + itoa(pub.ID) + "/feedback", "", `{"helpful":true}`, 204, ""},
		{"POST", "/api/v1/kb/articles/" + itoa(pub.ID) + "/uses", "agent", `{"ticket_number":"2026030100001"}`, 204, ""},
		{"GET", "/api/v1/kb/articles/" + itoa(pub.ID) + "?html=1", "", "", 200, ""},
		{"GET", "/api/v1/kb/usage", "editor", "", 200, ""},
		{"PUT", "/api/v1/kb/synonyms", "editor", `{"groups":[["社保"]]}`, 400, hotline.EINVALID},
	}
	for _, tt := range tests {
		code, out := do(tt.method, tt.path, tt.user, tt.body)
		if code != tt.status {
			t.Errorf("%s %s as %q: %d %v, want %d", tt.method, tt.path, tt.user, code, out, tt.status)
			continue
		}
		if tt.code != "" {
			e, _ := out["error"].(map[string]any)
			if e["code"] != tt.code || e["message"] == "" || e["message_en"] == "" {
				t.Errorf("%s %s: error body %v", tt.method, tt.path, out)
			}
		}
	}
	_, out := do("GET", "/api/v1/kb/articles/"+itoa(pub.ID)+"?html=1", "", "")
	if h, _ := out["body_html"].(string); !strings.Contains(h, "&lt;script&gt;") || strings.Contains(h, "<script>") {
		t.Fatalf("body_html: %q", h)
	}
	if _, out := do("GET", "/api/v1/kb/usage", "editor", ""); len(out["items"].([]any)) != 1 {
		t.Fatalf("usage: %v", out)
	}
}
