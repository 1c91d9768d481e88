package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hotline12345/hotline/classify"
	"github.com/hotline12345/hotline/demo"
)

// keywordModel is a real classifier trained on a few demo-like texts.
func keywordModel(t *testing.T) *classify.Model {
	m, err := classify.Train([]classify.Example{
		{Text: "路灯不亮 晚上很黑", Label: "0103"}, {Text: "垃圾清运不及时 占道经营", Label: "0103"},
		{Text: "养老保险缴费 社保", Label: "0501"}, {Text: "医保 异地就医 备案", Label: "0501"},
	}, classify.Options{MinDF: 1})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCallTakerDesk: a phone system pops the desk with the caller's number;
// the agent sees the caller's history, asks for a category suggestion, and
// answers at intake, closing the order.
func TestCallTakerDesk(t *testing.T) {
	ctx := browser(t)
	srv, store := site(t)
	shots := artifacts(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	type step = chromedp.Action[chromedp.Void]
	do := func(what string, steps ...step) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	siteSuggest(srv, keywordModel(t))
	// A caller with history: take a demo citizen's number.
	var phone string
	store.DB.QueryRow(context.Background(), "SELECT citizen_phone FROM tickets WHERE citizen_phone <> '' LIMIT 1").Scan(&phone)
	do("login", chromedp.Navigate(srv.URL+"/login"), chromedp.SendKeys(css("#username"), "agent1"),
		chromedp.SendKeys(css("#password"), demo.Password), chromedp.Click(css("main button[type=submit]")), chromedp.WaitVisible(css("table")))
	do("pop", chromedp.Navigate(srv.URL+"/desk/new?caller="+phone), chromedp.WaitVisible(css("#title")))
	hist, _ := chromedp.Run(ctx, chromedp.Text(css("aside")))
	if !strings.Contains(hist, "来电历史") || strings.Contains(hist, "没有历史工单") {
		t.Fatalf("caller history missing for %s: %q", phone, hist)
	}
	do("fill", chromedp.SendKeys(css("#title"), "滨江路路灯不亮"), chromedp.SendKeys(css("#content"), "滨江路一段路灯晚上不亮，很黑。"),
		chromedp.Click(css(`button[value=suggest]`)), chromedp.WaitVisible(css(".sugg")))
	sug, _ := chromedp.Run(ctx, chromedp.Text(css("aside")))
	if !strings.Contains(sug, "0103") || !strings.Contains(sug, "路灯") {
		t.Fatalf("no category suggestion with reasons: %q", sug)
	}
	buf, _ := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	os.WriteFile(filepath.Join(shots, "12-call-taker-desk.png"), buf, 0o644)
	do("answer", chromedp.SendKeys(css("#answer"), "已告知市民路灯报修已登记，维修班组将于24小时内处理。"),
		chromedp.Click(css(`button[value=answer]`)), chromedp.WaitVisible(css(".timeline")))
	body, _ := chromedp.Run(ctx, chromedp.Text(css("main")))
	if !strings.Contains(body, "已办结") || !strings.Contains(body, "直接答复") || !strings.Contains(body, "市容管理") {
		t.Fatalf("order not closed at intake: %q", body)
	}
	// The model's first suggestion is kept with the order for the dispatch report.
	var suggested string
	store.DB.QueryRow(context.Background(), "SELECT suggested_category FROM tickets WHERE title = ?", "滨江路路灯不亮").Scan(&suggested)
	if suggested != "0103" {
		t.Fatalf("suggested category recorded %q, want 0103", suggested)
	}
}
