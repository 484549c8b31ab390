package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-backup/cairn/internal/awsapi"
)

// complianceCmd is `cairn compliance [TABLE]`: the governance verdict of
// every table of every source.
func (c *cli) complianceCmd() *cobra.Command {
	var verdict string
	cmd := c.clientGroup(&cobra.Command{
		Use:   "compliance [TABLE]",
		Short: "Show whether every table is tagged and backed up as the governance rules say",
		Long: `Show the governance verdict of every table of every source, as of the
server's last discovery pass: COMPLIANT, NON_COMPLIANT, OPTED_OUT (the tag's
opt-out value, e.g. superwerker:backup=none), UNKNOWN (the source does not
answer) or NOT_APPLICABLE (excluded), with the reason, the tag's value, the
plans that cover the table, its last successful backup and its age, and the
next scheduled run. TABLE (a name or ARN) shows that table only. The server
judges tables once a tag policy is stored (cairn policy apply, cairn server
--governance superwerker) or the config file has tagging rules (see
docs/governance.md).`,
		Example: `  cairn compliance
  cairn compliance --verdict NON_COMPLIANT
  cairn compliance orders --output json`,
		Args: maxArgs(1, "at most one TABLE"),
	})
	cmd.Flags().StringVar(&verdict, "verdict", "", "show only tables with this verdict (COMPLIANT, NON_COMPLIANT, OPTED_OUT, UNKNOWN, NOT_APPLICABLE)")
	cmd.RunE = c.runE(func(ctx context.Context, args []string) error {
		switch strings.ToUpper(verdict) {
		case "", "COMPLIANT", "NON_COMPLIANT", "OPTED_OUT", "UNKNOWN", "NOT_APPLICABLE":
		default:
			return fmt.Errorf("--verdict %q: use COMPLIANT, NON_COMPLIANT, OPTED_OUT, UNKNOWN or NOT_APPLICABLE", verdict)
		}
		ext, err := c.connectExt()
		if err != nil {
			return err
		}
		q := url.Values{}
		if len(args) == 1 {
			q.Set("resourceName", args[0])
		}
		var out awsapi.ComplianceOutput
		if err := ext.do(ctx, http.MethodGet, "/cairn/compliance", q, nil, &out); err != nil {
			return err
		}
		if verdict != "" {
			kept := out.Resources[:0]
			for _, r := range out.Resources {
				if strings.EqualFold(r.ComplianceType, verdict) {
					kept = append(kept, r)
				}
			}
			out.Resources = kept
		}
		if c.out.json() {
			return printJSON(c.stdout, out)
		}
		return c.printCompliance(&out)
	})
	return cmd
}

func (c *cli) printCompliance(out *awsapi.ComplianceOutput) error {
	if !out.Enabled {
		_, err := fmt.Fprintln(c.stdout, "Governance is off: the server has no tag policy nor tagging rule (cairn policy apply, cairn server --governance superwerker; see docs/governance.md).")
		return err
	}
	now := time.Now()
	cols := []column{{head: "TABLE", flex: true, min: 8}, {head: "SOURCE", flex: true, min: 6}, {head: "TAG"},
		{head: "VERDICT"}, {head: "LAST BACKUP"}, {head: "NEXT RUN"}, {head: "REASON", flex: true, min: 16, text: true}}
	if c.out.wide {
		cols = append(cols[:6:6], column{head: "PLANS", flex: true, min: 8}, cols[6])
	}
	t := newFitTable(c.width(), cols...)
	for _, r := range out.Resources {
		tag := "-"
		if r.TagValue != nil {
			tag = *r.TagValue
		}
		last := "never"
		if lt := r.LastBackupTime.Time(); !lt.IsZero() {
			last = age(now.Sub(lt)) + " ago"
			if c.out.wide {
				last = whenShort(&lt) + " (" + age(now.Sub(lt)) + " ago)"
			}
		}
		if r.ResourceArn == "" {
			last = "-"
		}
		next := "-"
		if nt := r.NextRunTime.Time(); !nt.IsZero() {
			next = "in " + age(nt.Sub(now))
			if c.out.wide {
				next = whenShort(&nt)
			}
		}
		cells := []string{r.ResourceName, r.Source, tag, r.ComplianceType, last, next}
		if c.out.wide {
			cells = append(cells, orDash(strings.Join(r.BackupPlans, ", ")))
		}
		t.row(append(cells, r.Reason)...)
	}
	if err := t.write(c.stdout); err != nil {
		return err
	}
	counts, tables := map[string]int{}, 0
	for _, r := range out.Resources {
		if r.ResourceArn == "" {
			continue // a source that never answered
		}
		counts[r.ComplianceType]++
		tables++
	}
	var parts []string
	for _, v := range []string{"COMPLIANT", "NON_COMPLIANT", "OPTED_OUT", "UNKNOWN", "NOT_APPLICABLE"} {
		if counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[v], v))
		}
	}
	lp := out.LastPass.Time()
	dry := ""
	if out.DryRun {
		dry = "; dry run: nothing is written"
	}
	_, err := fmt.Fprintf(c.stdout, "\n%d tables: %s (pass %d at %s%s)\n", tables, orDash(strings.Join(parts, ", ")),
		out.Passes, whenShort(&lp), dry)
	return err
}

// age prints a duration as people read it: 42s, 5m, 3h, 2d.
func age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// printGovernance adds the governance verdict of a table to cairn explain.
func (c *cli) printGovernance(g *awsapi.ResourceCompliance, err error) {
	switch {
	case err != nil:
		kv(c.stdout, "Governance", "unknown: "+explain(err).Error())
	case g == nil:
		kv(c.stdout, "Governance", "no verdict (governance is off, or no pass has seen the table yet)")
	default:
		kv(c.stdout, "Governance", g.ComplianceType+": "+g.Reason)
	}
}

// maxArgs accepts at most n positional arguments.
func maxArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageError(cmd, "too many arguments %q (%s); usage: %s", args, what, cmd.UseLine())
		}
		return nil
	}
}

// governanceOf returns the table's verdict, or nil when governance is off
// or no pass has seen it.
func governanceOf(ctx context.Context, ext *extClient, arn string) (*awsapi.ResourceCompliance, error) {
	var out awsapi.ComplianceOutput
	if err := ext.do(ctx, http.MethodGet, "/cairn/compliance", url.Values{"resourceName": {arn}}, nil, &out); err != nil {
		return nil, err
	}
	if len(out.Resources) == 0 {
		return nil, nil
	}
	return &out.Resources[0], nil
}
