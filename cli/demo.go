package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hotline12345/hotline/demo"
)

// seedDemo fills the database with the demo city (once) and prints the
// accounts.
func seedDemo(ctx context.Context, app *App, o *options) error {
	s, err := demo.Seed(ctx, app.Store, demo.Options{KB: app.KB})
	if err != nil {
		return err
	}
	if s.Created {
		slog.Info("demo city generated", "orders", s.Orders, "took", s.Took.Round(100_000_000))
	}
	if n, err := demo.SeedArticles(ctx, app.Store, app.KB); err != nil {
		return err
	} else if n > 0 {
		slog.Info("demo knowledge base generated", "articles", n)
	}
	// Demo agents' phones register with their platform user name and the demo password.
	for _, name := range []string{"agent1", "agent2"} {
		if u, err := app.Store.Authenticate(ctx, name, demo.Password); err == nil {
			if err := app.CallCenter.SetSIPPassword(ctx, u.ID, u.Username, demo.Password); err != nil {
				return err
			}
		}
	}
	if n, err := demo.SeedCalls(ctx, app.Calls, time.Now(), 30); err != nil {
		return err
	} else if n > 0 {
		slog.Info("demo call records generated", "calls", n)
	}
	fmt.Printf("演示城市 江城市：%d 张工单。演示账号（密码均为 %s）/ demo accounts (password %s):\n", s.Orders, demo.Password, demo.Password)
	shown := 0
	for _, a := range s.Accounts {
		if a.Unit != "" && shown >= 14 {
			continue
		}
		unit := ""
		if a.Unit != "" {
			unit = " · " + a.Unit
		}
		fmt.Printf("  %-14s %s (%s%s)\n", a.Username, a.Name, a.Role, unit)
		shown++
	}
	fmt.Printf("  …承办单位账号以单位编码为用户名 / every unit has an account named by its code (e.g. zjj, cgj, jb, jb-bj)\n")
	return nil
}
