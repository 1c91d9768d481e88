// Package cli is the hotline command: the only place that reads flags and
// environment variables and wires the components together.
package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/hotline12345/hotline"
)

// exitError carries a specific exit status up to Main.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Main runs the command line and returns the process exit status.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	default:
		zh, en := hotline.ErrorMessages(err)
		if hotline.ErrorCode(err) == hotline.EINTERNAL {
			fmt.Fprintln(os.Stderr, "错误 error:", err)
		} else {
			fmt.Fprintf(os.Stderr, "错误：%s\nerror: %s\n", zh, en)
		}
		return 1
	}
}

// options shared by the commands that open the database.
type options struct {
	dataDir     string
	databaseURL string
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func newRoot() *cobra.Command {
	o := &options{}
	root := &cobra.Command{
		Use:           "hotline",
		Short:         "12345 政务服务便民热线平台 — the 12345 government service hotline platform",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
		},
	}
	root.PersistentFlags().StringVar(&o.dataDir, "data", envOr("HOTLINE_DATA", "data"), "data directory (SQLite database, recordings, index) [HOTLINE_DATA]")
	root.PersistentFlags().StringVar(&o.databaseURL, "database-url", os.Getenv("HOTLINE_DATABASE_URL"), "PostgreSQL URL; empty means SQLite in the data directory [HOTLINE_DATABASE_URL]")
	root.AddCommand(serveCmd(o, false), serveCmd(o, true), migrateCmd(o), slaCmd(o), auditCmd(o), benchCmd(o))
	for _, add := range extraCommands {
		root.AddCommand(add(o))
	}
	return root
}

// extraCommands are added by the files of capabilities (kb, dispatch, calls).
var extraCommands []func(*options) *cobra.Command
