package storage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/ticket"
)

// BulkLoad inserts n synthetic orders registered between since and now, for
// load and latency measurements over millions of rows (hotline bench list).
// Each order is registered through the domain (so deadlines are real) and
// then placed in a random state of the lifecycle with a consistent
// projection and a sealed registration event; it does not replay every
// step, which would take hours for ten million orders.
func BulkLoad(ctx context.Context, s *Store, n int, since time.Time, rng *rand.Rand) error {
	env, err := s.env(ctx)
	if err != nil {
		return err
	}
	units := env.Units.All()
	cats, err := s.Categories(ctx)
	if err != nil {
		return err
	}
	if len(units) == 0 || len(cats) == 0 {
		return fmt.Errorf("bulk load needs units and categories (run the demo seed first)")
	}
	var leaf []string
	for _, c := range cats {
		if len(c.Code) >= 4 {
			leaf = append(leaf, c.Code)
		}
	}
	places := []string{"滨江路", "人民路", "解放大道", "建设街", "幸福里小区", "锦绣花园", "高新大道", "临江镇"}
	matters := []string{"夜间施工噪音扰民", "路灯不亮", "占道经营", "小区电梯故障", "垃圾清运不及时", "公交站台破损", "楼道堆放杂物", "供水压力不足"}
	// A year of a real hotline: nearly everything older than a few weeks is
	// closed; what is open is mostly recent.
	open := []ticket.State{ticket.Processing, ticket.Processing, ticket.Processing, ticket.Dispatched, ticket.Registered,
		ticket.RevisitPending, ticket.ReplyPending, ticket.ReturnPending}
	span := time.Since(since)
	const batch = 1000
	for done := 0; done < n; {
		m := min(batch, n-done)
		err := s.DB.Tx(ctx, func(tx *database.Tx) error {
			for i := 0; i < m; i++ {
				env.Now = since.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Millisecond)
				d := ticket.Draft{
					Channel: ticket.Channels[rng.IntN(5)], Type: ticket.Types[rng.IntN(len(ticket.Types))], Urgency: ticket.Normal,
					Title:        places[rng.IntN(len(places))] + matters[rng.IntN(len(matters))],
					Content:      "市民反映" + places[rng.IntN(len(places))] + "附近" + matters[rng.IntN(len(matters))] + "，希望有关部门尽快处理。",
					CategoryCode: leaf[rng.IntN(len(leaf))],
					Citizen:      ticket.Citizen{Name: "市民", Phone: fmt.Sprintf("13%09d", rng.IntN(1e9))},
				}
				t, events, err := ticket.Register(d, nil, env)
				if err != nil {
					return err
				}
				st := ticket.Closed
				if age := time.Since(env.Now); age < 20*24*time.Hour && rng.IntN(100) < 60 || rng.IntN(100) < 3 {
					st = open[rng.IntN(len(open))]
				}
				if st != ticket.Registered {
					u := units[rng.IntN(len(units))].ID
					t.State, t.LeadUnitID, t.HandlerUnitID, t.FirstUnitID, t.DispatchCount = st, u, u, u, 1
					t.DispatchedAt = env.Now.Add(time.Hour)
					t.DispatchDue = time.Time{}
					t.ReplyDue, _ = env.Calendar.Add(t.DispatchedAt, spanOf("5wd"))
					t.ReplyStart = t.DispatchedAt
					if st == ticket.Closed {
						t.ClosedAt, t.ReplyDue = t.DispatchedAt.Add(72*time.Hour), time.Time{}
						t.RepliedAt, t.Satisfaction = t.DispatchedAt.Add(48*time.Hour), 3+rng.IntN(3)
					}
				}
				t.QueryCode = fmt.Sprintf("%06d", rng.IntN(1e6))
				if t.ID, err = s.ids.next(ctx, tx); err != nil {
					return err
				}
				t.Number = Number(t.CreatedAt, t.Channel, t.ID)
				ticket.Seal(t, events)
				if err := insertTicket(ctx, tx, t); err != nil {
					return err
				}
				if err := insertEvents(ctx, tx, events); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		done += m
	}
	return nil
}
