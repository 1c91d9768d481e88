package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hotline12345/hotline/sip"
)

func init() { sipEngine = startSIP }

// startSIP answers phone calls on addr (UDP and TCP) with the built-in
// engine, and purges recordings past their retention once a day.
func startSIP(ctx context.Context, app *App, addr string) error {
	eng, err := sip.New(sip.Config{}, app.CallCenter)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- eng.Serve(ctx, addr) }()
	select {
	case <-eng.Ready():
	case err := <-errc:
		return fmt.Errorf("sip %s: %w", addr, err)
	case <-time.After(10 * time.Second):
		return fmt.Errorf("sip %s: did not start", addr)
	}
	go func() {
		t := time.NewTicker(24 * time.Hour)
		defer t.Stop()
		for {
			if n, err := app.CallCenter.PurgeRecordings(ctx); err != nil {
				slog.Warn("purge recordings", "err", err)
			} else if n > 0 {
				slog.Info("recordings past retention deleted", "n", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	fmt.Printf("电话引擎 SIP listening on %s (UDP and TCP)\n", addr)
	return nil
}
