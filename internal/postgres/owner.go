package postgres

import (
	"context"
	"fmt"

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
// only where there is none and the state is one of from. PostgreSQL's row
// lock makes concurrent claims wait for each other; the one that comes
// second sees the owner set and changes nothing.
func (c *Catalog) ClaimJob(ctx context.Context, kind backup.JobKind, id, node string, from []string) (bool, error) {
	t, ok := ownerTables[kind]
	if !ok || node == "" || len(from) == 0 {
		return false, backup.Errorf(backup.ErrInvalidParameter, "claim job %s: kind %q, node %q and states %v are required", id, kind, node, from)
	}
	tag, err := c.pool.Exec(ctx, fmt.Sprintf("UPDATE %s SET owner = $1 WHERE id = $2 AND owner = '' AND %s = ANY($3)", t.table, t.state),
		node, id, from)
	if err != nil {
		return false, fmt.Errorf("postgres: claim %s job %s: %w", kind, id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// OwnedJobs implements backup.JobOwnerStore.
func (c *Catalog) OwnedJobs(ctx context.Context, nodes []string) ([]backup.OwnedJob, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	var out []backup.OwnedJob
	for _, kind := range []backup.JobKind{backup.JobKindBackup, backup.JobKindRestore, backup.JobKindCopy} {
		t := ownerTables[kind]
		rows, err := c.pool.Query(ctx, fmt.Sprintf("SELECT id, owner FROM %s WHERE owner = ANY($1) AND %s = ANY($2) ORDER BY creation_ns, id",
			t.table, t.state), nodes, t.active)
		if err != nil {
			return nil, fmt.Errorf("postgres: jobs owned by %v: %w", nodes, err)
		}
		for rows.Next() {
			j := backup.OwnedJob{Kind: kind}
			if err := rows.Scan(&j.ID, &j.Owner); err != nil {
				rows.Close()
				return nil, fmt.Errorf("postgres: jobs owned by %v: %w", nodes, err)
			}
			out = append(out, j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("postgres: jobs owned by %v: %w", nodes, err)
		}
	}
	return out, nil
}
