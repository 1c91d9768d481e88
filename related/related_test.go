package related

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline12345/hotline/internal/tipdm"
)

var now = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func cands() []Order {
	return []Order{
		{Number: "A", Title: "望湖花园门前积水", Content: "望湖花园北门一下雨就积水，居民出行困难。", Address: "江北区望湖花园北门", Phone: "13800000001", At: now.Add(-48 * time.Hour)},
		{Number: "B", Title: "中山大道噪音扰民", Content: "中山大道夜间施工噪音很大，影响休息。", Address: "江北区中山大道", Phone: "13800000002", At: now.Add(-24 * time.Hour)},
		{Number: "C", Title: "咨询养老保险转移", Content: "我想咨询养老保险关系如何从外省转入。", Phone: "13800000003", At: now.Add(-2 * time.Hour)},
		{Number: "D", Title: "望湖花园门前积水", Content: "望湖花园北门积水严重。", Address: "江北区望湖花园", At: now.Add(-40 * 24 * time.Hour)}, // outside the window
		{Number: "E", Title: "公积金提取", Content: "公积金提取要什么材料？", Phone: "13900000009", At: now.Add(-3 * time.Hour)},
	}
}

func TestRankFindsTheSameMatter(t *testing.T) {
	q := Query{Title: "望湖花园积水严重", Content: "望湖花园北门口又积水了，老人孩子都过不去，请尽快疏通。", Address: "江北区望湖花园", Phone: "13800000001", At: now}
	ms := Rank(q, cands(), Options{})
	if len(ms) != 1 || ms[0].Number != "A" {
		t.Fatalf("want only A, got %+v", ms)
	}
	m := ms[0]
	// The text measure compares the matters, the place's name cut out.
	if !m.SameCalls || m.Place != "望湖花园" || m.Text < 0.2 {
		t.Errorf("match %+v", m)
	}
	// Another caller with the same matter at the same place is a duplicate too.
	q.Phone = "13900000000"
	if ms := Rank(q, cands(), Options{}); len(ms) != 1 || ms[0].Number != "A" {
		t.Errorf("without the same caller: %+v", ms)
	}
	var codes []string
	for _, r := range m.Reasons {
		codes = append(codes, r.Code)
		if r.ZH == "" || r.EN == "" {
			t.Errorf("reason without both languages: %+v", r)
		}
	}
	if strings.Join(codes, ",") != "caller,place,text,recent" {
		t.Errorf("reasons %v", codes)
	}
}

func TestRankLeavesOutWhatIsOnlyTheSameCaller(t *testing.T) {
	// The same caller about something else is caller history, not a duplicate.
	q := Query{Title: "公交站台破损", Content: "人民路公交站台顶棚破了。", Phone: "13900000009", At: now}
	if ms := Rank(q, cands(), Options{}); len(ms) != 0 {
		t.Fatalf("suggested %+v", ms)
	}
}

func TestRankOrdersAndLimits(t *testing.T) {
	var cs []Order
	for i := 0; i < 10; i++ {
		cs = append(cs, Order{Number: string(rune('a' + i)), Title: "幸福里小区停电", Content: "幸福里小区3栋停电" + strings.Repeat("很久", i),
			Address: "幸福里小区", At: now.Add(-time.Duration(i) * time.Hour)})
	}
	ms := Rank(Query{Title: "幸福里小区停电", Content: "幸福里小区3栋停电", Address: "幸福里小区", At: now, Exclude: "a"}, cs, Options{Limit: 3})
	if len(ms) != 3 {
		t.Fatalf("limit: %d", len(ms))
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Score > ms[i-1].Score {
			t.Fatal("not ranked")
		}
	}
	for _, m := range ms {
		if m.Number == "a" {
			t.Fatal("the query's own order suggested")
		}
	}
}

func TestRankOddInput(t *testing.T) {
	for _, q := range []Query{{}, {Title: "<script>", Content: strings.Repeat("啊", 10000)}, {Title: "\u200b\ufeff", Address: "区"}} {
		Rank(q, cands(), Options{}) // must not panic
	}
	if ms := Rank(Query{Title: "x"}, nil, Options{}); len(ms) != 0 {
		t.Fatal("no candidates, no matches")
	}
}

func TestPlaceKey(t *testing.T) {
	for in, want := range map[string]string{"江城市江北区望湖花园3栋": "望湖花园3栋", "望湖花园小区": "望湖花园小区", "临江县城关镇": "城关镇", "": ""} {
		if got := placeKey(in); got != want {
			t.Errorf("placeKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPrecisionOnRealMessages replays a third of the judged queries of
// hot_messages.csv; every top suggestion must have a verdict, and at
// least 80 % must be right.
func TestPrecisionOnRealMessages(t *testing.T) {
	dir := tipdm.Dir(t)
	msgs, err := ReadMessages(filepath.Join(dir, "hot_messages.csv"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := ReadJudgments("testdata/hot_judgments.tsv")
	if err != nil {
		t.Fatal(err)
	}
	r := EvalHot(msgs, j, 30, Options{})
	if len(r.Unjudged) > 0 {
		t.Fatalf("%d top suggestions without a verdict: the ranking changed, judge them (hotline dups --unjudged)", len(r.Unjudged))
	}
	if r.Judged < 10 || r.Precision < 0.8 {
		t.Fatalf("precision %.3f over %d judged suggestions", r.Precision, r.Judged)
	}
	t.Logf("precision %.3f (%d/%d), %d of %d queries got a suggestion", r.Precision, r.Correct, r.Judged, r.Suggested, r.Queries)
}

func TestSamePlaceDifferentMatterIsNotADuplicate(t *testing.T) {
	cs := []Order{
		{Number: "garbage", Title: "临江县县城南门菜市场垃圾清运不及时", Content: "临江县县城南门菜市场门口垃圾三天没人清运，气味很大。",
			Address: "临江县县城南门菜市场", At: now.Add(-24 * time.Hour)},
		{Number: "food", Title: "临江县县城南门菜市场超市销售过期食品", Content: "在临江县县城南门菜市场的超市买到过期的酸奶，要求退换被拒绝。",
			Address: "临江县县城南门菜市场", At: now.Add(-48 * time.Hour)},
	}
	q := Query{Title: "县城南门菜市场超市卖过期食品", Content: "南门菜市场里的超市还在卖过期酸奶，请市场监管部门查处。", Address: "临江县县城南门菜市场", At: now}
	ms := Rank(q, cs, Options{})
	if len(ms) != 1 || ms[0].Number != "food" {
		t.Fatalf("want only the same matter, got %+v", ms)
	}
	if ms[0].Place == "" || ms[0].Text < 0.2 {
		t.Errorf("match %+v", ms[0])
	}
}

func TestSameComplaintElsewhereIsNotADuplicate(t *testing.T) {
	cs := []Order{{Number: "other-market", Title: "临江县汽车站超市销售过期食品", Content: "在临江县汽车站的超市买到过期的酸奶，要求退换被拒绝。",
		Address: "临江县汽车站", At: now.Add(-24 * time.Hour)}}
	q := Query{Title: "临江县县城南门菜市场超市销售过期食品", Content: "在临江县县城南门菜市场的超市买到过期的酸奶，要求退换被拒绝。",
		Address: "临江县县城南门菜市场", At: now}
	if ms := Rank(q, cs, Options{}); len(ms) != 0 {
		t.Fatalf("another place's complaint suggested: %+v", ms)
	}
	// Without an address on the new request, similar text still finds it.
	q.Address = ""
	if ms := Rank(q, cs, Options{}); len(ms) != 1 {
		t.Fatalf("similar text without a place not suggested: %+v", ms)
	}
}
