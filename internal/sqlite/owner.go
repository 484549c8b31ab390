package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
)

// ownerTables are the table and state column of each job kind the queue
// distributes, and the states of its jobs that have not ended.
var ownerTables = map[backup.JobKind]struct {
	table, state string
	active       []string
}{
	backup.JobKindBackup:  {"backup_jobs", "state", []string{"CREATED", "PENDING", "RUNNING", "ABORTING"}},
	backup.JobKindRestore: {"restore_jobs", "status", []string{"PENDING", "RUNNING"}},
	backup.JobKindCopy:    {"copy_jobs", "state", []string{"CREATED", "RUNNING"}},
}

// ClaimJob implements backup.JobOwnerStore: one UPDATE that sets the owner
// only where there is none and the state is one of from.
func (c *Catalog) ClaimJob(ctx context.Context, kind backup.JobKind, id, node string, from []string) (bool, error) {
	t, ok := ownerTables[kind]
	if !ok || node == "" || len(from) == 0 {
		return false, backup.Errorf(backup.ErrInvalidParameter, "claim job %s: kind %q, node %q and states %v are required", id, kind, node, from)
	}
	args := []any{node, id}
	for _, s := range from {
		args = append(args, s)
	}
	res, err := c.write.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET owner = ? WHERE id = ? AND owner = '' AND %s IN (%s)",
		t.table, t.state, marks(len(from))), args...)
	if err != nil {
		return false, fmt.Errorf("sqlite: claim %s job %s: %w", kind, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: claim %s job %s: %w", kind, id, err)
	}
	return n == 1, nil
}

// OwnedJobs implements backup.JobOwnerStore.
func (c *Catalog) OwnedJobs(ctx context.Context, nodes []string) ([]backup.OwnedJob, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	var out []backup.OwnedJob
	for _, kind := range []backup.JobKind{backup.JobKindBackup, backup.JobKindRestore, backup.JobKindCopy} {
		t := ownerTables[kind]
		var args []any
		for _, n := range nodes {
			args = append(args, n)
		}
		for _, s := range t.active {
			args = append(args, s)
		}
		rows, err := c.read.QueryContext(ctx, fmt.Sprintf("SELECT id, owner FROM %s WHERE owner IN (%s) AND %s IN (%s) ORDER BY creation_ns, id",
			t.table, marks(len(nodes)), t.state, marks(len(t.active))), args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: jobs owned by %v: %w", nodes, err)
		}
		for rows.Next() {
			j := backup.OwnedJob{Kind: kind}
			if err := rows.Scan(&j.ID, &j.Owner); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: jobs owned by %v: %w", nodes, err)
			}
			out = append(out, j)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("sqlite: jobs owned by %v: %w", nodes, err)
		}
	}
	return out, nil
}

// marks returns n comma-separated "?".
func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
