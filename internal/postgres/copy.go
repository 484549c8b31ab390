package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// TableCount is what CopyFrom did with one table: the rows the source
// holds and the rows the copy holds.
type TableCount struct {
	Table          string
	Source, Copied int64
}

// CopyFrom copies a whole catalog kept in SQLite (src: its read-only
// connections, see sqlite.Catalog.ReadDB) into this one, table by table,
// column by column: the two schemas mirror each other, migration for
// migration. The source is read in one read transaction (one state of it)
// and the copy written in one transaction, which commits only if every
// table of the copy has exactly as many rows as the source's; otherwise
// nothing is written.
//
// A catalog that holds any row is refused, unless replace is set: then
// its tables are emptied first, in the same transaction.
func (c *Catalog) CopyFrom(ctx context.Context, src *sql.DB, replace bool) ([]TableCount, error) {
	rtx, err := src.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("copy: read the source: %w", err)
	}
	defer rtx.Rollback() //nolint:errcheck // read only
	var counts []TableCount
	err = c.inTx(ctx, "copy", func(tx pgx.Tx) error {
		var srcVersion, version int
		if err := rtx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&srcVersion); err != nil {
			return fmt.Errorf("copy: the source's schema version: %w", err)
		}
		if err := tx.QueryRow(ctx, "SELECT version FROM cairn_schema").Scan(&version); err != nil {
			return fmt.Errorf("copy: the target's schema version: %w", err)
		}
		if srcVersion != version {
			return fmt.Errorf("copy: the source is at schema version %d and the target at %d; open both with the same cairn", srcVersion, version)
		}
		tables, err := copyOrder(ctx, tx)
		if err != nil {
			return err
		}
		if err := sameTables(ctx, rtx, tables); err != nil {
			return err
		}
		if err := emptyTarget(ctx, tx, tables, replace); err != nil {
			return err
		}
		for _, t := range tables {
			n, err := copyTable(ctx, rtx, tx, t)
			if err != nil {
				return err
			}
			counts = append(counts, n)
		}
		var bad []string
		for _, n := range counts {
			if n.Source != n.Copied {
				bad = append(bad, fmt.Sprintf("%s: %d in the source, %d copied", n.Table, n.Source, n.Copied))
			}
		}
		if len(bad) > 0 {
			return fmt.Errorf("copy: the counts differ, nothing was written: %s", strings.Join(bad, "; "))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// copyOrder returns the catalog's tables (all of the schema's but
// cairn_schema), each after the tables its foreign keys refer to.
func copyOrder(ctx context.Context, tx pgx.Tx) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'cairn_schema'
		ORDER BY table_name`)
	if err != nil {
		return nil, fmt.Errorf("copy: list tables: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("copy: list tables: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
		JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = current_schema()`)
	if err != nil {
		return nil, fmt.Errorf("copy: list foreign keys: %w", err)
	}
	deps := map[string][]string{}
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			rows.Close()
			return nil, fmt.Errorf("copy: list foreign keys: %w", err)
		}
		deps[from] = append(deps[from], to)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("copy: list foreign keys: %w", err)
	}
	var order []string
	done := map[string]bool{}
	var visit func(string)
	visit = func(t string) {
		if done[t] {
			return
		}
		done[t] = true
		for _, d := range deps[t] {
			if d != t {
				visit(d)
			}
		}
		order = append(order, t)
	}
	for _, t := range names {
		visit(t)
	}
	return order, nil
}

// sameTables checks that the source has the same tables as the target.
func sameTables(ctx context.Context, rtx *sql.Tx, tables []string) error {
	rows, err := rtx.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
	if err != nil {
		return fmt.Errorf("copy: list the source's tables: %w", err)
	}
	defer rows.Close()
	src := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return fmt.Errorf("copy: list the source's tables: %w", err)
		}
		src[name] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("copy: list the source's tables: %w", err)
	}
	for _, t := range tables {
		if !src[t] {
			return fmt.Errorf("copy: the source has no table %s", t)
		}
		delete(src, t)
	}
	if len(src) > 0 {
		return fmt.Errorf("copy: the target has no table %s", strings.Join(slices.Sorted(maps.Keys(src)), ", "))
	}
	return nil
}

// emptyTarget refuses a target that holds rows, or empties it if replace.
func emptyTarget(ctx context.Context, tx pgx.Tx, tables []string, replace bool) error {
	if replace {
		if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(tables, ", ")+" RESTART IDENTITY"); err != nil {
			return fmt.Errorf("copy: empty the target: %w", err)
		}
		return nil
	}
	var held []string
	for _, t := range tables {
		var n int64
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return fmt.Errorf("copy: count %s: %w", t, err)
		}
		if n > 0 {
			held = append(held, fmt.Sprintf("%s: %d", t, n))
		}
	}
	if len(held) > 0 {
		return fmt.Errorf("%w: the target catalog holds data (%s); copy into an empty database, or replace what it holds with --replace",
			ErrNotEmpty, strings.Join(held, ", "))
	}
	return nil
}

// ErrNotEmpty is wrapped by CopyFrom's error for a target that holds data.
var ErrNotEmpty = errors.New("the target catalog is not empty")

// column is one column of a target table.
type column struct {
	name, dataType string
	identity       bool
}

// copyTable copies table t from the source's transaction into tx and
// counts both.
func copyTable(ctx context.Context, rtx *sql.Tx, tx pgx.Tx, t string) (TableCount, error) {
	n := TableCount{Table: t}
	rows, err := tx.Query(ctx, `SELECT column_name, data_type, is_identity = 'YES' FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, t)
	if err != nil {
		return n, fmt.Errorf("copy: columns of %s: %w", t, err)
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
		var c column
		err := r.Scan(&c.name, &c.dataType, &c.identity)
		return c, err
	})
	if err != nil {
		return n, fmt.Errorf("copy: columns of %s: %w", t, err)
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	if err := rtx.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n.Source); err != nil {
		return n, fmt.Errorf("copy: count the source's %s: %w", t, err)
	}
	srows, err := rtx.QueryContext(ctx, "SELECT "+strings.Join(names, ", ")+" FROM "+t)
	if err != nil {
		return n, fmt.Errorf("copy: read the source's %s: %w", t, err)
	}
	defer srows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	next := func() ([]any, error) {
		if !srows.Next() {
			return nil, srows.Err()
		}
		if err := srows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out := make([]any, len(vals))
		for i, v := range vals {
			if out[i], err = convert(v, cols[i].dataType); err != nil {
				return nil, fmt.Errorf("column %s: %w", cols[i].name, err)
			}
		}
		return out, nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{t}, names, pgx.CopyFromFunc(next)); err != nil {
		return n, fmt.Errorf("copy: %s: %w", t, err)
	}
	for _, c := range cols {
		if c.identity {
			if _, err := tx.Exec(ctx, fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce(max(%s), 0) + 1, false) FROM %s",
				t, c.name, c.name, t)); err != nil {
				return n, fmt.Errorf("copy: %s: the next %s: %w", t, c.name, err)
			}
		}
	}
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+t).Scan(&n.Copied); err != nil {
		return n, fmt.Errorf("copy: count the copy's %s: %w", t, err)
	}
	return n, nil
}

// convert turns a value SQLite returned into the target column's type:
// SQLite keeps booleans as 0 and 1, and a REAL column may return a whole
// number as an integer.
func convert(v any, dataType string) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		v = string(x)
	}
	switch dataType {
	case "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		}
	case "double precision":
		switch x := v.(type) {
		case int64:
			return float64(x), nil
		case float64:
			return x, nil
		}
	case "bigint", "integer":
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			if x == float64(int64(x)) {
				return int64(x), nil
			}
		}
	case "text":
		if s, ok := v.(string); ok {
			return s, nil
		}
	default:
		return v, nil
	}
	return nil, fmt.Errorf("%T %v does not fit a %s column", v, v, dataType)
}
