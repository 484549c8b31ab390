package main

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/spf13/cobra"

	"github.com/cairn-backup/cairn/internal/backup"
)

// restoreCmd is `cairn restore`: start, list and describe restore jobs.
func (c *cli) restoreCmd() *cobra.Command {
	cmd := c.clientGroup(groupCmd(&cobra.Command{
		Use:   "restore",
		Short: "Start, list and describe restore jobs",
		Long: `A restore job creates a new table from a recovery point: keys, indexes,
settings and every item, then checks the item count and a content checksum
against the point.`,
		Example: "  cairn restore start RECOVERY_POINT_ARN --table orders-copy\n  cairn restore list",
	}))
	cmd.AddCommand(c.restoreStartCmd(), c.restoreListCmd(), c.restoreDescribeCmd())
	return cmd
}

func (c *cli) restoreStartCmd() *cobra.Command {
	var (
		table, source             string
		copyTags, noWait, noCheck bool
	)
	cmd := &cobra.Command{
		Use:   "start RECOVERY_POINT_ARN --table NEW_TABLE",
		Short: "Restore a recovery point into a new table",
		Long: `Start a restore job of RECOVERY_POINT_ARN (or the point's id, or a unique
prefix of it, as cairn point list shows it) into the new table --table,
which must not exist, and wait for it to end, showing its progress on
stderr ("validating" while the restored table is checked). With --no-wait it returns once the job is created.

The job's status is printed at the end; a job that did not complete exits 3.`,
		Example: `  cairn restore start arn:aws:backup:us-east-1:000000000000:recovery-point:ID --table orders-copy
  cairn restore start RECOVERY_POINT_ARN --table orders-copy --copy-tags --source eu`,
		Args: exactArgs(1, "the RECOVERY_POINT_ARN"),
	}
	fs := cmd.Flags()
	fs.StringVar(&table, "table", "", "name of the NEW table to restore into (required; must not exist)")
	fs.BoolVar(&copyTags, "copy-tags", false, "give the new table the original table's tags")
	fs.StringVar(&source, "source", "", "configured DynamoDB source to restore into (default: where the table came from)")
	fs.BoolVar(&noWait, "no-wait", false, "return once the job is created")
	fs.BoolVar(&noCheck, "skip-validation", false, "do not re-read the restored table to check item count and checksum")
	cmd.RunE = c.runE(func(ctx context.Context, args []string) error {
		if table == "" {
			return usageError(cmd, "--table NEW_TABLE is required: cairn restores into a new table")
		}
		if err := c.connect(); err != nil {
			return err
		}
		meta := map[string]string{"TargetTableName": table}
		if source != "" {
			meta["cairn:TargetSource"] = source
		}
		if noCheck {
			meta["cairn:SkipValidation"] = "true"
		}
		arn := args[0]
		if !strings.HasPrefix(arn, "arn:") {
			var err error
			if arn, _, err = c.resolvePoint(ctx, arn, ""); err != nil {
				return err
			}
		}
		in := &bk.StartRestoreJobInput{RecoveryPointArn: aws.String(arn), Metadata: meta,
			IamRoleArn: aws.String(placeholderRole), ResourceType: aws.String("DynamoDB"), CopySourceTagsToRestoredResource: copyTags}
		var out *bk.StartRestoreJobOutput
		id, err := c.create(ctx, "restore", func(ctx context.Context) (string, error) {
			var err error
			if out, err = c.client.StartRestoreJob(ctx, in); err != nil {
				return "", err
			}
			return aws.ToString(out.RestoreJobId), nil
		})
		if err != nil {
			return err
		}
		if noWait && c.out.json() {
			return printJSON(c.stdout, out)
		}
		c.say("started restore job %s", id)
		if noWait {
			return nil
		}
		return c.waitRestore(ctx, id)
	})
	return cmd
}

func (c *cli) waitRestore(ctx context.Context, id string) error {
	return c.wait(ctx, "restore", id, func(ctx context.Context) (bool, string, string, error) {
		j, err := c.client.DescribeRestoreJob(ctx, &bk.DescribeRestoreJobInput{RestoreJobId: aws.String(id)})
		if err != nil {
			return false, "", "", err
		}
		if err := c.printRestoreJob(j); err != nil {
			return false, "", "", err
		}
		return j.Status == types.RestoreJobStatusCompleted, string(j.Status), aws.ToString(j.StatusMessage), nil
	})
}

func (c *cli) printRestoreJob(j *bk.DescribeRestoreJobOutput) error {
	if c.out.json() {
		return printJSON(c.stdout, j)
	}
	kv(c.stdout, "Restore job", aws.ToString(j.RestoreJobId), "Status", string(j.Status),
		"Recovery point", aws.ToString(j.RecoveryPointArn), "Created table", aws.ToString(j.CreatedResourceArn),
		"Percent done", aws.ToString(j.PercentDone), "Validation", string(j.ValidationStatus),
		"Validation detail", aws.ToString(j.ValidationStatusMessage),
		"Created", when(j.CreationDate), "Completed", when(j.CompletionDate), "Message", aws.ToString(j.StatusMessage))
	return nil
}

func (c *cli) restoreListCmd() *cobra.Command {
	var (
		status, since string
		limit         int
	)
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List restore jobs, newest first",
		Long:    "List restore jobs, newest first, optionally only those with a status or created since a time ago.",
		Example: "  cairn restore list\n  cairn restore list --status FAILED\n  cairn restore list --since 7d",
		Args:    noArgs,
	}
	cmd.Flags().StringVar(&status, "status", "", "only jobs with this status (PENDING, RUNNING, COMPLETED, FAILED, ABORTED)")
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many jobs")
	cmd.Flags().StringVar(&since, "since", "", sinceHelp)
	cmd.RunE = c.runE(func(ctx context.Context, _ []string) error {
		after, err := parseSince(cmd, since, time.Now())
		if err != nil {
			return err
		}
		if err := c.connect(); err != nil {
			return err
		}
		in := &bk.ListRestoreJobsInput{}
		if !after.IsZero() {
			in.ByCreatedAfter = aws.Time(after)
		}
		if status != "" {
			in.ByStatus = types.RestoreJobStatus(strings.ToUpper(status))
		}
		jobs := []types.RestoreJobsListMember{}
		p := bk.NewListRestoreJobsPaginator(c.client, in)
		for p.HasMorePages() && len(jobs) < limit {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			jobs = append(jobs, page.RestoreJobs...)
		}
		jobs = jobs[:min(len(jobs), limit)]
		if c.out.json() {
			return printJSON(c.stdout, map[string]any{"RestoreJobs": jobs})
		}
		return c.restoreJobsTable(jobs).write(c.stdout)
	})
	return cmd
}

// restoreJobsTable is cairn restore list's table; a job's message is a
// line under its row (a column with --wide).
func (c *cli) restoreJobsTable(jobs []types.RestoreJobsListMember) *table {
	if c.out.wide {
		t := newTable("JOB ID", "STATUS", "CREATED TABLE", "DONE", "VALIDATION", "CREATED", "COMPLETED", "RECOVERY POINT ARN", "MESSAGE")
		for _, j := range jobs {
			t.row(aws.ToString(j.RestoreJobId), string(j.Status), orDash(aws.ToString(j.CreatedResourceArn)),
				aws.ToString(j.PercentDone)+"%", orDash(string(j.ValidationStatus)), when(j.CreationDate), when(j.CompletionDate),
				aws.ToString(j.RecoveryPointArn), orDash(aws.ToString(j.StatusMessage)))
		}
		return t
	}
	t := newFitTable(c.width(), column{head: "JOB ID"}, column{head: "STATUS"}, column{head: "CREATED TABLE", flex: true, min: 13},
		column{head: "DONE"}, column{head: "VALIDATION"}, column{head: "CREATED"})
	for _, j := range jobs {
		t.row(c.shortID(aws.ToString(j.RestoreJobId)), string(j.Status), orDash(backup.TableNameFromARN(aws.ToString(j.CreatedResourceArn))),
			aws.ToString(j.PercentDone)+"%", orDash(string(j.ValidationStatus)), whenShort(j.CreationDate))
		t.note(aws.ToString(j.StatusMessage))
	}
	return t
}

func (c *cli) restoreDescribeCmd() *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "describe JOB_ID",
		Short: "Describe a restore job",
		Long: `Show a restore job (its id or a unique prefix): its status, recovery point, the table it created, its
validation and message. With --wait, wait for it to end, showing progress; a
job that did not complete then exits 3.`,
		Example: "  cairn restore describe 9b1e7c3a-0f4d-4e2b-8c6a-5d2f3e1a7b90 --wait",
		Args:    exactArgs(1, "the JOB_ID"),
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the job to end, showing progress")
	cmd.RunE = c.runE(func(ctx context.Context, args []string) error {
		if err := c.connect(); err != nil {
			return err
		}
		id, err := c.resolveRestoreJob(ctx, args[0])
		if err != nil {
			return err
		}
		if wait {
			return c.waitRestore(ctx, id)
		}
		j, err := c.client.DescribeRestoreJob(ctx, &bk.DescribeRestoreJobInput{RestoreJobId: aws.String(id)})
		if err != nil {
			return err
		}
		return c.printRestoreJob(j)
	})
	return cmd
}
