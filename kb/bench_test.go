package kb

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Generated articles: sentences built from hotline vocabulary with
// numbered place names, so that both common and rare terms occur.
var benchWords = strings.Fields(`社会保险 医疗保险 住房公积金 养老金 退休 灵活就业 参保 缴费 转移 接续 异地 报销 门诊 住院 定点医院
户籍 落户 居住证 身份证 驾驶证 车辆 违章 停车 公交 地铁 出租车 网约车 噪声 施工 夜间 扰民 油烟 餐饮 垃圾 污水
小区 物业 业主 维修 电梯 漏水 停水 停电 燃气 供暖 房产证 不动产 登记 购房 补贴 人才 学校 入学 学位 幼儿园 教师
工资 拖欠 劳动 合同 仲裁 监察 投诉 举报 咨询 办理 材料 窗口 网上 政务 服务 时限 部门 街道 社区 城管 执法
道路 修建 路灯 井盖 绿化 排水 拆迁 补偿 安置 低保 残疾 救助 养老院 医院 疫苗 药品 食品 安全 市场 价格 超市`)

func benchText(r *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n*3 {
		switch r.IntN(6) {
		case 0:
			fmt.Fprintf(&b, "A%d区%s路%d号", r.IntN(12), benchWords[r.IntN(len(benchWords))], r.IntN(300))
		default:
			b.WriteString(benchWords[r.IntN(len(benchWords))])
		}
		if r.IntN(5) == 0 {
			b.WriteString("，")
		}
	}
	return b.String()
}

var (
	benchOnce sync.Once
	benchIx   *Index
)

// benchIndex builds the 100,000-article index once and reports how long
// it took and the heap it holds.
func benchIndex(b *testing.B) *Index {
	benchOnce.Do(func() {
		segmenter()
		r := rand.New(rand.NewPCG(1, 2))
		docs := make([]Doc, 100_000)
		for i := range docs {
			docs[i] = Doc{ID: int64(i + 1), Title: benchText(r, 15), Body: benchText(r, 150), Public: i%3 != 0,
				Category: fmt.Sprintf("%02d", i%20), Uses: r.IntN(20)}
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		ix := NewIndex()
		for _, d := range docs {
			ix.Put(d)
		}
		ix.Search("社保", 1, Filter{}) // norms
		took := time.Since(start)
		docs = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.Logf("indexed 100,000 articles in %s; index heap %.0f MiB", took.Round(time.Millisecond), float64(after.HeapAlloc-before.HeapAlloc)/(1<<20))
		benchIx = ix
	})
	return benchIx
}

// BenchmarkSearch100k: short questions and pasted complaints over 100,000
// articles; reports p95 latency.
//
//	go test -run '^$' -bench Search100k -benchtime 2000x ./kb/
func BenchmarkSearch100k(b *testing.B) {
	ix := benchIndex(b)
	r := rand.New(rand.NewPCG(3, 4))
	queries := make([]string, 200)
	for i := range queries {
		n := 6 + r.IntN(20)
		if i%5 == 0 {
			n = 300 // a pasted complaint
		}
		queries[i] = benchText(r, n)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		ix.Search(queries[i%len(queries)], 10, Filter{PublicOnly: i%2 == 0, Now: time.Now().UnixMilli()})
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}
