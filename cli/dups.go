package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotline12345/hotline/related"
)

func init() { extraCommands = append(extraCommands, dupsCmd) }

// dupsCmd measures duplicate detection on real messages against a person's
// verdicts, and lists the top suggestions nobody has judged yet.
func dupsCmd(o *options) *cobra.Command {
	var hot, judgments, unjudged string
	var every int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "dups",
		Short: "评估重复件识别 — precision of the top duplicate suggestion on hot_messages.csv",
		Long: "Replays the messages in time order; every N-th message is posed as a new request against the\n" +
			"messages of the 30 days before it, with the poster's account as the caller. The top suggestion\n" +
			"is looked up in the judgments file (QUERY_ID<tab>CANDIDATE_ID<tab>y|n).\n" +
			"--unjudged FILE writes the suggestions without a verdict, for a person to judge and append.",
		Example: "  hotline dups --hot ../shared/data/tipdm2020/hot_messages.csv --judgments related/testdata/hot_judgments.tsv",
		RunE: func(cmd *cobra.Command, args []string) error {
			msgs, err := related.ReadMessages(hot)
			if err != nil {
				return err
			}
			j := related.Judgments{}
			if judgments != "" {
				if j, err = related.ReadJudgments(judgments); err != nil {
					return err
				}
			}
			start := time.Now()
			r := related.EvalHot(msgs, j, every, related.Options{})
			took := time.Since(start)
			if unjudged != "" {
				var b strings.Builder
				for _, p := range r.Unjudged {
					fmt.Fprintf(&b, "%s\t%s\t?\t%.2f %s ‖ %s\n", p.Query.ID, p.Candidate.ID, p.Score,
						oneLine(p.Query.Title), oneLine(p.Candidate.Title))
				}
				if err := os.WriteFile(unjudged, []byte(b.String()), 0o644); err != nil {
					return err
				}
			}
			if asJSON {
				return json.NewEncoder(os.Stdout).Encode(r)
			}
			fmt.Printf("queries %d (one in %d messages, %d-day window), suggested %d, judged %d, correct %d\n",
				r.Queries, r.Every, r.WindowDay, r.Suggested, r.Judged, r.Correct)
			fmt.Printf("precision of the top suggestion: %.3f\n", r.Precision)
			if len(r.Unjudged) > 0 {
				fmt.Printf("%d top suggestions have no verdict yet (--unjudged FILE lists them)\n", len(r.Unjudged))
			}
			for _, p := range r.Wrong {
				fmt.Printf("  wrong %.2f: %s ‖ %s\n", p.Score, oneLine(p.Query.Title), oneLine(p.Candidate.Title))
			}
			fmt.Printf("in %s\n", took.Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&hot, "hot", "", "hot_messages.csv (id,title,detail,time,likes,dislikes,user)")
	cmd.Flags().StringVar(&judgments, "judgments", "", "verdicts, QUERY_ID<tab>CANDIDATE_ID<tab>y|n a line")
	cmd.Flags().StringVar(&unjudged, "unjudged", "", "write suggestions without a verdict here")
	cmd.Flags().IntVar(&every, "every", 10, "pose one message in N as a new request")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object (queries, suggested, judged, correct, precision)")
	cmd.MarkFlagRequired("hot")
	return cmd
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return s
}
