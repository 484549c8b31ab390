package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/spf13/cobra"
)

// backupCmd is `cairn backup`: start, list, describe and stop backup jobs.
func (c *cli) backupCmd() *cobra.Command {
	cmd := c.clientGroup(groupCmd(&cobra.Command{
		Use:   "backup",
		Short: "Start, list, describe and stop backup jobs",
		Long: `A backup job scans a DynamoDB table and writes a recovery point into a vault.
Jobs started here run at once; a plan's jobs are started by the server's
scheduler (see cairn plan).`,
		Example: "  cairn backup start orders\n  cairn backup list --state FAILED",
	}))
	cmd.AddCommand(c.backupStartCmd(), c.backupListCmd(), c.backupDescribeCmd(), c.backupStopCmd())
	return cmd
}

func (c *cli) backupStartCmd() *cobra.Command {
	var (
		vault    string
		segments int
		readRate float64
		noWait   bool
		compress string
	)
	cmd := &cobra.Command{
		Use:   "start TABLE",
		Short: "Back a table up now",
		Long: `Start a backup job of TABLE (a table name, or a table ARN for a table of
another region or account) into a vault, and wait for it to end, showing its
progress on stderr: items and bytes read, the rate, and the percentage and
an ETA when the source reports the table's size. With --no-wait it returns
once the job is created. Ctrl-C while the job is being created says whether
it was; Ctrl-C later stops waiting, not the job.

The job's state is printed at the end; a job that did not complete exits 3.`,
		Example: `  cairn backup start orders
  cairn backup start orders --vault offsite --segments 8 --read-rate 500
  cairn backup start orders --compression gzip
  cairn backup start arn:aws:dynamodb:eu-west-1:123456789012:table/orders --no-wait`,
		Args: exactArgs(1, "the TABLE to back up"),
	}
	fs := cmd.Flags()
	fs.StringVar(&vault, "vault", "Default", "backup vault")
	fs.IntVar(&segments, "segments", 0, "parallel scan segments (0: automatic)")
	fs.Float64Var(&readRate, "read-rate", 0, "cap on read capacity units per second (0: unlimited)")
	fs.BoolVar(&noWait, "no-wait", false, "return once the job is created")
	fs.StringVar(&compress, "compression", "", "data files' compression: zstd, gzip or none (default: the vault's, else the server's)")
	cmd.RunE = c.runE(func(ctx context.Context, args []string) error {
		if segments < 0 {
			return usageError(cmd, "--segments must be 0 (automatic) or more, not %d", segments)
		}
		if readRate < 0 {
			return usageError(cmd, "--read-rate must be 0 (unlimited) or more read capacity units per second, not %v", readRate)
		}
		if err := c.connect(); err != nil {
			return err
		}
		opts := map[string]string{}
		if segments > 0 {
			opts["Segments"] = strconv.Itoa(segments)
		}
		if readRate > 0 {
			opts["ReadRate"] = strconv.FormatFloat(readRate, 'f', -1, 64)
		}
		if compress != "" {
			opts["Compression"] = compress
		}
		in := &bk.StartBackupJobInput{BackupVaultName: aws.String(vault), ResourceArn: aws.String(c.tableARN(args[0])),
			IamRoleArn: aws.String(placeholderRole)}
		if len(opts) > 0 {
			in.BackupOptions = opts
		}
		var out *bk.StartBackupJobOutput
		id, err := c.create(ctx, "backup", func(ctx context.Context) (string, error) {
			var err error
			if out, err = c.client.StartBackupJob(ctx, in); err != nil {
				return "", err
			}
			return aws.ToString(out.BackupJobId), nil
		})
		if err != nil {
			return err
		}
		if noWait && c.out.json() {
			return printJSON(c.stdout, out)
		}
		c.say("started backup job %s", id)
		if noWait {
			return nil
		}
		return c.waitBackup(ctx, id)
	})
	return cmd
}

func (c *cli) waitBackup(ctx context.Context, id string) error {
	return c.wait(ctx, "backup", id, func(ctx context.Context) (bool, string, string, error) {
		j, err := c.client.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: aws.String(id)})
		if err != nil {
			return false, "", "", err
		}
		if err := c.printBackupJob(j); err != nil {
			return false, "", "", err
		}
		return j.State == types.BackupJobStateCompleted, string(j.State), aws.ToString(j.StatusMessage), nil
	})
}

func (c *cli) printBackupJob(j *bk.DescribeBackupJobOutput) error {
	if c.out.json() {
		return printJSON(c.stdout, j)
	}
	kv(c.stdout, "Backup job", aws.ToString(j.BackupJobId), "State", string(j.State),
		"Resource", aws.ToString(j.ResourceArn), "Resource type", aws.ToString(j.ResourceType),
		"Vault", aws.ToString(j.BackupVaultName), "Recovery point", aws.ToString(j.RecoveryPointArn),
		"Percent done", aws.ToString(j.PercentDone), "Read", humanBytes(aws.ToInt64(j.BytesTransferred)),
		"Stored", humanBytes(aws.ToInt64(j.BackupSizeInBytes)),
		"Created", when(j.CreationDate), "Completed", when(j.CompletionDate), "Message", aws.ToString(j.StatusMessage))
	return nil
}

func (c *cli) backupListCmd() *cobra.Command {
	var (
		state, vault, table, since string
		limit                      int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List backup jobs, newest first",
		Long:  "List backup jobs, newest first, optionally only those in a state, of a vault or of a table, or created since a time ago.",
		Example: `  cairn backup list
  cairn backup list --state FAILED --table orders
  cairn backup list --since 24h`,
		Args: noArgs,
	}
	fs := cmd.Flags()
	fs.StringVar(&state, "state", "", "only jobs in this state (CREATED, RUNNING, COMPLETED, FAILED, ABORTED, ...)")
	fs.StringVar(&vault, "vault", "", "only jobs of this vault")
	fs.StringVar(&table, "table", "", "only jobs of this table (name or ARN)")
	fs.IntVar(&limit, "limit", 50, "at most this many jobs")
	fs.StringVar(&since, "since", "", sinceHelp)
	cmd.RunE = c.runE(func(ctx context.Context, _ []string) error {
		after, err := parseSince(cmd, since, time.Now())
		if err != nil {
			return err
		}
		if err := c.connect(); err != nil {
			return err
		}
		in := &bk.ListBackupJobsInput{}
		if !after.IsZero() {
			in.ByCreatedAfter = aws.Time(after)
		}
		if state != "" {
			in.ByState = types.BackupJobState(strings.ToUpper(state))
		}
		if vault != "" {
			in.ByBackupVaultName = aws.String(vault)
		}
		if table != "" {
			in.ByResourceArn = aws.String(c.tableARN(table))
		}
		jobs := []types.BackupJob{}
		p := bk.NewListBackupJobsPaginator(c.client, in)
		for p.HasMorePages() && len(jobs) < limit {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			jobs = append(jobs, page.BackupJobs...)
		}
		jobs = jobs[:min(len(jobs), limit)]
		if c.out.json() {
			return printJSON(c.stdout, map[string]any{"BackupJobs": jobs})
		}
		return c.backupJobsTable(jobs).write(c.stdout)
	})
	return cmd
}

// backupJobsTable is cairn backup list's table. A job's message (a
// failure's reason) is a line of its own under the job's row, or with
// --wide a column.
func (c *cli) backupJobsTable(jobs []types.BackupJob) *table {
	if c.out.wide {
		t := newTable("JOB ID", "STATE", "TABLE", "VAULT", "DONE", "READ", "SIZE", "CREATED", "COMPLETED", "RECOVERY POINT ARN", "MESSAGE")
		for _, j := range jobs {
			t.row(aws.ToString(j.BackupJobId), string(j.State), aws.ToString(j.ResourceName), aws.ToString(j.BackupVaultName),
				aws.ToString(j.PercentDone)+"%", humanBytes(aws.ToInt64(j.BytesTransferred)), humanBytes(aws.ToInt64(j.BackupSizeInBytes)),
				when(j.CreationDate), when(j.CompletionDate), orDash(aws.ToString(j.RecoveryPointArn)), orDash(aws.ToString(j.StatusMessage)))
		}
		return t
	}
	t := newFitTable(c.width(), column{head: "JOB ID"}, column{head: "STATE"}, column{head: "TABLE", flex: true, min: 12},
		column{head: "VAULT", flex: true, min: 8}, column{head: "DONE"}, column{head: "SIZE"}, column{head: "CREATED"})
	for _, j := range jobs {
		t.row(c.shortID(aws.ToString(j.BackupJobId)), string(j.State), aws.ToString(j.ResourceName), aws.ToString(j.BackupVaultName),
			aws.ToString(j.PercentDone)+"%", humanBytes(aws.ToInt64(j.BackupSizeInBytes)), whenShort(j.CreationDate))
		t.note(aws.ToString(j.StatusMessage))
	}
	return t
}

func (c *cli) backupDescribeCmd() *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "describe JOB_ID",
		Short: "Describe a backup job",
		Long: `Show a backup job, given by its id or a unique prefix of it (the short id
cairn backup list shows): its state, table, vault, recovery point, progress and
message. With --wait, wait for it to end, showing progress; a job that did
not complete then exits 3.`,
		Example: "  cairn backup describe 3f0c2a4e-8d1b-4c55-9a7e-2b6d1f0e9c11 --wait",
		Args:    exactArgs(1, "the JOB_ID"),
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the job to end, showing progress")
	cmd.RunE = c.runE(func(ctx context.Context, args []string) error {
		if err := c.connect(); err != nil {
			return err
		}
		id, err := c.resolveBackupJob(ctx, args[0])
		if err != nil {
			return err
		}
		if wait {
			return c.waitBackup(ctx, id)
		}
		j, err := c.client.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: aws.String(id)})
		if err != nil {
			return err
		}
		return c.printBackupJob(j)
	})
	return cmd
}

func (c *cli) backupStopCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stop JOB_ID",
		Short: "Stop a running backup job",
		Long: `Ask the server to stop a backup job (its id or a unique prefix). It ends ABORTED and its partial data
is removed; no recovery point is kept.`,
		Example: "  cairn backup stop 3f0c2a4e-8d1b-4c55-9a7e-2b6d1f0e9c11",
		Args:    exactArgs(1, "the JOB_ID"),
	}
	cmd.RunE = c.runE(func(ctx context.Context, args []string) error {
		if err := c.connect(); err != nil {
			return err
		}
		id, err := c.resolveBackupJob(ctx, args[0])
		if err != nil {
			return err
		}
		if _, err := c.client.StopBackupJob(ctx, &bk.StopBackupJobInput{BackupJobId: aws.String(id)}); err != nil {
			return err
		}
		if c.out.json() {
			return printJSON(c.stdout, map[string]string{"BackupJobId": id})
		}
		fmt.Fprintf(c.stdout, "stopping backup job %s\n", id)
		return nil
	})
	return cmd
}
