package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/spf13/cobra"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/callcenter"
	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/httpapi"
	"github.com/hotline12345/hotline/kb"
	"github.com/hotline12345/hotline/storage"
	"github.com/hotline12345/hotline/web"
)

// App is a running platform node: the database, the core storage and every
// component that serves HTTP or SIP.
type App struct {
	DB    *database.DB
	Store *storage.Store
	Calls *callcenter.Store
	// CallCenter is the live call-centre service (agents, queues, screen pops).
	CallCenter *callcenter.Service
	KB         *kb.Service
	API        *httpapi.Server
	Router     chi.Router
	// closers run on shutdown in reverse order.
	closers []func()
	// starters run after the router is built (background workers, SIP).
	starters []func(ctx context.Context) error
}

// components are the capabilities wired into every node, in order; each
// file that adds a capability (kb, dispatch, calls, web) appends one.
var components []func(ctx context.Context, app *App, o *options) error

func openApp(ctx context.Context, o *options) (*App, error) {
	db, err := database.Open(ctx, o.databaseURL, o.dataDir)
	if err != nil {
		return nil, err
	}
	store, err := storage.Open(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	calls, err := callcenter.Open(ctx, db)
	if err != nil {
		store.Close()
		db.Close()
		return nil, err
	}
	know, err := kb.Open(ctx, db)
	if err != nil {
		store.Close()
		db.Close()
		return nil, err
	}
	app := &App{DB: db, Store: store, Calls: calls, KB: know, API: httpapi.New(store), Router: chi.NewRouter()}
	app.API.KB = know
	// The telephone side: call records, agents, queues, CTI for external
	// PBXs, and (with --sip-addr) the built-in engine, under /api/v1/calls.
	app.CallCenter = callcenter.NewWithStore(calls, callcenter.Options{DataDir: o.dataDir})
	app.API.Mounts = append(app.API.Mounts, httpapi.Mount{Pattern: "/calls", Routes: app.CallCenter.Routes})
	app.closers = append(app.closers, func() { db.Close() }, store.Close)
	for _, c := range components {
		if err := c(ctx, app, o); err != nil {
			app.Close()
			return nil, err
		}
	}
	return app, nil
}

// Close releases everything the app opened.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

type serveOptions struct {
	addr    string
	sipAddr string
	reset   bool
}

func serveCmd(o *options, demo bool) *cobra.Command {
	so := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "运行平台 — run the platform",
		Long: "Runs a hotline node: the API, the web desks and (with --sip-addr) the telephone engine.\n" +
			"SQLite in --data by default; set HOTLINE_DATABASE_URL=postgres://… for PostgreSQL (several nodes may share it).",
		RunE: func(cmd *cobra.Command, args []string) error { return serve(cmd.Context(), o, so, false) },
	}
	if demo {
		cmd.Use = "demo"
		cmd.Short = "运行演示城市 — run the platform with a generated demo city"
		cmd.Long = "Starts the platform on an embedded SQLite database seeded with a generated demo city\n" +
			"(units, categories, catalogue, calendar, users for every role, ~2,000 orders over 90 days)."
		cmd.RunE = func(cmd *cobra.Command, args []string) error { return serve(cmd.Context(), o, so, true) }
		cmd.Flags().BoolVar(&so.reset, "reset", false, "delete the demo database and generate the city again")
	}
	cmd.Flags().StringVar(&so.addr, "addr", envOr("HOTLINE_ADDR", "127.0.0.1:8080"), "HTTP listen address [HOTLINE_ADDR]")
	cmd.Flags().StringVar(&so.sipAddr, "sip-addr", os.Getenv("HOTLINE_SIP_ADDR"), "SIP listen address (UDP and TCP), e.g. 127.0.0.1:5060; empty disables telephony [HOTLINE_SIP_ADDR]")
	return cmd
}

// sipEngine is set by the telephony wiring when it is compiled in.
var sipEngine func(ctx context.Context, app *App, addr string) error

func serve(ctx context.Context, o *options, so *serveOptions, demo bool) error {
	if demo {
		if o.dataDir == "data" && os.Getenv("HOTLINE_DATA") == "" {
			o.dataDir = "data/demo"
		}
		if o.databaseURL != "" {
			slog.Info("demo uses HOTLINE_DATABASE_URL", "url", "(set)")
		}
		if so.reset && o.databaseURL == "" {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(o.dataDir + "/hotline.db" + suffix)
			}
		}
	}
	app, err := openApp(ctx, o)
	if err != nil {
		return err
	}
	defer app.Close()
	if demo {
		if err := seedDemo(ctx, app, o); err != nil {
			return err
		}
	} else if err := ensureAdmin(ctx, app.Store); err != nil {
		return err
	}
	app.API.Routes(app.Router)
	site, err := web.New(app.Store)
	if err != nil {
		return err
	}
	sg := &suggester{store: app.Store}
	go sg.run(ctx)
	go expireArticles(ctx, app.KB, 10*time.Minute)
	site.Suggest = sg
	site.KB = app.KB
	site.Routes(app.Router)
	for _, start := range app.starters {
		if err := start(ctx); err != nil {
			return err
		}
	}
	if so.sipAddr != "" {
		if sipEngine == nil {
			return hotline.Errorf(hotline.EINVALID, "此版本未包含电话引擎", "this build has no telephone engine")
		}
		if err := sipEngine(ctx, app, so.sipAddr); err != nil {
			return err
		}
	}
	srv := &http.Server{Addr: so.addr, Handler: app.Router, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 60 * time.Second, WriteTimeout: 0, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Printf("Hotline 12345 正在运行 running at http://%s/  (database: %s)\n", so.addr, app.DB.Dialect)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ensureAdmin creates the first administrator on an empty database, with the
// password from HOTLINE_ADMIN_PASSWORD or a generated one printed once.
func ensureAdmin(ctx context.Context, store *storage.Store) error {
	n, err := store.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	pw := os.Getenv("HOTLINE_ADMIN_PASSWORD")
	generated := pw == ""
	if generated {
		b := make([]byte, 12)
		rand.Read(b)
		pw = base64.RawURLEncoding.EncodeToString(b)
	}
	_, err = store.CreateUser(ctx, storage.NewUser{Username: "admin", Password: pw, Name: "系统管理员", Roles: []hotline.Role{hotline.RoleAdmin}})
	if hotline.ErrorCode(err) == hotline.ECONFLICT {
		return nil // another node created it first
	}
	if err != nil {
		return err
	}
	if generated {
		fmt.Printf("已创建管理员 admin，初始密码（仅显示一次）/ created user admin with password (shown once): %s\n", pw)
	}
	return nil
}

func migrateCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "升级数据库结构 — apply database migrations and exit",
		RunE: func(cmd *cobra.Command, args []string) error {
			app, err := openApp(cmd.Context(), o)
			if err != nil {
				return err
			}
			app.Close()
			fmt.Println("migrations applied")
			return nil
		},
	}
}

// expireArticles marks knowledge articles past their expiry date as expired
// every interval (search hides them from the moment they expire; this
// moves them to the expired list and leaves a history entry). Several
// nodes may run it at once: each article's change is one guarded
// transaction, and an article already expired is skipped.
func expireArticles(ctx context.Context, know *kb.Service, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := know.ExpireDue(ctx); err != nil {
			if ctx.Err() == nil {
				slog.Warn("knowledge base expiry", "err", err)
			}
		} else if n > 0 {
			slog.Info("knowledge articles expired", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
