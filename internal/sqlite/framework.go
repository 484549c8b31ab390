package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
)

const (
	kindFramework   = "Framework"
	tokenFrameworks = "fw1"
	frameworkCols   = `name, arn, account_id, region, description, controls, creation_ns, deployment_status,
		framework_status, idempotency_token, tags`
)

// storedControl is a control as the controls column holds it; its JSON
// names are the API's, so that the column reads like the requests.
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
	return s.(string), nil
}

func decodeControls(s sql.NullString) ([]backup.FrameworkControl, error) {
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
		controls, tags sql.NullString
		created        sql.NullInt64
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
// name, would pass the account's limits.
func checkFrameworkLimits(ctx context.Context, tx *sql.Tx, name string, n int, adding bool) error {
	var count, controls int
	if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(n_controls), 0) FROM frameworks WHERE name <> ?`, name).
		Scan(&count, &controls); err != nil {
		return fmt.Errorf("sqlite: count frameworks: %w", err)
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

// CreateFramework stores f; see backup.FrameworkStore.
func (c *Catalog) CreateFramework(ctx context.Context, f *backup.Framework) error {
	created, err := requiredNanos(f.CreationTime, "CreationTime")
	if err != nil {
		return err
	}
	controls, err := encodeControls(f.Controls)
	if err != nil {
		return fmt.Errorf("sqlite: create framework %s: %w", f.Name, err)
	}
	tags, err := jsonText(f.Tags, f.Tags == nil)
	if err != nil {
		return fmt.Errorf("sqlite: create framework %s: %w", f.Name, err)
	}
	tx, err := c.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: create framework %s: %w", f.Name, err)
	}
	defer tx.Rollback()
	var one int
	switch err := tx.QueryRowContext(ctx, "SELECT 1 FROM frameworks WHERE name = ?", f.Name).Scan(&one); {
	case err == nil:
		return &backup.Error{Code: backup.ErrAlreadyExists, Type: kindFramework, Context: f.Name,
			Message: fmt.Sprintf("framework %s already exists", f.Name)}
	case err != sql.ErrNoRows:
		return fmt.Errorf("sqlite: create framework %s: %w", f.Name, err)
	}
	if err := checkFrameworkLimits(ctx, tx, f.Name, len(f.Controls), true); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO frameworks (`+frameworkCols+`, n_controls)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.Name, f.ARN, f.AccountID, f.Region, f.Description, controls, created, f.DeploymentStatus,
		f.FrameworkStatus, f.IdempotencyToken, tags, len(f.Controls))
	if err != nil {
		if isUniqueViolation(err) || isPrimaryKeyViolation(err) {
			return &backup.Error{Code: backup.ErrAlreadyExists, Type: kindFramework, Context: f.Name,
				Message: fmt.Sprintf("framework %s already exists", f.Name)}
		}
		return fmt.Errorf("sqlite: create framework %s: %w", f.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: create framework %s: %w", f.Name, err)
	}
	return nil
}

// GetFramework returns the framework or ErrNotFound.
func (c *Catalog) GetFramework(ctx context.Context, name string) (*backup.Framework, error) {
	return getOne(c.read.QueryRowContext(ctx, "SELECT "+frameworkCols+" FROM frameworks WHERE name = ?", name),
		scanFramework, kindFramework, name)
}

// ListFrameworks returns frameworks ordered by name.
func (c *Catalog) ListFrameworks(ctx context.Context, p backup.Page) ([]*backup.Framework, string, error) {
	limit, err := pageSize(p)
	if err != nil {
		return nil, "", err
	}
	after := ""
	if p.NextToken != "" {
		parts, err := decodeToken(tokenFrameworks, p.NextToken, 1)
		if err != nil {
			return nil, "", err
		}
		after = parts[0]
	}
	rows, err := c.read.QueryContext(ctx, "SELECT "+frameworkCols+" FROM frameworks WHERE name > ? ORDER BY name LIMIT ?", after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: list frameworks: %w", err)
	}
	defer rows.Close()
	out := []*backup.Framework{}
	for rows.Next() {
		f, err := scanFramework(rows)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: list frameworks: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: list frameworks: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeToken(tokenFrameworks, out[limit-1].Name)
	}
	return out, next, nil
}

// UpdateFramework replaces what an update may change; see
// backup.FrameworkStore.
func (c *Catalog) UpdateFramework(ctx context.Context, f *backup.Framework) error {
	controls, err := encodeControls(f.Controls)
	if err != nil {
		return fmt.Errorf("sqlite: update framework %s: %w", f.Name, err)
	}
	tx, err := c.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: update framework %s: %w", f.Name, err)
	}
	defer tx.Rollback()
	var one int
	switch err := tx.QueryRowContext(ctx, "SELECT 1 FROM frameworks WHERE name = ?", f.Name).Scan(&one); {
	case err == sql.ErrNoRows:
		return backup.NotFound(kindFramework, f.Name)
	case err != nil:
		return fmt.Errorf("sqlite: update framework %s: %w", f.Name, err)
	}
	if err := checkFrameworkLimits(ctx, tx, f.Name, len(f.Controls), false); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE frameworks SET description = ?, controls = ?, n_controls = ?,
		deployment_status = ?, framework_status = ?, idempotency_token = ? WHERE name = ?`,
		f.Description, controls, len(f.Controls), f.DeploymentStatus, f.FrameworkStatus, f.IdempotencyToken, f.Name)
	if err != nil {
		return fmt.Errorf("sqlite: update framework %s: %w", f.Name, err)
	}
	if err := affectedOne(res, kindFramework, f.Name); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: update framework %s: %w", f.Name, err)
	}
	return nil
}

// DeleteFramework removes the framework; ErrNotFound if absent.
func (c *Catalog) DeleteFramework(ctx context.Context, name string) error {
	res, err := c.write.ExecContext(ctx, "DELETE FROM frameworks WHERE name = ?", name)
	if err != nil {
		return fmt.Errorf("sqlite: delete framework %s: %w", name, err)
	}
	return affectedOne(res, kindFramework, name)
}
