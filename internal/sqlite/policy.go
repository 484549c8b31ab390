package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
)

const kindPolicy = "Policy"

const policyCols = "name, type, document, options, creation_ns, update_ns"

func scanPolicy(s scanner) (*backup.Policy, error) {
	var (
		p                backup.Policy
		typ              string
		options          sql.NullString
		created, updated sql.NullInt64
	)
	if err := s.Scan(&p.Name, &typ, &p.Document, &options, &created, &updated); err != nil {
		return nil, err
	}
	p.Type = backup.PolicyType(typ)
	p.CreationDate, p.LastUpdateDate = timeOf(created), timeOf(updated)
	if err := fromJSON(options, &p.Options); err != nil {
		return nil, fmt.Errorf("policy %s: options: %w", p.Name, err)
	}
	return &p, nil
}

// ApplyPolicy stores p and makes ch in one transaction.
func (c *Catalog) ApplyPolicy(ctx context.Context, p *backup.Policy, ch backup.PolicyChanges) error {
	switch {
	case p.Name == "":
		return backup.Errorf(backup.ErrMissingParameter, "the policy's Name is required")
	case !p.Type.Valid():
		return backup.Errorf(backup.ErrInvalidParameter, "policy %s: type %q is not TAG_POLICY or BACKUP_POLICY", p.Name, p.Type)
	}
	created, err := requiredNanos(p.CreationDate, "CreationDate")
	if err != nil {
		return err
	}
	updated, err := requiredNanos(p.LastUpdateDate, "LastUpdateDate")
	if err != nil {
		return err
	}
	options, err := jsonText(p.Options, false)
	if err != nil {
		return fmt.Errorf("sqlite: apply policy %s: %w", p.Name, err)
	}
	tx, err := c.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: apply policy %s: %w", p.Name, err)
	}
	defer tx.Rollback()
	var typ string
	err = tx.QueryRowContext(ctx, "SELECT type FROM policies WHERE name = ?", p.Name).Scan(&typ)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("sqlite: apply policy %s: %w", p.Name, err)
	case typ != string(p.Type):
		e := backup.Errorf(backup.ErrAlreadyExists, "a %s named %s exists; delete it first or choose another name", typ, p.Name)
		e.Type, e.Context = kindPolicy, p.Name
		return e
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO policies (`+policyCols+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET document = excluded.document, options = excluded.options,
		update_ns = excluded.update_ns`, p.Name, string(p.Type), p.Document, options, created, updated)
	if err != nil {
		return fmt.Errorf("sqlite: apply policy %s: %w", p.Name, err)
	}
	if err := policyChangesTx(ctx, tx, p.Name, ch); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: apply policy %s: %w", p.Name, err)
	}
	return nil
}

// DeletePolicy removes policy name and makes ch in one transaction.
func (c *Catalog) DeletePolicy(ctx context.Context, name string, ch backup.PolicyChanges) error {
	tx, err := c.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: delete policy %s: %w", name, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "DELETE FROM policies WHERE name = ?", name)
	if err != nil {
		return fmt.Errorf("sqlite: delete policy %s: %w", name, err)
	}
	if err := affectedOne(res, kindPolicy, name); err != nil {
		return err
	}
	if err := policyChangesTx(ctx, tx, name, ch); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: delete policy %s: %w", name, err)
	}
	return nil
}

// notManaged is the error for a change to a plan or selection policy name
// does not manage.
func notManaged(name, kind, id, managedBy string) error {
	by := "not managed by any policy"
	if managedBy != "" {
		by = "managed by policy " + managedBy
	}
	e := backup.Errorf(backup.ErrInvalidRequest, "policy %s cannot change %s %s: it is %s", name, kind, id, by)
	e.Type, e.Context = kind, id
	return e
}

// policyChangesTx makes ch within tx, after checking that every plan and
// selection it changes is managed by policy name.
func policyChangesTx(ctx context.Context, tx *sql.Tx, name string, ch backup.PolicyChanges) error {
	owned := func(id string) error {
		by, err := livePlan(ctx, tx, id)
		if err != nil {
			return err
		}
		if by != name {
			return notManaged(name, kindPlan, id, by)
		}
		return nil
	}
	for _, p := range ch.CreatePlans {
		if p.ManagedBy != name {
			return notManaged(name, kindPlan, p.ID, p.ManagedBy)
		}
		created, deleted, executed, tags, doc, err := createPlanArgs(p)
		if err != nil {
			return err
		}
		if err := createPlanTx(ctx, tx, p, created, deleted, executed, tags, doc); err != nil {
			return err
		}
	}
	for _, p := range ch.UpdatePlans {
		if err := owned(p.ID); err != nil {
			return err
		}
		created, doc, err := planVersionArgs(p)
		if err != nil {
			return err
		}
		if err := updatePlanTx(ctx, tx, p, created, doc); err != nil {
			return err
		}
	}
	for _, s := range ch.DeleteSelections {
		var by string
		err := tx.QueryRowContext(ctx, "SELECT managed_by FROM backup_selections WHERE id = ? AND plan_id = ?",
			s.SelectionID, s.BackupPlanID).Scan(&by)
		if errors.Is(err, sql.ErrNoRows) {
			return backup.NotFound(kindSelection, s.SelectionID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: policy %s: %w", name, err)
		}
		if by != name {
			return notManaged(name, kindSelection, s.SelectionID, by)
		}
		if err := deleteSelection(ctx, tx, s.BackupPlanID, s.SelectionID); err != nil {
			return err
		}
	}
	for _, s := range ch.CreateSelections {
		if s.ManagedBy != name {
			return notManaged(name, kindSelection, s.SelectionID, s.ManagedBy)
		}
		if err := owned(s.BackupPlanID); err != nil {
			return err
		}
		if err := createSelection(ctx, tx, s); err != nil {
			return err
		}
	}
	if len(ch.DeletePlans) > 0 {
		ns, err := requiredNanos(ch.DeletionDate, "DeletionDate")
		if err != nil {
			return err
		}
		for _, id := range ch.DeletePlans {
			if err := owned(id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM backup_selections WHERE plan_id = ?", id); err != nil {
				return fmt.Errorf("sqlite: policy %s: delete selections of plan %s: %w", name, id, err)
			}
			if _, err := deletePlanTx(ctx, tx, id, ns); err != nil {
				return err
			}
		}
	}
	return nil
}

// GetPolicy returns the policy or ErrNotFound.
func (c *Catalog) GetPolicy(ctx context.Context, name string) (*backup.Policy, error) {
	return getOne(c.read.QueryRowContext(ctx, "SELECT "+policyCols+" FROM policies WHERE name = ?", name), scanPolicy, kindPolicy, name)
}

// ListPolicies returns policies ordered by name.
func (c *Catalog) ListPolicies(ctx context.Context, p backup.Page) ([]*backup.Policy, string, error) {
	limit, err := pageSize(p)
	if err != nil {
		return nil, "", err
	}
	after := ""
	if p.NextToken != "" {
		parts, err := decodeToken(tokenPolicies, p.NextToken, 1)
		if err != nil {
			return nil, "", err
		}
		after = parts[0]
	}
	rows, err := c.read.QueryContext(ctx, "SELECT "+policyCols+" FROM policies WHERE name > ? ORDER BY name LIMIT ?", after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: list policies: %w", err)
	}
	defer rows.Close()
	out := []*backup.Policy{}
	for rows.Next() {
		s, err := scanPolicy(rows)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: list policies: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: list policies: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeToken(tokenPolicies, out[limit-1].Name)
	}
	return out, next, nil
}
