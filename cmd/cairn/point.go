package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/spf13/cobra"

	"github.com/cairn-backup/cairn/internal/backup"
)

// pointCmd is `cairn point`: list, describe and delete recovery points.
func (c *cli) pointCmd() *cobra.Command {
	cmd := c.clientGroup(groupCmd(&cobra.Command{
		Use:   "point",
		Short: "List, describe and delete recovery points",
		Long: `A recovery point is one backup of one table in a vault, laid out like
DynamoDB's export to S3. Restore one with cairn restore start.`,
		Example: "  cairn point list\n  cairn point list --table orders",
	}))
	cmd.AddCommand(c.pointListCmd(), c.pointDescribeCmd(), c.pointDeleteCmd())
	return cmd
}

func (c *cli) pointListCmd() *cobra.Command {
	var vault, table string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List recovery points of a vault or of a table",
		Long: `List the recovery points of a vault (Default unless --vault), or with
--table those of one table across every vault.`,
		Example: "  cairn point list\n  cairn point list --vault offsite\n  cairn point list --table orders",
		Args:    noArgs,
	}
	cmd.Flags().StringVar(&vault, "vault", "Default", "vault to list")
	cmd.Flags().StringVar(&table, "table", "", "only points of this table (name or ARN); lists across vaults")
	cmd.RunE = c.runE(func(ctx context.Context, _ []string) error {
		if err := c.connect(); err != nil {
			return err
		}
		t := newTable("RECOVERY POINT ARN", "STATUS", "TABLE", "VAULT", "SIZE", "CREATED")
		if table != "" {
			p := bk.NewListRecoveryPointsByResourcePaginator(c.client, &bk.ListRecoveryPointsByResourceInput{ResourceArn: aws.String(c.tableARN(table))})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				for _, rp := range page.RecoveryPoints {
					t.row(aws.ToString(rp.RecoveryPointArn), string(rp.Status), backup.TableNameFromARN(c.tableARN(table)),
						aws.ToString(rp.BackupVaultName), humanBytes(aws.ToInt64(rp.BackupSizeBytes)), when(rp.CreationDate))
				}
			}
			return t.write(c.stdout)
		}
		p := bk.NewListRecoveryPointsByBackupVaultPaginator(c.client, &bk.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String(vault)})
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
	})
	return cmd
}

func (c *cli) pointDescribeCmd() *cobra.Command {
	var vault string
	cmd := &cobra.Command{
		Use:     "describe RECOVERY_POINT_ARN",
		Short:   "Describe a recovery point",
		Long:    "Show a recovery point: its status, table, vault, storage class, size and times.",
		Example: "  cairn point describe arn:aws:backup:us-east-1:000000000000:recovery-point:ID --vault offsite",
		Args:    exactArgs(1, "the RECOVERY_POINT_ARN"),
	}
	cmd.Flags().StringVar(&vault, "vault", "Default", "vault of the recovery point")
	cmd.RunE = c.runE(func(ctx context.Context, args []string) error {
		if err := c.connect(); err != nil {
			return err
		}
		rp, err := c.client.DescribeRecoveryPoint(ctx, &bk.DescribeRecoveryPointInput{BackupVaultName: aws.String(vault), RecoveryPointArn: aws.String(args[0])})
		if err != nil {
			return err
		}
		kv(c.stdout, "Recovery point", aws.ToString(rp.RecoveryPointArn), "Status", string(rp.Status),
			"Resource", aws.ToString(rp.ResourceArn), "Vault", aws.ToString(rp.BackupVaultName),
			"Storage class", string(rp.StorageClass), "Size", humanBytes(aws.ToInt64(rp.BackupSizeInBytes)),
			"Created", when(rp.CreationDate), "Completed", when(rp.CompletionDate), "Message", aws.ToString(rp.StatusMessage))
		return nil
	})
	return cmd
}

func (c *cli) pointDeleteCmd() *cobra.Command {
	var vault string
	cmd := &cobra.Command{
		Use:     "delete RECOVERY_POINT_ARN",
		Short:   "Delete a recovery point and its data",
		Long:    "Delete a recovery point: its files in the vault's storage, then its record.",
		Example: "  cairn point delete arn:aws:backup:us-east-1:000000000000:recovery-point:ID --vault offsite",
		Args:    exactArgs(1, "the RECOVERY_POINT_ARN"),
	}
	cmd.Flags().StringVar(&vault, "vault", "Default", "vault of the recovery point")
	cmd.RunE = c.runE(func(ctx context.Context, args []string) error {
		if err := c.connect(); err != nil {
			return err
		}
		if _, err := c.client.DeleteRecoveryPoint(ctx, &bk.DeleteRecoveryPointInput{BackupVaultName: aws.String(vault), RecoveryPointArn: aws.String(args[0])}); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "deleted recovery point %s\n", args[0])
		return nil
	})
	return cmd
}
