package httpapi

import (
	"net/http"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/jsonhttp"
)

// parseRange reads from/to (YYYY-MM-DD, China time; to inclusive) with a
// default of the last 30 days.
func parseRange(r *http.Request) (time.Time, time.Time, error) {
	f, err := ParseFilter(map[string][]string{"from": {r.URL.Query().Get("from")}, "to": {r.URL.Query().Get("to")}})
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	to := f.To
	if to.IsZero() {
		to = time.Now()
	}
	from := f.From
	if from.IsZero() {
		from = to.AddDate(0, 0, -30)
	}
	if !from.Before(to) {
		return from, to, hotline.Errorf(hotline.EINVALID, "开始日期须早于结束日期", "from must be before to")
	}
	return from, to, nil
}

func (s *Server) orderStats(w http.ResponseWriter, r *http.Request) {
	from, to, ok := statsRange(w, r)
	if !ok {
		return
	}
	st, err := s.Store.OrderStats(r.Context(), from, to, r.URL.Query().Get("by"))
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "items": st})
}

// dispatchQuality reports smart dispatch by month: category suggestion
// accuracy, unit suggestion acceptance and accuracy, first-dispatch accuracy.
func (s *Server) dispatchQuality(w http.ResponseWriter, r *http.Request) {
	from, to, ok := statsRange(w, r)
	if !ok {
		return
	}
	rows, err := s.Store.DispatchQualityByMonth(r.Context(), from, to)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "months": rows[:len(rows)-1], "total": rows[len(rows)-1]})
}

// statsRange admits the roles that read the measures and parses the
// period (?from=&to=), answering the request itself when either fails.
func statsRange(w http.ResponseWriter, r *http.Request) (time.Time, time.Time, bool) {
	if !requireRole(w, r, hotline.RoleAdmin, hotline.RoleAnalyst, hotline.RoleSupervisor, hotline.RoleDispatcher) {
		return time.Time{}, time.Time{}, false
	}
	from, to, err := parseRange(r)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return time.Time{}, time.Time{}, false
	}
	return from, to, true
}
