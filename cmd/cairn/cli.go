package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-backup/cairn/internal/backup"
)

// DefaultEndpoint is where the CLI looks for the server without
// CAIRN_ENDPOINT or --endpoint.
const DefaultEndpoint = "http://127.0.0.1:7171"

// placeholderRole is sent where AWS Backup requires an IAM role; cairn does
// not use IAM.
const placeholderRole = "arn:aws:iam::000000000000:role/cairn"

type cli struct {
	stdout, stderr io.Writer
	client         *bk.Client
	region         string
	account        string
	poll           time.Duration
}

// flags returns a FlagSet with the connection flags every client command has.
func (c *cli) flags(name string) (*flag.FlagSet, *string, *string) {
	fs := flag.NewFlagSet("cairn "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	endpoint := fs.String("endpoint", envOr("CAIRN_ENDPOINT", DefaultEndpoint), "cairn server URL ($CAIRN_ENDPOINT)")
	dataDir := fs.String("data-dir", defaultDataDir(), "where to find the server's key pair if CAIRN_ACCESS_KEY_ID is unset ($CAIRN_DATA_DIR)")
	return fs, endpoint, dataDir
}

func (c *cli) connect(endpoint, dataDir string) error {
	k, err := clientKeys(dataDir)
	if err != nil {
		return err
	}
	c.region = envOr("AWS_REGION", "us-east-1")
	c.account = envOr("CAIRN_TABLE_ACCOUNT_ID", "000000000000")
	c.client = bk.New(bk.Options{
		Region:       c.region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, ""),
	})
	if c.poll == 0 {
		c.poll = 500 * time.Millisecond
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func (c *cli) run(ctx context.Context, noun string, args []string) error {
	if len(args) == 0 {
		return &exitError{2, fmt.Errorf("cairn %s needs a subcommand; see cairn help", noun)}
	}
	verb, args := args[0], args[1:]
	cmds := map[string]func(context.Context, []string) error{
		"vault describe": c.vaultDescribe, "vault create": c.vaultCreate, "vault list": c.vaultList, "vault delete": c.vaultDelete,
		"backup start": c.backupStart, "backup list": c.backupList, "backup describe": c.backupDescribe, "backup stop": c.backupStop,
		"restore start": c.restoreStart, "restore list": c.restoreList, "restore describe": c.restoreDescribe,
		"point list": c.pointList, "point describe": c.pointDescribe, "point delete": c.pointDelete,
	}
	fn, ok := cmds[noun+" "+verb]
	if !ok {
		return &exitError{2, fmt.Errorf("unknown command %q; see cairn help", "cairn "+noun+" "+verb)}
	}
	return explain(fn(ctx, args))
}

// explain turns API errors into one line that says what happened.
func explain(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := fmt.Sprintf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
		if ae.ErrorCode() == "UnrecognizedClientException" || ae.ErrorCode() == "InvalidSignatureException" {
			msg += " (check CAIRN_ACCESS_KEY_ID/CAIRN_SECRET_ACCESS_KEY or CAIRN_DATA_DIR)"
		}
		return errors.New(msg)
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) && strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("cannot reach the cairn server: %v (is `cairn server` running? set CAIRN_ENDPOINT)", oe.Err)
	}
	return err
}

// parse parses flags that may come before or after positional arguments and
// checks the number of positional arguments.
func parse(fs *flag.FlagSet, args []string, npos int, what string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, &exitError{2, err} // a usage error, like a wrong argument count
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != npos {
		return nil, &exitError{2, fmt.Errorf("usage: %s %s", fs.Name(), what)}
	}
	return pos, nil
}

// Vaults.

func (c *cli) vaultCreate(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("vault create")
	storage := fs.String("storage", "", "where the vault keeps its data: s3://BUCKET/PREFIX or an absolute path (default: the server's data dir)")
	endpoint := fs.String("s3-endpoint", "", "S3-compatible endpoint URL for s3:// storage (default AWS S3)")
	region := fs.String("s3-region", "", "region of the S3 bucket")
	pos, err := parse(fs, args, 1, "NAME [--storage s3://BUCKET/PREFIX] [--s3-endpoint URL]")
	if err != nil {
		return err
	}
	if err := c.connect(*ep, *dd); err != nil {
		return err
	}
	tags := map[string]string{}
	for k, v := range map[string]string{backup.TagStorage: *storage, backup.TagS3Endpoint: *endpoint, backup.TagS3Region: *region} {
		if v != "" {
			tags[k] = v
		}
	}
	out, err := c.client.CreateBackupVault(ctx, &bk.CreateBackupVaultInput{BackupVaultName: aws.String(pos[0]), BackupVaultTags: tags})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "created vault %s (%s)\n", aws.ToString(out.BackupVaultName), aws.ToString(out.BackupVaultArn))
	return nil
}

func (c *cli) vaultList(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("vault list")
	if _, err := parse(fs, args, 0, ""); err != nil {
		return err
	}
	if err := c.connect(*ep, *dd); err != nil {
		return err
	}
	t := newTable("NAME", "RECOVERY POINTS", "CREATED", "ARN")
	p := bk.NewListBackupVaultsPaginator(c.client, &bk.ListBackupVaultsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, v := range page.BackupVaultList {
			t.row(aws.ToString(v.BackupVaultName), strconv.FormatInt(v.NumberOfRecoveryPoints, 10), when(v.CreationDate), aws.ToString(v.BackupVaultArn))
		}
	}
	return t.write(c.stdout)
}

func (c *cli) vaultDescribe(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("vault describe")
	pos, err := parse(fs, args, 1, "NAME")
	if err != nil {
		return err
	}
	if err := c.connect(*ep, *dd); err != nil {
		return err
	}
	v, err := c.client.DescribeBackupVault(ctx, &bk.DescribeBackupVaultInput{BackupVaultName: aws.String(pos[0])})
	if err != nil {
		return err
	}
	kv(c.stdout, "Name", aws.ToString(v.BackupVaultName), "ARN", aws.ToString(v.BackupVaultArn),
		"Recovery points", strconv.FormatInt(v.NumberOfRecoveryPoints, 10), "Created", when(v.CreationDate))
	return nil
}

func (c *cli) vaultDelete(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("vault delete")
	pos, err := parse(fs, args, 1, "NAME")
	if err != nil {
		return err
	}
	if err := c.connect(*ep, *dd); err != nil {
		return err
	}
	if _, err := c.client.DeleteBackupVault(ctx, &bk.DeleteBackupVaultInput{BackupVaultName: aws.String(pos[0])}); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "deleted vault %s\n", pos[0])
	return nil
}

// Backup jobs.

// tableARN accepts a table name or ARN.
func (c *cli) tableARN(s string) string {
	if strings.HasPrefix(s, "arn:") {
		return s
	}
	return backup.TableARN(c.region, c.account, s)
}

func (c *cli) backupStart(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("backup start")
	vault := fs.String("vault", "Default", "backup vault")
	segments := fs.Int("segments", 0, "parallel scan segments (0: automatic)")
	readRate := fs.Float64("read-rate", 0, "cap on read capacity units per second (0: unlimited)")
	noWait := fs.Bool("no-wait", false, "return once the job is created")
	pos, err := parse(fs, args, 1, "TABLE_NAME|TABLE_ARN [--vault NAME]")
	if err != nil {
		return err
	}
	if err := c.connect(*ep, *dd); err != nil {
		return err
	}
	opts := map[string]string{}
	if *segments > 0 {
		opts["Segments"] = strconv.Itoa(*segments)
	}
	if *readRate > 0 {
		opts["ReadRate"] = strconv.FormatFloat(*readRate, 'f', -1, 64)
	}
	in := &bk.StartBackupJobInput{BackupVaultName: aws.String(*vault), ResourceArn: aws.String(c.tableARN(pos[0])),
		IamRoleArn: aws.String(placeholderRole)}
	if len(opts) > 0 {
		in.BackupOptions = opts
	}
	out, err := c.client.StartBackupJob(ctx, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "started backup job %s\n", aws.ToString(out.BackupJobId))
	if *noWait {
		return nil
	}
	return c.waitBackup(ctx, aws.ToString(out.BackupJobId))
}

func (c *cli) waitBackup(ctx context.Context, id string) error {
	return c.wait(ctx, "backup", id, func(ctx context.Context) (jobLook, error) {
		j, err := c.client.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: aws.String(id)})
		if err != nil {
			return jobLook{}, err
		}
		ended := j.State == types.BackupJobStateCompleted || j.State == types.BackupJobStateFailed ||
			j.State == types.BackupJobStateAborted || j.State == types.BackupJobStateExpired || j.State == types.BackupJobStatePartial
		return jobLook{state: string(j.State), percent: aws.ToString(j.PercentDone), bytes: aws.ToInt64(j.BytesTransferred),
			ended: ended, ok: j.State == types.BackupJobStateCompleted, message: aws.ToString(j.StatusMessage),
			print: func() { c.printBackupJob(j) }}, nil
	})
}

// jobLook is one look at a job while waiting for it.
type jobLook struct {
	state, percent string
	bytes          int64 // bytes read so far; -1 if not known
	ended, ok      bool
	message        string
	print          func()
}

// wait polls look until the job ends, showing a progress line on stderr,
// then prints the job. A job that did not complete exits 3.
func (c *cli) wait(ctx context.Context, kind, id string, look func(context.Context) (jobLook, error)) error {
	pr := newProgress(c.stderr)
	for {
		l, err := look(ctx)
		if err != nil {
			pr.done()
			return err
		}
		if l.ended {
			pr.done()
			l.print()
			if !l.ok {
				return &exitError{3, fmt.Errorf("%s job %s ended %s: %s", kind, id, l.state, l.message)}
			}
			return nil
		}
		pr.show(l.state, l.percent, l.bytes, "read")
		select {
		case <-ctx.Done():
			pr.done()
			fmt.Fprintf(c.stderr, "stopped waiting; the job goes on: cairn %s describe %s\n", kind, id)
			return ctx.Err()
		case <-time.After(c.poll):
		}
	}
}

func (c *cli) printBackupJob(j *bk.DescribeBackupJobOutput) {
	kv(c.stdout, "Backup job", aws.ToString(j.BackupJobId), "State", string(j.State),
		"Resource", aws.ToString(j.ResourceArn), "Resource type", aws.ToString(j.ResourceType),
		"Vault", aws.ToString(j.BackupVaultName), "Recovery point", aws.ToString(j.RecoveryPointArn),
		"Percent done", aws.ToString(j.PercentDone), "Read", humanBytes(aws.ToInt64(j.BytesTransferred)),
		"Stored", humanBytes(aws.ToInt64(j.BackupSizeInBytes)),
		"Created", when(j.CreationDate), "Completed", when(j.CompletionDate), "Message", aws.ToString(j.StatusMessage))
}

func (c *cli) backupList(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("backup list")
	state := fs.String("state", "", "only jobs in this state (CREATED, RUNNING, COMPLETED, FAILED, ABORTED, ...)")
	vault := fs.String("vault", "", "only jobs of this vault")
	table := fs.String("table", "", "only jobs of this table (name or ARN)")
	limit := fs.Int("limit", 50, "at most this many jobs")
	if _, err := parse(fs, args, 0, "[--state S] [--vault V] [--table T]"); err != nil {
		return err
	}
	if err := c.connect(*ep, *dd); err != nil {
		return err
	}
	in := &bk.ListBackupJobsInput{}
	if *state != "" {
		in.ByState = types.BackupJobState(strings.ToUpper(*state))
	}
	if *vault != "" {
		in.ByBackupVaultName = vault
	}
	if *table != "" {
		in.ByResourceArn = aws.String(c.tableARN(*table))
	}
	t := newTable("JOB ID", "STATE", "TABLE", "VAULT", "DONE", "SIZE", "CREATED", "MESSAGE")
	n := 0
	p := bk.NewListBackupJobsPaginator(c.client, in)
	for p.HasMorePages() && n < *limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, j := range page.BackupJobs {
			if n == *limit {
				break
			}
			n++
			t.row(aws.ToString(j.BackupJobId), string(j.State), aws.ToString(j.ResourceName), aws.ToString(j.BackupVaultName),
				aws.ToString(j.PercentDone)+"%", humanBytes(aws.ToInt64(j.BackupSizeInBytes)), when(j.CreationDate), short(aws.ToString(j.StatusMessage), 60))
		}
	}
	return t.write(c.stdout)
}

func (c *cli) backupDescribe(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("backup describe")
	wait := fs.Bool("wait", false, "wait for the job to end, showing progress")
	pos, err := parse(fs, args, 1, "JOB_ID [--wait]")
	if err != nil {
		return err
	}
	if err := c.connect(*ep, *dd); err != nil {
		return err
	}
	if *wait {
		return c.waitBackup(ctx, pos[0])
	}
	j, err := c.client.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: aws.String(pos[0])})
	if err != nil {
		return err
	}
	c.printBackupJob(j)
	return nil
}

func (c *cli) backupStop(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("backup stop")
	pos, err := parse(fs, args, 1, "JOB_ID")
	if err != nil {
		return err
	}
	if err := c.connect(*ep, *dd); err != nil {
		return err
	}
	if _, err := c.client.StopBackupJob(ctx, &bk.StopBackupJobInput{BackupJobId: aws.String(pos[0])}); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "stopping backup job %s\n", pos[0])
	return nil
}

// Restore jobs.

func (c *cli) restoreStart(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("restore start")
	table := fs.String("table", "", "name of the NEW table to restore into (required; must not exist)")
	copyTags := fs.Bool("copy-tags", false, "give the new table the original table's tags")
	source := fs.String("source", "", "configured DynamoDB source to restore into (default: where the table came from)")
	noWait := fs.Bool("no-wait", false, "return once the job is created")
	skipValidation := fs.Bool("skip-validation", false, "do not re-read the restored table to check item count and checksum")
	pos, err := parse(fs, args, 1, "RECOVERY_POINT_ARN --table NEW_TABLE")
	if err != nil {
		return err
	}
	if *table == "" {
		return &exitError{2, errors.New("--table NEW_TABLE is required: cairn restores into a new table")}
	}
	if err := c.connect(*ep, *dd); err != nil {
		return err
	}
	meta := map[string]string{"TargetTableName": *table}
	if *source != "" {
		meta["cairn:TargetSource"] = *source
	}
	if *skipValidation {
		meta["cairn:SkipValidation"] = "true"
	}
	out, err := c.client.StartRestoreJob(ctx, &bk.StartRestoreJobInput{RecoveryPointArn: aws.String(pos[0]), Metadata: meta,
		IamRoleArn: aws.String(placeholderRole), ResourceType: aws.String("DynamoDB"), CopySourceTagsToRestoredResource: *copyTags})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "started restore job %s\n", aws.ToString(out.RestoreJobId))
	if *noWait {
		return nil
	}
	return c.waitRestore(ctx, aws.ToString(out.RestoreJobId))
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

func (c *cli) restoreList(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("restore list")
	status := fs.String("status", "", "only jobs with this status")
	limit := fs.Int("limit", 50, "at most this many jobs")
	if _, err := parse(fs, args, 0, "[--status S]"); err != nil {
		return err
	}
	if err := c.connect(*ep, *dd); err != nil {
		return err
	}
	in := &bk.ListRestoreJobsInput{}
	if *status != "" {
		in.ByStatus = types.RestoreJobStatus(strings.ToUpper(*status))
	}
	t := newTable("JOB ID", "STATUS", "CREATED TABLE", "DONE", "VALIDATION", "CREATED", "MESSAGE")
	n := 0
	p := bk.NewListRestoreJobsPaginator(c.client, in)
	for p.HasMorePages() && n < *limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, j := range page.RestoreJobs {
			if n == *limit {
				break
			}
			n++
			t.row(aws.ToString(j.RestoreJobId), string(j.Status), backup.TableNameFromARN(aws.ToString(j.CreatedResourceArn)),
				aws.ToString(j.PercentDone)+"%", string(j.ValidationStatus), when(j.CreationDate), short(aws.ToString(j.StatusMessage), 60))
		}
	}
	return t.write(c.stdout)
}

func (c *cli) restoreDescribe(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("restore describe")
	wait := fs.Bool("wait", false, "wait for the job to end, showing progress")
	pos, err := parse(fs, args, 1, "JOB_ID [--wait]")
	if err != nil {
		return err
	}
	if err := c.connect(*ep, *dd); err != nil {
		return err
	}
	if *wait {
		return c.waitRestore(ctx, pos[0])
	}
	j, err := c.client.DescribeRestoreJob(ctx, &bk.DescribeRestoreJobInput{RestoreJobId: aws.String(pos[0])})
	if err != nil {
		return err
	}
	c.printRestoreJob(j)
	return nil
}

// Recovery points.

func (c *cli) pointList(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("point list")
	vault := fs.String("vault", "Default", "vault to list")
	table := fs.String("table", "", "only points of this table (name or ARN); lists across vaults")
	if _, err := parse(fs, args, 0, "[--vault NAME] [--table TABLE]"); err != nil {
		return err
	}
	if err := c.connect(*ep, *dd); err != nil {
		return err
	}
	t := newTable("RECOVERY POINT ARN", "STATUS", "TABLE", "VAULT", "SIZE", "CREATED")
	if *table != "" {
		p := bk.NewListRecoveryPointsByResourcePaginator(c.client, &bk.ListRecoveryPointsByResourceInput{ResourceArn: aws.String(c.tableARN(*table))})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, rp := range page.RecoveryPoints {
				t.row(aws.ToString(rp.RecoveryPointArn), string(rp.Status), backup.TableNameFromARN(c.tableARN(*table)),
					aws.ToString(rp.BackupVaultName), humanBytes(aws.ToInt64(rp.BackupSizeBytes)), when(rp.CreationDate))
			}
		}
		return t.write(c.stdout)
	}
	p := bk.NewListRecoveryPointsByBackupVaultPaginator(c.client, &bk.ListRecoveryPointsByBackupVaultInput{BackupVaultName: vault})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, rp := range page.RecoveryPoints {
			t.row(aws.ToString(rp.RecoveryPointArn), string(rp.Status), aws.ToString(rp.ResourceName),
				aws.ToString(rp.BackupVaultName), humanBytes(aws.ToInt64(rp.BackupSizeInBytes)), when(rp.CreationDate))
		}
	}
	return t.write(c.stdout)
}

func (c *cli) pointDescribe(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("point describe")
	vault := fs.String("vault", "Default", "vault of the recovery point")
	pos, err := parse(fs, args, 1, "RECOVERY_POINT_ARN [--vault NAME]")
	if err != nil {
		return err
	}
	if err := c.connect(*ep, *dd); err != nil {
		return err
	}
	rp, err := c.client.DescribeRecoveryPoint(ctx, &bk.DescribeRecoveryPointInput{BackupVaultName: vault, RecoveryPointArn: aws.String(pos[0])})
	if err != nil {
		return err
	}
	kv(c.stdout, "Recovery point", aws.ToString(rp.RecoveryPointArn), "Status", string(rp.Status),
		"Resource", aws.ToString(rp.ResourceArn), "Vault", aws.ToString(rp.BackupVaultName),
		"Storage class", string(rp.StorageClass), "Size", humanBytes(aws.ToInt64(rp.BackupSizeInBytes)),
		"Created", when(rp.CreationDate), "Completed", when(rp.CompletionDate), "Message", aws.ToString(rp.StatusMessage))
	return nil
}

func (c *cli) pointDelete(ctx context.Context, args []string) error {
	fs, ep, dd := c.flags("point delete")
	vault := fs.String("vault", "Default", "vault of the recovery point")
	pos, err := parse(fs, args, 1, "RECOVERY_POINT_ARN [--vault NAME]")
	if err != nil {
		return err
	}
	if err := c.connect(*ep, *dd); err != nil {
		return err
	}
	if _, err := c.client.DeleteRecoveryPoint(ctx, &bk.DeleteRecoveryPointInput{BackupVaultName: vault, RecoveryPointArn: aws.String(pos[0])}); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "deleted recovery point %s\n", pos[0])
	return nil
}
