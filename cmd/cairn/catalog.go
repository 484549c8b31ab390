package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	fileblob "github.com/cairn-backup/cairn/internal/blob/file"
	s3blob "github.com/cairn-backup/cairn/internal/blob/s3"
	"github.com/cairn-backup/cairn/internal/datadir"
	"github.com/cairn-backup/cairn/internal/postgres"
	"github.com/cairn-backup/cairn/internal/rebuild"
	"github.com/cairn-backup/cairn/internal/sqlite"
)

// The catalog commands (`cairn catalog rebuild`, `cairn catalog backup`)
// and the server's start-up check of its catalog. See docs/catalog.md.

// catalogFile is the catalog's name in the data dir.
const catalogFile = "catalog.db"

// VaultLocation names a vault kept outside the data dir, for `cairn catalog
// rebuild` to find when the catalog is lost. The server does not read it.
type VaultLocation struct {
	// Name is the vault's name; empty means the name its record gives.
	Name string `yaml:"name"`
	// Storage is "s3://BUCKET/PREFIX" or an absolute path, as the
	// cairn:storage tag gives it.
	Storage string `yaml:"storage"`
	// S3Endpoint and S3Region are those of an S3-compatible server, as the
	// cairn:s3-endpoint and cairn:s3-region tags give them.
	S3Endpoint string `yaml:"s3_endpoint"`
	S3Region   string `yaml:"s3_region"`
}

// location parses l into a rebuild location.
func (l VaultLocation) location() (rebuild.Location, error) {
	tags := map[string]string{backup.TagStorage: l.Storage}
	if l.S3Endpoint != "" {
		tags[backup.TagS3Endpoint] = l.S3Endpoint
	}
	if l.S3Region != "" {
		tags[backup.TagS3Region] = l.S3Region
	}
	st, _, err := backup.StorageFromTags(tags)
	if err != nil {
		return rebuild.Location{}, fmt.Errorf("vault location %q: %w", l.Storage, err)
	}
	if l.Name != "" {
		if err := backup.ValidateVaultName(l.Name); err != nil {
			return rebuild.Location{}, fmt.Errorf("vault location %q: %w", l.Storage, err)
		}
	}
	return rebuild.Location{Name: l.Name, Storage: st}, nil
}

// checkCatalog refuses to start a server whose catalog is missing, empty or
// damaged while the vaults of its data dir (or the ones the config names)
// hold recovery points: a new, empty catalog would hide them. It changes
// nothing; `cairn catalog rebuild` is the way out, and the error says so.
func (m *Main) checkCatalog(ctx context.Context) error {
	if postgres.IsURL(m.Config.Catalog) {
		return nil // checked once it is open (checkPostgres)
	}
	path := filepath.Join(m.Config.DataDir, catalogFile)
	rebuildCmd := "cairn catalog rebuild --data-dir " + m.Config.DataDir
	c, err := sqlite.Inspect(ctx, path, false)
	if errors.Is(err, sqlite.ErrCorrupt) {
		return fmt.Errorf("the catalog %s is damaged: %w. Stop every cairn server on this data dir and run `%s`: "+
			"it moves the damaged file aside (it is kept) and rebuilds vaults and recovery points from the vaults' own records", path, err, rebuildCmd)
	}
	if err != nil {
		return fmt.Errorf("check the catalog: %w", err)
	}
	if c.RecoveryPoints > 0 {
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
	state := "missing"
	if c.Exists {
		state = "empty (it lists no recovery point)"
	}
	return fmt.Errorf("cairn will not start: the catalog %s is %s, but %s holds recovery points (%s among them), "+
		"which a new catalog would hide. Run `%s` to rebuild the catalog from the vaults, then start the server again",
		path, state, loc.Storage.Path, id, rebuildCmd)
}

// rebuildLocations returns where a rebuild looks for vaults: extra (the
// command line's), the config's vault_locations and the data dir's vault
// directories, each location once.
func (m *Main) rebuildLocations(extra []rebuild.Location) ([]rebuild.Location, error) {
	locs, err := rebuild.DataDirVaults(m.Config.DataDir)
	if err != nil {
		return nil, err
	}
	var named []rebuild.Location
	for i, vl := range m.Config.VaultLocations {
		l, err := vl.location()
		if err != nil {
			return nil, fmt.Errorf("config: vault_locations[%d]: %w", i, err)
		}
		named = append(named, l)
	}
	// A location named on the command line or in the config says the
	// vault's name; it wins over the same directory found in the data dir.
	return appendNew(append(extra, named...), locs), nil
}

// openExisting opens a vault's storage for reading what is there: a
// directory that does not exist, or a bucket, is not created.
func openExisting(cfg Config) func(ctx context.Context, st backup.VaultStorage) (blob.Store, error) {
	return func(ctx context.Context, st backup.VaultStorage) (blob.Store, error) {
		switch st.Kind {
		case backup.StorageFile:
			if _, err := os.Stat(st.Path); err != nil {
				return nil, err
			}
			return fileblob.New(st.Path)
		case backup.StorageS3:
			return s3blob.New(ctx, s3blob.Config{Bucket: st.Bucket, Prefix: st.Prefix, Endpoint: st.Endpoint,
				Region: st.Region, PathStyle: st.PathStyle,
				AccessKey: cfg.S3.AccessKeyID, SecretKey: cfg.S3.SecretAccessKey})
		}
		return nil, fmt.Errorf("unknown vault storage kind %q", st.Kind)
	}
}

// catalogFlags are the flags every catalog command has.
type catalogFlags struct {
	configPath, dataDir string
}

func (f *catalogFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.configPath, "config", os.Getenv("CAIRN_CONFIG"), "the server's config file: data_dir, region, s3 credentials, vault_locations ($CAIRN_CONFIG)")
	fs.StringVar(&f.dataDir, "data-dir", "", "the server's data dir (default: the config's, $CAIRN_DATA_DIR or ~/.local/share/cairn)")
}

// load reads the server's config as the server would, with --data-dir.
func (f *catalogFlags) load() (Config, error) {
	cfg, err := loadConfig(f.configPath)
	if err != nil {
		return cfg, err
	}
	if f.dataDir != "" {
		cfg.DataDir = f.dataDir
	}
	cfg.setDefaults()
	return cfg, cfg.Validate()
}

// catalogCmd is `cairn catalog`: back the catalog up, rebuild it.
func catalogCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := groupCmd(&cobra.Command{
		Use:   "catalog",
		Short: "Back the catalog up while the server runs, rebuild it from the vaults, or copy it into PostgreSQL",
		Long: `The catalog (DATA_DIR/catalog.db) is what the server knows besides the
backed-up bytes: vaults, recovery points, jobs, plans. Back it up while the
server runs; if it is lost or damaged, rebuild its vaults and recovery points
from the records every vault keeps beside its data; copy it into PostgreSQL
to run the server on a PostgreSQL catalog (--catalog). See docs/catalog.md.`,
		Example: "  cairn catalog backup /backups/cairn-catalog.db\n  cairn catalog rebuild --data-dir /var/lib/cairn\n" +
			"  cairn catalog copy --from sqlite:/var/lib/cairn/catalog.db --to postgres://cairn@db.internal/cairn",
	})
	cmd.AddCommand(catalogBackupCmd(stdout), catalogRebuildCmd(stdout, stderr), catalogCopyCmd(stdout))
	return cmd
}

func catalogBackupCmd(stdout io.Writer) *cobra.Command {
	f := &catalogFlags{}
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent, checked copy of the catalog to a new file",
		Long: `Write a consistent copy of the catalog to the new file FILE, safe while the
server runs: SQLite's VACUUM INTO on a read-only connection copies one state
of the database without taking a lock the server waits for. The copy is
checked (it opens, passes SQLite's integrity check) before it is renamed to
FILE; an existing FILE is refused. Run it on the machine of the data dir.`,
		Example: `  cairn catalog backup /backups/cairn-catalog-2026-05-01.db --data-dir /var/lib/cairn`,
		Args:    exactArgs(1, "the FILE to write"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.load()
			if err != nil {
				return err
			}
			if err := refusePostgres(cfg, "cairn catalog backup copies the SQLite file"); err != nil {
				return err
			}
			path := filepath.Join(cfg.DataDir, catalogFile)
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("no catalog to back up: %w (is --data-dir the server's?)", err)
			}
			c, err := sqlite.Snapshot(cmd.Context(), path, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "catalog %s backed up to %s (integrity check ok): %d vaults, %d recovery points, %d backup jobs, %d restore jobs, %d copy jobs, %d backup plans\n",
				path, args[0], c.Vaults, c.RecoveryPoints, c.BackupJobs, c.RestoreJobs, c.CopyJobs, c.BackupPlans)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func catalogRebuildCmd(stdout, stderr io.Writer) *cobra.Command {
	f := &catalogFlags{}
	var vaults []string
	var endpoint string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "rebuild",
		Short: "Add to the catalog the vaults and recovery points the vaults hold and it lacks",
		Long: `With the server stopped, read the vaults of the data dir, the config's
vault_locations, the --vault locations and the vaults the catalog knows, and
add to the catalog every vault and complete recovery point it lacks, from the
records each vault keeps beside its data (status, storage class, lifecycle,
tags, creator, dates) and the points' manifests. What the catalog has is never
changed, so it merges: after a kill -9 that lost the WAL it adds the missing
points. A damaged catalog is moved aside (kept, never deleted) and a new one
made. Job history, plans and selections are not rebuilt.

LOCATION is a directory or s3://BUCKET/PREFIX; NAME= names the vault if its
record is gone.`,
		Example: `  cairn catalog rebuild --data-dir /var/lib/cairn
  cairn catalog rebuild --vault offsite=s3://backups/cairn --s3-endpoint http://127.0.0.1:7070 --dry-run`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.load()
			if err != nil {
				return err
			}
			var extra []rebuild.Location
			for _, s := range vaults {
				name, loc, ok := strings.Cut(s, "=")
				if !ok || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "s3://") || strings.HasPrefix(s, "file://") {
					name, loc = "", s
				}
				vl := VaultLocation{Name: name, Storage: loc}
				if strings.HasPrefix(loc, "s3://") {
					vl.S3Endpoint = endpoint
				}
				l, err := vl.location()
				if err != nil {
					return usageError(cmd, "--vault %s: %v", s, err)
				}
				extra = append(extra, l)
			}
			return catalogRebuild(cmd.Context(), cfg, extra, dryRun, stdout, stderr)
		},
	}
	f.register(cmd)
	fs := cmd.Flags()
	fs.StringArrayVar(&vaults, "vault", nil, "a vault outside the data dir: [NAME=]DIRECTORY or [NAME=]s3://BUCKET/PREFIX (repeat for more)")
	fs.StringVar(&endpoint, "s3-endpoint", "", "the S3-compatible server of the --vault s3:// locations (default AWS S3)")
	fs.BoolVar(&dryRun, "dry-run", false, "say what would be added and change nothing")
	return cmd
}

func catalogRebuild(ctx context.Context, cfg Config, extra []rebuild.Location, dryRun bool, stdout, stderr io.Writer) error {
	if _, err := os.Stat(cfg.DataDir); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	// The data dir's lock, as the server takes it: a rebuild never runs
	// beside a server (or another rebuild) on this data dir.
	lock, err := datadir.Acquire(cfg.DataDir, "cairn catalog rebuild")
	if err != nil {
		return err
	}
	defer lock.Release()
	m := &Main{Config: cfg}
	cat, done, err := m.rebuildCatalog(ctx, dryRun, stdout)
	if err != nil {
		return err
	}
	defer done()
	locs, err := m.rebuildLocations(extra)
	if err != nil {
		return err
	}
	// Vaults the catalog knows elsewhere are read too: a catalog that lost
	// its last writes still knows where its vaults are.
	known, err := knownLocations(ctx, cat)
	if err != nil {
		return err
	}
	locs = appendNew(locs, known)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	res, err := rebuild.Run(ctx, rebuild.Config{Catalog: cat, OpenStore: openExisting(cfg), Region: cfg.Region,
		AccountID: cfg.AccountID, DryRun: dryRun, Logger: log}, locs)
	verb := "added"
	if dryRun {
		verb = "would add"
	}
	if res != nil {
		for _, v := range res.Vaults {
			vault := "vault " + v.Name
			if v.Created {
				vault += " (new in the catalog)"
			}
			fmt.Fprintf(stdout, "%s, %s: %s %d recovery points, %d already in the catalog, %d incomplete left out\n",
				vault, v.Location, verb, v.Added, v.Known, v.Incomplete)
		}
		for _, n := range res.Notes() {
			fmt.Fprintln(stdout, "note:", n)
		}
		for _, p := range res.Problems() {
			fmt.Fprintln(stderr, "problem:", p)
		}
	}
	if err != nil {
		return err
	}
	if n := len(res.Problems()); n > 0 {
		return fmt.Errorf("the catalog was rebuilt but for %d problems (above): fix them (a --vault location, the storage's credentials) and run the rebuild again; it only adds what is missing", n)
	}
	if !dryRun {
		fmt.Fprintf(stdout, "catalog rebuilt: %d recovery points added; start the server with --data-dir %s\n", res.Added(), cfg.DataDir)
	}
	return nil
}

// rebuildCatalog opens the catalog a rebuild writes into. A damaged one is
// moved aside and a new one made; a dry run writes into a copy of the
// catalog (or an empty one in memory) and moves nothing.
func (m *Main) rebuildCatalog(ctx context.Context, dryRun bool, stdout io.Writer) (backup.Catalog, func(), error) {
	path := filepath.Join(m.Config.DataDir, catalogFile)
	contents, err := sqlite.Inspect(ctx, path, true)
	damaged := errors.Is(err, sqlite.ErrCorrupt)
	if err != nil && !damaged {
		return nil, nil, err
	}
	if dryRun {
		if damaged {
			fmt.Fprintf(stdout, "the catalog %s is damaged (%v): a rebuild moves it aside and makes a new one\n", path, err)
		}
		if damaged || !contents.Exists || contents.Schema == 0 {
			c, err := sqlite.OpenMemory(ctx)
			return c, func() { c.Close() }, err
		}
		dir, err := os.MkdirTemp("", "cairn-rebuild-")
		if err != nil {
			return nil, nil, err
		}
		cp := filepath.Join(dir, catalogFile)
		if _, err := sqlite.Snapshot(ctx, path, cp); err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		c, err := sqlite.Open(ctx, cp)
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return c, func() { c.Close(); os.RemoveAll(dir) }, nil
	}
	if damaged {
		aside, merr := sqlite.MoveAside(path, time.Now())
		if merr != nil {
			return nil, nil, fmt.Errorf("the catalog is damaged (%v) and cannot be moved aside: %w", err, merr)
		}
		fmt.Fprintf(stdout, "the catalog %s is damaged (%v); it was moved aside to %s (kept) and a new one is made\n", path, err, aside)
	}
	c, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, nil, fmt.Errorf("open the catalog: %w", err)
	}
	return c, func() { c.Close() }, nil
}

// knownLocations returns the storage of every vault the catalog has.
func knownLocations(ctx context.Context, cat backup.Catalog) ([]rebuild.Location, error) {
	var out []rebuild.Location
	p := backup.Page{MaxResults: 1000}
	for {
		vs, next, err := cat.ListVaults(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("the catalog's vaults: %w", err)
		}
		for _, v := range vs {
			out = append(out, rebuild.Location{Name: v.Name, Storage: v.Storage})
		}
		if next == "" {
			return out, nil
		}
		p.NextToken = next
	}
}

// appendNew appends to locs the locations of more that none of locs has.
func appendNew(locs, more []rebuild.Location) []rebuild.Location {
	have := map[string]bool{}
	for _, l := range locs {
		have[locKey(l.Storage)] = true
	}
	for _, l := range more {
		if !have[locKey(l.Storage)] {
			have[locKey(l.Storage)] = true
			locs = append(locs, l)
		}
	}
	return locs
}

func locKey(st backup.VaultStorage) string {
	if st.Kind == backup.StorageFile {
		return "file:" + filepath.Clean(st.Path)
	}
	return "s3:" + st.Bucket + "/" + strings.Trim(st.Prefix, "/")
}
