package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/httpapi"
	"github.com/hotline12345/hotline/storage"
	"github.com/hotline12345/hotline/ticket"
)

func benchCmd(o *options) *cobra.Command {
	root := &cobra.Command{Use: "bench", Short: "性能测量 — load generators for measuring this node"}
	var orders, queries int
	list := &cobra.Command{
		Use:   "list",
		Short: "工单列表查询延迟 — bulk-load N orders (if fewer exist) and measure filtered, paginated list latency",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			app, err := openApp(ctx, o)
			if err != nil {
				return err
			}
			defer app.Close()
			if err := seedDemo(ctx, app, o); err != nil {
				return err
			}
			var have int
			if err := app.DB.QueryRow(ctx, "SELECT COUNT(*) FROM tickets").Scan(&have); err != nil {
				return err
			}
			if have < orders {
				start := time.Now()
				if err := storage.BulkLoad(ctx, app.Store, orders-have, time.Now().AddDate(0, 0, -365), rand.New(rand.NewPCG(1, 2))); err != nil {
					return err
				}
				fmt.Printf("bulk-loaded %d orders in %s\n", orders-have, time.Since(start).Round(time.Second))
			}
			return benchList(ctx, app, queries)
		},
	}
	list.Flags().IntVar(&orders, "orders", 1_000_000, "orders to have in the database")
	list.Flags().IntVar(&queries, "queries", 2000, "list requests to time")
	root.AddCommand(list)
	return root
}

// benchList times ListTickets (the same call GET /api/v1/tickets makes) over
// a mix of the filters the desks use, as a dispatcher and as unit users.
func benchList(ctx context.Context, app *App, n int) error {
	units, err := app.Store.Units(ctx)
	if err != nil {
		return err
	}
	users, err := app.Store.Users(ctx)
	if err != nil {
		return err
	}
	var staff *hotline.User
	var unitUsers []*hotline.User
	for _, u := range users {
		if u.Has(hotline.RoleDispatcher) && staff == nil {
			staff = u
		}
		if u.Has(hotline.RoleUnit) {
			unitUsers = append(unitUsers, u)
		}
	}
	if staff == nil || len(unitUsers) == 0 {
		return fmt.Errorf("bench list needs the demo users")
	}
	rng := rand.New(rand.NewPCG(7, 7))
	cats := []string{"01", "02", "03", "0101", "0201", "04"}
	filters := []func() storage.Filter{
		func() storage.Filter { return storage.Filter{Viewer: staff} },
		func() storage.Filter { return storage.Filter{Viewer: staff, States: []ticket.State{ticket.Registered}} },
		func() storage.Filter { return storage.Filter{Viewer: staff, Overdue: true, Sort: "due"} },
		func() storage.Filter { return storage.Filter{Viewer: staff, CategoryCode: cats[rng.IntN(len(cats))]} },
		func() storage.Filter {
			return storage.Filter{Viewer: staff, From: time.Now().AddDate(0, 0, -30), States: []ticket.State{ticket.Processing}}
		},
		func() storage.Filter {
			return storage.Filter{Viewer: unitUsers[rng.IntN(len(unitUsers))], States: []ticket.State{ticket.Dispatched, ticket.Processing}}
		},
		func() storage.Filter { return storage.Filter{Viewer: staff, UnitID: units[rng.IntN(len(units))].ID} },
		func() storage.Filter { return storage.Filter{Viewer: staff, Warning: ticket.WarnYellow} },
		func() storage.Filter { return storage.Filter{Viewer: staff, Page: 1 + rng.IntN(20)} },
	}
	durs := make([]time.Duration, 0, n)
	per := make([][]time.Duration, len(filters))
	env, _ := app.Store.Env(ctx)
	for i := 0; i < n; i++ {
		f := filters[i%len(filters)]()
		start := time.Now()
		page, err := app.Store.ListTickets(ctx, f)
		if err != nil {
			return err
		}
		for _, t := range page.Items {
			_ = httpapi.View(t, f.Viewer, env)
		}
		b, _ := json.Marshal(page)
		_ = b
		durs = append(durs, time.Since(start))
		per[i%len(filters)] = append(per[i%len(filters)], time.Since(start))
	}
	for i, d := range per {
		slices.Sort(d)
		fmt.Printf("  filter %d: p50=%s p95=%s\n", i, d[len(d)/2], d[len(d)*95/100])
	}
	slices.Sort(durs)
	pct := func(p float64) time.Duration { return durs[int(float64(len(durs)-1)*p)] }
	fmt.Printf("list over %s: n=%d p50=%s p95=%s p99=%s max=%s\n", app.DB.Dialect, n, pct(0.5), pct(0.95), pct(0.99), durs[len(durs)-1])
	return nil
}
