package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
)

// CreateVault creates a vault. Its storage comes from in.Storage or the
// reserved cairn:storage tags; without either it is a directory under the
// data dir. The storage must be one the operator allows and overlap no
// other vault's nor cairn's data dir (admitStorage). It is written to once
// (its marker) before the vault is recorded, so a vault that exists can
// store recovery points.
func (s *Service) CreateVault(ctx context.Context, in backup.CreateVaultInput) (*backup.Vault, error) {
	if err := backup.ValidateVaultName(in.Name); err != nil {
		return nil, err
	}
	if err := backup.ValidateVaultTags("BackupVaultTags", in.Tags); err != nil {
		return nil, err
	}
	st, _, err := backup.StorageFromTags(in.Tags)
	if err != nil {
		return nil, err
	}
	compression := st.Compression // kept whichever storage the vault gets
	if in.Storage.Kind != "" {
		if in.Storage.ColdPath == "" && in.Storage.ColdStorageClass == "" {
			in.Storage.ColdPath, in.Storage.ColdStorageClass = st.ColdPath, st.ColdStorageClass
		}
		st = in.Storage
	}
	if st.Kind == "" {
		cold := st.ColdPath
		st = s.defaultStorage(in.Name)
		st.ColdPath = cold
	}
	if st.Compression == "" {
		st.Compression = compression
	}
	if err := st.ValidateCold(); err != nil {
		return nil, err
	}
	// One creation at a time: the overlap check sees every vault.
	s.vaultMu.Lock()
	defer s.vaultMu.Unlock()
	if existing, err := s.cfg.Catalog.GetVault(ctx, in.Name); err == nil {
		if in.CreatorRequestID != "" && existing.CreatorRequestID == in.CreatorRequestID {
			return existing, nil
		}
		return nil, &backup.Error{Code: backup.ErrAlreadyExists, Message: fmt.Sprintf("backup vault %s already exists", in.Name),
			Type: "BackupVault", Context: in.Name}
	} else if !backup.IsNotFound(err) {
		return nil, err
	}
	if st, err = s.admitStorage(ctx, in.Name, st); err != nil {
		return nil, err
	}
	st.OwnerID = newID()
	v := &backup.Vault{
		Name: in.Name, ARN: backup.VaultARN(s.cfg.Region, s.cfg.AccountID, in.Name),
		AccountID: s.cfg.AccountID, Region: s.cfg.Region, CreationDate: s.now(),
		// Tags as given, the reserved ones included: ListTags shows what the
		// vault was created with; backup.AddTags keeps the reserved ones fixed.
		CreatorRequestID: in.CreatorRequestID, EncryptionKeyARN: in.EncryptionKeyARN, Tags: maps.Clone(in.Tags), Storage: st,
	}
	store, err := s.cfg.OpenStore(ctx, st)
	if err != nil {
		return nil, s.storageError(in.Name, st, err)
	}
	if err := checkFreeMarker(ctx, store, st.String(), v, roleWarm); err != nil {
		if backup.ErrorCode(err) == backup.ErrInvalidParameter {
			return nil, err
		}
		return nil, s.storageError(in.Name, st, err)
	}
	if st.Kind == backup.StorageFile && dirExists(st.ColdDir()) {
		// A cold directory that exists already must not be another's.
		cold, err := s.cfg.OpenStore(ctx, backup.VaultStorage{Kind: backup.StorageFile, Path: st.ColdDir()})
		if err != nil {
			return nil, s.storageError(in.Name, st, err)
		}
		if err := checkFreeMarker(ctx, cold, st.ColdDir(), v, roleCold); err != nil {
			if backup.ErrorCode(err) == backup.ErrInvalidParameter {
				return nil, err
			}
			return nil, s.storageError(in.Name, st, err)
		}
	}
	if err := writeMarker(ctx, store, v, roleWarm); err != nil {
		return nil, s.storageError(in.Name, st, err)
	}
	if err := s.cfg.Catalog.CreateVault(ctx, v); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.stores[v.Name] = store
	s.mu.Unlock()
	s.log.Info("vault created", "vault", v.Name, "storage", st.String())
	return v, nil
}

// coldStore returns the blob store of a file vault's cold recovery points,
// the directory VaultStorage.ColdDir names, opened like any vault storage.
// It returns nil for an S3 vault, whose cold points stay in place in
// another storage class, and, unless create is set, for a file vault whose
// cold directory does not exist (nothing has gone cold there yet). With
// create, the directory gets the vault's cold marker if it has none, and
// a directory whose marker names another vault is refused.
func (s *Service) coldStore(ctx context.Context, v *backup.Vault, create bool) (blob.Store, error) {
	if v.Storage.Kind != backup.StorageFile {
		return nil, nil
	}
	dir := v.Storage.ColdDir()
	key := "cold:" + dir // vault names cannot hold ':'
	s.mu.Lock()
	st, ok := s.stores[key]
	s.mu.Unlock()
	if ok {
		return st, nil
	}
	if !create {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	st, err := s.cfg.OpenStore(ctx, backup.VaultStorage{Kind: backup.StorageFile, Path: dir})
	if err != nil {
		return nil, fmt.Errorf("open cold storage of vault %s (%s): %w", v.Name, dir, err)
	}
	if create {
		m, found, err := readMarker(ctx, st)
		switch {
		case err != nil:
			return nil, fmt.Errorf("cold storage of vault %s (%s): %w", v.Name, dir, err)
		case found && !m.names(v, roleCold):
			return nil, fmt.Errorf("cold storage of vault %s (%s) belongs to vault %q (role %s) according to its marker; it is left alone", v.Name, dir, m.Vault, m.role())
		case !found:
			if err := writeMarker(ctx, st, v, roleCold); err != nil {
				return nil, fmt.Errorf("cold storage of vault %s (%s): %w", v.Name, dir, err)
			}
		}
	}
	s.mu.Lock()
	s.stores[key] = st
	s.mu.Unlock()
	return st, nil
}

// GetVault returns a vault.
func (s *Service) GetVault(ctx context.Context, name string) (*backup.Vault, error) {
	if err := backup.ValidateVaultName(name); err != nil {
		return nil, err
	}
	return s.cfg.Catalog.GetVault(ctx, name)
}

// ListVaults lists vaults.
func (s *Service) ListVaults(ctx context.Context, p backup.Page) ([]*backup.Vault, string, error) {
	return s.cfg.Catalog.ListVaults(ctx, p)
}

// DeleteVault deletes an empty vault and its storage markers: each only
// if it names this vault, so deleting a vault never touches another's.
func (s *Service) DeleteVault(ctx context.Context, name string) error {
	v, err := s.GetVault(ctx, name)
	if err != nil {
		return err
	}
	if err := s.cfg.Catalog.DeleteVault(ctx, name); err != nil {
		return err
	}
	if store, err := s.store(ctx, v); err == nil {
		s.removeMarker(ctx, v, store, roleWarm)
	}
	if cold, err := s.coldStore(ctx, v, false); err == nil && cold != nil {
		s.removeMarker(ctx, v, cold, roleCold)
	}
	s.mu.Lock()
	delete(s.stores, name)
	delete(s.stores, "cold:"+v.Storage.ColdDir())
	s.mu.Unlock()
	return nil
}

// removeMarker deletes a deleted vault's marker from store if the marker
// names it.
func (s *Service) removeMarker(ctx context.Context, v *backup.Vault, store blob.Store, role string) {
	m, found, err := readMarker(ctx, store)
	switch {
	case err != nil:
		s.log.Warn("vault deleted but its storage marker could not be read; it is left", "vault", v.Name, "role", role, "err", err)
	case !found:
	case !m.names(v, role):
		s.log.Warn("vault deleted; the marker in its storage names another vault and is left alone", "vault", v.Name, "role", role, "marker_vault", m.Vault)
	default:
		if err := store.Delete(ctx, markerKey); err != nil {
			s.log.Warn("vault deleted but its storage marker was not", "vault", v.Name, "role", role, "err", err)
		}
	}
}

// EnsureDefaultVault creates the vault named Default on local disk if it
// does not exist.
func (s *Service) EnsureDefaultVault(ctx context.Context) error {
	if _, err := s.cfg.Catalog.GetVault(ctx, "Default"); err == nil {
		return nil
	} else if !backup.IsNotFound(err) {
		return err
	}
	_, err := s.CreateVault(ctx, backup.CreateVaultInput{Name: "Default"})
	return err
}
