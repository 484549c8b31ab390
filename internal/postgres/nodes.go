package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

const kindNode = "Node"

const nodeCols = "id, address, max_jobs, started_ns, heartbeat_ns"

// RegisterNode implements backup.NodeStore.
func (c *Catalog) RegisterNode(ctx context.Context, n *backup.Node) error {
	if n.ID == "" {
		return backup.Errorf(backup.ErrMissingParameter, "ID is required")
	}
	started, err := requiredNanos(n.Started, "Started")
	if err != nil {
		return err
	}
	beat, err := requiredNanos(n.Heartbeat, "Heartbeat")
	if err != nil {
		return err
	}
	_, err = c.pool.Exec(ctx, `INSERT INTO cluster_nodes (`+nodeCols+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET address = excluded.address, max_jobs = excluded.max_jobs,
		started_ns = excluded.started_ns, heartbeat_ns = excluded.heartbeat_ns`,
		n.ID, n.Address, n.MaxJobs, started, beat)
	if err != nil {
		return fmt.Errorf("postgres: register node %s: %w", n.ID, err)
	}
	return nil
}

// HeartbeatNode implements backup.NodeStore.
func (c *Catalog) HeartbeatNode(ctx context.Context, id string, at time.Time) error {
	beat, err := requiredNanos(at, "heartbeat")
	if err != nil {
		return err
	}
	tag, err := c.pool.Exec(ctx, "UPDATE cluster_nodes SET heartbeat_ns = greatest(heartbeat_ns, $1) WHERE id = $2", beat, id)
	if err != nil {
		return fmt.Errorf("postgres: heartbeat of node %s: %w", id, err)
	}
	return affectedOne(tag, kindNode, id)
}

// ListNodes implements backup.NodeStore.
func (c *Catalog) ListNodes(ctx context.Context) ([]*backup.Node, error) {
	rows, err := c.pool.Query(ctx, "SELECT "+nodeCols+" FROM cluster_nodes ORDER BY started_ns, id")
	if err != nil {
		return nil, fmt.Errorf("postgres: list nodes: %w", err)
	}
	out, err := collectRows(rows, func(s scanner) (*backup.Node, error) {
		var (
			n             backup.Node
			started, beat *int64
		)
		if err := s.Scan(&n.ID, &n.Address, &n.MaxJobs, &started, &beat); err != nil {
			return nil, err
		}
		n.Started, n.Heartbeat = timeOf(started), timeOf(beat)
		return &n, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list nodes: %w", err)
	}
	return out, nil
}

// DeleteNode implements backup.NodeStore.
func (c *Catalog) DeleteNode(ctx context.Context, id string) error {
	tag, err := c.pool.Exec(ctx, "DELETE FROM cluster_nodes WHERE id = $1", id)
	if err != nil {
		return fmt.Errorf("postgres: delete node %s: %w", id, err)
	}
	return affectedOne(tag, kindNode, id)
}
