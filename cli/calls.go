package cli

import (
	"encoding/json"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotline12345/hotline"
)

func init() { extraCommands = append(extraCommands, callsCmd) }

func callsCmd(o *options) *cobra.Command {
	root := &cobra.Command{Use: "calls", Short: "话务 — call records and call measures"}
	var from, to, by string
	stats := &cobra.Command{
		Use:     "stats",
		Short:   "话务指标 — connection rate, 15-second answer rate, ASA, abandon rate, AHT, IVR satisfaction, repeat callers",
		Example: "  hotline calls stats --from 2026-11-01 --to 2026-11-24 --by day",
		RunE: func(cmd *cobra.Command, args []string) error {
			parse := func(s string, def time.Time) (time.Time, error) {
				if s == "" {
					return def, nil
				}
				t, err := time.ParseInLocation("2006-01-02", s, time.FixedZone("CST", 8*3600))
				if err != nil {
					return t, hotline.Errorf(hotline.EINVALID, "日期格式应为YYYY-MM-DD", "dates are YYYY-MM-DD")
				}
				return t, nil
			}
			end, err := parse(to, time.Now())
			if err != nil {
				return err
			}
			if to != "" {
				end = end.AddDate(0, 0, 1)
			}
			start, err := parse(from, end.AddDate(0, 0, -1))
			if err != nil {
				return err
			}
			app, err := openApp(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer app.Close()
			st, err := app.Calls.Stats(cmd.Context(), start, end, by)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(map[string]any{"from": start, "to": end, "items": st})
		},
	}
	stats.Flags().StringVar(&from, "from", "", "first day (YYYY-MM-DD), default yesterday")
	stats.Flags().StringVar(&to, "to", "", "last day (YYYY-MM-DD), default today")
	stats.Flags().StringVar(&by, "by", "", "group by hour, day, queue or agent")
	root.AddCommand(stats)
	return root
}
