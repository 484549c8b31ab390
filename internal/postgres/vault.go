package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-backup/cairn/internal/backup"
)

const kindVault = "BackupVault"

// vaultCols selects a vault with its NumberOfRecoveryPoints: the points in
// the vault that are not being deleted. DeleteVault refuses while the vault
// holds any point, DELETING ones included, since their bytes may remain.
const vaultCols = `name, arn, account_id, region, creation_ns, creator_request_id,
	encryption_key_arn, tags, storage,
	(SELECT count(*) FROM recovery_points p WHERE p.vault_name = v.name AND p.status <> 'DELETING')`

func scanVault(s scanner) (*backup.Vault, error) {
	var (
		v       backup.Vault
		created *int64
		tags    *string
		storage *string
	)
	err := s.Scan(&v.Name, &v.ARN, &v.AccountID, &v.Region, &created, &v.CreatorRequestID,
		&v.EncryptionKeyARN, &tags, &storage, &v.NumberOfRecoveryPoints)
	if err != nil {
		return nil, err
	}
	v.CreationDate = timeOf(created)
	if err := fromJSON(tags, &v.Tags); err != nil {
		return nil, fmt.Errorf("vault %s: tags: %w", v.Name, err)
	}
	if err := fromJSON(storage, &v.Storage); err != nil {
		return nil, fmt.Errorf("vault %s: storage: %w", v.Name, err)
	}
	return &v, nil
}

// CreateVault stores v; NumberOfRecoveryPoints is ignored.
func (c *Catalog) CreateVault(ctx context.Context, v *backup.Vault) error {
	if v.Name == "" {
		return backup.Errorf(backup.ErrMissingParameter, "BackupVaultName is required")
	}
	created, err := nanos(v.CreationDate, "CreationDate")
	if err != nil {
		return err
	}
	tags, err := jsonText(v.Tags, v.Tags == nil)
	if err != nil {
		return fmt.Errorf("postgres: create vault %s: %w", v.Name, err)
	}
	storage, err := jsonText(v.Storage, false)
	if err != nil {
		return fmt.Errorf("postgres: create vault %s: %w", v.Name, err)
	}
	_, err = c.pool.Exec(ctx, `INSERT INTO vaults (name, arn, account_id, region, creation_ns,
		creator_request_id, encryption_key_arn, tags, storage) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		v.Name, v.ARN, v.AccountID, v.Region, created, v.CreatorRequestID, v.EncryptionKeyARN, tags, storage)
	if isPrimaryKeyViolation(err, "vaults") {
		return wrapf(err, backup.ErrAlreadyExists, kindVault, v.Name, "backup vault %s already exists", v.Name)
	}
	if err != nil {
		return fmt.Errorf("postgres: create vault %s: %w", v.Name, err)
	}
	return nil
}

// GetVault returns the vault with its NumberOfRecoveryPoints.
func (c *Catalog) GetVault(ctx context.Context, name string) (*backup.Vault, error) {
	return getOne(c.pool.QueryRow(ctx, "SELECT "+vaultCols+" FROM vaults v WHERE name = $1", name), scanVault, kindVault, name)
}

// ListVaults returns vaults ordered by name.
func (c *Catalog) ListVaults(ctx context.Context, p backup.Page) ([]*backup.Vault, string, error) {
	return listByName(ctx, c.pool, p, tokenVaults, "vaults",
		"SELECT "+vaultCols+" FROM vaults v WHERE name > $1 ORDER BY name LIMIT $2",
		scanVault, func(v *backup.Vault) string { return v.Name })
}

// DeleteVault removes an empty vault. The vault's row is locked first: a
// point being added to it meanwhile (its foreign key locks the row too)
// is either counted or refused.
func (c *Catalog) DeleteVault(ctx context.Context, name string) error {
	return c.inTx(ctx, "delete vault "+name, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM vaults WHERE name = $1 FOR UPDATE", name).Scan(&one)
		if err == pgx.ErrNoRows {
			return backup.NotFound(kindVault, name)
		}
		if err != nil {
			return fmt.Errorf("postgres: delete vault %s: %w", name, err)
		}
		var n int64
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM recovery_points WHERE vault_name = $1", name).Scan(&n); err != nil {
			return fmt.Errorf("postgres: delete vault %s: %w", name, err)
		}
		if n > 0 {
			e := backup.Errorf(backup.ErrInvalidRequest, "backup vault %s cannot be deleted because it contains %d recovery points", name, n)
			e.Type, e.Context = kindVault, name
			return e
		}
		if _, err := tx.Exec(ctx, "DELETE FROM vaults WHERE name = $1", name); err != nil {
			return fmt.Errorf("postgres: delete vault %s: %w", name, err)
		}
		return nil
	})
}
