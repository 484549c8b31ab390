package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cairn-backup/cairn/internal/blob"
)

// Records: small JSON documents the layer above keeps beside the data so
// that a catalog can be rebuilt from a vault alone (what they hold is
// internal/backup's MarshalVaultRecord and MarshalPointRecord). The vault
// stores and returns their bytes and knows nothing of what is in them.
//
//	cairn-vault.json                    the vault's record (its marker), at the store's root
//	AWSDynamoDB/<rpID>/cairn-point.json the point's record: status, lifecycle, storage class, tags...
//
// Unlike every other file of a point, the point record is not covered by
// the summary's checksums: it is rewritten (atomically, as blob.Store.Put
// replaces an object) whenever the point changes, long after the point was
// committed. Copy and Transition leave it alone; Delete removes it with the
// point.

// MarkerKey is the key of a vault's record, written when the vault is
// created to prove the storage is writable and to say which vault owns it.
const MarkerKey = "cairn-vault.json"

const pointRecordName = "cairn-point.json"

// PointRecordKey is the key of point id's record.
func PointRecordKey(id string) string { return PointPrefix(id) + pointRecordName }

// ErrNoRecord: the vault or point has no record.
var ErrNoRecord = errors.New("vault: no record")

// PutPointRecord stores data as point id's record, replacing the one there.
func (v *Vault) PutPointRecord(ctx context.Context, id string, data []byte) error {
	if err := checkPointID(id); err != nil {
		return err
	}
	if err := v.store.Put(ctx, PointRecordKey(id), bytes.NewReader(data)); err != nil {
		return fmt.Errorf("vault: put record of %s: %w", id, err)
	}
	return nil
}

// PointRecord returns point id's record, or an error wrapping ErrNoRecord.
func (v *Vault) PointRecord(ctx context.Context, id string) ([]byte, error) {
	if err := checkPointID(id); err != nil {
		return nil, err
	}
	return v.record(ctx, PointRecordKey(id))
}

// PutVaultRecord stores data as the vault's record (its marker).
func (v *Vault) PutVaultRecord(ctx context.Context, data []byte) error {
	if err := v.store.Put(ctx, MarkerKey, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("vault: put vault record: %w", err)
	}
	return nil
}

// VaultRecord returns the vault's record, or an error wrapping ErrNoRecord.
func (v *Vault) VaultRecord(ctx context.Context) ([]byte, error) {
	return v.record(ctx, MarkerKey)
}

func (v *Vault) record(ctx context.Context, key string) ([]byte, error) {
	data, err := v.readSmall(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNoRecord, key)
	}
	if err != nil {
		return nil, fmt.Errorf("vault: read %s: %w", key, err)
	}
	return data, nil
}

// PointsWithRecord returns the IDs of the points that have a record,
// complete or not, in one listing of the vault.
func (v *Vault) PointsWithRecord(ctx context.Context) (map[string]bool, error) {
	ids := map[string]bool{}
	err := v.store.List(ctx, RootPrefix, func(i blob.Info) error {
		if id, rest, ok := splitPointKey(i.Key); ok && rest == pointRecordName {
			ids[id] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vault: list point records: %w", err)
	}
	return ids, nil
}
