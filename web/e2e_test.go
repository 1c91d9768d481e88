package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-chi/chi/v5"

	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/demo"
	"github.com/hotline12345/hotline/httpapi"
	"github.com/hotline12345/hotline/kb"
	"github.com/hotline12345/hotline/storage"
	"github.com/hotline12345/hotline/ticket"
)

// browser starts headless Chromium, or skips (fails when
// HOTLINE_REQUIRE_CHROMIUM is set, as in CI).
func browser(t *testing.T) context.Context {
	path, err := exec.LookPath("chromium")
	if err != nil {
		path, err = exec.LookPath("chromium-browser")
	}
	if err != nil {
		if os.Getenv("HOTLINE_REQUIRE_CHROMIUM") != "" {
			t.Fatal("HOTLINE_REQUIRE_CHROMIUM is set but chromium is not installed")
		}
		t.Skip("Chromium not found: browser tests skipped (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Do(ctx); err != nil { // start the browser outside any timeout
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func artifacts(t *testing.T) string {
	dir := os.Getenv("HOTLINE_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	dir = filepath.Join(dir, "screenshots")
	os.MkdirAll(dir, 0o755)
	return dir
}

func site(t *testing.T) (*httptest.Server, *storage.Store) {
	ctx := context.Background()
	store, err := storage.Open(ctx, database.OpenTestSQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ctx, store, demo.Options{Orders: 150}); err != nil {
		t.Fatal(err)
	}
	s, err := New(store)
	if err != nil {
		t.Fatal(err)
	}
	if s.KB, err = kb.Open(ctx, store.DB); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.SeedArticles(ctx, store, s.KB); err != nil {
		t.Fatal(err)
	}
	servers[store] = s
	r := chi.NewRouter()
	httpapi.New(store).Routes(r)
	s.Routes(r)
	srv := httptest.NewServer(r)
	// Desks hold event streams open: cut them before Close waits for them.
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	return srv, store
}

// TestCitizenToRatingInBrowser walks a request from the portal through
// dispatch, sign, reply, approval, revisit and the citizen's rating, as the
// people in each role would in a real browser.
func TestCitizenToRatingInBrowser(t *testing.T) {
	ctx := browser(t)
	srv, store := site(t)
	shots := artifacts(t)
	units, _ := store.Units(context.Background())
	jb := int64(0)
	for _, u := range units {
		if u.Code == "jb" {
			jb = u.ID
		}
	}
	type step = chromedp.Action[chromedp.Void]
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do := (&browserTab{t, ctx, shots}).do
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(css(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	eval := func(js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](js)); err != nil {
			t.Fatalf("%s: %v", js, err)
		}
	}
	shot := (&browserTab{t, ctx, shots}).shot
	// 1. The citizen submits a request; the title carries markup that must show as text.
	do("portal", chromedp.Navigate(srv.URL+"/"))
	shot("01-portal")
	do("fill portal",
		chromedp.Click(css(`input[name=type][value=complaint]`)),
		chromedp.SendKeys(css(`#title`), `幸福里小区<script>alert(1)</script>路灯不亮`),
		chromedp.SendKeys(css(`#content`), "幸福里小区门口七盏路灯一周没亮，晚上很黑，老人出行不安全。"),
		chromedp.SendKeys(css(`#address`), "江北区幸福里小区"),
		chromedp.SendKeys(css(`#name`), "李桂兰"),
		chromedp.SendKeys(css(`#phone`), "13912345678"),
		chromedp.Click(css(`main button[type=submit]`)),
		chromedp.WaitVisible(css(`.big-number`)))
	shot("02-submitted")
	body := text("main")
	m := regexp.MustCompile(`(\d{17})[\s\S]*?(\d{6})`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no number and code on the confirmation page: %q", body)
	}
	number, code := m[1], m[2]

	login := func(user string) {
		t.Helper()
		do("login "+user, chromedp.Navigate(srv.URL+"/login"),
			chromedp.SendKeys(css(`#username`), user), chromedp.SendKeys(css(`#password`), demo.Password),
			chromedp.Click(css(`main button[type=submit]`)), chromedp.WaitVisible(css(`table`)))
	}
	logout := func() {
		t.Helper()
		do("logout", chromedp.Click(css(`header form button`)), chromedp.WaitVisible(css(`#title`)))
	}
	// act opens the order, expands the action and submits it.
	act := func(action string, fill ...step) {
		t.Helper()
		form := fmt.Sprintf(`form[action="/orders/%s/%s"]`, number, action)
		do("open "+action, chromedp.Navigate(srv.URL+"/orders/"+number), chromedp.WaitVisible(css(`.timeline`)))
		eval(fmt.Sprintf(`document.querySelector('%s').closest('details').open = true`, form))
		do(action, append(fill, chromedp.Click(css(form+` button[type=submit]`)), chromedp.WaitVisible(css(`.flash`)))...)
		if got := text(".flash"); !strings.Contains(got, "操作成功") {
			t.Fatalf("%s: %s", action, got)
		}
	}
	// 2. The dispatcher sends it to 江北区.
	login("dispatcher1")
	do("desk", chromedp.Navigate(srv.URL+"/desk?queue=new"), chromedp.WaitVisible(css("table")))
	shot("03-dispatcher-desk")
	do("order", chromedp.Navigate(srv.URL+"/orders/"+number), chromedp.WaitVisible(css(".timeline")))
	shot("04-order-dispatcher")
	if h := text("h1"); !strings.Contains(h, "<script>") {
		t.Fatalf("the citizen's markup is not shown as text: %q", h)
	}
	act("dispatch", chromedp.SetValue(css(fmt.Sprintf(`form[action="/orders/%s/dispatch"] select[name=lead_unit_id]`, number)), fmt.Sprint(jb)))
	logout()
	// 3. The district signs and replies.
	login("jb")
	do("unit desk", chromedp.Navigate(srv.URL+"/desk?queue=inbox"), chromedp.WaitVisible(css("table")))
	shot("05-unit-desk")
	act("sign")
	act("reply", chromedp.SendKeys(css(fmt.Sprintf(`form[action="/orders/%s/reply"] textarea`, number)), "已安排路灯维修班组更换灯具，七盏路灯已全部恢复照明。"))
	shot("06-order-unit")
	logout()
	// 4. The dispatcher approves the reply.
	login("dispatcher1")
	act("approve-reply")
	logout()
	// 5. The revisitor calls back: satisfied, solved.
	login("revisit1")
	do("revisit desk", chromedp.Navigate(srv.URL+"/desk?queue=revisit"), chromedp.WaitVisible(css("table")))
	shot("07-revisit-desk")
	act("revisit", chromedp.Click(css(fmt.Sprintf(`form[action="/orders/%s/revisit"] input[name=solved]`, number))))
	logout()
	// 6. The citizen reads the reply and rates it.
	do("track", chromedp.Navigate(fmt.Sprintf("%s/track?number=%s&code=%s", srv.URL, number, code)), chromedp.WaitVisible(css(".timeline")))
	shot("08-track")
	if body := text("main"); !strings.Contains(body, "七盏路灯已全部恢复照明") || !strings.Contains(body, "已办结") {
		t.Fatalf("the citizen does not see the reply: %q", body)
	}
	do("rate", chromedp.Click(css(`input[name=satisfaction][value="5"]`)),
		chromedp.SendKeys(css(`#comment`), "修得很快，谢谢！"),
		chromedp.Click(css(`form[action="/track/rate"] button`)),
		chromedp.WaitVisible(css(`.flash`)))
	shot("09-rated")
	if body := text("main"); !strings.Contains(body, "感谢您的评价") || !strings.Contains(body, "修得很快") {
		t.Fatalf("rating not recorded: %q", body)
	}
	do("stats", chromedp.Navigate(srv.URL+"/stats"), chromedp.WaitVisible(css("table")))
	shot("10-stats")
	// 7. Permissions: another unit cannot open the order.
	login("zjj")
	do("forbidden", chromedp.Navigate(srv.URL+"/orders/"+number), chromedp.WaitVisible(css("main")))
	shot("11-other-unit")
	if body := text("main"); !strings.Contains(body, "工单不存在") || strings.Contains(body, "李桂兰") {
		t.Fatalf("another unit sees the order: %q", body)
	}
	t.Logf("screenshots in %s", shots)
}

// servers lets a test reach the web server behind a test site.
var servers = map[*storage.Store]*Server{}

func siteSuggest(srv *httptest.Server, m Suggester) {
	for _, s := range servers {
		s.Suggest = m
	}
}

// TestStaffPagesInBrowser opens the supervisor's and administrator's pages
// in a real browser, saves each as a screenshot, and checks that a desk
// updates by itself when an order arrives (server-sent events).
func TestStaffPagesInBrowser(t *testing.T) {
	ctx := browser(t)
	srv, store := site(t)
	shots := artifacts(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	type step = chromedp.Action[chromedp.Void]
	do := (&browserTab{t, ctx, shots}).do
	shot := (&browserTab{t, ctx, shots}).shot
	login := func(user string) {
		t.Helper()
		do("login "+user, chromedp.Navigate(srv.URL+"/login"),
			chromedp.SendKeys(css(`#username`), user), chromedp.SendKeys(css(`#password`), demo.Password),
			chromedp.Click(css(`main button[type=submit]`)), chromedp.WaitVisible(css(`header form button`)))
	}
	logout := func() {
		t.Helper()
		do("logout", chromedp.Click(css(`header form button`)), chromedp.WaitVisible(css(`#title`)))
	}

	// The sign-in page, an unknown address, and the portal in English (适老化 large text too).
	do("login page", chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(css("#username")))
	shot("24-login")
	do("not found", chromedp.Navigate(srv.URL+"/no-such-page"), chromedp.WaitVisible(css("main")))
	shot("25-not-found")
	do("english", chromedp.Navigate(srv.URL+"/?lang=en&view=big"), chromedp.WaitVisible(css("#title")))
	shot("26-portal-english-large")
	do("chinese again", chromedp.Navigate(srv.URL+"/?lang=zh&view=normal"), chromedp.WaitVisible(css("#title")))

	// The supervisor's overdue queue, with the backlog per unit.
	login("super1")
	do("overdue", chromedp.Navigate(srv.URL+"/desk?queue=overdue"), chromedp.WaitVisible(css("table")))
	shot("13-supervisor-overdue")
	logout()

	// A dispatcher's queue of new orders refreshes when a citizen submits one.
	login("dispatcher1")
	do("new queue", chromedp.Navigate(srv.URL+"/desk?queue=new"), chromedp.WaitVisible(css("[data-refresh] table")))
	tk, _, err := store.CreateTicket(context.Background(), ticket.Draft{Channel: ticket.App, Type: ticket.Help,
		Title: "望湖花园二期门前积水求助", Content: "望湖花园二期门前一场雨就积水半米，居民无法出行，请尽快疏通排水管。",
		Address: "江北区望湖花园", Citizen: ticket.Citizen{Name: "陈静", Phone: "13700001234"}}, nil, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	// The page may not have opened its event stream yet: tell it again
	// until it shows the order (a desk ignores repeats).
	link := css(fmt.Sprintf(`a[href="/orders/%s"]`, tk.Number))
	for i := 0; ; i++ {
		servers[store].publish(tk.Number)
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := chromedp.Do(wctx, chromedp.WaitVisible(link))
		cancel()
		if err == nil {
			break
		}
		if i == 10 {
			t.Fatalf("the desk did not show the new order by itself: %v", err)
		}
	}
	shot("14-dispatcher-live")
	logout()

	// Administration: each tab renders for the administrator.
	login("admin")
	for i, tab := range []string{"users", "units", "categories", "catalogue", "policy", "calendar"} {
		do("admin "+tab, chromedp.Navigate(srv.URL+"/admin/"+tab), chromedp.WaitVisible(css("main h2")))
		shot(fmt.Sprintf("%d-admin-%s", 15+i, tab))
	}
	do("kb", chromedp.Navigate(srv.URL+"/kb?q="+url.QueryEscape("公积金")), chromedp.WaitVisible(css("main")))
	shot("21-kb")
	logout()

	// The knowledge editor's desk.
	login("editor1")
	do("kb manage", chromedp.Navigate(srv.URL+"/kb/manage?tab=published"), chromedp.WaitVisible(css("main table")))
	shot("22-kb-manage")
	do("kb article", chromedp.Click(css("main table a")), chromedp.WaitVisible(css("#k-body")))
	shot("23-kb-article")
}

// browserTab drives the browser for one test and keeps its screenshots.
type browserTab struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

// do runs steps with a timeout; on failure it saves failed.png and stops the test.
func (b *browserTab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	tctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		if buf, e := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)); e == nil {
			os.WriteFile(filepath.Join(b.shots, "failed.png"), buf, 0o644)
		}
		b.t.Fatalf("%s: %v (screenshot failed.png in %s)", what, err, b.shots)
	}
}

// shot saves the whole page as NAME.png among the test artifacts.
func (b *browserTab) shot(name string) {
	b.t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	os.WriteFile(filepath.Join(b.shots, name+".png"), buf, 0o644)
}
