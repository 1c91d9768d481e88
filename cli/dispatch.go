package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

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
		Short: "训练分类器并保存 — train the classifier on a CSV and save the model",
		RunE: func(cmd *cobra.Command, args []string) error {
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
	trainCmd.Flags().StringVar(&train, "train", "", "training CSV")
	trainCmd.Flags().StringVar(&out, "out", "dispatch-model.gob", "where to write the model")
	trainCmd.MarkFlagRequired("train")
	root.AddCommand(eval, trainCmd)
	return root
}
