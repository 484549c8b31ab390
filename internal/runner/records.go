package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/vault"
)

// Records beside the data. The catalog is not the only copy of what cairn
// knows about its vaults and recovery points: each vault's storage holds
// the vault's record (its marker, vault.MarkerKey) and each complete point
// its record (vault.PointRecordKey), in the encodings of
// backup.MarshalVaultRecord and backup.MarshalPointRecord. `cairn catalog
// rebuild` (internal/rebuild) makes a catalog from them and the points'
// manifests, so losing the catalog loses job history, never the ability to
// restore with the right lifecycle, tags and creator.
//
// The rule that keeps them true: whatever changes a vault or a completed
// point in the catalog in a way a rebuild must see calls persistVault or
// persistPoint, before the catalog write when the change can be refused
// (so a failure changes nothing), after it otherwise (tags: tagsChanged).
// A point's record is written before its summary, so a point that is
// complete always has one (but for points made before records existed,
// which backfillRecords gives one at the next start).

// persistPoint writes rp's record beside its data: in its vault's storage,
// or in the cold directory of a file vault for a COLD point. Call it after
// changing anything of a completed point that a rebuild must restore
// (lifecycle, storage class, tags, status).
func (s *Service) persistPoint(ctx context.Context, rp *backup.RecoveryPoint) error {
	pv, err := s.pointVault(ctx, rp)
	if err != nil {
		return fmt.Errorf("record of recovery point %s: %w", rp.ARN, err)
	}
	return putPointRecord(ctx, pv, rp)
}

// refreshPointRecord writes point id's record as the catalog has it now,
// after a change the catalog made first (tags), or to catch up with one
// made beside another (a lifecycle update and a TagResource at once). A
// failure is logged: the catalog has the change.
func (s *Service) refreshPointRecord(ctx context.Context, id string) {
	ctx = context.WithoutCancel(ctx)
	rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, id)
	if err == nil {
		err = s.persistPoint(ctx, rp)
	}
	if err != nil && !backup.IsNotFound(err) {
		s.log.Warn("the recovery point's record beside its data lags behind the catalog", "recovery_point", id, "err", err)
	}
}

// putPointRecord writes rp's record into v.
func putPointRecord(ctx context.Context, v *vault.Vault, rp *backup.RecoveryPoint) error {
	b, err := backup.MarshalPointRecord(rp)
	if err != nil {
		return fmt.Errorf("record of recovery point %s: %w", rp.ARN, err)
	}
	if err := v.PutPointRecord(ctx, rp.ID, b); err != nil {
		return fmt.Errorf("record of recovery point %s: %w", rp.ARN, err)
	}
	return nil
}

// persistVault writes v's record (its marker) into its storage. Call it
// after changing anything of a vault that a rebuild must restore (tags).
func (s *Service) persistVault(ctx context.Context, v *backup.Vault) error {
	store, err := s.store(ctx, v)
	if err != nil {
		return fmt.Errorf("record of vault %s: %w", v.Name, err)
	}
	// The record is the storage's marker: never write over another vault's
	// (storage.go).
	m, found, err := readMarker(ctx, store)
	if err != nil {
		return fmt.Errorf("record of vault %s: %w", v.Name, err)
	}
	if found && (!m.sameVault(v) || m.owner() != "" && m.owner() != v.Storage.OwnerID || m.role() != roleWarm) {
		return fmt.Errorf("record of vault %s: %w: the marker there names vault %q (role %s); it is left alone", v.Name, errNotOwned, m.Vault, m.role())
	}
	b, err := backup.MarshalVaultRecord(v)
	if err != nil {
		return fmt.Errorf("record of vault %s: %w", v.Name, err)
	}
	return vault.New(store).PutVaultRecord(ctx, b)
}

// backfillRecords brings one vault's records up to date for a rebuild: the
// vault's own record if it is missing or differs from the catalog (the
// three-key markers of earlier versions), and the record of every
// completed point that has none. It runs in the background after Recover.
func (s *Service) backfillRecords(ctx context.Context, v *backup.Vault) error {
	store, err := s.store(ctx, v)
	if err != nil {
		return err
	}
	vt := vault.New(store)
	want, err := backup.MarshalVaultRecord(v)
	if err != nil {
		return err
	}
	if have, err := vt.VaultRecord(ctx); errors.Is(err, vault.ErrNoRecord) || (err == nil && !bytes.Equal(have, want)) {
		if err := s.persistVault(ctx, v); err != nil {
			return err
		}
		s.log.Info("vault record written", "vault", v.Name)
	} else if err != nil {
		return err
	}
	has, err := vt.PointsWithRecord(ctx)
	if err != nil {
		return err
	}
	var hasCold map[string]bool
	if cold, err := s.coldStore(ctx, v, false); err != nil {
		return err
	} else if cold != nil {
		if hasCold, err = vault.New(cold).PointsWithRecord(ctx); err != nil {
			return err
		}
	}
	f := backup.RecoveryPointFilter{VaultName: v.Name, Page: backup.Page{MaxResults: 1000},
		Statuses: []backup.RecoveryPointStatus{backup.RecoveryPointCompleted, backup.RecoveryPointPartial, backup.RecoveryPointExpired}}
	written := 0
	for {
		pts, next, err := s.cfg.Catalog.ListRecoveryPoints(ctx, f)
		if err != nil {
			return err
		}
		for _, rp := range pts {
			if has[rp.ID] || (rp.StorageClass == backup.StorageCold && hasCold[rp.ID]) {
				continue
			}
			if err := s.backfillPoint(ctx, rp.ID); err != nil {
				return err
			}
			written++
		}
		if next == "" {
			break
		}
		f.NextToken = next
	}
	if written > 0 {
		s.log.Info("recovery point records written for points made before records existed", "vault", v.Name, "points", written)
	}
	return nil
}

// backfillPoint writes the record of point id as the catalog has it now.
// It takes no lock, so a cold move or a delete never waits for it: if one
// took the point from where the record went meanwhile, the record, left
// without its point, is removed again.
func (s *Service) backfillPoint(ctx context.Context, id string) error {
	rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, id)
	if backup.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	pv, err := s.pointVault(ctx, rp)
	if err != nil {
		return err
	}
	if err := putPointRecord(ctx, pv, rp); err != nil {
		return err
	}
	if _, err := pv.Store().Stat(ctx, vault.SummaryKey(id)); errors.Is(err, blob.ErrNotFound) {
		return pv.Store().Delete(ctx, vault.PointRecordKey(id))
	} else if err != nil {
		return err
	}
	return nil
}
