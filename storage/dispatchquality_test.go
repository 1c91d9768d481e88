package storage

import (
	"testing"
	"time"

	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/ticket"
)

// TestSmartDispatchRecords: the catalogue's proposal is recorded at the
// first dispatch, the model's at registration; the report counts agreement,
// acceptance, the suggestion's accuracy and first-dispatch accuracy; and a
// history of wrong first dispatches overrules the catalogue.
func TestSmartDispatchRecords(t *testing.T) {
	database.ForEachTestDB(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		if _, err := f.s.SetCatalogueEntry(f.ctx, CatalogueEntry{CategoryCode: "0207", UnitID: f.dept.ID}); err != nil {
			t.Fatal(err)
		}
		register := func(suggested string) *ticket.Ticket {
			d := draft()
			d.RegionUnitID, d.SuggestedCategory = f.district.ID, suggested
			tk, _, err := f.s.CreateTicket(f.ctx, d, f.agent, "", "")
			if err != nil {
				t.Fatal(err)
			}
			return tk
		}
		dispatch := func(tk *ticket.Ticket, unit int64) *ticket.Ticket {
			return f.act(t, tk, f.disp, ticket.Command{Action: ticket.ActDispatch, LeadUnitID: unit})
		}
		// Sent to the proposed unit, which keeps it.
		o1 := dispatch(register("0207"), f.dept.ID)
		if o1.SuggestedUnitID != f.dept.ID || o1.SuggestedCategory != "0207" {
			t.Fatalf("suggestions not recorded: %+v", o1)
		}
		// The dispatcher chose another unit, rightly.
		dispatch(register("0301"), f.street.ID)
		// Sent to the proposed unit, returned as not its business, re-sent.
		wrong := func() {
			o := dispatch(register(""), f.dept.ID)
			o = f.act(t, o, f.other, ticket.Command{Action: ticket.ActReturn, Reason: "属地街道职责，非本单位"})
			f.act(t, o, f.disp, ticket.Command{Action: ticket.ActApproveReturn, Reason: "同意", LeadUnitID: f.street.ID})
		}
		wrong()
		rows, err := f.s.DispatchQualityByMonth(f.ctx, time.Now().AddDate(0, 0, -1), time.Now().AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		all := rows[len(rows)-1]
		want := DispatchQuality{Registered: 3, CategorySuggested: 2, CategoryAgreed: 1, Dispatched: 3, UnitSuggested: 3, UnitAccepted: 2,
			SuggestionRight: 1, FirstDispatchRight: 2}
		want.rates()
		if all != want {
			t.Fatalf("report\n got %+v\nwant %+v", all, want)
		}
		// Five more wrong first dispatches: the history now overrules the catalogue.
		sg, _ := f.s.Suggestion(f.ctx, "0207", f.district.ID)
		if sg.UnitID != f.dept.ID || sg.Source != "catalogue" {
			t.Fatalf("before: %+v", sg)
		}
		for i := 0; i < 5; i++ {
			wrong()
		}
		sg, err = f.s.Suggestion(f.ctx, "0207", f.district.ID)
		if err != nil || sg.UnitID != f.street.ID || sg.Source != "history" || sg.Kept != 1 {
			t.Fatalf("after: %+v %v", sg, err)
		}
		// Another district has no such history: the catalogue still answers.
		if sg, _ := f.s.Suggestion(f.ctx, "0207", 0); sg.UnitID != f.dept.ID {
			t.Fatalf("city-wide: %+v", sg)
		}
	})
}

func TestDispatchModelsKeptInTheDatabase(t *testing.T) {
	database.ForEachTestDB(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		if id, _, err := f.s.NewestDispatchModel(f.ctx); err != nil || id != 0 {
			t.Fatalf("empty: %d %v", id, err)
		}
		var last int64
		for i := 0; i < 7; i++ {
			id, err := f.s.SaveDispatchModel(f.ctx, StoredModel{TrainedAt: time.Now(), Examples: i, Labels: 2, Took: time.Second, Data: []byte{0, 1, byte(i), 255}})
			if err != nil {
				t.Fatal(err)
			}
			last = id
		}
		id, _, err := f.s.NewestDispatchModel(f.ctx)
		if err != nil || id != last {
			t.Fatalf("newest %d, want %d (%v)", id, last, err)
		}
		m, err := f.s.LatestDispatchModel(f.ctx, 0)
		if err != nil || m == nil || m.ID != last || m.Examples != 6 || string(m.Data) != string([]byte{0, 1, 6, 255}) || m.Took != time.Second {
			t.Fatalf("latest: %+v %v", m, err)
		}
		if m, _ := f.s.LatestDispatchModel(f.ctx, last); m != nil {
			t.Fatal("a model newer than the newest")
		}
		var n int
		f.s.DB.QueryRow(f.ctx, `SELECT COUNT(*) FROM dispatch_models`).Scan(&n)
		if n != 5 {
			t.Fatalf("kept %d models, want 5", n)
		}
	})
}

func TestPlaceColumnBackfill(t *testing.T) {
	database.ForEachTestDB(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		d := draft()
		d.Address = "江北区望湖花园北门"
		tk, _, err := f.s.CreateTicket(f.ctx, d, f.agent, "", "")
		if err != nil {
			t.Fatal(err)
		}
		d.Address = "区"
		short, _, _ := f.s.CreateTicket(f.ctx, d, f.agent, "", "")
		get := func(number string) string {
			var v string
			f.s.DB.QueryRow(f.ctx, `SELECT place3 FROM tickets WHERE number = ?`, number).Scan(&v)
			return v
		}
		if get(tk.Number) != "望湖花" || get(short.Number) != "-" {
			t.Fatalf("place3 written as %q and %q", get(tk.Number), get(short.Number))
		}
		// As if stored before the column existed.
		if _, err := f.s.DB.Exec(f.ctx, `UPDATE tickets SET place3 = ''`); err != nil {
			t.Fatal(err)
		}
		if err := f.s.backfillPlaces(f.ctx); err != nil {
			t.Fatal(err)
		}
		if get(tk.Number) != "望湖花" || get(short.Number) != "-" {
			t.Fatalf("backfilled as %q and %q", get(tk.Number), get(short.Number))
		}
	})
}
