package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/spf13/cobra"

	"github.com/cairn-backup/cairn/internal/backup"
)

// vaultCmd is `cairn vault`: create, list, describe and delete vaults.
func (c *cli) vaultCmd() *cobra.Command {
	cmd := c.clientGroup(groupCmd(&cobra.Command{
		Use:   "vault",
		Short: "Create, list, describe and delete backup vaults",
		Long: `A backup vault holds recovery points. The vault named Default lives in the
server's data dir and is created at first start; others can live in another
directory or in an S3-compatible bucket.`,
		Example: "  cairn vault list\n  cairn vault create offsite --storage s3://backups/cairn --s3-endpoint local-s3",
	}))
	cmd.AddCommand(c.vaultCreateCmd(), c.vaultListCmd(), c.vaultDescribeCmd(), c.vaultDeleteCmd(), c.vaultVerifyCmd())
	return cmd
}

func (c *cli) vaultCreateCmd() *cobra.Command {
	var storage, endpoint, region, compression string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a backup vault",
		Long: `Create a backup vault named NAME (letters, digits, - and _).

Without --storage the vault lives in the server's data dir. --storage puts it
in an absolute directory or an S3 bucket (s3://BUCKET/PREFIX, with
--s3-endpoint naming one of the S3 endpoints of the server's config); the
bucket is created if missing. Only places the server's operator allows
(storage: in its config file) are accepted, and never one that overlaps
another vault's.`,
		Example: `  cairn vault create nightly
  cairn vault create exports --compression gzip
  cairn vault create offsite --storage s3://backups/cairn --s3-endpoint local-s3`,
		Args: exactArgs(1, "the vault's NAME"),
	}
	fs := cmd.Flags()
	fs.StringVar(&storage, "storage", "", "where the vault keeps its data: s3://BUCKET/PREFIX or an absolute path the server allows (default: the server's data dir)")
	fs.StringVar(&endpoint, "s3-endpoint", "", "name (or URL) of an S3 endpoint the server's config allows, for s3:// storage (default: its only one)")
	fs.StringVar(&region, "s3-region", "", "region of the S3 bucket")
	fs.StringVar(&compression, "compression", "", "its recovery points' data files' compression: zstd, gzip (as DynamoDB's exports) or none (default: the server's)")
	cmd.RunE = c.runE(func(ctx context.Context, args []string) error {
		if err := c.connect(); err != nil {
			return err
		}
		tags := map[string]string{}
		for k, v := range map[string]string{backup.TagStorage: storage, backup.TagS3Endpoint: endpoint, backup.TagS3Region: region,
			backup.TagCompression: compression} {
			if v != "" {
				tags[k] = v
			}
		}
		out, err := c.client.CreateBackupVault(ctx, &bk.CreateBackupVaultInput{BackupVaultName: aws.String(args[0]), BackupVaultTags: tags})
		if err != nil {
			return err
		}
		if c.out.json() {
			return printJSON(c.stdout, out)
		}
		fmt.Fprintf(c.stdout, "created vault %s (%s)\n", aws.ToString(out.BackupVaultName), aws.ToString(out.BackupVaultArn))
		return nil
	})
	return cmd
}

func (c *cli) vaultListCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the backup vaults",
		Long:    "List every backup vault with its number of recovery points.",
		Example: "  cairn vault list",
		Args:    noArgs,
	}
	cmd.RunE = c.runE(func(ctx context.Context, _ []string) error {
		if err := c.connect(); err != nil {
			return err
		}
		vaults := []types.BackupVaultListMember{}
		p := bk.NewListBackupVaultsPaginator(c.client, &bk.ListBackupVaultsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			vaults = append(vaults, page.BackupVaultList...)
		}
		if c.out.json() {
			return printJSON(c.stdout, map[string]any{"BackupVaultList": vaults})
		}
		return c.vaultTable(vaults).write(c.stdout)
	})
	return cmd
}

// vaultTable is cairn vault list's table.
func (c *cli) vaultTable(vaults []types.BackupVaultListMember) *table {
	if c.out.wide {
		t := newTable("NAME", "RECOVERY POINTS", "CREATED", "ARN")
		for _, v := range vaults {
			t.row(aws.ToString(v.BackupVaultName), strconv.FormatInt(v.NumberOfRecoveryPoints, 10), when(v.CreationDate), aws.ToString(v.BackupVaultArn))
		}
		return t
	}
	t := newFitTable(c.width(), column{head: "NAME", flex: true, min: 20}, column{head: "RECOVERY POINTS"}, column{head: "CREATED"})
	for _, v := range vaults {
		t.row(aws.ToString(v.BackupVaultName), strconv.FormatInt(v.NumberOfRecoveryPoints, 10), whenShort(v.CreationDate))
	}
	return t
}

func (c *cli) vaultDescribeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "describe NAME",
		Short:   "Describe a backup vault",
		Long:    "Show a backup vault's ARN, number of recovery points and creation time.",
		Example: "  cairn vault describe Default",
		Args:    exactArgs(1, "the vault's NAME"),
	}
	cmd.RunE = c.runE(func(ctx context.Context, args []string) error {
		if err := c.connect(); err != nil {
			return err
		}
		v, err := c.client.DescribeBackupVault(ctx, &bk.DescribeBackupVaultInput{BackupVaultName: aws.String(args[0])})
		if err != nil {
			return err
		}
		if c.out.json() {
			return printJSON(c.stdout, v)
		}
		kv(c.stdout, "Name", aws.ToString(v.BackupVaultName), "ARN", aws.ToString(v.BackupVaultArn),
			"Recovery points", strconv.FormatInt(v.NumberOfRecoveryPoints, 10), "Created", when(v.CreationDate))
		return nil
	})
	return cmd
}

func (c *cli) vaultDeleteCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete an empty backup vault",
		Long:    "Delete a backup vault. It must hold no recovery points: delete them first (cairn point delete).",
		Example: "  cairn vault delete nightly",
		Args:    exactArgs(1, "the vault's NAME"),
	}
	cmd.RunE = c.runE(func(ctx context.Context, args []string) error {
		if err := c.connect(); err != nil {
			return err
		}
		if _, err := c.client.DeleteBackupVault(ctx, &bk.DeleteBackupVaultInput{BackupVaultName: aws.String(args[0])}); err != nil {
			return err
		}
		if c.out.json() {
			return printJSON(c.stdout, map[string]string{"BackupVaultName": args[0]})
		}
		fmt.Fprintf(c.stdout, "deleted vault %s\n", args[0])
		return nil
	})
	return cmd
}
