package cli

import (
	"encoding/json"
	"os"

	"github.com/spf13/cobra"
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
			start, end, err := dayRange(from, to, 1)
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
