package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/datadir"
	"github.com/cairn-backup/cairn/internal/postgres"
	"github.com/cairn-backup/cairn/internal/rebuild"
	"github.com/cairn-backup/cairn/internal/sqlite"
)

// validateCatalog checks the config's catalog: empty (SQLite in the data
// dir) or a postgres:// URL.
func validateCatalog(c string) error {
	if c == "" || postgres.IsURL(c) {
		return nil
	}
	return fmt.Errorf("config: catalog %q must be a postgres:// (or postgresql://) URL, or left out for SQLite in the data dir", postgres.Redact(c))
}

// openCatalog opens the server's catalog: SQLite in the data dir, or the
// PostgreSQL database of Config.Catalog, which other nodes may share
// (joinCluster).
func (m *Main) openCatalog(ctx context.Context) (backup.Catalog, error) {
	if !postgres.IsURL(m.Config.Catalog) {
		c, err := sqlite.Open(ctx, filepath.Join(m.Config.DataDir, catalogFile))
		if err != nil {
			return nil, fmt.Errorf("open catalog: %w", err)
		}
		return c, nil
	}
	url := postgres.Redact(m.Config.Catalog)
	c, err := postgres.Open(ctx, m.Config.Catalog)
	if err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	if err := m.checkPostgres(ctx, c); err != nil {
		c.Close()
		return nil, err
	}
	m.Logger.Info("catalog on PostgreSQL", "catalog", url)
	return c, nil
}

// checkPostgres is checkCatalog for a PostgreSQL catalog: a catalog that
// lists no recovery point while the vaults of the data dir (or those the
// config names) hold some would hide them; the server refuses to start on
// it and names the way to move the SQLite catalog over.
func (m *Main) checkPostgres(ctx context.Context, c backup.Catalog) error {
	points, _, err := c.ListRecoveryPoints(ctx, backup.RecoveryPointFilter{Page: backup.Page{MaxResults: 1}})
	if err != nil {
		return fmt.Errorf("check the catalog: %w", err)
	}
	if len(points) > 0 {
		return nil
	}
	locs, err := m.rebuildLocations(nil)
	if err != nil {
		return err
	}
	loc, id, err := rebuild.FirstPoint(ctx, openExisting(m.Config), locs)
	if err != nil {
		return fmt.Errorf("check the vaults for recovery points the catalog lacks: %w", err)
	}
	if id == "" {
		return nil
	}
	from := filepath.Join(m.Config.DataDir, catalogFile)
	return fmt.Errorf("cairn will not start: the catalog %s lists no recovery point, but %s holds recovery points (%s among them), "+
		"which it would hide. Move the data dir's catalog over with `cairn catalog copy --from sqlite:%s --to URL` "+
		"then start the server again",
		postgres.Redact(m.Config.Catalog), loc.Storage.Path, id, from)
}

// catalogCopyCmd is `cairn catalog copy`: an installation's SQLite catalog
// moved into PostgreSQL.
func catalogCopyCmd(stdout io.Writer) *cobra.Command {
	var from, to, output string
	var replace bool
	cmd := &cobra.Command{
		Use:   "copy --from sqlite:PATH --to postgres://...",
		Short: "Copy a SQLite catalog into a PostgreSQL database, verified by counts per table",
		Long: `Copy every table of the SQLite catalog PATH (normally DATA_DIR/catalog.db)
into the PostgreSQL database of the URL, in one transaction that commits only
if every table of the copy holds as many rows as the source's. The source is
read in one read transaction and brought to this cairn's schema first (as the
server would at start); the target's schema is made or brought up to date.

Stop the servers first: the copy takes the data dir's lock (when PATH is in a
data dir) and the PostgreSQL catalog's, and refuses while any server (any node
of the catalog) holds either. A target that holds any data is refused; --replace
empties it first. Then start the server with --catalog URL (or catalog: URL in
its config) and the same data dir. See docs/catalog.md.`,
		Example: `  cairn catalog copy --from sqlite:/var/lib/cairn/catalog.db --to postgres://cairn@db.internal/cairn
  CAIRN_CATALOG=postgres://cairn:secret@127.0.0.1/cairn cairn catalog copy --from sqlite:/var/lib/cairn/catalog.db`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, ok := strings.CutPrefix(from, "sqlite:")
			if !ok || path == "" {
				return usageError(cmd, "--from %q must be sqlite:PATH, the SQLite catalog to copy (DATA_DIR/catalog.db)", from)
			}
			if !postgres.IsURL(to) {
				return usageError(cmd, "--to %q must be a postgres:// URL (or set CAIRN_CATALOG)", postgres.Redact(to))
			}
			if output != outputTable && output != outputJSON {
				return usageError(cmd, "--output must be table or json, not %q", output)
			}
			counts, err := catalogCopy(cmd.Context(), path, to, replace)
			if err != nil {
				return err
			}
			if output == outputJSON {
				return printJSON(stdout, map[string]any{"From": path, "To": postgres.Redact(to), "Tables": counts})
			}
			t := newTable("TABLE", "SOURCE", "COPIED")
			var rows int64
			for _, c := range counts {
				t.row(c.Table, fmt.Sprint(c.Source), fmt.Sprint(c.Copied))
				rows += c.Copied
			}
			if err := t.write(stdout); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "catalog %s copied to %s: %d tables, %d rows, every count the same\n", path, postgres.Redact(to), len(counts), rows)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&from, "from", "", "the catalog to copy: sqlite:PATH")
	fs.StringVar(&to, "to", os.Getenv("CAIRN_CATALOG"), "the PostgreSQL database to copy into: postgres://USER:PASSWORD@HOST:PORT/DB ($CAIRN_CATALOG)")
	fs.BoolVar(&replace, "replace", false, "empty the target's catalog tables first (default: refuse a target that holds data)")
	fs.StringVarP(&output, "output", "o", outputTable, "output format: table or json")
	return cmd
}

// catalogCopy copies the SQLite catalog at path into the PostgreSQL
// database at url.
func catalogCopy(ctx context.Context, path, url string, replace bool) ([]postgres.TableCount, error) {
	contents, err := sqlite.Inspect(ctx, path, true)
	if err != nil {
		return nil, fmt.Errorf("the catalog to copy: %w", err)
	}
	if !contents.Exists {
		return nil, fmt.Errorf("there is no catalog %s to copy", path)
	}
	// PATH in a data dir: no server (nor rebuild) may change it meanwhile.
	if dir := filepath.Dir(path); fileExists(filepath.Join(dir, datadir.LockFile)) {
		lock, err := datadir.Acquire(dir, "cairn catalog copy")
		if err != nil {
			return nil, err
		}
		defer lock.Release()
	}
	src, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	host, _ := os.Hostname()
	lock, err := dst.LockServer(ctx, fmt.Sprintf("cairn catalog copy pid %d on host %s", os.Getpid(), host))
	if err != nil {
		return nil, fmt.Errorf("the catalog %s: %w; stop the server that uses it first", postgres.Redact(url), err)
	}
	defer lock.Release(context.Background())
	return dst.CopyFrom(ctx, src.ReadDB(), replace)
}

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// refusePostgres is the error of a command that works on the SQLite file
// when the server's catalog (config or CAIRN_CATALOG) is in PostgreSQL.
func refusePostgres(cfg Config, what string) error {
	c := cfg.Catalog
	if env := os.Getenv("CAIRN_CATALOG"); env != "" {
		c = env
	}
	if !postgres.IsURL(c) {
		return nil
	}
	return fmt.Errorf("the server's catalog is in PostgreSQL (%s) and %s: back it up with PostgreSQL's tools (pg_dump); see docs/catalog.md",
		postgres.Redact(c), what)
}
