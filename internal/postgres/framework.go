package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-backup/cairn/internal/backup"
)

const (
	kindFramework = "Framework"
	frameworkCols = `name, arn, account_id, region, description, controls, creation_ns, deployment_status,
		framework_status, idempotency_token, tags`
)

// storedControl is a control as the controls column holds it; its JSON
// names are the API's, so that the column reads like the requests (the
// same text as on SQLite).
type storedControl struct {
	ControlName            string
	ControlInputParameters []storedParam `json:",omitempty"`
	ControlScope           *storedScope  `json:",omitempty"`
}

type storedParam struct {
	ParameterName  string
	ParameterValue string
}

type storedScope struct {
	ComplianceResourceIds   []string          `json:",omitempty"`
	ComplianceResourceTypes []string          `json:",omitempty"`
	Tags                    map[string]string `json:",omitempty"`
}

func encodeControls(cs []backup.FrameworkControl) (string, error) {
	out := make([]storedControl, len(cs))
	for i, c := range cs {
		out[i].ControlName = c.Name
		for _, p := range c.InputParameters {
			out[i].ControlInputParameters = append(out[i].ControlInputParameters, storedParam{p.Name, p.Value})
		}
		if !c.Scope.IsZero() {
			out[i].ControlScope = &storedScope{c.Scope.ComplianceResourceIDs, c.Scope.ComplianceResourceTypes, c.Scope.Tags}
		}
	}
	s, err := jsonText(out, false)
	if err != nil {
		return "", err
	}
	return *s, nil
}

func decodeControls(s *string) ([]backup.FrameworkControl, error) {
	var in []storedControl
	if err := fromJSON(s, &in); err != nil {
		return nil, err
	}
	out := make([]backup.FrameworkControl, len(in))
	for i, c := range in {
		out[i].Name = c.ControlName
		for _, p := range c.ControlInputParameters {
			out[i].InputParameters = append(out[i].InputParameters, backup.ControlInputParameter{Name: p.ParameterName, Value: p.ParameterValue})
		}
		if c.ControlScope != nil {
			out[i].Scope = backup.ControlScope{ComplianceResourceIDs: c.ControlScope.ComplianceResourceIds,
				ComplianceResourceTypes: c.ControlScope.ComplianceResourceTypes, Tags: c.ControlScope.Tags}
		}
	}
	return out, nil
}

func scanFramework(s scanner) (*backup.Framework, error) {
	var (
		f              backup.Framework
		controls, tags *string
		created        *int64
	)
	if err := s.Scan(&f.Name, &f.ARN, &f.AccountID, &f.Region, &f.Description, &controls, &created,
		&f.DeploymentStatus, &f.FrameworkStatus, &f.IdempotencyToken, &tags); err != nil {
		return nil, err
	}
	f.CreationTime = timeOf(created)
	var err error
	if f.Controls, err = decodeControls(controls); err != nil {
		return nil, fmt.Errorf("framework %s: controls: %w", f.Name, err)
	}
	if err := fromJSON(tags, &f.Tags); err != nil {
		return nil, fmt.Errorf("framework %s: tags: %w", f.Name, err)
	}
	return &f, nil
}

// checkFrameworkLimits fails with ErrLimitExceeded if adding a framework
// (adding true) with n controls, besides those of the frameworks other than
// name, would pass the account's limits. It first locks the table against
// other writers until tx ends: the limits count rows that concurrent
// transactions could otherwise add unseen.
func checkFrameworkLimits(ctx context.Context, tx pgx.Tx, name string, n int, adding bool) error {
	if _, err := tx.Exec(ctx, "LOCK TABLE frameworks IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return fmt.Errorf("postgres: lock frameworks: %w", err)
	}
	var count, controls int
	if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(sum(n_controls), 0) FROM frameworks WHERE name <> $1`, name).
		Scan(&count, &controls); err != nil {
		return fmt.Errorf("postgres: count frameworks: %w", err)
	}
	if adding && count >= backup.MaxFrameworks {
		return backup.Errorf(backup.ErrLimitExceeded, "there are %d frameworks already, the most an account may have; delete one first", count)
	}
	if controls+n > backup.MaxFrameworkControls {
		return backup.Errorf(backup.ErrLimitExceeded, "the frameworks would hold %d controls together (%d in the others, %d in this one); "+
			"an account may use at most %d", controls+n, controls, n, backup.MaxFrameworkControls)
	}
	return nil
}

// frameworkExists is the error for a second framework of one name.
func frameworkExists(name string) error {
	return &backup.Error{Code: backup.ErrAlreadyExists, Type: kindFramework, Context: name,
		Message: fmt.Sprintf("framework %s already exists", name)}
}

// CreateFramework stores f; see backup.FrameworkStore.
func (c *Catalog) CreateFramework(ctx context.Context, f *backup.Framework) error {
	created, err := requiredNanos(f.CreationTime, "CreationTime")
	if err != nil {
		return err
	}
	controls, err := encodeControls(f.Controls)
	if err != nil {
		return fmt.Errorf("postgres: create framework %s: %w", f.Name, err)
	}
	tags, err := jsonText(f.Tags, f.Tags == nil)
	if err != nil {
		return fmt.Errorf("postgres: create framework %s: %w", f.Name, err)
	}
	return c.inTx(ctx, "create framework "+f.Name, func(tx pgx.Tx) error {
		if err := checkFrameworkLimits(ctx, tx, f.Name, len(f.Controls), true); err != nil {
			return err
		}
		var one int
		switch err := tx.QueryRow(ctx, "SELECT 1 FROM frameworks WHERE name = $1", f.Name).Scan(&one); {
		case err == nil:
			return frameworkExists(f.Name)
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("postgres: create framework %s: %w", f.Name, err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO frameworks (`+frameworkCols+`, n_controls)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			f.Name, f.ARN, f.AccountID, f.Region, f.Description, controls, created, f.DeploymentStatus,
			f.FrameworkStatus, f.IdempotencyToken, tags, len(f.Controls))
		if isUniqueViolation(err) {
			return frameworkExists(f.Name)
		}
		if err != nil {
			return fmt.Errorf("postgres: create framework %s: %w", f.Name, err)
		}
		return nil
	})
}

// GetFramework returns the framework or ErrNotFound.
func (c *Catalog) GetFramework(ctx context.Context, name string) (*backup.Framework, error) {
	return getOne(c.pool.QueryRow(ctx, "SELECT "+frameworkCols+" FROM frameworks WHERE name = $1", name),
		scanFramework, kindFramework, name)
}

// ListFrameworks returns frameworks ordered by name.
func (c *Catalog) ListFrameworks(ctx context.Context, p backup.Page) ([]*backup.Framework, string, error) {
	return listByName(ctx, c.pool, p, tokenFrameworks, "frameworks",
		"SELECT "+frameworkCols+" FROM frameworks WHERE name > $1 ORDER BY name LIMIT $2",
		scanFramework, func(f *backup.Framework) string { return f.Name })
}

// UpdateFramework replaces what an update may change; see
// backup.FrameworkStore.
func (c *Catalog) UpdateFramework(ctx context.Context, f *backup.Framework) error {
	controls, err := encodeControls(f.Controls)
	if err != nil {
		return fmt.Errorf("postgres: update framework %s: %w", f.Name, err)
	}
	return c.inTx(ctx, "update framework "+f.Name, func(tx pgx.Tx) error {
		if err := checkFrameworkLimits(ctx, tx, f.Name, len(f.Controls), false); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE frameworks SET description = $1, controls = $2, n_controls = $3,
			deployment_status = $4, framework_status = $5, idempotency_token = $6 WHERE name = $7`,
			f.Description, controls, len(f.Controls), f.DeploymentStatus, f.FrameworkStatus, f.IdempotencyToken, f.Name)
		if err != nil {
			return fmt.Errorf("postgres: update framework %s: %w", f.Name, err)
		}
		return affectedOne(tag, kindFramework, f.Name)
	})
}

// DeleteFramework removes the framework; ErrNotFound if absent.
func (c *Catalog) DeleteFramework(ctx context.Context, name string) error {
	tag, err := c.pool.Exec(ctx, "DELETE FROM frameworks WHERE name = $1", name)
	if err != nil {
		return fmt.Errorf("postgres: delete framework %s: %w", name, err)
	}
	return affectedOne(tag, kindFramework, name)
}
