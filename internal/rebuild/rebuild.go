// Package rebuild makes a catalog again from the vaults: it reads each
// vault's record and its recovery points (manifests and records, see
// internal/vault/record.go) through internal/vault, and writes the vaults
// and points the catalog lacks through backup.Catalog. It never changes
// what a catalog already has and never writes into a vault, so it can run
// on a catalog that is whole but behind (a WAL lost after a kill -9) as
// well as on a new, empty one. Job history is not in the vaults and is not
// rebuilt; nor are plans and selections.
//
// A point is rebuilt only if it is complete: its summary exists and its
// manifests and metadata check out (vault.Open). Its status, lifecycle,
// tags, creator, storage class and dates come from its record; its size,
// item count and content checksum from its manifests. A point made before
// records existed gets what its manifests and metadata say, and the report
// says what is missing.
package rebuild

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/vault"
)

// Location is a vault's storage to rebuild from.
type Location struct {
	// Name is the vault's name; empty means the name its record gives (or,
	// for a directory without a record, the directory's name).
	Name    string
	Storage backup.VaultStorage
}

func (l Location) String() string { return l.Storage.String() }

// Config wires a rebuild.
type Config struct {
	// Catalog receives the vaults and points it lacks.
	Catalog backup.Catalog
	// OpenStore opens a vault's storage, as the server does.
	OpenStore func(ctx context.Context, st backup.VaultStorage) (blob.Store, error)
	// Region and AccountID are those of the server, for ARNs the records
	// lack (vaults made before records had them).
	Region    string
	AccountID string
	// DryRun reports what would be added and writes nothing.
	DryRun bool
	Logger *slog.Logger
	// Now is the time of vaults whose record has no creation date; default
	// time.Now.
	Now func() time.Time
}

// VaultResult is what Run did for one location.
type VaultResult struct {
	Name     string
	Location string
	// Created is set if the vault was added to the catalog.
	Created bool
	// Added points were added to the catalog; Known ones were there
	// already; Incomplete ones have no summary (cut short) and were left
	// out.
	Added, Known, Incomplete int
	// Problems are what could not be rebuilt, and why; Notes what was
	// rebuilt without all it had (a point without its record).
	Problems []string
	Notes    []string
}

// Result is what Run did.
type Result struct {
	Vaults []*VaultResult
}

// Problems returns every problem of every vault.
func (r *Result) Problems() []string {
	var out []string
	for _, v := range r.Vaults {
		for _, p := range v.Problems {
			out = append(out, v.Name+": "+p)
		}
	}
	return out
}

// Notes returns every note of every vault.
func (r *Result) Notes() []string {
	var out []string
	for _, v := range r.Vaults {
		for _, p := range v.Notes {
			out = append(out, v.Name+": "+p)
		}
	}
	return out
}

// Added returns the number of points added to the catalog.
func (r *Result) Added() int {
	n := 0
	for _, v := range r.Vaults {
		n += v.Added
	}
	return n
}

// Run adds to the catalog the vaults of locs and their complete recovery
// points that it lacks. A location that cannot be read, or a point that
// does not check out, is a problem in the result, not an error: the rest
// is rebuilt. The error is for the catalog failing.
func Run(ctx context.Context, cfg Config, locs []Location) (*Result, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	res := &Result{}
	for _, loc := range locs {
		vr := &VaultResult{Name: loc.Name, Location: loc.String()}
		res.Vaults = append(res.Vaults, vr)
		if err := cfg.vault(ctx, loc, vr); err != nil {
			return res, err
		}
	}
	return res, nil
}

// vault rebuilds one location into vr.
func (cfg *Config) vault(ctx context.Context, loc Location, vr *VaultResult) error {
	problem := func(format string, args ...any) {
		vr.Problems = append(vr.Problems, fmt.Sprintf(format, args...))
		cfg.Logger.Warn("rebuild: "+fmt.Sprintf(format, args...), "vault", vr.Name, "location", vr.Location)
	}
	note := func(format string, args ...any) {
		vr.Notes = append(vr.Notes, fmt.Sprintf(format, args...))
		cfg.Logger.Info("rebuild: "+fmt.Sprintf(format, args...), "vault", vr.Name, "location", vr.Location)
	}
	if loc.Storage.Kind == backup.StorageFile {
		if _, err := os.Stat(loc.Storage.Path); err != nil {
			problem("cannot read the vault's directory: %v", err)
			return nil
		}
	}
	store, err := cfg.OpenStore(ctx, loc.Storage)
	if err != nil {
		problem("cannot open the vault's storage: %v", err)
		return nil
	}
	warm := vault.New(store)
	v, err := cfg.vaultOf(ctx, loc, warm, note)
	if err != nil {
		problem("%v", err)
		return nil
	}
	vr.Name = v.Name
	existing, err := cfg.Catalog.GetVault(ctx, v.Name)
	switch {
	case err == nil:
		if !sameLocation(existing.Storage, loc.Storage) {
			problem("the catalog's vault %s keeps its points in %s, not here; nothing was added from here", v.Name, existing.Storage)
			return nil
		}
		v = existing
	case backup.IsNotFound(err):
		if !cfg.DryRun {
			if err := cfg.Catalog.CreateVault(ctx, v); err != nil {
				return fmt.Errorf("rebuild: add vault %s: %w", v.Name, err)
			}
		}
		vr.Created = true
		cfg.Logger.Info("rebuild: vault added", "vault", v.Name, "location", vr.Location)
	default:
		return fmt.Errorf("rebuild: vault %s: %w", v.Name, err)
	}

	complete, incomplete, err := warm.ListPoints(ctx)
	if err != nil {
		problem("cannot list the recovery points: %v", err)
		return nil
	}
	vr.Incomplete += len(incomplete)
	seen := map[string]bool{}
	for _, id := range complete {
		seen[id] = true
		if err := cfg.point(ctx, v, warm, id, false, vr, problem, note); err != nil {
			return err
		}
	}
	// A file vault's cold points live in its cold directory. A point in
	// both (a cold move cut short) is the warm one until the server
	// finishes the move.
	if v.Storage.Kind == backup.StorageFile {
		dir := v.Storage.ColdDir()
		if _, err := os.Stat(dir); err == nil {
			cs, err := cfg.OpenStore(ctx, backup.VaultStorage{Kind: backup.StorageFile, Path: dir})
			if err != nil {
				problem("cannot open the cold directory %s: %v", dir, err)
				return nil
			}
			cold := vault.New(cs)
			complete, incomplete, err := cold.ListPoints(ctx)
			if err != nil {
				problem("cannot list the cold recovery points in %s: %v", dir, err)
				return nil
			}
			vr.Incomplete += len(incomplete)
			for _, id := range complete {
				if seen[id] {
					continue
				}
				if err := cfg.point(ctx, v, cold, id, true, vr, problem, note); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// vaultOf returns the vault a location holds, from its record.
func (cfg *Config) vaultOf(ctx context.Context, loc Location, vt *vault.Vault, note func(string, ...any)) (*backup.Vault, error) {
	v := &backup.Vault{}
	b, err := vt.VaultRecord(ctx)
	switch {
	case err == nil:
		if v, err = backup.UnmarshalVaultRecord(b); err != nil {
			note("the vault's record is unreadable (%v); rebuilt from its points alone", err)
			v = &backup.Vault{}
		}
	case errors.Is(err, vault.ErrNoRecord):
		note("the vault has no record (%s): it is named after its location and its tags are not known", vault.MarkerKey)
	default:
		return nil, fmt.Errorf("cannot read the vault's record: %w", err)
	}
	name := loc.Name
	if name == "" {
		name = v.Name
	}
	if name == "" && loc.Storage.Kind == backup.StorageFile {
		name = filepath.Base(loc.Storage.Path)
	}
	if name == "" {
		return nil, errors.New("the vault has no record to name it: give its name with the location (NAME=LOCATION)")
	}
	if err := backup.ValidateVaultName(name); err != nil {
		return nil, err
	}
	if v.Name != "" && v.Name != name {
		note("its record names it %s; it is rebuilt as %s, as asked", v.Name, name)
	}
	if v.AccountID == "" {
		v.AccountID = cfg.AccountID
	}
	if v.Region == "" {
		v.Region = cfg.Region
	}
	if v.Name != name || v.ARN == "" {
		v.ARN = backup.VaultARN(v.Region, v.AccountID, name)
	}
	v.Name = name
	if v.CreationDate.IsZero() {
		v.CreationDate = cfg.Now().UTC()
	}
	// Where the vault is now is where it was found; the cold settings and
	// the S3 endpoint are the record's unless the location gives them.
	st := loc.Storage
	rec := v.Storage
	// The record found here is this storage's marker: its owner ID, which
	// the server's recovery and sweeps check before they delete anything
	// (runner/storage.go), goes with it, as does its S3 endpoint's name.
	st.OwnerID = rec.OwnerID
	if st.ColdPath == "" && rec.Kind == backup.StorageFile && rec.ColdPath != "" {
		st.ColdPath = rec.ColdPath
	}
	if st.Kind == backup.StorageS3 && rec.Kind == backup.StorageS3 {
		if st.ColdStorageClass == "" {
			st.ColdStorageClass = rec.ColdStorageClass
		}
		if st.Endpoint == "" {
			st.Endpoint, st.PathStyle = rec.Endpoint, rec.PathStyle
		}
		if st.EndpointName == "" && backup.NormalizeEndpointURL(st.Endpoint) == backup.NormalizeEndpointURL(rec.Endpoint) {
			st.EndpointName, st.PathStyle = rec.EndpointName, rec.PathStyle
		}
		if st.Region == "" {
			st.Region = rec.Region
		}
	}
	v.Storage = st
	return v, nil
}

// sameLocation reports whether two storages are the same place.
func sameLocation(a, b backup.VaultStorage) bool {
	if a.Kind != b.Kind {
		return false
	}
	if a.Kind == backup.StorageFile {
		return filepath.Clean(a.Path) == filepath.Clean(b.Path)
	}
	return a.Bucket == b.Bucket && strings.Trim(a.Prefix, "/") == strings.Trim(b.Prefix, "/")
}

// point adds point id of vt, found in v's storage (cold: in its cold
// directory), to the catalog unless it is there.
func (cfg *Config) point(ctx context.Context, v *backup.Vault, vt *vault.Vault, id string, cold bool, vr *VaultResult, problem, note func(string, ...any)) error {
	if have, err := cfg.Catalog.GetRecoveryPoint(ctx, id); err == nil {
		vr.Known++
		if have.VaultName != v.Name {
			problem("recovery point %s is in the catalog as a point of vault %s", id, have.VaultName)
		}
		return nil
	} else if !backup.IsNotFound(err) {
		return fmt.Errorf("rebuild: recovery point %s: %w", id, err)
	}
	r, err := vt.Open(ctx, id)
	if err != nil {
		problem("recovery point %s is not rebuilt: %v", id, err)
		return nil
	}
	p, missing := pointOf(ctx, v, vt, r, cold)
	if missing != "" {
		note("recovery point %s: %s", id, missing)
	}
	if !cfg.DryRun {
		if err := cfg.Catalog.CreateRecoveryPoint(ctx, p); err != nil {
			return fmt.Errorf("rebuild: add recovery point %s: %w", id, err)
		}
	}
	vr.Added++
	cfg.Logger.Info("rebuild: recovery point added", "vault", v.Name, "recovery_point", p.ARN, "resource", p.ResourceARN)
	return nil
}

// pointMetadata is what a rebuild reads of the runner's cairn-metadata.json.
type pointMetadata struct {
	ResourceARN string `json:"resourceArn"`
	BackupJobID string `json:"backupJobId"`
	Table       *struct {
		TableName   string `json:"TableName"`
		TableArn    string `json:"TableArn"`
		BillingMode string `json:"BillingMode"`
	} `json:"table"`
}

// pointOf makes the catalog entry of the complete point r of vault v from
// its record and manifests. missing says what could not be known.
func pointOf(ctx context.Context, v *backup.Vault, vt *vault.Vault, r *vault.Reader, cold bool) (*backup.RecoveryPoint, string) {
	id, sum := r.ID(), r.Summary()
	var meta pointMetadata
	_ = json.Unmarshal(r.Metadata(), &meta) // a point of another writer has other metadata
	p := &backup.RecoveryPoint{}
	missing := ""
	b, err := vt.PointRecord(ctx, id)
	if err == nil {
		if p, err = backup.UnmarshalPointRecord(b); err == nil && p.ID != id {
			err = fmt.Errorf("it is the record of point %s", p.ID)
		}
	}
	if err != nil {
		p = &backup.RecoveryPoint{}
		missing = fmt.Sprintf("no usable record (%v): its lifecycle, tags and creator are not known; set them again", err)
	}
	p.ID, p.VaultName, p.VaultARN = id, v.Name, v.ARN
	if p.AccountID == "" {
		p.AccountID = v.AccountID
	}
	if p.Region == "" {
		p.Region = v.Region
	}
	if p.ARN == "" {
		p.ARN = backup.RecoveryPointARN(p.Region, p.AccountID, id)
	}
	if p.ResourceARN == "" {
		p.ResourceARN = meta.ResourceARN
	}
	if p.ResourceARN == "" {
		p.ResourceARN = sum.TableARN
	}
	if p.ResourceType == "" {
		p.ResourceType = backup.ResourceTypeDynamoDB
	}
	if p.ResourceName == "" {
		if _, table, err := backup.ParseTableARN(p.ResourceARN); err == nil {
			p.ResourceName = table
		}
	}
	if p.BackupJobID == "" && p.SourceBackupVaultARN == "" {
		p.BackupJobID = meta.BackupJobID
	}
	switch p.Status {
	case backup.RecoveryPointPartial, backup.RecoveryPointExpired:
	default: // complete in the vault, whatever it was when the record was written
		p.Status = backup.RecoveryPointCompleted
	}
	switch {
	case cold:
		p.StorageClass = backup.StorageCold
	case v.Storage.Kind == backup.StorageFile || p.StorageClass != backup.StorageCold:
		p.StorageClass = backup.StorageWarm
	}
	if p.CreationDate.IsZero() {
		p.CreationDate = sum.StartTime.UTC()
	}
	if p.CompletionDate.IsZero() {
		p.CompletionDate = sum.EndTime.UTC()
	}
	p.ItemCount, p.BackupSizeInBytes, p.ContentChecksum = sum.ItemCount, sum.Cairn.StoredBytes, r.ContentChecksum()
	if len(p.RestoreMetadata) == 0 {
		p.RestoreMetadata = map[string]string{"ItemCount": strconv.FormatInt(sum.ItemCount, 10), "ContentChecksum": r.ContentChecksum()}
		if meta.Table != nil {
			p.RestoreMetadata["originalTableName"] = meta.Table.TableName
			p.RestoreMetadata["TableArn"] = meta.Table.TableArn
			if meta.Table.BillingMode != "" {
				p.RestoreMetadata["BillingMode"] = meta.Table.BillingMode
			}
		}
	}
	return p, missing
}

// DataDirVaults returns the vault directories under dataDir/vaults, where
// the server keeps vaults created without storage of their own, sorted by
// name. The cold directory of one of them (NAME.cold beside NAME) is not a
// vault; Run finds it through its vault.
func DataDirVaults(dataDir string) ([]Location, error) {
	root := filepath.Join(dataDir, "vaults")
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rebuild: vaults of data dir %s: %w", dataDir, err)
	}
	dirs := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() {
			dirs[e.Name()] = true
		}
	}
	var out []Location
	for name := range dirs {
		if base, ok := strings.CutSuffix(name, ".cold"); ok && dirs[base] {
			continue
		}
		out = append(out, Location{Storage: backup.VaultStorage{Kind: backup.StorageFile, Path: filepath.Join(root, name)}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Storage.Path < out[j].Storage.Path })
	return out, nil
}

// FirstPoint returns a complete recovery point of one of the local
// (directory) locations, warm or cold, and the location holding it; "" if
// none holds any. It opens nothing that does not exist.
func FirstPoint(ctx context.Context, openStore func(context.Context, backup.VaultStorage) (blob.Store, error), locs []Location) (Location, string, error) {
	for _, loc := range locs {
		if loc.Storage.Kind != backup.StorageFile {
			continue
		}
		for _, dir := range []string{loc.Storage.Path, loc.Storage.ColdDir()} {
			if _, err := os.Stat(dir); err != nil {
				continue
			}
			st, err := openStore(ctx, backup.VaultStorage{Kind: backup.StorageFile, Path: dir})
			if err != nil {
				return loc, "", err
			}
			complete, _, err := vault.New(st).ListPoints(ctx)
			if err != nil {
				return loc, "", err
			}
			if len(complete) > 0 {
				return Location{Name: loc.Name, Storage: backup.VaultStorage{Kind: backup.StorageFile, Path: dir}}, complete[0], nil
			}
		}
	}
	return Location{}, "", nil
}
