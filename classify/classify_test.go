package classify

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hotline12345/hotline"
	tipdmdata "github.com/hotline12345/hotline/internal/tipdm"
)

func tipdm(tb testing.TB) string { return tipdmdata.Dir(tb) }

// small is a synthetic training set: a few messages per category, written
// the way citizens write them.
var small = []Example{
	{"楼下工地夜间施工噪音扰民", "环境保护"}, {"广场舞音响噪音太大", "环境保护"}, {"工厂排放废气污染空气", "环境保护"},
	{"河道污水排放发臭", "环境保护"}, {"餐馆油烟污染严重", "环境保护"}, {"搅拌站粉尘污染，晚上还有施工噪音", "环境保护"},
	{"咨询养老保险缴费基数", "劳动和社会保障"}, {"公司拖欠工资不发", "劳动和社会保障"}, {"社保转移接续怎么办理", "劳动和社会保障"},
	{"退休养老金领取手续", "劳动和社会保障"}, {"失业保险金申领", "劳动和社会保障"}, {"社保卡和养老金的问题", "劳动和社会保障"},
	{"公交车末班车提前收车", "交通运输"}, {"出租车拒载绕路", "交通运输"}, {"道路坑洼需要修补", "交通运输"},
	{"公交线路调整建议", "交通运输"}, {"网约车乱收费", "交通运输"}, {"公交站台太远，公交车班次少", "交通运输"},
}

func trainSmall(t testing.TB) *Model {
	t.Helper()
	m, err := Train(small, Options{MinDF: 1})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLearnsAndPredicts(t *testing.T) {
	m := trainSmall(t)
	for _, tc := range []struct {
		text, want string
		term       string // a term that must be among the explanation
	}{
		{"晚上工地施工噪音很大，吵得睡不着", "环境保护", "噪音"},
		{"我的养老金什么时候发放？社保在哪里查", "劳动和社会保障", "养老金"},
		{"公交车太少了，等车要一个小时", "交通运输", "公交"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			s := m.Predict(tc.text, 3)
			if len(s) != 3 || s[0].Label != tc.want {
				t.Fatalf("%s → %+v, want %s first", tc.text, s, tc.want)
			}
			if !(s[0].Confidence >= s[1].Confidence && s[1].Confidence >= s[2].Confidence) {
				t.Errorf("confidences not in order: %+v", s)
			}
			if s[0].Confidence <= 1.0/3 {
				t.Errorf("winner's confidence %.3f no better than chance", s[0].Confidence)
			}
			found := false
			for _, term := range s[0].Terms {
				if strings.Contains(term, tc.term) || strings.Contains(tc.term, term) {
					found = true
				}
				if strings.HasPrefix(term, wordMark) || utf8.RuneCountInString(term) < 2 {
					t.Errorf("unreadable term %q", term)
				}
			}
			if !found {
				t.Errorf("%s explained by %v, want %s among them", tc.text, s[0].Terms, tc.term)
			}
			label, terms := m.Explain(tc.text, 3)
			if label != tc.want || len(terms) == 0 || len(terms) > 3 {
				t.Errorf("Explain = %s %v", label, terms)
			}
		})
	}
}

func TestConfidencesSumToOne(t *testing.T) {
	m := trainSmall(t)
	for _, k := range []int{-1, 0, 1, 2, 3, 10} {
		s := m.Predict("噪音", k)
		want := min(max(k, 1), 3)
		if len(s) != want {
			t.Fatalf("k=%d: %d suggestions, want %d", k, len(s), want)
		}
		sum := 0.0
		for _, x := range s {
			sum += x.Confidence
		}
		if sum > 1+1e-9 || (want == 3 && math.Abs(sum-1) > 1e-9) {
			t.Errorf("k=%d: confidences sum to %f", k, sum)
		}
	}
}

func TestTrainErrors(t *testing.T) {
	for name, ex := range map[string][]Example{
		"none":      nil,
		"one":       {{"噪音", "环境保护"}},
		"one label": {{"噪音", "环境保护"}, {"污染", "环境保护"}},
		"no label":  {{"噪音", "环境保护"}, {"社保", " "}},
	} {
		if _, err := Train(ex, Options{}); hotline.ErrorCode(err) != hotline.EINVALID {
			t.Errorf("%s: err %v, want EINVALID", name, err)
		}
	}
}

func TestDeterministicAndSaveLoad(t *testing.T) {
	m := trainSmall(t)
	m2 := trainSmall(t)
	var a, b bytes.Buffer
	if err := m.Save(&a); err != nil {
		t.Fatal(err)
	}
	if err := m2.Save(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two trainings on the same input saved different bytes")
	}
	loaded, err := Load(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	probes := []string{"夜间施工噪音", "养老金", "公交车", "", "随便说点什么"}
	for _, e := range small {
		probes = append(probes, e.Text)
	}
	for _, p := range probes {
		x, y := m.Predict(p, 3), loaded.Predict(p, 3)
		xj, _ := json.Marshal(x)
		yj, _ := json.Marshal(y)
		if !bytes.Equal(xj, yj) {
			t.Fatalf("%q: loaded model predicts %s, trained %s", p, yj, xj)
		}
	}
	var c bytes.Buffer
	if err := loaded.Save(&c); err != nil || !bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatalf("re-saved model differs (%v)", err)
	}
}

func TestLoadRejectsBadInput(t *testing.T) {
	var good bytes.Buffer
	if err := trainSmall(t).Save(&good); err != nil {
		t.Fatal(err)
	}
	g := good.Bytes()
	for name, data := range map[string][]byte{
		"empty":     nil,
		"not gzip":  []byte("hello"),
		"truncated": g[:len(g)/2],
		"gob":       []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x01\x00\x00\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00"),
	} {
		if _, err := Load(bytes.NewReader(data)); hotline.ErrorCode(err) != hotline.EINVALID {
			t.Errorf("%s: err %v, want EINVALID", name, err)
		}
	}
}

func TestEvaluate(t *testing.T) {
	m := trainSmall(t)
	// Hand-made test set: 环境保护 3 right, 1 labelled 环境保护 that is
	// about pensions; 劳动和社会保障 2 right; 交通运输 1 right, 1 about
	// noise. Rows true, columns predicted, in m.Labels order (环境保护,
	// 劳动和社会保障, 交通运输): [[3 1 0] [0 2 0] [1 0 1]].
	tests := []Example{
		{"施工噪音扰民", "环境保护"}, {"污水排放", "环境保护"}, {"油烟污染", "环境保护"}, {"养老金领取", "环境保护"},
		{"社保转移", "劳动和社会保障"}, {"拖欠工资", "劳动和社会保障"},
		{"公交车班次少", "交通运输"}, {"广场舞噪音", "交通运输"},
	}
	r := Evaluate(m, tests)
	wantConf := [][]int{{3, 1, 0}, {0, 2, 0}, {1, 0, 1}}
	if got, _ := json.Marshal(r.Confusion); string(got) != "[[3,1,0],[0,2,0],[1,0,1]]" {
		t.Fatalf("confusion %s, want %v (labels %v)", got, wantConf, r.Labels)
	}
	if r.N != 8 || r.Accuracy != 6.0/8 {
		t.Errorf("n=%d accuracy=%f", r.N, r.Accuracy)
	}
	f1 := func(p, r float64) float64 { return 2 * p * r / (p + r) }
	want := map[string]ClassStats{
		"环境保护":    {Precision: 3.0 / 4, Recall: 3.0 / 4, F1: f1(3.0/4, 3.0/4), Support: 4},
		"劳动和社会保障": {Precision: 2.0 / 3, Recall: 1, F1: f1(2.0/3, 1), Support: 2},
		"交通运输":    {Precision: 1, Recall: 1.0 / 2, F1: f1(1, 1.0/2), Support: 2},
	}
	macro := 0.0
	for l, w := range want {
		g := r.PerClass[l]
		if math.Abs(g.Precision-w.Precision) > 1e-12 || math.Abs(g.Recall-w.Recall) > 1e-12 ||
			math.Abs(g.F1-w.F1) > 1e-12 || g.Support != w.Support {
			t.Errorf("%s: %+v, want %+v", l, g, w)
		}
		macro += w.F1 / 3
	}
	if math.Abs(r.MacroF1-macro) > 1e-12 {
		t.Errorf("macro-F1 %f, want %f", r.MacroF1, macro)
	}
	js, _ := json.Marshal(r)
	for _, k := range []string{`"accuracy"`, `"macro_f1"`, `"per_class"`, `"confusion"`, `"labels"`, `"precision"`, `"support"`} {
		if !bytes.Contains(js, []byte(k)) {
			t.Errorf("JSON lacks %s: %s", k, js)
		}
	}
	var txt bytes.Buffer
	r.WriteText(&txt)
	lines := strings.Split(txt.String(), "\n")
	// The per-class rows line up: the precision column starts at the same
	// display column whatever the label's length.
	var cols []int
	for _, l := range lines {
		for _, label := range r.Labels {
			if strings.HasPrefix(l, label+" ") {
				i := strings.IndexAny(l, "0123456789") // first figure
				cols = append(cols, displayWidth(l[:i]))
			}
		}
	}
	if len(cols) != 3 || cols[0] != cols[1] || cols[1] != cols[2] {
		t.Errorf("columns not aligned (%v):\n%s", cols, txt.String())
	}
}

func TestScore(t *testing.T) {
	// true A: 8 right, 2 as B; true B: 1 as A, 9 right; C never seen (no
	// support, left out of the macro average).
	r := Score([]string{"A", "B", "C"}, [][]int{{8, 2, 0}, {1, 9, 0}, {0, 0, 0}})
	if r.N != 20 || r.Accuracy != 0.85 {
		t.Fatalf("%+v", r)
	}
	a := r.PerClass["A"]
	if a.Precision != 8.0/9 || a.Recall != 0.8 || a.Support != 10 {
		t.Fatalf("A: %+v", a)
	}
	wantF1 := (2*(8.0/9)*0.8/(8.0/9+0.8) + 2*(9.0/11)*0.9/(9.0/11+0.9)) / 2
	if d := r.MacroF1 - wantF1; d > 1e-12 || d < -1e-12 {
		t.Fatalf("macro-F1 %f want %f", r.MacroF1, wantF1)
	}
}

func TestCrossValidate(t *testing.T) {
	r, err := CrossValidate(small, 3, Options{MinDF: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.N != len(small) || r.Accuracy < 0.5 {
		t.Errorf("3-fold on the synthetic set: n=%d accuracy %.2f", r.N, r.Accuracy)
	}
	if _, err := CrossValidate(small, 10, Options{}); err == nil {
		t.Error("10 folds over 6 examples a label accepted")
	}
}

func TestParseCSV(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []Example
	}{
		{"text,label", "text,label\n路灯不亮,城乡建设\n养老金,劳动和社会保障\n",
			[]Example{{"路灯不亮", "城乡建设"}, {"养老金", "劳动和社会保障"}}},
		{"title,detail with BOM, other columns, mixed case", "\ufeffid,Title,DETAIL,time,Label\n1,路灯不亮,滨江路,2020,城乡建设\n2,,,2020,空\n",
			[]Example{{"路灯不亮 滨江路", "城乡建设"}}},
		{"title only", "title,label\n噪音,环境保护\n", []Example{{"噪音", "环境保护"}}},
		{"quoted newlines", "text,label\n\"第一行\n第二行\",教育文体\n", []Example{{"第一行\n第二行", "教育文体"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCSV(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(tc.want)
			if !bytes.Equal(gj, wj) {
				t.Errorf("got %s, want %s", gj, wj)
			}
		})
	}
	for name, bad := range map[string]string{
		"empty":      "",
		"no label":   "text\nx\n",
		"no text":    "foo,label\n1,a\n",
		"no rows":    "text,label\n",
		"empty rows": "text,label\n,\n ,x\n",
	} {
		if _, err := ParseCSV(strings.NewReader(bad)); hotline.ErrorCode(err) != hotline.EINVALID {
			t.Errorf("%s: %q accepted (err %v)", name, bad, err)
		}
	}
	_, err := ParseCSV(strings.NewReader("text\nx\n"))
	if !strings.Contains(err.Error(), "label") {
		t.Errorf("missing label column not named in %q", err)
	}
	if _, err := ReadCSV(filepath.Join(t.TempDir(), "absent.csv")); err == nil {
		t.Error("absent file accepted")
	}
	p := filepath.Join(t.TempDir(), "x.csv")
	os.WriteFile(p, []byte("text,label\n噪音,环境保护\n"), 0o644)
	if ex, err := ReadCSV(p); err != nil || len(ex) != 1 {
		t.Errorf("ReadCSV: %v %v", ex, err)
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"ＡＢＣ１２３，噪音！":   "abc0噪音",
		"A3区 2020年12月": "a0区0年0月",
		"\xff\xfe🙂":    "",
		"Ｔｅｌ：12345":    "tel0",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStopWordsRemoved(t *testing.T) {
	// The training data had its stop words removed at source; raw text must
	// reduce to the same words.
	o := Options{}
	o.defaults()
	raw := o.analyze("我们小区的噪音太大了，没有人管").joined
	for _, stop := range []string{"我们", "的", "了"} {
		if strings.Contains(raw, stop) {
			t.Errorf("%q kept stop word %q", raw, stop)
		}
	}
	for _, keep := range []string{"小区", "噪音"} {
		if !strings.Contains(raw, keep) {
			t.Errorf("%q lost %q", raw, keep)
		}
	}
}

func TestOddInput(t *testing.T) {
	m := trainSmall(t)
	for _, s := range []string{"", "   ", "，。！", strings.Repeat("噪", 10000), strings.Repeat("施工噪音扰民", 2000),
		"\xff\xfe", "🙂🙂", "ＡＢＣ１２３", "\u0301\u200b\ufeff", strings.Repeat("9", 5000), "ℌ𝔢𝔩𝔩𝔬 мир"} {
		checkPrediction(t, m, s, 3)
	}
}

func checkPrediction(t *testing.T, m *Model, s string, k int) {
	got := m.Predict(s, k)
	if len(got) != min(max(k, 1), len(m.Labels)) {
		t.Fatalf("%q: %d suggestions", s, len(got))
	}
	sum := 0.0
	for i, g := range got {
		if g.Confidence < 0 || g.Confidence > 1 || math.IsNaN(g.Confidence) || math.IsNaN(g.Score) {
			t.Fatalf("%q: bad confidence %+v", s, g)
		}
		if i > 0 && g.Score > got[i-1].Score {
			t.Fatalf("%q: not best first: %+v", s, got)
		}
		sum += g.Confidence
	}
	if sum > 1+1e-9 {
		t.Fatalf("%q: confidences sum to %f", s, sum)
	}
}

func FuzzPredict(f *testing.F) {
	m := trainSmall(f)
	for _, s := range []string{"", "噪音", "我的养老金", "\xff", "Ａ１２３", "🙂"} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, k int) {
		checkPrediction(t, m, s, k)
	})
}

// TestTipdm trains on the real training messages and checks macro-F1 on
// the raw dev messages (reference: character 1–2-gram TF-IDF SVM 0.908;
// the target 0.91).
func TestTipdm(t *testing.T) {
	dir := tipdm(t)
	if testing.Short() {
		t.Skip("short mode: training on 7,844 messages takes ~30 s")
	}
	m, r, err := EvalFiles(filepath.Join(dir, "train.csv"), filepath.Join(dir, "dev.csv"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dev: accuracy %.4f macro-F1 %.4f, %d features, softmax scale %.2f", r.Accuracy, r.MacroF1, len(m.Terms), m.opts.Scale)
	if r.MacroF1 < 0.925 { // measured 0.9334 with NBSVM scaling (0.9136 without)
		t.Fatalf("macro-F1 %.4f below 0.925", r.MacroF1)
	}
	// Confidence is calibrated: on dev, the winners' mean confidence is
	// within 10 points of the accuracy.
	dev, _ := ReadCSV(filepath.Join(dir, "dev.csv"))
	var conf float64
	for _, e := range dev {
		conf += m.Predict(e.Text, 1)[0].Confidence
	}
	conf /= float64(len(dev))
	t.Logf("dev: mean top confidence %.3f vs accuracy %.3f", conf, r.Accuracy)
	if math.Abs(conf-r.Accuracy) > 0.10 {
		t.Errorf("mean top confidence %.3f far from accuracy %.3f", conf, r.Accuracy)
	}
}

func tipdmModel(b *testing.B, n int) (*Model, []Example) {
	dir := tipdm(b)
	train, err := ReadCSV(filepath.Join(dir, "train.csv"))
	if err != nil {
		b.Fatal(err)
	}
	if n > 0 && n < len(train) {
		train = train[:n]
	}
	m, err := Train(train, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return m, train
}

// BenchmarkPredict is one top-3 prediction with explanations, of a typical
// raw message, by the model trained on all of train.csv.
func BenchmarkPredict(b *testing.B) {
	m, _ := tipdmModel(b, 0)
	dev, err := ReadCSV(filepath.Join(tipdm(b), "dev.csv"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("typical", func(b *testing.B) {
		text := "A3区桐梓坡路一工地每天夜间施工到凌晨，噪音扰民严重，希望有关部门尽快处理"
		for b.Loop() {
			m.Predict(text, 3)
		}
	})
	b.Run("dev-mean", func(b *testing.B) { // mean over the 399 raw dev messages (median 240 characters)
		i := 0
		for b.Loop() {
			m.Predict(dev[i%len(dev)].Text, 3)
			i++
		}
	})
	b.Run("longest", func(b *testing.B) {
		long := ""
		for _, e := range dev {
			if len(e.Text) > len(long) {
				long = e.Text
			}
		}
		b.ReportMetric(float64(utf8.RuneCountInString(long)), "chars")
		for b.Loop() {
			m.Predict(long, 3)
		}
	})
}

// BenchmarkTrain trains (with temperature calibration) on the first 2,000
// training messages.
func BenchmarkTrain(b *testing.B) {
	dir := tipdm(b)
	train, err := ReadCSV(filepath.Join(dir, "train.csv"))
	if err != nil {
		b.Fatal(err)
	}
	train = train[:2000]
	for b.Loop() {
		if _, err := Train(train, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
