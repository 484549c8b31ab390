package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
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
		var points []pointRow
		if table != "" {
			raw := []types.RecoveryPointByResource{}
			p := bk.NewListRecoveryPointsByResourcePaginator(c.client, &bk.ListRecoveryPointsByResourceInput{ResourceArn: aws.String(c.tableARN(table))})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				raw = append(raw, page.RecoveryPoints...)
			}
			if c.out.json() {
				return printJSON(c.stdout, map[string]any{"RecoveryPoints": raw})
			}
			for _, rp := range raw {
				points = append(points, pointRow{arn: aws.ToString(rp.RecoveryPointArn), status: string(rp.Status),
					table: backup.TableNameFromARN(c.tableARN(table)), vault: aws.ToString(rp.BackupVaultName),
					size: aws.ToInt64(rp.BackupSizeBytes), created: rp.CreationDate})
			}
			return c.pointTable(points).write(c.stdout)
		}
		raw := []types.RecoveryPointByBackupVault{}
		p := bk.NewListRecoveryPointsByBackupVaultPaginator(c.client, &bk.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String(vault)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			raw = append(raw, page.RecoveryPoints...)
		}
		if c.out.json() {
			return printJSON(c.stdout, map[string]any{"RecoveryPoints": raw})
		}
		for _, rp := range raw {
			points = append(points, pointRow{arn: aws.ToString(rp.RecoveryPointArn), status: string(rp.Status),
				table: aws.ToString(rp.ResourceName), vault: aws.ToString(rp.BackupVaultName),
				size: aws.ToInt64(rp.BackupSizeInBytes), created: rp.CreationDate})
		}
		return c.pointTable(points).write(c.stdout)
	})
	return cmd
}

// pointRow is a recovery point as cairn point list shows it, from either
// listing.
type pointRow struct {
	arn, status, table, vault string
	size                      int64
	created                   *time.Time
}

// pointTable is cairn point list's table.
func (c *cli) pointTable(points []pointRow) *table {
	if c.out.wide {
		t := newTable("RECOVERY POINT ARN", "STATUS", "TABLE", "VAULT", "SIZE", "CREATED")
		for _, p := range points {
			t.row(p.arn, p.status, p.table, p.vault, humanBytes(p.size), when(p.created))
		}
		return t
	}
	t := newFitTable(c.width(), column{head: "POINT ID"}, column{head: "STATUS"}, column{head: "TABLE", flex: true, min: 12},
		column{head: "VAULT", flex: true, min: 8}, column{head: "SIZE"}, column{head: "CREATED"})
	for _, p := range points {
		t.row(c.shortID(pointID(p.arn)), p.status, p.table, p.vault, humanBytes(p.size), whenShort(p.created))
	}
	return t
}

func (c *cli) pointDescribeCmd() *cobra.Command {
	var vault string
	cmd := &cobra.Command{
		Use:     "describe RECOVERY_POINT_ARN",
		Short:   "Describe a recovery point",
		Long:    "Show a recovery point, given by its ARN, its id or a unique prefix of the id (found in\nany vault unless --vault): its status, table, vault, storage class, size and times.",
		Example: "  cairn point describe arn:aws:backup:us-east-1:000000000000:recovery-point:ID --vault offsite",
		Args:    exactArgs(1, "the RECOVERY_POINT_ARN"),
	}
	cmd.Flags().StringVar(&vault, "vault", "", "vault of the recovery point (default: looked up in every vault)")
	cmd.RunE = c.runE(func(ctx context.Context, args []string) error {
		if err := c.connect(); err != nil {
			return err
		}
		arn, inVault, err := c.resolvePoint(ctx, args[0], vault)
		if err != nil {
			return err
		}
		rp, err := c.client.DescribeRecoveryPoint(ctx, &bk.DescribeRecoveryPointInput{BackupVaultName: aws.String(inVault), RecoveryPointArn: aws.String(arn)})
		if err != nil {
			return err
		}
		if c.out.json() {
			return printJSON(c.stdout, rp)
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
		Long:    "Delete a recovery point (its ARN, its id or a unique prefix of the id): its files in\nthe vault's storage, then its record.",
		Example: "  cairn point delete arn:aws:backup:us-east-1:000000000000:recovery-point:ID --vault offsite",
		Args:    exactArgs(1, "the RECOVERY_POINT_ARN"),
	}
	cmd.Flags().StringVar(&vault, "vault", "", "vault of the recovery point (default: looked up in every vault)")
	cmd.RunE = c.runE(func(ctx context.Context, args []string) error {
		if err := c.connect(); err != nil {
			return err
		}
		arn, inVault, err := c.resolvePoint(ctx, args[0], vault)
		if err != nil {
			return err
		}
		if _, err := c.client.DeleteRecoveryPoint(ctx, &bk.DeleteRecoveryPointInput{BackupVaultName: aws.String(inVault), RecoveryPointArn: aws.String(arn)}); err != nil {
			return err
		}
		if c.out.json() {
			return printJSON(c.stdout, map[string]string{"RecoveryPointArn": arn, "BackupVaultName": inVault})
		}
		fmt.Fprintf(c.stdout, "deleted recovery point %s\n", arn)
		return nil
	})
	return cmd
}
