package postgres

import (
	"context"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
)

const kindStack = "Stack"

const stackCols = "name, parameters, resources, creation_ns, update_ns"

func scanStack(s scanner) (*backup.Stack, error) {
	var (
		st                backup.Stack
		params, resources *string
		created, updated  *int64
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
		return fmt.Errorf("postgres: put stack %s: %w", s.Name, err)
	}
	resources, err := jsonText(s.Resources, s.Resources == nil)
	if err != nil {
		return fmt.Errorf("postgres: put stack %s: %w", s.Name, err)
	}
	_, err = c.pool.Exec(ctx, `INSERT INTO stacks (`+stackCols+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (name) DO UPDATE SET parameters = excluded.parameters, resources = excluded.resources,
		creation_ns = excluded.creation_ns, update_ns = excluded.update_ns`,
		s.Name, params, resources, created, updated)
	if err != nil {
		return fmt.Errorf("postgres: put stack %s: %w", s.Name, err)
	}
	return nil
}

// GetStack returns the stack or ErrNotFound.
func (c *Catalog) GetStack(ctx context.Context, name string) (*backup.Stack, error) {
	return getOne(c.pool.QueryRow(ctx, "SELECT "+stackCols+" FROM stacks WHERE name = $1", name), scanStack, kindStack, name)
}

// DeleteStack removes the stack record; ErrNotFound if absent.
func (c *Catalog) DeleteStack(ctx context.Context, name string) error {
	tag, err := c.pool.Exec(ctx, "DELETE FROM stacks WHERE name = $1", name)
	if err != nil {
		return fmt.Errorf("postgres: delete stack %s: %w", name, err)
	}
	return affectedOne(tag, kindStack, name)
}

// ListStacks returns stacks ordered by name.
func (c *Catalog) ListStacks(ctx context.Context, p backup.Page) ([]*backup.Stack, string, error) {
	return listByName(ctx, c.pool, p, tokenStacks, "stacks",
		"SELECT "+stackCols+" FROM stacks WHERE name > $1 ORDER BY name LIMIT $2",
		scanStack, func(s *backup.Stack) string { return s.Name })
}
