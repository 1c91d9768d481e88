package web

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/hotline12345/hotline/calendar"
	"github.com/hotline12345/hotline/storage"
	"github.com/hotline12345/hotline/ticket"
)

// maxExport bounds one spreadsheet; larger extracts belong to the analysts'
// statistics, not a desk list.
const maxExport = 5000

// export writes the desk's current list (same queue, filters and sort, all
// pages up to maxExport rows) as an Excel workbook. Confidential citizens
// stay masked exactly as on screen: the rows come from ListTickets with the
// viewer set.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	p := s.newPage(w, r, "nav.desk")
	en := p.Lang == "en"
	env, err := s.store.Env(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	q.Set("page", "1")
	r.URL.RawQuery = q.Encode()
	dl, err := s.deskList(r, u, en, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := excelize.NewFile()
	defer f.Close()
	sheet := "工单"
	if en {
		sheet = "Orders"
	}
	f.SetSheetName("Sheet1", sheet)
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	head := []any{"工单号", "标题", "诉求类型", "紧急程度", "状态", "分类", "诉求人", "电话", "地址", "承办单位", "受理时间", "当前期限", "剩余/超期", "预警", "答复"}
	if en {
		head = []any{"Number", "Title", "Type", "Urgency", "State", "Category", "Citizen", "Phone", "Address", "Unit", "Registered", "Due", "Remaining", "Warning", "Reply"}
	}
	bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DCE6F2"}}})
	sw.SetColWidth(1, 1, 20)
	sw.SetColWidth(2, 2, 40)
	sw.SetColWidth(9, 10, 24)
	sw.SetColWidth(11, 13, 18)
	sw.SetColWidth(15, 15, 50)
	cells := make([]any, len(head))
	for i, h := range head {
		cells[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", cells); err != nil {
		s.fail(w, r, err)
		return
	}
	cats, _ := s.store.Categories(r.Context())
	catPath := map[string]string{}
	for _, c := range cats {
		catPath[c.Code] = c.Path
	}
	n := 1
	page := dl.Page
	for {
		for _, t := range page.Items {
			n++
			unit := ""
			if un, ok := env.Units.Get(t.HandlerUnitID); ok {
				unit = un.Name
			}
			rem := ""
			if t.State.Open() {
				rem, _ = remaining(env, t.ActiveDue(), en)
			}
			state, typ, urg := ticket.StateNames[t.State], ticket.TypeNames[t.Type], ticket.UrgencyNames[t.Urgency]
			if en {
				state, typ, urg = stateEN[t.State], string(t.Type), string(t.Urgency)
			}
			cell, _ := excelize.CoordinatesToCellName(1, n)
			row := []any{t.Number, t.Title, typ, urg, state, catPath[t.CategoryCode], t.Citizen.Name, t.Citizen.Phone, t.Address,
				unit, xlTime(t.CreatedAt), xlTime(t.ActiveDue()), rem, t.WarningAt(env.Now), t.Reply}
			if err := sw.SetRow(cell, row); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if n-1 >= maxExport || len(page.Items) < page.Limit {
			break
		}
		dl.Filter.Page = page.Page + 1
		next, err := s.nextPage(r, dl)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		page = next
	}
	if err := sw.Flush(); err != nil {
		s.fail(w, r, err)
		return
	}
	name := fmt.Sprintf("工单-%s-%s.xlsx", dl.Key, time.Now().In(calendar.China).Format("20060102-1504"))
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", "attachment; filename=\"orders.xlsx\"; filename*=UTF-8''"+url.PathEscape(name))
	w.Header().Set("Cache-Control", "private, no-store")
	if err := f.Write(w); err != nil {
		s.log.Warn("export", "err", err)
	}
}

// nextPage fetches the following page of a desk list.
func (s *Server) nextPage(r *http.Request, dl *deskList) (*storage.Page, error) {
	for _, q := range dl.Queues {
		if q.Active && q.list != nil {
			return q.list(r.Context(), s, dl.Filter)
		}
	}
	return s.store.ListTickets(r.Context(), dl.Filter)
}

// xlTime writes times as text in China time, as they read on the desks.
func xlTime(t time.Time) string { return fmtTime(t) }
