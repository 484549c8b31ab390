package sqlite

import (
	"context"
	"database/sql"
	"fmt"

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
		created sql.NullInt64
		tags    sql.NullString
		storage sql.NullString
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
		return fmt.Errorf("sqlite: create vault %s: %w", v.Name, err)
	}
	storage, err := jsonText(v.Storage, false)
	if err != nil {
		return fmt.Errorf("sqlite: create vault %s: %w", v.Name, err)
	}
	_, err = c.write.ExecContext(ctx, `INSERT INTO vaults (name, arn, account_id, region, creation_ns,
		creator_request_id, encryption_key_arn, tags, storage) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.Name, v.ARN, v.AccountID, v.Region, created, v.CreatorRequestID, v.EncryptionKeyARN, tags, storage)
	if isPrimaryKeyViolation(err) {
		return wrapf(err, backup.ErrAlreadyExists, kindVault, v.Name, "backup vault %s already exists", v.Name)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create vault %s: %w", v.Name, err)
	}
	return nil
}

// GetVault returns the vault with its NumberOfRecoveryPoints.
func (c *Catalog) GetVault(ctx context.Context, name string) (*backup.Vault, error) {
	return getOne(c.read.QueryRowContext(ctx, "SELECT "+vaultCols+" FROM vaults v WHERE name = ?", name), scanVault, kindVault, name)
}

// ListVaults returns vaults ordered by name.
func (c *Catalog) ListVaults(ctx context.Context, p backup.Page) ([]*backup.Vault, string, error) {
	limit, err := pageSize(p)
	if err != nil {
		return nil, "", err
	}
	after := ""
	if p.NextToken != "" {
		parts, err := decodeToken(tokenVaults, p.NextToken, 1)
		if err != nil {
			return nil, "", err
		}
		after = parts[0]
	}
	rows, err := c.read.QueryContext(ctx, "SELECT "+vaultCols+" FROM vaults v WHERE name > ? ORDER BY name LIMIT ?", after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: list vaults: %w", err)
	}
	defer rows.Close()
	vaults := []*backup.Vault{}
	for rows.Next() {
		v, err := scanVault(rows)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: list vaults: %w", err)
		}
		vaults = append(vaults, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: list vaults: %w", err)
	}
	next := ""
	if len(vaults) > limit {
		vaults = vaults[:limit]
		next = encodeToken(tokenVaults, vaults[limit-1].Name)
	}
	return vaults, next, nil
}

// DeleteVault removes an empty vault.
func (c *Catalog) DeleteVault(ctx context.Context, name string) error {
	tx, err := c.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: delete vault %s: %w", name, err)
	}
	defer tx.Rollback()
	var n int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM recovery_points WHERE vault_name = ?", name).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: delete vault %s: %w", name, err)
	}
	if n > 0 {
		e := backup.Errorf(backup.ErrInvalidRequest, "backup vault %s cannot be deleted because it contains %d recovery points", name, n)
		e.Type, e.Context = kindVault, name
		return e
	}
	res, err := tx.ExecContext(ctx, "DELETE FROM vaults WHERE name = ?", name)
	if err != nil {
		return fmt.Errorf("sqlite: delete vault %s: %w", name, err)
	}
	if err := affectedOne(res, kindVault, name); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: delete vault %s: %w", name, err)
	}
	return nil
}
