package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/calendar"
)

func slaCmd(o *options) *cobra.Command {
	root := &cobra.Command{Use: "sla", Short: "时限计算 — working-time deadline arithmetic"}
	var from, add string
	due := &cobra.Command{
		Use:   "due",
		Short: "计算到期时间 — print the due time of a span added to an instant",
		Example: "  hotline sla due --from 2026-02-13T16:00:00+08:00 --add 5wd\n" +
			"  units: wd working days, wh working hours, h natural hours, d natural days, m natural minutes",
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := time.Parse(time.RFC3339, from)
			if err != nil {
				return hotline.Errorf(hotline.EINVALID, "--from须为RFC 3339时间，如2026-02-13T16:00:00+08:00", "--from must be RFC 3339, e.g. 2026-02-13T16:00:00+08:00")
			}
			span, err := calendar.ParseSpan(add)
			if err != nil {
				return err
			}
			cal := calendar.Default()
			// Use the installation's calendar (admin-loaded years, overrides)
			// when there is one; never create a database just to answer.
			if o.databaseURL != "" || fileExists(filepath.Join(o.dataDir, "hotline.db")) {
				app, err := openApp(cmd.Context(), o)
				if err != nil {
					return err
				}
				defer app.Close()
				if cal, err = app.Store.Calendar(cmd.Context()); err != nil {
					return err
				}
			}
			d, prov := cal.Add(t, span)
			return json.NewEncoder(os.Stdout).Encode(map[string]any{"due": d.In(calendar.China).Format(time.RFC3339), "provisional": prov})
		},
	}
	due.Flags().StringVar(&from, "from", "", "start instant, RFC 3339")
	due.Flags().StringVar(&add, "add", "", "span to add, e.g. 5wd, 4wh, 24h, 2d")
	due.MarkFlagRequired("from")
	due.MarkFlagRequired("add")
	root.AddCommand(due)
	return root
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func auditCmd(o *options) *cobra.Command {
	root := &cobra.Command{Use: "audit", Short: "审计 — audit trail tools"}
	root.AddCommand(&cobra.Command{
		Use:   "verify",
		Short: "校验事件链 — verify every order's hash-chained event trail; exits 2 at the first break",
		RunE: func(cmd *cobra.Command, args []string) error {
			app, err := openApp(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer app.Close()
			res, err := app.Store.VerifyAudit(cmd.Context())
			if err != nil {
				return err
			}
			if res.First != nil {
				fmt.Printf("审计失败 AUDIT FAILED after %d orders / %d events: %s\n", res.Orders, res.Events, res.First)
				return exitError{2}
			}
			fmt.Printf("审计通过 audit OK: %d orders, %d events, every chain intact\n", res.Orders, res.Events)
			return nil
		},
	})
	return root
}
