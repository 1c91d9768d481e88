package classify

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"github.com/hotline12345/hotline"
)

// ClassStats are one label's figures.
type ClassStats struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// Report is an evaluation.
type Report struct {
	N         int                   `json:"n"`
	Accuracy  float64               `json:"accuracy"`
	MacroF1   float64               `json:"macro_f1"`
	PerClass  map[string]ClassStats `json:"per_class"`
	Labels    []string              `json:"labels"`
	Confusion [][]int               `json:"confusion"` // [true][predicted], in Labels order
}

// Evaluate predicts every test example and scores the result.
func Evaluate(m *Model, tests []Example) *Report {
	labels := append([]string{}, m.Labels...)
	idx := map[string]int{}
	for i, l := range labels {
		idx[l] = i
	}
	for _, e := range tests {
		if _, ok := idx[e.Label]; !ok {
			idx[e.Label] = len(labels)
			labels = append(labels, e.Label)
		}
	}
	conf := make([][]int, len(labels))
	for i := range conf {
		conf[i] = make([]int, len(labels))
	}
	pred := make([]int, len(tests))
	parallel(len(tests), func(i int) { pred[i] = argmax(m.scores(m.vector(tests[i].Text))) })
	for i, e := range tests {
		conf[idx[e.Label]][pred[i]]++
	}
	return Score(labels, conf)
}

// Score computes the figures of a confusion matrix.
func Score(labels []string, conf [][]int) *Report {
	r := &Report{Labels: labels, Confusion: conf, PerClass: map[string]ClassStats{}}
	correct := 0
	var f1sum float64
	classes := 0
	for i, l := range labels {
		tp, fn, fp := conf[i][i], 0, 0
		for j := range labels {
			r.N += conf[i][j]
			if j != i {
				fn += conf[i][j]
				fp += conf[j][i]
			}
		}
		correct += tp
		var cs ClassStats
		cs.Support = tp + fn
		if tp+fp > 0 {
			cs.Precision = float64(tp) / float64(tp+fp)
		}
		if tp+fn > 0 {
			cs.Recall = float64(tp) / float64(tp+fn)
		}
		if cs.Precision+cs.Recall > 0 {
			cs.F1 = 2 * cs.Precision * cs.Recall / (cs.Precision + cs.Recall)
		}
		r.PerClass[l] = cs
		if cs.Support > 0 {
			f1sum += cs.F1
			classes++
		}
	}
	if r.N > 0 {
		r.Accuracy = float64(correct) / float64(r.N)
	}
	if classes > 0 {
		r.MacroF1 = f1sum / float64(classes)
	}
	return r
}

// WriteText prints the report as a table: per-label precision, recall, F1
// and support, then the confusion matrix, with Chinese labels aligned (two
// columns per wide character).
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "样本 n=%d  准确率 accuracy=%.4f  宏平均F1 macro-F1=%.4f\n\n", r.N, r.Accuracy, r.MacroF1)
	lw := displayWidth("类别 label")
	for _, l := range r.Labels {
		lw = max(lw, displayWidth(l))
	}
	fmt.Fprintf(w, "%s  %9s  %9s  %9s  %7s\n", pad("类别 label", lw), "precision", "recall", "F1", "support")
	for _, l := range r.Labels {
		c := r.PerClass[l]
		fmt.Fprintf(w, "%s  %9.3f  %9.3f  %9.3f  %7d\n", pad(l, lw), c.Precision, c.Recall, c.F1, c.Support)
	}
	fmt.Fprintf(w, "\n混淆矩阵 confusion (行 rows: 真实 true, 列 columns: 预测 predicted)\n")
	cw := 5
	for _, row := range r.Confusion {
		for _, v := range row {
			cw = max(cw, len(fmt.Sprint(v))+1)
		}
	}
	fmt.Fprintf(w, "%s", pad("", lw+4))
	for j := range r.Labels {
		fmt.Fprintf(w, "%*s", cw, fmt.Sprintf("[%d]", j+1))
	}
	fmt.Fprintln(w)
	for i, l := range r.Labels {
		fmt.Fprintf(w, "%s", pad(fmt.Sprintf("[%d] %s", i+1, l), lw+4))
		for _, v := range r.Confusion[i] {
			fmt.Fprintf(w, "%*d", cw, v)
		}
		fmt.Fprintln(w)
	}
}

// displayWidth counts East Asian wide and full-width characters as two
// terminal columns.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r), r >= 0x3000 && r <= 0x303F, r >= 0xFF01 && r <= 0xFF60,
			r >= 0x3040 && r <= 0x30FF, r >= 0xAC00 && r <= 0xD7A3:
			n += 2
		case unicode.Is(unicode.Mn, r):
		default:
			n++
		}
	}
	return n
}

func pad(s string, width int) string {
	return s + strings.Repeat(" ", max(0, width-displayWidth(s)))
}

// CrossValidate trains on k−1 of k stratified folds of examples and predicts
// the k-th, for every fold, and scores all the held-out predictions together
// (deterministic fold assignment).
func CrossValidate(examples []Example, k int, opts Options) (*Report, error) {
	if k < 2 {
		return nil, hotline.Errorf(hotline.EINVALID, "交叉验证至少需要2折", "cross-validation needs at least 2 folds")
	}
	labelIdx := map[string]int{}
	ys := make([]int, len(examples))
	for i, e := range examples {
		c, ok := labelIdx[e.Label]
		if !ok {
			c = len(labelIdx)
			labelIdx[e.Label] = c
		}
		ys[i] = c
	}
	folds, ok := stratifiedFolds(ys, len(labelIdx), k)
	if !ok {
		return nil, hotline.Errorf(hotline.EINVALID, "每个类别至少需要%d条样本", "every label needs at least %d examples", k, k)
	}
	var labels []string
	var conf [][]int
	for f := range k {
		var tr, te []Example
		for i, e := range examples {
			if folds[i] == f {
				te = append(te, e)
			} else {
				tr = append(tr, e)
			}
		}
		m, err := Train(tr, opts)
		if err != nil {
			return nil, err
		}
		r := Evaluate(m, te)
		if conf == nil {
			labels = r.Labels
			conf = make([][]int, len(labels))
			for i := range conf {
				conf[i] = make([]int, len(labels))
			}
		}
		idx := map[string]int{}
		for i, l := range labels {
			idx[l] = i
		}
		for i, tl := range r.Labels {
			for j, pl := range r.Labels {
				conf[idx[tl]][idx[pl]] += r.Confusion[i][j]
			}
		}
	}
	return Score(labels, conf), nil
}

// ReadCSV reads labelled examples from a CSV file with a header naming
// either text and label, or title, detail and label (other columns are
// ignored).
func ReadCSV(path string) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, hotline.Errorf(hotline.EINVALID, "无法打开文件：%v", "cannot open file: %v", err, err)
	}
	defer f.Close()
	ex, err := ParseCSV(f)
	if err != nil {
		zh, en := hotline.ErrorMessages(err)
		return nil, hotline.Errorf(hotline.EINVALID, "%s：%s", "%s: %s", path, zh, path, en)
	}
	return ex, nil
}

// ParseCSV is ReadCSV over a reader.
func ParseCSV(r io.Reader) ([]Example, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	head, err := cr.Read()
	if err != nil {
		return nil, hotline.Errorf(hotline.EINVALID, "CSV文件为空或格式错误", "CSV is empty or malformed")
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	label, ok := col["label"]
	if !ok {
		return nil, hotline.Errorf(hotline.EINVALID, "CSV缺少label列（表头为：%s）", "CSV has no label column (header: %s)", strings.Join(head, ","), strings.Join(head, ","))
	}
	text, hasText := col["text"]
	title, hasTitle := col["title"]
	detail, hasDetail := col["detail"]
	if !hasText && !hasTitle && !hasDetail {
		return nil, hotline.Errorf(hotline.EINVALID, "CSV须有text列或title/detail列", "CSV needs a text column or title/detail columns")
	}
	get := func(rec []string, i int, ok bool) string {
		if ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var out []Example
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, hotline.Errorf(hotline.EINVALID, "CSV第%d行格式错误", "CSV line %d is malformed", line, line)
		}
		t := get(rec, text, hasText)
		if !hasText {
			t = strings.TrimSpace(strings.TrimSpace(get(rec, title, hasTitle)) + " " + strings.TrimSpace(get(rec, detail, hasDetail)))
		}
		l := strings.TrimSpace(get(rec, label, true))
		if l == "" || strings.TrimSpace(t) == "" {
			continue
		}
		out = append(out, Example{Text: t, Label: l})
	}
	if len(out) == 0 {
		return nil, hotline.Errorf(hotline.EINVALID, "CSV没有可用的样本", "CSV has no usable rows")
	}
	return out, nil
}

// EvalFiles trains on one CSV file and evaluates on another.
func EvalFiles(trainPath, testPath string, opts Options) (*Model, *Report, error) {
	train, err := ReadCSV(trainPath)
	if err != nil {
		return nil, nil, err
	}
	test, err := ReadCSV(testPath)
	if err != nil {
		return nil, nil, err
	}
	m, err := Train(train, opts)
	if err != nil {
		return nil, nil, err
	}
	return m, Evaluate(m, test), nil
}
