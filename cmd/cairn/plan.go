package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/spf13/cobra"

	"github.com/cairn-backup/cairn/internal/awsapi"
)

// planCmd is `cairn plan`: list and show backup plans.
func (c *cli) planCmd() *cobra.Command {
	cmd := c.clientGroup(groupCmd(&cobra.Command{
		Use:   "plan",
		Short: "List and show backup plans with their next runs",
		Long: `A backup plan's rules say when tables are backed up, into which vault, and
how long points are kept; its selections say which tables. Plans are made
with the AWS CLI or SDKs (create-backup-plan) or with cairn apply.`,
		Example: "  cairn plan list\n  cairn plan show PLAN_ID --runs 5",
	}))
	cmd.AddCommand(c.planListCmd(), c.planShowCmd())
	return cmd
}

func (c *cli) planListCmd() *cobra.Command {
	var deleted bool
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List backup plans",
		Long:    "List the backup plans with their ids, versions and last runs; --deleted adds deleted plans.",
		Example: "  cairn plan list\n  cairn plan list --deleted",
		Args:    noArgs,
	}
	cmd.Flags().BoolVar(&deleted, "deleted", false, "also list deleted plans")
	cmd.RunE = c.runE(func(ctx context.Context, _ []string) error {
		if err := c.connect(); err != nil {
			return err
		}
		plans := []types.BackupPlansListMember{}
		p := bk.NewListBackupPlansPaginator(c.client, &bk.ListBackupPlansInput{IncludeDeleted: aws.Bool(deleted)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			plans = append(plans, page.BackupPlansList...)
		}
		if c.out.json() {
			return printJSON(c.stdout, map[string]any{"BackupPlansList": plans})
		}
		return c.planTable(plans, deleted).write(c.stdout)
	})
	return cmd
}

// planTable is cairn plan list's table.
func (c *cli) planTable(plans []types.BackupPlansListMember, deleted bool) *table {
	if c.out.wide {
		t := newTable("NAME", "PLAN ID", "VERSION", "CREATED", "LAST RUN", "DELETED")
		for _, pl := range plans {
			t.row(aws.ToString(pl.BackupPlanName), aws.ToString(pl.BackupPlanId), aws.ToString(pl.VersionId),
				when(pl.CreationDate), when(pl.LastExecutionDate), when(pl.DeletionDate))
		}
		return t
	}
	// With --deleted, DELETED takes CREATED's place so that the table fits.
	third := column{head: "CREATED"}
	if deleted {
		third = column{head: "DELETED"}
	}
	t := newFitTable(c.width(), column{head: "NAME", flex: true, min: 12}, column{head: "PLAN ID"}, third, column{head: "LAST RUN"})
	for _, pl := range plans {
		at := pl.CreationDate
		if deleted {
			at = pl.DeletionDate
		}
		t.row(aws.ToString(pl.BackupPlanName), aws.ToString(pl.BackupPlanId), whenShort(at), whenShort(pl.LastExecutionDate))
	}
	return t
}

func (c *cli) planShowCmd() *cobra.Command {
	var (
		runs    int
		version string
	)
	cmd := &cobra.Command{
		Use:     "show PLAN_ID|PLAN_NAME",
		Aliases: []string{"describe"},
		Short:   "Show a plan's rules, selections and next runs",
		Long: `Show a backup plan, given by its id or its name: its rules (schedule, time
zone, windows, lifecycle, copies), its selections and its next scheduled
runs. A name that several plans have is refused with their ids.`,
		Example: "  cairn plan show daily\n  cairn plan show 8a4f1e2c-1b3d-4c5e-9f7a-0b2c4d6e8f10 --runs 3",
		Args:    exactArgs(1, "the PLAN_ID or PLAN_NAME"),
	}
	cmd.Flags().IntVar(&runs, "runs", 5, "how many upcoming scheduled runs to show (0 to 10)")
	cmd.Flags().StringVar(&version, "version", "", "show this version of the plan instead of the latest")
	cmd.RunE = c.runE(func(ctx context.Context, args []string) error {
		if strings.TrimSpace(args[0]) == "" {
			return usageError(cmd, "plan show needs a plan id; see cairn plan list")
		}
		if runs < 0 || runs > 10 {
			return usageError(cmd, "--runs must be between 0 and 10, not %d", runs)
		}
		return c.planShow(ctx, args[0], runs, version)
	})
	return cmd
}

func (c *cli) planShow(ctx context.Context, id string, runs int, version string) error {
	if err := c.connect(); err != nil {
		return err
	}
	id, err := c.resolvePlan(ctx, id)
	if err != nil {
		return err
	}
	in := &bk.GetBackupPlanInput{BackupPlanId: aws.String(id), MaxScheduledRunsPreview: int32(runs)}
	if version != "" {
		in.VersionId = aws.String(version)
	}
	out, err := c.client.GetBackupPlan(ctx, in)
	if err != nil {
		return err
	}
	selections := []types.BackupSelectionsListMember{}
	if out.DeletionDate == nil {
		p := bk.NewListBackupSelectionsPaginator(c.client, &bk.ListBackupSelectionsInput{BackupPlanId: out.BackupPlanId})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			selections = append(selections, page.BackupSelectionsList...)
		}
	}
	if c.out.json() {
		return printJSON(c.stdout, struct {
			*bk.GetBackupPlanOutput
			BackupSelectionsList []types.BackupSelectionsListMember
		}{out, selections})
	}
	name := ""
	var rules []types.BackupRule
	if out.BackupPlan != nil {
		name, rules = aws.ToString(out.BackupPlan.BackupPlanName), out.BackupPlan.Rules
	}
	kv(c.stdout, "Plan", name, "Plan ID", aws.ToString(out.BackupPlanId), "ARN", aws.ToString(out.BackupPlanArn),
		"Version", aws.ToString(out.VersionId), "Created", when(out.CreationDate), "Last run", when(out.LastExecutionDate),
		"Deleted", when(out.DeletionDate))

	fmt.Fprintln(c.stdout, "\nRules:")
	_ = c.rulesTable(rules).write(c.stdout)

	if out.DeletionDate == nil {
		fmt.Fprintln(c.stdout, "\nSelections:")
		var t *table
		if c.out.wide {
			t = newTable("SELECTION", "SELECTION ID", "CREATED", "IAM ROLE")
		} else {
			t = newFitTable(c.width(), column{head: "SELECTION", flex: true, min: 12}, column{head: "SELECTION ID"}, column{head: "CREATED"})
		}
		for _, s := range selections {
			t.row(aws.ToString(s.SelectionName), aws.ToString(s.SelectionId), when(s.CreationDate), aws.ToString(s.IamRoleArn))
		}
		_ = t.write(c.stdout)
	}

	if runs > 0 {
		ruleNames := map[string]string{}
		for _, r := range rules {
			ruleNames[aws.ToString(r.RuleId)] = aws.ToString(r.RuleName)
		}
		fmt.Fprintln(c.stdout, "\nNext runs:")
		t := newFitTable(c.width(), column{head: "TIME"}, column{head: "RULE", flex: true, min: 12})
		for _, r := range out.ScheduledRunsPreview {
			rule := ruleNames[aws.ToString(r.RuleId)]
			if rule == "" {
				rule = aws.ToString(r.RuleId)
			}
			t.row(when(r.ExecutionTime), rule)
		}
		_ = t.write(c.stdout)
	}
	return nil
}

// rulesTable is the rules of cairn plan show. WINDOWS are the start and
// completion windows, COLD/DELETE the lifecycle's days.
func (c *cli) rulesTable(rules []types.BackupRule) *table {
	t := newFitTable(c.width(), column{head: "RULE", flex: true, min: 12}, column{head: "VAULT", flex: true, min: 10},
		column{head: "SCHEDULE"}, column{head: "ZONE", flex: true, min: 10, text: true}, column{head: "WINDOWS"},
		column{head: "COLD/DELETE"}, column{head: "COPIES", flex: true, min: 8})
	for _, r := range rules {
		cold, del := "-", "-"
		if r.Lifecycle != nil {
			cold, del = days(r.Lifecycle.MoveToColdStorageAfterDays), days(r.Lifecycle.DeleteAfterDays)
		}
		var copies []string
		for _, ca := range r.CopyActions {
			copies = append(copies, vaultFromARN(aws.ToString(ca.DestinationBackupVaultArn)))
		}
		tz := aws.ToString(r.ScheduleExpressionTimezone)
		if tz == "" {
			tz = "UTC"
		}
		t.row(aws.ToString(r.RuleName), aws.ToString(r.TargetBackupVaultName), aws.ToString(r.ScheduleExpression), tz,
			minutes(r.StartWindowMinutes)+"/"+minutes(r.CompletionWindowMinutes), cold+"/"+del, orDash(strings.Join(copies, ",")))
	}
	return t
}

func days(n *int64) string {
	if n == nil || *n == 0 {
		return "-"
	}
	return strconv.FormatInt(*n, 10) + "d"
}

func minutes(n *int64) string {
	if n == nil || *n == 0 {
		return "-"
	}
	return strconv.FormatInt(*n, 10) + "m"
}

func vaultFromARN(arn string) string {
	if i := strings.LastIndex(arn, ":backup-vault:"); i >= 0 {
		return arn[i+len(":backup-vault:"):]
	}
	return arn
}

// explainCmd is `cairn explain TABLE`: which plans, selections and rules
// back the table up, and why; or why none does.
func (c *cli) explainCmd() *cobra.Command {
	cmd := c.clientGroup(&cobra.Command{
		Use:   "explain TABLE",
		Short: "Say which plans back a table up, and why",
		Long: `Say whether TABLE (a name or a table ARN) is backed up by a plan: every
selection with whether it matches the table and why (ARN, tag conditions),
then the rules of the selections that match, and the table's governance
verdict (see cairn compliance).`,
		Example: "  cairn explain orders\n  cairn explain arn:aws:dynamodb:us-east-1:000000000000:table/orders",
		Args:    exactArgs(1, "the TABLE"),
	})
	cmd.RunE = c.runE(func(ctx context.Context, args []string) error {
		ext, err := c.connectExt()
		if err != nil {
			return err
		}
		var e awsapi.Explanation
		if err := ext.do(ctx, http.MethodGet, "/cairn/explain", url.Values{"resourceArn": {c.tableARN(args[0])}}, nil, &e); err != nil {
			return err
		}
		g, gerr := governanceOf(ctx, ext, c.tableARN(args[0]))
		if c.out.json() {
			return printJSON(c.stdout, struct {
				awsapi.Explanation
				Governance *awsapi.ResourceCompliance `json:"Governance,omitempty"`
			}{e, g})
		}
		c.printExplanation(&e)
		fmt.Fprintln(c.stdout)
		c.printGovernance(g, gerr)
		return nil
	})
	return cmd
}

func (c *cli) printExplanation(e *awsapi.Explanation) {
	var tags []string
	for k, v := range e.Tags {
		tags = append(tags, k+"="+v)
	}
	sort.Strings(tags)
	covering := 0
	for _, v := range e.Verdicts {
		if v.Covered {
			covering++
		}
	}
	verdict := "no"
	switch {
	case e.Covered:
		verdict = fmt.Sprintf("yes, by %d of %d selections", covering, len(e.Verdicts))
	case len(e.Verdicts) == 0:
		verdict = "no: no backup plan has a selection"
	default:
		verdict = fmt.Sprintf("no: none of %d selections matches", len(e.Verdicts))
	}
	kv(c.stdout, "Resource", e.ResourceArn, "Type", e.ResourceType, "Name", e.ResourceName,
		"Tags", orDash(strings.Join(tags, ", ")), "Backed up", verdict)
	if len(e.Verdicts) == 0 {
		return
	}
	fmt.Fprintln(c.stdout)
	t := newFitTable(c.width(), column{head: "PLAN", flex: true, min: 12}, column{head: "SELECTION", flex: true, min: 12},
		column{head: "COVERED"}, column{head: "WHY", flex: true, min: 20, text: true})
	for _, v := range e.Verdicts {
		yes := "no"
		if v.Covered {
			yes = "yes"
		}
		t.row(v.BackupPlanName, v.SelectionName, yes, v.Reason)
	}
	_ = t.write(c.stdout)
	if !e.Covered {
		return
	}
	fmt.Fprintln(c.stdout, "\nRules that back it up:")
	t = newFitTable(c.width(), column{head: "PLAN", flex: true, min: 12}, column{head: "RULE", flex: true, min: 10},
		column{head: "SCHEDULE"}, column{head: "ZONE", flex: true, min: 4, text: true}, column{head: "VAULT", flex: true, min: 8},
		column{head: "START"}, column{head: "COMPLETE"})
	for _, v := range e.Verdicts {
		if !v.Covered {
			continue
		}
		for _, r := range v.Rules {
			tz := r.ScheduleExpressionTimezone
			if tz == "" {
				tz = "UTC"
			}
			t.row(v.BackupPlanName, r.RuleName, r.ScheduleExpression, tz, r.TargetBackupVaultName,
				minutes(&r.StartWindowMinutes), minutes(&r.CompletionWindowMinutes))
		}
	}
	_ = t.write(c.stdout)
}
