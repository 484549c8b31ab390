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

	"github.com/cairn-backup/cairn/internal/awsapi"
)

// plan runs `cairn plan list` and `cairn plan show ID`.
func (c *cli) plan(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return &exitError{2, fmt.Errorf("cairn plan needs a subcommand: list or show ID; see cairn help")}
	}
	switch args[0] {
	case "list":
		return explain(c.planList(ctx, args[1:]))
	case "show", "describe":
		return explain(c.planShow(ctx, args[1:]))
	}
	return &exitError{2, fmt.Errorf("unknown command %q; see cairn help", "cairn plan "+args[0])}
}

func (c *cli) planList(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("plan list")
	deleted := fs.Bool("deleted", false, "also list deleted plans")
	if _, err := parse(fs, args, 0, "[--deleted]"); err != nil {
		return err
	}
	if err := c.connect(*ep, *dd); err != nil {
		return err
	}
	t := newTable("NAME", "PLAN ID", "VERSION", "CREATED", "LAST RUN", "DELETED")
	p := bk.NewListBackupPlansPaginator(c.client, &bk.ListBackupPlansInput{IncludeDeleted: aws.Bool(*deleted)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, pl := range page.BackupPlansList {
			t.row(aws.ToString(pl.BackupPlanName), aws.ToString(pl.BackupPlanId), aws.ToString(pl.VersionId),
				when(pl.CreationDate), when(pl.LastExecutionDate), when(pl.DeletionDate))
		}
	}
	return t.write(c.stdout)
}

func (c *cli) planShow(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("plan show")
	runs := fs.Int("runs", 5, "how many upcoming scheduled runs to show (0 to 10)")
	version := fs.String("version", "", "show this version of the plan instead of the latest")
	pos, err := parse(fs, args, 1, "PLAN_ID [--runs N] [--version ID]")
	if err != nil {
		return err
	}
	if strings.TrimSpace(pos[0]) == "" {
		return &exitError{2, fmt.Errorf("plan show needs a plan id; see cairn plan list")}
	}
	if *runs < 0 || *runs > 10 {
		return &exitError{2, fmt.Errorf("--runs must be between 0 and 10, not %d", *runs)}
	}
	if err := c.connect(*ep, *dd); err != nil {
		return err
	}
	in := &bk.GetBackupPlanInput{BackupPlanId: aws.String(pos[0]), MaxScheduledRunsPreview: int32(*runs)}
	if *version != "" {
		in.VersionId = version
	}
	out, err := c.client.GetBackupPlan(ctx, in)
	if err != nil {
		return err
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
	ruleNames := map[string]string{}
	t := newTable("RULE", "VAULT", "SCHEDULE", "TIME ZONE", "START WITHIN", "COMPLETE WITHIN", "COLD AFTER", "DELETE AFTER", "COPIES")
	for _, r := range rules {
		ruleNames[aws.ToString(r.RuleId)] = aws.ToString(r.RuleName)
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
			minutes(r.StartWindowMinutes), minutes(r.CompletionWindowMinutes), cold, del, orDash(strings.Join(copies, ",")))
	}
	_ = t.write(c.stdout)

	if out.DeletionDate == nil {
		fmt.Fprintln(c.stdout, "\nSelections:")
		t = newTable("SELECTION", "SELECTION ID", "CREATED", "IAM ROLE")
		p := bk.NewListBackupSelectionsPaginator(c.client, &bk.ListBackupSelectionsInput{BackupPlanId: out.BackupPlanId})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, s := range page.BackupSelectionsList {
				t.row(aws.ToString(s.SelectionName), aws.ToString(s.SelectionId), when(s.CreationDate), aws.ToString(s.IamRoleArn))
			}
		}
		_ = t.write(c.stdout)
	}

	if *runs > 0 {
		fmt.Fprintln(c.stdout, "\nNext runs:")
		t = newTable("TIME", "RULE")
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

// explainCmd runs `cairn explain TABLE`: which plans, selections and rules
// back the table up, and why; or why none does.
func (c *cli) explainCmd(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("explain")
	pos, err := parse(fs, args, 1, "TABLE_NAME|TABLE_ARN")
	if err != nil {
		return err
	}
	ext, err := c.connectExt(*ep, *dd)
	if err != nil {
		return err
	}
	var e awsapi.Explanation
	if err := ext.do(ctx, http.MethodGet, "/cairn/explain", url.Values{"resourceArn": {c.tableARN(pos[0])}}, nil, &e); err != nil {
		return explain(err)
	}
	c.printExplanation(&e)
	return nil
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
	t := newTable("PLAN", "SELECTION", "COVERED", "WHY")
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
	t = newTable("PLAN", "RULE", "SCHEDULE", "TIME ZONE", "VAULT", "START WITHIN", "COMPLETE WITHIN")
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
