package sqlite

import (
	"context"
	"database/sql"
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
	_, err = c.write.ExecContext(ctx, `INSERT INTO cluster_nodes (`+nodeCols+`) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET address = excluded.address, max_jobs = excluded.max_jobs,
		started_ns = excluded.started_ns, heartbeat_ns = excluded.heartbeat_ns`,
		n.ID, n.Address, n.MaxJobs, started, beat)
	if err != nil {
		return fmt.Errorf("sqlite: register node %s: %w", n.ID, err)
	}
	return nil
}

// HeartbeatNode implements backup.NodeStore.
func (c *Catalog) HeartbeatNode(ctx context.Context, id string, at time.Time) error {
	beat, err := requiredNanos(at, "heartbeat")
	if err != nil {
		return err
	}
	res, err := c.write.ExecContext(ctx, "UPDATE cluster_nodes SET heartbeat_ns = max(heartbeat_ns, ?) WHERE id = ?", beat, id)
	if err != nil {
		return fmt.Errorf("sqlite: heartbeat of node %s: %w", id, err)
	}
	return affectedOne(res, kindNode, id)
}

// ListNodes implements backup.NodeStore.
func (c *Catalog) ListNodes(ctx context.Context) ([]*backup.Node, error) {
	rows, err := c.read.QueryContext(ctx, "SELECT "+nodeCols+" FROM cluster_nodes ORDER BY started_ns, id")
	if err != nil {
		return nil, fmt.Errorf("sqlite: list nodes: %w", err)
	}
	defer rows.Close()
	var out []*backup.Node
	for rows.Next() {
		var (
			n             backup.Node
			started, beat sql.NullInt64
		)
		if err := rows.Scan(&n.ID, &n.Address, &n.MaxJobs, &started, &beat); err != nil {
			return nil, fmt.Errorf("sqlite: list nodes: %w", err)
		}
		n.Started, n.Heartbeat = timeOf(started), timeOf(beat)
		out = append(out, &n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list nodes: %w", err)
	}
	return out, nil
}

// DeleteNode implements backup.NodeStore.
func (c *Catalog) DeleteNode(ctx context.Context, id string) error {
	res, err := c.write.ExecContext(ctx, "DELETE FROM cluster_nodes WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("sqlite: delete node %s: %w", id, err)
	}
	return affectedOne(res, kindNode, id)
}
