package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// summaryTables names each job kind's table and state column.
var summaryTables = map[backup.JobKind]struct{ table, state string }{
	backup.JobKindBackup:  {"backup_jobs", "state"},
	backup.JobKindRestore: {"restore_jobs", "status"},
	backup.JobKindCopy:    {"copy_jobs", "state"},
}

const nsPerDay = int64(24 * time.Hour)

// CountJobs counts f.Kind's jobs per UTC day of creation and per region,
// account, state, resource type and message category. The creation range
// is a range scan of the kind's (creation_ns, id) index.
func (c *Catalog) CountJobs(ctx context.Context, f backup.JobCountFilter) ([]backup.JobCount, error) {
	t, ok := summaryTables[f.Kind]
	if !ok {
		return nil, backup.Errorf(backup.ErrInvalidParameter, "job kind %q is not BACKUP, RESTORE or COPY", f.Kind)
	}
	category := fmt.Sprintf("CASE WHEN %s = 'COMPLETED' THEN '%s' ELSE '%s' END", t.state,
		backup.MessageCategorySuccess, backup.MessageCategoryUnknown)
	if f.Kind == backup.JobKindRestore {
		category = "''"
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if !f.CreatedFrom.IsZero() {
		add("creation_ns >= $%d", f.CreatedFrom.UnixNano())
	}
	if !f.CreatedBefore.IsZero() {
		add("creation_ns < $%d", f.CreatedBefore.UnixNano())
	}
	if f.AccountID != "" {
		add("account_id = $%d", f.AccountID)
	}
	if f.State != "" {
		add(t.state+" = $%d", string(f.State))
	}
	if f.ResourceType != "" {
		add("resource_type = $%d", f.ResourceType)
	}
	if f.MessageCategory != "" {
		add(category+" = $%d", string(f.MessageCategory))
	}
	q := fmt.Sprintf(`SELECT creation_ns / %d AS day, region, account_id, %s, resource_type, %s AS category, count(*)
		FROM %s`, nsPerDay, t.state, category, t.table)
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " GROUP BY day, region, account_id, " + t.state + ", resource_type, category"
	rows, err := c.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: count %s: %w", t.table, err)
	}
	out, err := collectRows(rows, func(s scanner) (backup.JobCount, error) {
		var day int64
		var jc backup.JobCount
		if err := s.Scan(&day, &jc.Region, &jc.AccountID, &jc.State, &jc.ResourceType, &jc.MessageCategory, &jc.Count); err != nil {
			return jc, err
		}
		jc.Day = time.Unix(0, day*nsPerDay).UTC()
		return jc, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: count %s: %w", t.table, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
