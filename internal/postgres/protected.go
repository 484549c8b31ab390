package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-backup/cairn/internal/backup"
)

func scanProtected(s scanner) (*backup.ProtectedResource, error) {
	var (
		r  backup.ProtectedResource
		ns int64
	)
	if err := s.Scan(&r.ResourceARN, &r.ResourceType, &r.ResourceName, &ns, &r.LastBackupVaultARN, &r.LastRecoveryPointARN); err != nil {
		return nil, err
	}
	r.LastBackupTime = time.Unix(0, ns).UTC()
	return &r, nil
}

// GetProtectedResource returns the resource with its latest COMPLETED
// recovery point (by CreationDate), or ErrNotFound if it has none.
func (c *Catalog) GetProtectedResource(ctx context.Context, resourceARN string) (*backup.ProtectedResource, error) {
	r, err := scanProtected(c.pool.QueryRow(ctx, `SELECT resource_arn, resource_type, resource_name, creation_ns, vault_arn, arn
		FROM recovery_points
		WHERE status = 'COMPLETED' AND resource_arn = $1
		ORDER BY creation_ns DESC, id DESC LIMIT 1`, resourceARN))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, &backup.Error{Code: backup.ErrNotFound, Type: "Resource", Context: resourceARN,
			Message: fmt.Sprintf("resource %s has no completed recovery point", resourceARN)}
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get protected resource %s: %w", resourceARN, err)
	}
	return r, nil
}

// protectedQuery is a loose index scan of the COMPLETED points (the
// partial index recovery_points_protected, or with a vault
// recovery_points_protected_by_vault): each step of r seeks the next
// resource after the last, so a page costs limit seeks however many points
// each resource has; the latest point of a resource is the last entry of
// its range. $1 is the resource ARN to start after, $2 the number of
// resources, $3 the vault if byVault.
func protectedQuery(byVault bool) string {
	cond := "status = 'COMPLETED'"
	if byVault {
		cond += " AND vault_name = $3"
	}
	return `
	WITH RECURSIVE r(arn, n) AS (
		SELECT (SELECT min(resource_arn) FROM recovery_points WHERE ` + cond + ` AND resource_arn > $1), 1
		UNION ALL
		SELECT (SELECT min(resource_arn) FROM recovery_points WHERE ` + cond + ` AND resource_arn > r.arn), n + 1
		FROM r WHERE r.arn IS NOT NULL AND n < $2
	)
	SELECT r.arn, p.resource_type, p.resource_name, p.creation_ns, p.vault_arn, p.arn
	FROM r JOIN LATERAL (
		SELECT resource_type, resource_name, creation_ns, vault_arn, arn FROM recovery_points
		WHERE ` + cond + ` AND resource_arn = r.arn
		ORDER BY creation_ns DESC, id DESC LIMIT 1) p ON TRUE
	WHERE r.arn IS NOT NULL
	ORDER BY r.arn`
}

// listProtected runs protectedQuery for vault ("" for all).
func (c *Catalog) listProtected(ctx context.Context, vault, after string, limit int) ([]*backup.ProtectedResource, error) {
	args := []any{after, limit}
	if vault != "" {
		args = append(args, vault)
	}
	rows, err := c.pool.Query(ctx, protectedQuery(vault != ""), args...)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanProtected)
}

// ListProtectedResources returns each resource with at least one COMPLETED
// recovery point, with its latest COMPLETED point (by CreationDate), ordered
// by resource ARN.
func (c *Catalog) ListProtectedResources(ctx context.Context, p backup.Page) ([]*backup.ProtectedResource, string, error) {
	limit, err := pageSize(p)
	if err != nil {
		return nil, "", err
	}
	after, err := afterName(tokenProtected, p.NextToken)
	if err != nil {
		return nil, "", err
	}
	res, err := c.listProtected(ctx, "", after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: list protected resources: %w", err)
	}
	next := ""
	if len(res) > limit {
		res = res[:limit]
		next = encodeToken(tokenProtected, res[limit-1].ResourceARN)
	}
	return res, next, nil
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
	if vault == "" {
		return []*backup.ProtectedResource{}, "", nil
	}
	res, err := c.listProtected(ctx, vault, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: list protected resources of vault %s: %w", vault, err)
	}
	next := ""
	if len(res) > limit {
		res = res[:limit]
		next = encodeToken(tokenProtectedByVault, vault, res[limit-1].ResourceARN)
	}
	return res, next, nil
}
