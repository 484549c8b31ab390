package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/vault"
)

// Where vault data may live, and the proofs cairn asks for before it
// deletes anything it finds there.
//
// A vault's storage is admitted at creation only if the operator's policy
// (Config.Storage) allows it and it overlaps nothing: not another vault's
// directory, cold directory or S3 prefix (equal or nested either way,
// compared clean and with symbolic links followed), not cairn's data dir
// (only a vault's own default directories DATADIR/vaults/NAME and
// NAME.cold lie inside it).
//
// Every store a vault uses carries a marker (markerKey) naming the vault,
// its owner ID and the store's role (warm or cold), and every recovery
// point the vault starts carries, in its _started object, the vault's ARN
// and owner ID and the point's ID. Recovery and the sweeps delete data only
// in a store whose marker names the vault, of a vault whose locations
// overlap no other's, and only points the catalog lists for that vault or,
// for points the catalog does not know, points whose _started names the
// vault and the point. Catalogs from before these rules may hold vaults
// that overlap: they are logged at start and their data is left alone.

// markerKey is written into a vault's storage when the vault is created, to
// prove the storage is writable and to say which vault owns it: it is the
// vault's record (records.go), whose storage carries the owner ID. A file
// vault's cold directory carries a marker too, with role "cold".
const markerKey = vault.MarkerKey

const (
	roleWarm = "warm"
	roleCold = "cold"
)

// vaultMarker is what the ownership checks read of markerKey: the vault
// record's first keys (backup.MarshalVaultRecord) and its storage's owner
// ID, or a cold directory's marker (owner ID and role "cold" at the top).
// Markers written before owner IDs and roles existed have neither (and are
// warm).
type vaultMarker struct {
	Vault   string `json:"vault"`
	Account string `json:"account"`
	Region  string `json:"region"`
	OwnerID string `json:"ownerId,omitempty"`
	Role    string `json:"role,omitempty"`
	Storage *struct {
		OwnerID string `json:"ownerId,omitempty"`
	} `json:"storage,omitempty"`
}

func (m vaultMarker) owner() string {
	if m.OwnerID == "" && m.Storage != nil {
		return m.Storage.OwnerID
	}
	return m.OwnerID
}

func (m vaultMarker) role() string {
	if m.Role == "" {
		return roleWarm
	}
	return m.Role
}

// pointStarted is the content of a recovery point's _started object: who
// started writing it.
type pointStarted struct {
	VaultARN        string `json:"vaultArn"`
	VaultOwnerID    string `json:"vaultOwnerId,omitempty"`
	RecoveryPointID string `json:"recoveryPointId"`
}

// startedFor returns the _started content of point id of vault v.
func startedFor(v *backup.Vault, id string) []byte {
	b, _ := json.Marshal(pointStarted{VaultARN: v.ARN, VaultOwnerID: v.Storage.OwnerID, RecoveryPointID: id})
	return b
}

// resolvePath returns p, clean and absolute, with the symbolic links of its
// longest existing prefix followed.
func resolvePath(p string) string {
	p = absPath(p)
	rest := ""
	for cur := p; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// absPath returns p clean and absolute (relative to the working directory,
// as the file store opens it).
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// locations returns the places vault v (named name) keeps data in.
func locations(name string, st backup.VaultStorage) []backup.Location {
	switch st.Kind {
	case backup.StorageFile:
		return []backup.Location{
			{Vault: name, Role: "directory", Path: resolvePath(st.Path)},
			{Vault: name, Role: "cold directory", Path: resolvePath(st.ColdDir())},
		}
	case backup.StorageS3:
		return []backup.Location{{Vault: name, Role: "S3 prefix", Endpoint: backup.NormalizeEndpointURL(st.Endpoint), Bucket: st.Bucket, Prefix: st.Prefix}}
	}
	return nil
}

// holdsDataDir refuses a file location that holds cairn's data dir (and
// so the catalog and every default vault).
func (s *Service) holdsDataDir(l backup.Location) error {
	if l.Path == "" || s.cfg.DataDir == "" {
		return nil
	}
	if data := resolvePath(s.cfg.DataDir); backup.Within(data, l.Path) {
		return backup.OverlapError(l, backup.Location{Role: "cairn's data dir, which holds the catalog", Path: data})
	}
	return nil
}

// inDataDir refuses a file location inside cairn's data dir other than the
// vault's own default directories.
func (s *Service) inDataDir(l backup.Location) error {
	if l.Path == "" || s.cfg.DataDir == "" {
		return nil
	}
	data := resolvePath(s.cfg.DataDir)
	own := resolvePath(s.defaultStorage(l.Vault).Path)
	if backup.Within(l.Path, data) && l.Path != own && l.Path != own+".cold" {
		return backup.OverlapError(l, backup.Location{Role: "cairn's data dir (only a vault's own directory DATADIR/vaults/NAME and NAME.cold may lie in it)", Path: data})
	}
	return nil
}

// checkDataDir refuses a file location that holds cairn's data dir or lies
// inside it, other than the vault's own default directories.
func (s *Service) checkDataDir(l backup.Location) error {
	if err := s.holdsDataDir(l); err != nil {
		return err
	}
	return s.inDataDir(l)
}

// checkAllowed refuses a file location outside the directories the
// operator allows (and the data dir's vaults/ directory), as written or
// with symbolic links followed.
func (s *Service) checkAllowed(name, role, path string) error {
	roots := []string{filepath.Join(s.cfg.DataDir, "vaults")}
	roots = append(roots, s.cfg.Storage.AllowedPaths...)
	clean, resolved := absPath(path), resolvePath(path)
	for _, r := range roots {
		if backup.Within(clean, absPath(r)) && backup.Within(resolved, resolvePath(r)) {
			return nil
		}
	}
	msg := fmt.Sprintf("the %s %s of vault %s is not in a directory this server allows vaults in", role, path, name)
	if resolved != clean {
		msg += fmt.Sprintf(" (it resolves to %s)", resolved)
	}
	allowed := "only its data dir's vaults/ directory"
	if len(s.cfg.Storage.AllowedPaths) > 0 {
		allowed = "its data dir's vaults/ directory and " + strings.Join(s.cfg.Storage.AllowedPaths, ", ")
	}
	return &backup.Error{Code: backup.ErrInvalidParameter, Type: "BackupVault", Context: name,
		Message: msg + "; the server allows " + allowed + ". Leave tag " + backup.TagStorage + " (or " + backup.TagColdPath +
			") out for the default, or ask the server's operator to add the directory to storage.allowed_paths in cairn's config file"}
}

// admitStorage checks the storage a new vault asks for against the
// operator's policy and every location in use, and returns it completed
// (an S3 endpoint's URL, region and addressing from the configuration).
func (s *Service) admitStorage(ctx context.Context, name string, st backup.VaultStorage) (backup.VaultStorage, error) {
	switch st.Kind {
	case backup.StorageFile:
		if err := s.checkAllowed(name, "directory", st.Path); err != nil {
			return st, err
		}
		if err := s.checkAllowed(name, "cold directory", st.ColdDir()); err != nil {
			return st, err
		}
	case backup.StorageS3:
		var err error
		if st, err = s.cfg.Storage.ResolveS3(st); err != nil {
			return st, err
		}
		if st.Region == "" {
			st.Region = s.cfg.Region
		}
	default:
		return st, fmt.Errorf("unknown storage kind %q", st.Kind)
	}
	mine := locations(name, st)
	for _, l := range mine {
		if err := s.holdsDataDir(l); err != nil {
			return st, err
		}
	}
	vaults, err := s.allVaults(ctx)
	if err != nil {
		return st, err
	}
	for _, v := range vaults {
		if v.Name == name {
			continue
		}
		for _, theirs := range locations(v.Name, v.Storage) {
			for _, l := range mine {
				if l.Overlaps(theirs) {
					return st, backup.OverlapError(l, theirs)
				}
			}
		}
	}
	for _, l := range mine {
		if err := s.inDataDir(l); err != nil {
			return st, err
		}
	}
	return st, nil
}

// storageConflicts returns, by vault name, why each vault of vaults is not
// safe to clean up: its locations overlap another vault's or cairn's data
// dir. Catalogs written before overlaps were refused may hold such vaults.
func (s *Service) storageConflicts(vaults []*backup.Vault) map[string]string {
	out := map[string]string{}
	locs := make([][]backup.Location, len(vaults))
	for i, v := range vaults {
		locs[i] = locations(v.Name, v.Storage)
		for _, l := range locs[i] {
			if err := s.checkDataDir(l); err != nil {
				out[v.Name] = causeMessage(err)
			}
		}
	}
	for i := range vaults {
		for j := i + 1; j < len(vaults); j++ {
			for _, a := range locs[i] {
				for _, b := range locs[j] {
					if a.Overlaps(b) {
						out[a.Vault] = fmt.Sprintf("its %s %s overlaps the %s %s of vault %s", a.Role, a, b.Role, b, b.Vault)
						out[b.Vault] = fmt.Sprintf("its %s %s overlaps the %s %s of vault %s", b.Role, b, a.Role, a, a.Vault)
					}
				}
			}
		}
	}
	return out
}

// checkStoragePolicy logs, once at start, every vault whose storage
// overlaps another's (its data is left alone by recovery and the sweeps)
// and every vault the operator's policy would not allow today (it is still
// served).
func (s *Service) checkStoragePolicy(vaults []*backup.Vault) map[string]string {
	conflicts := s.storageConflicts(vaults)
	for _, v := range vaults {
		if why, bad := conflicts[v.Name]; bad {
			s.log.Error("VAULT STORAGE OVERLAPS: recovery and the sweeps leave this vault's data alone until the overlap is resolved; "+
				"move the vault's points elsewhere (StartCopyJob into a new vault) and delete one of the vaults",
				"vault", v.Name, "storage", v.Storage.String(), "reason", why)
		}
		if err := s.allowedToday(v); err != nil {
			s.log.Warn("vault storage is not allowed by the current configuration; the vault is still served, but no new vault can be created there",
				"vault", v.Name, "storage", v.Storage.String(), "reason", causeMessage(err))
		}
	}
	return conflicts
}

// allowedToday checks an existing vault's storage against today's policy.
func (s *Service) allowedToday(v *backup.Vault) error {
	switch v.Storage.Kind {
	case backup.StorageFile:
		if err := s.checkAllowed(v.Name, "directory", v.Storage.Path); err != nil {
			return err
		}
		return s.checkAllowed(v.Name, "cold directory", v.Storage.ColdDir())
	case backup.StorageS3:
		if _, ok := s.cfg.Storage.Endpoint(v.Storage); !ok {
			return fmt.Errorf("S3 endpoint %s is not configured under storage.s3_endpoints", endpointName(v.Storage))
		}
	}
	return nil
}

// storageError turns a failure to open or write a new vault's storage into
// the error CreateVault answers: a server-side condition (a full or failing
// disk, an S3 server that refuses), not a bad request, since the client can
// only name storage the operator allows. The message carries the system's
// reason without paths; the log has everything.
func (s *Service) storageError(name string, st backup.VaultStorage, err error) error {
	s.log.Error("cannot create vault storage", "vault", name, "storage", st.String(), "err", err)
	reason := "see the server's log"
	var errno syscall.Errno
	if errors.As(err, &errno) {
		reason = errno.Error()
	}
	return &backup.Error{Code: backup.ErrUnavailable, Type: "BackupVault", Context: name, Err: err,
		Message: fmt.Sprintf("cannot write to the storage of vault %s (%s): %s; the server's operator must fix the storage, then try again", name, st, reason)}
}

// readMarker reads a store's marker; found is false if it has none.
func readMarker(ctx context.Context, store blob.Store) (m vaultMarker, found bool, err error) {
	rc, err := store.Get(ctx, markerKey)
	if errors.Is(err, blob.ErrNotFound) {
		return m, false, nil
	}
	if err != nil {
		return m, false, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 64<<10))
	if err != nil {
		return m, false, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		// Not cairn's marker: somebody else's file, never ours.
		return vaultMarker{Vault: "(unreadable " + markerKey + ")"}, true, nil
	}
	return m, true, nil
}

// writeMarker writes vault v's marker in role into store: the vault's
// record in its own storage, a small marker in its cold directory.
func writeMarker(ctx context.Context, store blob.Store, v *backup.Vault, role string) error {
	var b []byte
	var err error
	if role == roleWarm {
		b, err = backup.MarshalVaultRecord(v)
	} else {
		b, err = json.Marshal(vaultMarker{Vault: v.Name, Account: v.AccountID, Region: v.Region, OwnerID: v.Storage.OwnerID, Role: role})
	}
	if err != nil {
		return err
	}
	return store.Put(ctx, markerKey, bytes.NewReader(b))
}

// names reports whether marker m is vault v's in role: the same vault,
// account, region and owner ID.
func (m vaultMarker) names(v *backup.Vault, role string) bool {
	return m.sameVault(v) && m.owner() == v.Storage.OwnerID && m.role() == role
}

// sameVault reports whether marker m names vault v: the same name, account
// and region.
func (m vaultMarker) sameVault(v *backup.Vault) bool {
	return m.Vault == v.Name && (m.Account == "" || m.Account == v.AccountID) && (m.Region == "" || m.Region == v.Region)
}

// errNotOwned says a store's data is left alone.
var errNotOwned = errors.New("the storage is not proven to be this vault's")

// owns proves that store is vault v's in role before anything in it is
// deleted: v overlaps no other vault (conflicts), and the store's marker
// names v. A store without a marker (a cold directory from before cold
// markers, or a marker removed by another vault's deletion before this
// was checked) is claimed: its marker is written. It returns an error
// wrapping errNotOwned, saying why, otherwise.
func (s *Service) owns(ctx context.Context, v *backup.Vault, store blob.Store, role string, conflicts map[string]string) error {
	if why, bad := conflicts[v.Name]; bad {
		return fmt.Errorf("%w: %s", errNotOwned, why)
	}
	m, found, err := readMarker(ctx, store)
	if err != nil {
		return fmt.Errorf("read the storage marker: %w", err)
	}
	if !found {
		if err := writeMarker(ctx, store, v, role); err != nil {
			return fmt.Errorf("write the missing storage marker: %w", err)
		}
		s.log.Info("wrote the missing marker of a vault's storage", "vault", v.Name, "role", role)
		return nil
	}
	if !m.names(v, role) {
		return fmt.Errorf("%w: its marker names vault %q (role %s), not vault %s (role %s)", errNotOwned, m.Vault, m.role(), v.Name, role)
	}
	return nil
}

// checkFreeMarker refuses storage whose marker names another vault (of
// another cairn, or one whose catalog entry was lost): a new vault never
// takes over another's data. A marker of the same vault (name, account,
// region) is taken over: the vault is being created again.
func checkFreeMarker(ctx context.Context, store blob.Store, name string, v *backup.Vault, role string) error {
	m, found, err := readMarker(ctx, store)
	if err != nil || !found {
		return err
	}
	if m.sameVault(v) && m.role() == role {
		return nil
	}
	return &backup.Error{Code: backup.ErrInvalidParameter, Type: "BackupVault", Context: v.Name,
		Message: fmt.Sprintf("the storage %s already belongs to vault %q (%s, role %s) according to its %s; choose another location",
			name, m.Vault, m.Account+"/"+m.Region, m.role(), markerKey)}
}

// storedPoint is what a store holds of one recovery point.
type storedPoint struct {
	complete bool
	newest   int64 // unix nanoseconds of the newest object
}

// listStored lists the recovery points in store.
func listStored(ctx context.Context, store blob.Store) (map[string]*storedPoint, error) {
	out := map[string]*storedPoint{}
	err := store.List(ctx, vault.RootPrefix, func(i blob.Info) error {
		rest, _ := strings.CutPrefix(i.Key, vault.RootPrefix)
		id, _, ok := strings.Cut(rest, "/")
		if !ok || !vault.ValidPointID(id) {
			return nil
		}
		p := out[id]
		if p == nil {
			p = &storedPoint{}
			out[id] = p
		}
		if i.Key == vault.SummaryKey(id) {
			p.complete = true
		}
		if n := i.ModTime.UnixNano(); n > p.newest {
			p.newest = n
		}
		return nil
	})
	return out, err
}

// startedBy reads point id's _started object: nil if it is missing or
// empty (points written before it said who wrote them).
func startedBy(ctx context.Context, store blob.Store, id string) (*pointStarted, error) {
	rc, err := store.Get(ctx, vault.StartedKey(id))
	if errors.Is(err, blob.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 64<<10))
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var ps pointStarted
	if err := json.Unmarshal(b, &ps); err != nil {
		return &pointStarted{VaultARN: "(unreadable)"}, nil
	}
	return &ps, nil
}

// byVault reports whether ps names vault v (and its owner ID) and point id.
func (ps *pointStarted) byVault(v *backup.Vault, id string) bool {
	return ps.VaultARN == v.ARN && ps.RecoveryPointID == id && ps.VaultOwnerID == v.Storage.OwnerID
}

// dirExists reports whether dir exists.
func dirExists(dir string) bool {
	_, err := os.Stat(dir)
	return err == nil
}
