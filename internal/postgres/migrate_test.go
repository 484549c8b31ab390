package postgres_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/cairn-backup/cairn/internal/postgres"
	"github.com/cairn-backup/cairn/internal/sqlite"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// migrationNames returns the .sql files of dir, sorted.
func migrationNames(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	slices.Sort(names)
	return names
}

// PostgreSQL's migrations mirror SQLite's one for one, numbered and named
// the same: a catalog change made on one side only fails here (and cairn
// catalog copy needs the two schemas alike).
func TestMigrationsMirrorSQLite(t *testing.T) {
	pg, lite := migrationNames(t, "migrations"), migrationNames(t, filepath.Join("..", "sqlite", "migrations"))
	if len(lite) == 0 || !slices.Equal(pg, lite) {
		t.Fatalf("internal/postgres/migrations %v\ndo not mirror internal/sqlite/migrations %v:\n"+
			"give every SQLite migration its PostgreSQL twin, numbered and named the same", pg, lite)
	}
}

// Open migrates a new database to the latest schema, a second Open finds
// nothing to do, and both schemas end at the same version with the same
// tables and columns.
func TestMigrate(t *testing.T) {
	url := testbed.PostgresURL(t)
	c, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.SchemaVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	c, err = postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("open a migrated database again: %v", err)
	}
	defer c.Close()
	lite, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	lv, err := lite.SchemaVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v != lv || v != len(migrationNames(t, "migrations")) {
		t.Fatalf("schema version %d on PostgreSQL, %d on SQLite", v, lv)
	}
	pgCols := map[string][]string{}
	rows, err := c.Pool().Query(t.Context(), `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name <> 'cairn_schema' ORDER BY table_name, column_name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tbl, col string
		if err := rows.Scan(&tbl, &col); err != nil {
			t.Fatal(err)
		}
		pgCols[tbl] = append(pgCols[tbl], col)
	}
	liteCols := map[string][]string{}
	lrows, err := lite.ReadDB().QueryContext(t.Context(), `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.name`)
	if err != nil {
		t.Fatal(err)
	}
	defer lrows.Close()
	for lrows.Next() {
		var tbl, col string
		if err := lrows.Scan(&tbl, &col); err != nil {
			t.Fatal(err)
		}
		liteCols[tbl] = append(liteCols[tbl], col)
	}
	for tbl, cols := range liteCols {
		if !slices.Equal(cols, pgCols[tbl]) {
			t.Errorf("table %s: columns %v on SQLite, %v on PostgreSQL", tbl, cols, pgCols[tbl])
		}
	}
	for tbl := range pgCols {
		if _, ok := liteCols[tbl]; !ok {
			t.Errorf("table %s is on PostgreSQL only", tbl)
		}
	}
}
