package main

import (
	"context"
	"fmt"
	"strings"

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
		Long: `Start a restore job of RECOVERY_POINT_ARN (see cairn point list) into the new
table --table, which must not exist, and wait for it to end, showing its
progress on stderr. With --no-wait it returns once the job is created.

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
		out, err := c.client.StartRestoreJob(ctx, &bk.StartRestoreJobInput{RecoveryPointArn: aws.String(args[0]), Metadata: meta,
			IamRoleArn: aws.String(placeholderRole), ResourceType: aws.String("DynamoDB"), CopySourceTagsToRestoredResource: copyTags})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "started restore job %s\n", aws.ToString(out.RestoreJobId))
		if noWait {
			return nil
		}
		return c.waitRestore(ctx, aws.ToString(out.RestoreJobId))
	})
	return cmd
}

func (c *cli) waitRestore(ctx context.Context, id string) error {
	return c.wait(ctx, "restore", id, func(ctx context.Context) (jobLook, error) {
		j, err := c.client.DescribeRestoreJob(ctx, &bk.DescribeRestoreJobInput{RestoreJobId: aws.String(id)})
		if err != nil {
			return jobLook{}, err
		}
		ended := j.Status == types.RestoreJobStatusCompleted || j.Status == types.RestoreJobStatusFailed || j.Status == types.RestoreJobStatusAborted
		return jobLook{state: string(j.Status), percent: aws.ToString(j.PercentDone), bytes: -1,
			ended: ended, ok: j.Status == types.RestoreJobStatusCompleted, message: aws.ToString(j.StatusMessage),
			print: func() { c.printRestoreJob(j) }}, nil
	})
}

func (c *cli) printRestoreJob(j *bk.DescribeRestoreJobOutput) {
	kv(c.stdout, "Restore job", aws.ToString(j.RestoreJobId), "Status", string(j.Status),
		"Recovery point", aws.ToString(j.RecoveryPointArn), "Created table", aws.ToString(j.CreatedResourceArn),
		"Percent done", aws.ToString(j.PercentDone), "Validation", string(j.ValidationStatus),
		"Validation detail", aws.ToString(j.ValidationStatusMessage),
		"Created", when(j.CreationDate), "Completed", when(j.CompletionDate), "Message", aws.ToString(j.StatusMessage))
}

func (c *cli) restoreListCmd() *cobra.Command {
	var (
		status string
		limit  int
	)
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List restore jobs, newest first",
		Long:    "List restore jobs, newest first, optionally only those with a status.",
		Example: "  cairn restore list\n  cairn restore list --status FAILED",
		Args:    noArgs,
	}
	cmd.Flags().StringVar(&status, "status", "", "only jobs with this status (PENDING, RUNNING, COMPLETED, FAILED, ABORTED)")
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many jobs")
	cmd.RunE = c.runE(func(ctx context.Context, _ []string) error {
		if err := c.connect(); err != nil {
			return err
		}
		in := &bk.ListRestoreJobsInput{}
		if status != "" {
			in.ByStatus = types.RestoreJobStatus(strings.ToUpper(status))
		}
		t := newTable("JOB ID", "STATUS", "CREATED TABLE", "DONE", "VALIDATION", "CREATED", "MESSAGE")
		n := 0
		p := bk.NewListRestoreJobsPaginator(c.client, in)
		for p.HasMorePages() && n < limit {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, j := range page.RestoreJobs {
				if n == limit {
					break
				}
				n++
				t.row(aws.ToString(j.RestoreJobId), string(j.Status), backup.TableNameFromARN(aws.ToString(j.CreatedResourceArn)),
					aws.ToString(j.PercentDone)+"%", string(j.ValidationStatus), when(j.CreationDate), short(aws.ToString(j.StatusMessage), 60))
			}
		}
		return t.write(c.stdout)
	})
	return cmd
}

func (c *cli) restoreDescribeCmd() *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "describe JOB_ID",
		Short: "Describe a restore job",
		Long: `Show a restore job: its status, recovery point, the table it created, its
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
		if wait {
			return c.waitRestore(ctx, args[0])
		}
		j, err := c.client.DescribeRestoreJob(ctx, &bk.DescribeRestoreJobInput{RestoreJobId: aws.String(args[0])})
		if err != nil {
			return err
		}
		c.printRestoreJob(j)
		return nil
	})
	return cmd
}
