package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
)

const kindStack = "Stack"

const stackCols = "name, parameters, resources, creation_ns, update_ns"

func scanStack(s scanner) (*backup.Stack, error) {
	var (
		st                backup.Stack
		params, resources sql.NullString
		created, updated  sql.NullInt64
	)
	if err := s.Scan(&st.Name, &params, &resources, &created, &updated); err != nil {
		return nil, err
	}
	st.CreationDate = timeOf(created)
	st.UpdateDate = timeOf(updated)
	if err := fromJSON(params, &st.Parameters); err != nil {
		return nil, fmt.Errorf("stack %s: parameters: %w", st.Name, err)
	}
	if err := fromJSON(resources, &st.Resources); err != nil {
		return nil, fmt.Errorf("stack %s: resources: %w", st.Name, err)
	}
	return &st, nil
}

// PutStack creates the stack s.Name or replaces it with s.
func (c *Catalog) PutStack(ctx context.Context, s *backup.Stack) error {
	if s.Name == "" {
		return backup.Errorf(backup.ErrMissingParameter, "StackName is required")
	}
	created, err := nanos(s.CreationDate, "CreationDate")
	if err != nil {
		return err
	}
	updated, err := nanos(s.UpdateDate, "UpdateDate")
	if err != nil {
		return err
	}
	params, err := jsonText(s.Parameters, s.Parameters == nil)
	if err != nil {
		return fmt.Errorf("sqlite: put stack %s: %w", s.Name, err)
	}
	resources, err := jsonText(s.Resources, s.Resources == nil)
	if err != nil {
		return fmt.Errorf("sqlite: put stack %s: %w", s.Name, err)
	}
	_, err = c.write.ExecContext(ctx, `INSERT INTO stacks (`+stackCols+`) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET parameters = excluded.parameters, resources = excluded.resources,
		creation_ns = excluded.creation_ns, update_ns = excluded.update_ns`,
		s.Name, params, resources, created, updated)
	if err != nil {
		return fmt.Errorf("sqlite: put stack %s: %w", s.Name, err)
	}
	return nil
}

// GetStack returns the stack or ErrNotFound.
func (c *Catalog) GetStack(ctx context.Context, name string) (*backup.Stack, error) {
	return getOne(c.read.QueryRowContext(ctx, "SELECT "+stackCols+" FROM stacks WHERE name = ?", name), scanStack, kindStack, name)
}

// DeleteStack removes the stack record; ErrNotFound if absent.
func (c *Catalog) DeleteStack(ctx context.Context, name string) error {
	res, err := c.write.ExecContext(ctx, "DELETE FROM stacks WHERE name = ?", name)
	if err != nil {
		return fmt.Errorf("sqlite: delete stack %s: %w", name, err)
	}
	return affectedOne(res, kindStack, name)
}

// ListStacks returns stacks ordered by name.
func (c *Catalog) ListStacks(ctx context.Context, p backup.Page) ([]*backup.Stack, string, error) {
	limit, err := pageSize(p)
	if err != nil {
		return nil, "", err
	}
	after := ""
	if p.NextToken != "" {
		parts, err := decodeToken(tokenStacks, p.NextToken, 1)
		if err != nil {
			return nil, "", err
		}
		after = parts[0]
	}
	rows, err := c.read.QueryContext(ctx, "SELECT "+stackCols+" FROM stacks WHERE name > ? ORDER BY name LIMIT ?", after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: list stacks: %w", err)
	}
	defer rows.Close()
	stacks := []*backup.Stack{}
	for rows.Next() {
		s, err := scanStack(rows)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: list stacks: %w", err)
		}
		stacks = append(stacks, s)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: list stacks: %w", err)
	}
	next := ""
	if len(stacks) > limit {
		stacks = stacks[:limit]
		next = encodeToken(tokenStacks, stacks[limit-1].Name)
	}
	return stacks, next, nil
}
