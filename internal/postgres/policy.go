package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-backup/cairn/internal/backup"
)

const kindPolicy = "Policy"

const policyCols = "name, type, document, options, creation_ns, update_ns"

func scanPolicy(s scanner) (*backup.Policy, error) {
	var (
		p                backup.Policy
		typ              string
		options          *string
		created, updated *int64
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

// ApplyPolicy stores p and makes ch in one transaction. Policies are
// written one at a time (a lock on the table that lets readers be), so
// that two applies of one name agree on its type.
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
		return fmt.Errorf("postgres: apply policy %s: %w", p.Name, err)
	}
	return c.inTx(ctx, "apply policy "+p.Name, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "LOCK TABLE policies IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return fmt.Errorf("postgres: apply policy %s: %w", p.Name, err)
		}
		var typ string
		err := tx.QueryRow(ctx, "SELECT type FROM policies WHERE name = $1", p.Name).Scan(&typ)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return fmt.Errorf("postgres: apply policy %s: %w", p.Name, err)
		case typ != string(p.Type):
			e := backup.Errorf(backup.ErrAlreadyExists, "a %s named %s exists; delete it first or choose another name", typ, p.Name)
			e.Type, e.Context = kindPolicy, p.Name
			return e
		}
		_, err = tx.Exec(ctx, `INSERT INTO policies (`+policyCols+`) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (name) DO UPDATE SET document = excluded.document, options = excluded.options,
			update_ns = excluded.update_ns`, p.Name, string(p.Type), p.Document, options, created, updated)
		if err != nil {
			return fmt.Errorf("postgres: apply policy %s: %w", p.Name, err)
		}
		return policyChangesTx(ctx, tx, p.Name, ch)
	})
}

// DeletePolicy removes policy name and makes ch in one transaction.
func (c *Catalog) DeletePolicy(ctx context.Context, name string, ch backup.PolicyChanges) error {
	return c.inTx(ctx, "delete policy "+name, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM policies WHERE name = $1", name)
		if err != nil {
			return fmt.Errorf("postgres: delete policy %s: %w", name, err)
		}
		if err := affectedOne(tag, kindPolicy, name); err != nil {
			return err
		}
		return policyChangesTx(ctx, tx, name, ch)
	})
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
func policyChangesTx(ctx context.Context, tx pgx.Tx, name string, ch backup.PolicyChanges) error {
	owned := func(id string) error {
		by, err := livePlan(ctx, tx, id, false)
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
		if err := createPlanTx(ctx, tx, p); err != nil {
			return err
		}
	}
	for _, p := range ch.UpdatePlans {
		if err := owned(p.ID); err != nil {
			return err
		}
		if err := updatePlanTx(ctx, tx, p); err != nil {
			return err
		}
	}
	for _, s := range ch.DeleteSelections {
		var by string
		err := tx.QueryRow(ctx, "SELECT managed_by FROM backup_selections WHERE id = $1 AND plan_id = $2",
			s.SelectionID, s.BackupPlanID).Scan(&by)
		if errors.Is(err, pgx.ErrNoRows) {
			return backup.NotFound(kindSelection, s.SelectionID)
		}
		if err != nil {
			return fmt.Errorf("postgres: policy %s: %w", name, err)
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
			if _, err := tx.Exec(ctx, "DELETE FROM backup_selections WHERE plan_id = $1", id); err != nil {
				return fmt.Errorf("postgres: policy %s: delete selections of plan %s: %w", name, id, err)
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
	return getOne(c.pool.QueryRow(ctx, "SELECT "+policyCols+" FROM policies WHERE name = $1", name), scanPolicy, kindPolicy, name)
}

// ListPolicies returns policies ordered by name.
func (c *Catalog) ListPolicies(ctx context.Context, p backup.Page) ([]*backup.Policy, string, error) {
	return listByName(ctx, c.pool, p, tokenPolicies, "policies",
		"SELECT "+policyCols+" FROM policies WHERE name > $1 ORDER BY name LIMIT $2",
		scanPolicy, func(p *backup.Policy) string { return p.Name })
}
