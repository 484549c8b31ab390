package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

const tokenProtectedByVault = "prv1"

// GetProtectedResource returns the resource with its latest COMPLETED
// recovery point (by CreationDate), or ErrNotFound if it has none.
func (c *Catalog) GetProtectedResource(ctx context.Context, resourceARN string) (*backup.ProtectedResource, error) {
	var (
		r  backup.ProtectedResource
		ns int64
	)
	err := c.read.QueryRowContext(ctx, `SELECT resource_arn, resource_type, resource_name, creation_ns, vault_arn, arn
		FROM recovery_points INDEXED BY recovery_points_protected
		WHERE status = 'COMPLETED' AND resource_arn = ?
		ORDER BY creation_ns DESC, id DESC LIMIT 1`, resourceARN).
		Scan(&r.ResourceARN, &r.ResourceType, &r.ResourceName, &ns, &r.LastBackupVaultARN, &r.LastRecoveryPointARN)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &backup.Error{Code: backup.ErrNotFound, Type: "Resource", Context: resourceARN,
			Message: fmt.Sprintf("resource %s has no completed recovery point", resourceARN)}
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get protected resource %s: %w", resourceARN, err)
	}
	r.LastBackupTime = time.Unix(0, ns).UTC()
	return &r, nil
}

// ListProtectedResourcesByVault returns each resource with at least one
// COMPLETED recovery point in the vault, with its latest one there, ordered
// by resource ARN. An unknown vault has none.
func (c *Catalog) ListProtectedResourcesByVault(ctx context.Context, vault string, p backup.Page) ([]*backup.ProtectedResource, string, error) {
	limit, err := pageSize(p)
	if err != nil {
		return nil, "", err
	}
	after := ""
	if p.NextToken != "" {
		parts, err := decodeToken(tokenProtectedByVault, p.NextToken, 2)
		if err != nil {
			return nil, "", err
		}
		if parts[0] != vault {
			return nil, "", backup.Errorf(backup.ErrInvalidParameter, "invalid NextToken %q: it is a token of another vault", p.NextToken)
		}
		after = parts[1]
	}
	// The loose index scan of ListProtectedResources, within one vault.
	rows, err := c.read.QueryContext(ctx, `
		WITH RECURSIVE r(arn, n) AS (
			SELECT (SELECT min(resource_arn) FROM recovery_points INDEXED BY recovery_points_protected_by_vault
				WHERE status = 'COMPLETED' AND vault_name = ?1 AND resource_arn > ?2), 1
			UNION ALL
			SELECT (SELECT min(resource_arn) FROM recovery_points INDEXED BY recovery_points_protected_by_vault
				WHERE status = 'COMPLETED' AND vault_name = ?1 AND resource_arn > r.arn), n + 1
			FROM r WHERE r.arn IS NOT NULL AND n < ?3
		)
		SELECT r.arn, p.resource_type, p.resource_name, p.creation_ns, p.vault_arn, p.arn
		FROM r JOIN recovery_points p ON p.id = (
			SELECT id FROM recovery_points INDEXED BY recovery_points_protected_by_vault
			WHERE status = 'COMPLETED' AND vault_name = ?1 AND resource_arn = r.arn
			ORDER BY creation_ns DESC, id DESC LIMIT 1)
		WHERE r.arn IS NOT NULL
		ORDER BY r.arn`, vault, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: list protected resources of vault %s: %w", vault, err)
	}
	defer rows.Close()
	res := []*backup.ProtectedResource{}
	for rows.Next() {
		var (
			r  backup.ProtectedResource
			ns int64
		)
		if err := rows.Scan(&r.ResourceARN, &r.ResourceType, &r.ResourceName, &ns, &r.LastBackupVaultARN, &r.LastRecoveryPointARN); err != nil {
			return nil, "", fmt.Errorf("sqlite: list protected resources of vault %s: %w", vault, err)
		}
		r.LastBackupTime = time.Unix(0, ns).UTC()
		res = append(res, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: list protected resources of vault %s: %w", vault, err)
	}
	next := ""
	if len(res) > limit {
		res = res[:limit]
		next = encodeToken(tokenProtectedByVault, vault, res[limit-1].ResourceARN)
	}
	return res, next, nil
}
