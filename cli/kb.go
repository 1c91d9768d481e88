package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotline12345/hotline/kb"
)

func init() { extraCommands = append(extraCommands, kbCmd) }

func kbCmd(o *options) *cobra.Command {
	root := &cobra.Command{Use: "kb", Short: "知识库 — knowledge base tools"}
	var replies string
	var asJSON bool
	eval := &cobra.Command{
		Use:     "eval",
		Short:   "检索效果评估 — index official replies as articles, query with each message, report Recall@1/@5 and MRR",
		Example: "  hotline kb eval --replies ../shared/data/tipdm2020/replies.csv --json",
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			r, err := kb.EvalReplies(replies)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(os.Stdout).Encode(r)
			}
			fmt.Printf("n=%d  Recall@1=%.4f  Recall@5=%.4f  MRR=%.4f  Recall@10=%.4f  Recall@100=%.4f  (%s)\n", r.N, r.RecallAt1, r.RecallAt5, r.MRR, r.RecallAt10, r.RecallAt100, time.Since(start).Round(time.Millisecond))
			if s := r.Substantive; s != nil {
				fmt.Printf("replies of 60+ characters: n=%d  Recall@1=%.4f  Recall@5=%.4f  MRR=%.4f\n", s.N, s.RecallAt1, s.RecallAt5, s.MRR)
			}
			fmt.Printf("replies sharing <2 distinctive words with their message: %d, of which %d miss the top five\n", r.LowOverlap, r.LowOverlapMissed)
			return nil
		},
	}
	eval.Flags().StringVar(&replies, "replies", "", "CSV with title, detail and reply columns")
	eval.Flags().BoolVar(&asJSON, "json", false, "print a JSON object (recall_at_1, recall_at_5, mrr)")
	eval.MarkFlagRequired("replies")
	reindex := &cobra.Command{
		Use:   "reindex",
		Short: "重建检索索引 — rebuild the search index from the database",
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			app, err := openApp(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer app.Close()
			if err := app.KB.Reindex(cmd.Context()); err != nil {
				return err
			}
			fmt.Printf("index rebuilt in %s\n", time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	root.AddCommand(eval, reindex)
	return root
}
