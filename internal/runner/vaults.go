package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
)

// markerKey is written into a vault's storage when the vault is created, to
// prove the storage is writable and to say which vault owns it.
const markerKey = "cairn-vault.json"

// CreateVault creates a vault. Its storage comes from in.Storage or the
// reserved cairn:storage tags; without either it is a directory under the
// data dir. The storage is written to once before the vault is recorded, so
// a vault that exists can store recovery points.
func (s *Service) CreateVault(ctx context.Context, in backup.CreateVaultInput) (*backup.Vault, error) {
	if err := backup.ValidateVaultName(in.Name); err != nil {
		return nil, err
	}
	st, tags, err := backup.StorageFromTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if in.Storage.Kind != "" {
		st = in.Storage
	}
	if st.Kind == "" {
		st = s.defaultStorage(in.Name)
	}
	if st.Kind == backup.StorageS3 && st.Region == "" {
		st.Region = s.cfg.Region
	}
	if existing, err := s.cfg.Catalog.GetVault(ctx, in.Name); err == nil {
		if in.CreatorRequestID != "" && existing.CreatorRequestID == in.CreatorRequestID {
			return existing, nil
		}
		return nil, &backup.Error{Code: backup.ErrAlreadyExists, Message: fmt.Sprintf("backup vault %s already exists", in.Name),
			Type: "BackupVault", Context: in.Name}
	} else if !backup.IsNotFound(err) {
		return nil, err
	}
	store, err := s.cfg.OpenStore(ctx, st)
	if err != nil {
		return nil, backup.Errorf(backup.ErrInvalidParameter, "cannot open vault storage %s: %v", st, err)
	}
	marker, _ := json.Marshal(map[string]string{"vault": in.Name, "account": s.cfg.AccountID, "region": s.cfg.Region})
	if err := store.Put(ctx, markerKey, bytes.NewReader(marker)); err != nil {
		return nil, backup.Errorf(backup.ErrInvalidParameter, "cannot write to vault storage %s: %v", st, err)
	}
	v := &backup.Vault{
		Name: in.Name, ARN: backup.VaultARN(s.cfg.Region, s.cfg.AccountID, in.Name),
		AccountID: s.cfg.AccountID, Region: s.cfg.Region, CreationDate: s.now(),
		CreatorRequestID: in.CreatorRequestID, EncryptionKeyARN: in.EncryptionKeyARN, Tags: tags, Storage: st,
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

// DeleteVault deletes an empty vault and its storage marker.
func (s *Service) DeleteVault(ctx context.Context, name string) error {
	v, err := s.GetVault(ctx, name)
	if err != nil {
		return err
	}
	if err := s.cfg.Catalog.DeleteVault(ctx, name); err != nil {
		return err
	}
	if store, err := s.store(ctx, v); err == nil {
		if err := store.Delete(ctx, markerKey); err != nil {
			s.log.Warn("vault deleted but its storage marker was not", "vault", name, "err", err)
		}
	}
	s.mu.Lock()
	delete(s.stores, name)
	s.mu.Unlock()
	return nil
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
