package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/classify"
)

func init() { extraCommands = append(extraCommands, dispatchCmd) }

func dispatchCmd(o *options) *cobra.Command {
	root := &cobra.Command{Use: "dispatch", Short: "智能派单 — the category classifier behind smart dispatch"}
	var train, test, out string
	var asJSON bool
	eval := &cobra.Command{
		Use:   "eval",
		Short: "训练并评估分类器 — train on one CSV and evaluate on another",
		Long: "CSV files need a header with text,label or title,detail,label (other columns ignored).\n" +
			"Prints accuracy, macro-F1, per-class precision/recall and the confusion matrix.",
		Example: "  hotline dispatch eval --train ../shared/data/tipdm2020/train.csv --test ../shared/data/tipdm2020/dev.csv",
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			_, r, err := classify.EvalFiles(train, test, classify.Options{})
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(os.Stdout).Encode(r)
			}
			r.WriteText(os.Stdout)
			fmt.Printf("\ntrained and evaluated in %s\n", time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	eval.Flags().StringVar(&train, "train", "", "training CSV")
	eval.Flags().StringVar(&test, "test", "", "test CSV")
	eval.Flags().BoolVar(&asJSON, "json", false, "print a JSON object (accuracy, macro_f1, per_class, confusion)")
	eval.MarkFlagRequired("train")
	eval.MarkFlagRequired("test")
	trainCmd := &cobra.Command{
		Use:   "train",
		Short: "训练分类器 — train the dispatch model now (from the platform's history, or from a CSV)",
		Long: "Without --train: learns from the platform's own categorised orders and stores the model in the\n" +
			"database; running nodes switch to it within a minute (they also retrain hourly on their own).\n" +
			"With --train FILE.csv: trains on the file and writes the model to --out.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if train == "" {
				app, err := openApp(cmd.Context(), o)
				if err != nil {
					return err
				}
				defer app.Close()
				sm, err := trainDispatchModel(cmd.Context(), app.Store)
				if err != nil {
					return err
				}
				if sm == nil {
					return hotline.Errorf(hotline.EUNPROCESSABLE, "已分类的工单太少，无法训练", "too few categorised orders to learn from")
				}
				fmt.Printf("model %d trained on %d orders, %d categories in %s; running nodes load it within a minute\n",
					sm.ID, sm.Examples, sm.Labels, sm.Took.Round(time.Millisecond))
				return nil
			}
			ex, err := classify.ReadCSV(train)
			if err != nil {
				return err
			}
			start := time.Now()
			m, err := classify.Train(ex, classify.Options{})
			if err != nil {
				return err
			}
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := m.Save(f); err != nil {
				return err
			}
			fmt.Printf("trained on %d examples, %d labels, %d features in %s → %s\n", len(ex), len(m.Labels), len(m.Terms),
				time.Since(start).Round(time.Millisecond), out)
			return nil
		},
	}
	trainCmd.Flags().StringVar(&train, "train", "", "training CSV (default: the platform's own orders)")
	trainCmd.Flags().StringVar(&out, "out", "dispatch-model.gob", "where to write the model")
	var from, to string
	report := &cobra.Command{
		Use:   "report",
		Short: "智能派单效果 — suggestion accuracy and first-dispatch accuracy by month",
		Long: "For orders registered in the period, by month and in total: how often the call-taker's category\n" +
			"lay under the model's first suggestion, how often the dispatcher sent the order to the proposed unit,\n" +
			"how often the proposed unit was right, and how often the first dispatch was right (never returned).",
		Example: "  hotline dispatch report --from 2026-09-01 --to 2026-11-30",
		RunE: func(cmd *cobra.Command, args []string) error {
			start, end, err := dayRange(from, to, 90)
			if err != nil {
				return err
			}
			app, err := openApp(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer app.Close()
			rows, err := app.Store.DispatchQualityByMonth(cmd.Context(), start, end)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(os.Stdout).Encode(map[string]any{"from": start, "to": end, "months": rows[:len(rows)-1], "total": rows[len(rows)-1]})
			}
			fmt.Printf("%-8s %8s %14s %14s %14s %16s\n", "month", "orders", "category agree", "unit accepted", "followed & kept", "first dispatch ok")
			pct := func(a, b int) string {
				if b == 0 {
					return "—"
				}
				return fmt.Sprintf("%d/%d %.0f%%", a, b, 100*float64(a)/float64(b))
			}
			for _, r := range rows {
				m := r.Month
				if m == "" {
					m = "total"
				}
				fmt.Printf("%-8s %8d %14s %14s %14s %16s\n", m, r.Registered, pct(r.CategoryAgreed, r.CategorySuggested),
					pct(r.UnitAccepted, r.UnitSuggested), pct(r.SuggestionRight, r.UnitSuggested), pct(r.FirstDispatchRight, r.Dispatched))
			}
			return nil
		},
	}
	report.Flags().StringVar(&from, "from", "", "first day (YYYY-MM-DD), default 90 days back")
	report.Flags().StringVar(&to, "to", "", "last day (YYYY-MM-DD), default today")
	report.Flags().BoolVar(&asJSON, "json", false, "print a JSON object (months, total)")
	root.AddCommand(eval, trainCmd, report)
	return root
}
