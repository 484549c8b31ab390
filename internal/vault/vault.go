// Package vault lays recovery points out over a blob.Store, knowing nothing
// of where the bytes live. A recovery point has the layout of a DynamoDB
// export to S3 (see layout.go): compressed DYNAMODB_JSON data files,
// manifest-files.json, manifest-summary.json, plus cairn-metadata.json and
// SHA-256 checksums covering every file.
//
// A point is written by a Writer: any number of FileWriters (one per
// goroutine) stream items into data files, each compressed on the fly and
// piped into blob.Store.Put, and Commit writes the manifests, the summary
// last. A point is complete iff its summary exists (and verifies): a crash
// at any moment leaves either a complete point or an incomplete one that
// Open refuses with ErrIncomplete and ListPoints reports for cleanup.
package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/cairn-backup/cairn/internal/blob"
)

// Errors callers branch on.
var (
	// ErrIncomplete: the point has no summary: it is being written, was
	// aborted, crashed, or never existed.
	ErrIncomplete = errors.New("vault: recovery point is incomplete or missing")
	// ErrCorrupt: a file of the point does not match its manifest or
	// checksum, or cannot be parsed.
	ErrCorrupt = errors.New("vault: recovery point is corrupt")
	// ErrExists: Create found objects under the point's prefix already.
	ErrExists = errors.New("vault: recovery point already exists")
	// ErrInvalidPointID: the ID fails ValidPointID.
	ErrInvalidPointID = errors.New("vault: invalid recovery point ID")
	// ErrClosed: the Writer or FileWriter is committed, aborted or closed.
	ErrClosed = errors.New("vault: writer is closed")
	// ErrFilesOpen: Commit was called while a FileWriter is still open.
	ErrFilesOpen = errors.New("vault: data files still open")
)

// Vault reads and writes recovery points in a blob store.
type Vault struct {
	store blob.Store
	// loc is where the store is, for the keys the manifests record.
	loc      blob.Location
	decoders map[Compression]*sync.Pool
}

// New returns a vault over store. If store is a blob.Locator, the points it
// writes record full bucket keys and the bucket and prefix (see layout.go).
func New(store blob.Store) *Vault {
	v := &Vault{store: store, loc: blob.LocationOf(store), decoders: make(map[Compression]*sync.Pool)}
	for _, c := range []Compression{Zstd, Gzip, None} {
		v.decoders[c] = &sync.Pool{New: func() any {
			d, err := newDecoder(c)
			if err != nil {
				panic(err) // options are constant
			}
			return d
		}}
	}
	return v
}

// Store returns the blob store the vault is in.
func (v *Vault) Store() blob.Store { return v.store }

// Location returns where the vault's store is (blob.LocationOf).
func (v *Vault) Location() blob.Location { return v.loc }

// Delete removes point id: the summary first, so that a crash midway never
// leaves a point that looks complete, then everything else under its
// prefix. Deleting a missing point is not an error.
func (v *Vault) Delete(ctx context.Context, id string) error {
	if err := checkPointID(id); err != nil {
		return err
	}
	for _, k := range []string{SummaryKey(id), SummaryChecksumKey(id)} {
		if err := v.store.Delete(ctx, k); err != nil {
			return fmt.Errorf("vault: delete %s: %w", id, err)
		}
	}
	if err := blob.DeletePrefix(ctx, v.store, PointPrefix(id)); err != nil {
		return fmt.Errorf("vault: delete %s: %w", id, err)
	}
	return nil
}

// ListPoints returns the IDs of the points in the vault, sorted: complete
// ones (with a summary; not verified) and incomplete ones (objects under
// the point's prefix but no summary), for crash recovery and garbage
// collection. A point being written right now is listed as incomplete.
func (v *Vault) ListPoints(ctx context.Context) (complete, incomplete []string, err error) {
	state := make(map[string]bool)
	err = v.store.List(ctx, RootPrefix, func(i blob.Info) error {
		id, rest, ok := splitPointKey(i.Key)
		if !ok {
			return nil
		}
		state[id] = state[id] || rest == summaryName
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("vault: list points: %w", err)
	}
	for id, done := range state {
		if done {
			complete = append(complete, id)
		} else {
			incomplete = append(incomplete, id)
		}
	}
	sort.Strings(complete)
	sort.Strings(incomplete)
	return complete, incomplete, nil
}

// Complete reports whether point id is complete: whether its summary
// exists (it is not read, so not verified).
func (v *Vault) Complete(ctx context.Context, id string) (bool, error) {
	if err := checkPointID(id); err != nil {
		return false, err
	}
	_, err := v.store.Stat(ctx, SummaryKey(id))
	if errors.Is(err, blob.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("vault: %s: %w", id, err)
	}
	return true, nil
}

// Verify reads every file of point id and checks it against its checksums
// and item counts. It returns nil, or an error wrapping ErrIncomplete,
// ErrCorrupt or the store's failure.
func (v *Vault) Verify(ctx context.Context, id string) error {
	r, err := v.Open(ctx, id)
	if err != nil {
		return err
	}
	for _, fe := range r.Files() {
		ir, err := r.OpenFile(ctx, fe)
		if err != nil {
			return err
		}
		for {
			_, err = ir.Next()
			if err != nil {
				break
			}
		}
		ir.Close()
		if err != io.EOF {
			return err
		}
	}
	return nil
}
