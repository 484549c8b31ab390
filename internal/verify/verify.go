// Package verify checks vaults the way `restic check` checks a repository:
// that the catalog and a vault's storage agree on the recovery points there
// are (Agreement), and that every file of a point is what records it
// (Point): the manifests against their checksums, every data file's size
// and MD5, no stray files, and on request every item's content checksum.
// It reads and never writes. The runner wires it to the catalog and the
// vaults' stores as backup.VerifyService.
package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/vault"
)

// Storage is where one vault keeps its recovery points.
type Storage struct {
	// Warm is the vault's storage.
	Warm *vault.Vault
	// Cold is a vault on local disk's cold directory; nil if it has none
	// (S3 vaults keep cold points in place).
	Cold *vault.Vault
}

// where returns the vault a point's files are in, as the catalog says.
func (st Storage) where(rp *backup.RecoveryPoint) (*vault.Vault, string) {
	if rp.StorageClass == backup.StorageCold && st.Cold != nil {
		return st.Cold, "cold directory"
	}
	return st.Warm, "storage"
}

// Lookup returns the catalog's current record of point id, or an error
// for which backup.IsNotFound holds.
type Lookup func(ctx context.Context, id string) (*backup.RecoveryPoint, error)

// hasData reports whether a point in status s must have its files: a point
// being created or deleted may have them or not.
func hasData(s backup.RecoveryPointStatus) bool {
	switch s {
	case backup.RecoveryPointCompleted, backup.RecoveryPointPartial, backup.RecoveryPointExpired:
		return true
	}
	return false
}

// listing is what one place of a vault holds.
type listing struct{ complete, incomplete map[string]bool }

func list(ctx context.Context, v *vault.Vault) (listing, error) {
	complete, incomplete, err := v.ListPoints(ctx)
	l := listing{map[string]bool{}, map[string]bool{}}
	for _, id := range complete {
		l.complete[id] = true
	}
	for _, id := range incomplete {
		l.incomplete[id] = true
	}
	return l, err
}

// Agreement compares points, every point the catalog lists in vault name,
// with what st holds. What looks wrong is looked at again (lookup, and the
// storage) before it is reported, so a point created or deleted meanwhile
// is no problem.
func Agreement(ctx context.Context, name string, points []*backup.RecoveryPoint, st Storage, lookup Lookup) *backup.VaultCheck {
	c := &backup.VaultCheck{VaultName: name, CatalogPoints: len(points)}
	problem := func(id, format string, args ...any) {
		c.Problems = append(c.Problems, backup.VerifyFinding{RecoveryPointID: id, Message: fmt.Sprintf(format, args...)})
	}
	note := func(id, format string, args ...any) {
		c.Notes = append(c.Notes, backup.VerifyFinding{RecoveryPointID: id, Message: fmt.Sprintf(format, args...)})
	}
	warm, err := list(ctx, st.Warm)
	if err != nil {
		problem("", "cannot list the vault's storage, so nothing in it was compared with the catalog: %v", err)
		return c
	}
	cold := listing{map[string]bool{}, map[string]bool{}}
	if st.Cold != nil {
		if cold, err = list(ctx, st.Cold); err != nil {
			problem("", "cannot list the vault's cold directory, so no cold point was compared with the catalog: %v", err)
		}
	}
	stored := map[string]bool{}
	for _, l := range []listing{warm, cold} {
		for id := range l.complete {
			stored[id] = true
		}
	}
	c.StoredPoints = len(stored)

	sort.Slice(points, func(i, j int) bool { return points[i].ID < points[j].ID })
	inCatalog := map[string]bool{}
	for _, rp := range points {
		inCatalog[rp.ID] = true
		if !hasData(rp.Status) {
			continue
		}
		v, _ := st.where(rp)
		here, other := warm, cold
		if v == st.Cold {
			here, other = cold, warm
		}
		if here.complete[rp.ID] {
			c.RecoveryPointARNs = append(c.RecoveryPointARNs, rp.ARN)
			if other.complete[rp.ID] {
				note(rp.ID, "a second complete copy is in the vault's %s, left by a cold move in progress or cut short; the lifecycle worker removes it",
					map[bool]string{true: "storage", false: "cold directory"}[v == st.Cold])
			}
			continue
		}
		// Looked at again: the point may have changed since the listing.
		cur, err := lookup(ctx, rp.ID)
		if backup.IsNotFound(err) || (err == nil && !hasData(cur.Status)) {
			continue
		}
		if err != nil {
			problem(rp.ID, "cannot read the catalog's record of the point: %v", err)
			continue
		}
		v, place := st.where(cur)
		if ok, err := v.Complete(ctx, rp.ID); err != nil {
			problem(rp.ID, "cannot read the point in the vault's %s: %v", place, err)
			continue
		} else if ok {
			c.RecoveryPointARNs = append(c.RecoveryPointARNs, cur.ARN)
			continue
		}
		what := "has no file of it"
		if here.incomplete[rp.ID] {
			what = "holds only an incomplete copy (no manifest-summary.json)"
		}
		problem(rp.ID, "the catalog lists the point as %s (%s) but the vault's %s %s: it cannot be restored; put its files back, or delete it (DeleteRecoveryPoint)",
			cur.Status, cur.StorageClass, place, what)
	}

	var ids []string
	for _, l := range []listing{warm, cold} {
		for id := range l.complete {
			ids = append(ids, id)
		}
		for id := range l.incomplete {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for i, id := range ids {
		if inCatalog[id] || (i > 0 && ids[i-1] == id) {
			continue
		}
		if _, err := lookup(ctx, id); err == nil {
			continue // recorded meanwhile
		} else if !backup.IsNotFound(err) {
			problem(id, "cannot read the catalog's record of the point: %v", err)
			continue
		}
		if stored[id] {
			problem(id, "the vault's storage holds a complete recovery point the catalog does not list: it cannot be restored through the API; `cairn catalog rebuild` records it again, or delete its files")
		} else {
			note(id, "the vault's storage holds an incomplete recovery point the catalog does not list, left by a write that was cut short; the background sweep removes it")
		}
	}
	return c
}

// Point checks every file of rp, the catalog's record of a point, in v,
// where the catalog says the point is; with readData it also decompresses
// the data files and recomputes the item count and the content checksum.
func Point(ctx context.Context, v *vault.Vault, rp *backup.RecoveryPoint, readData bool) *backup.PointCheck {
	c := &backup.PointCheck{VaultName: rp.VaultName, RecoveryPointARN: rp.ARN, RecoveryPointID: rp.ID, ReadData: readData}
	problem := func(file, format string, args ...any) {
		c.Problems = append(c.Problems, backup.VerifyFinding{RecoveryPointID: rp.ID, File: file, Message: fmt.Sprintf(format, args...)})
	}
	note := func(file, format string, args ...any) {
		c.Notes = append(c.Notes, backup.VerifyFinding{RecoveryPointID: rp.ID, File: file, Message: fmt.Sprintf(format, args...)})
	}
	r, err := v.Open(ctx, rp.ID)
	switch {
	case errors.Is(err, vault.ErrIncomplete):
		problem("", "the point has no manifest-summary.json: it is incomplete or missing and cannot be restored")
		return c
	case err != nil:
		problem("", "%s", strings.TrimPrefix(err.Error(), "vault: open "+rp.ID+": "))
		return c
	}
	s := r.Summary()
	c.Files = 5 // the summary, its checksum, manifest-files.json, its checksum, cairn-metadata.json
	c.Bytes = s.Cairn.ManifestFiles.Size + s.Cairn.Metadata.Size
	if s.Cairn.FormatVersion >= 2 && s.Location() != v.Location() {
		problem("", "the manifests place the point at %s but it is at %s: readers that follow them will not find its files; copy the point (StartCopyJob) to write manifests for where it is",
			describe(s.Location()), describe(v.Location()))
	}
	if s.ItemCount != rp.ItemCount {
		problem("", "the manifests count %d items, the catalog %d", s.ItemCount, rp.ItemCount)
	}
	if rp.ContentChecksum != "" && r.ContentChecksum() != rp.ContentChecksum {
		problem("", "the point's content checksum is %s, the catalog's %s", r.ContentChecksum(), rp.ContentChecksum)
	}
	unlisted, err := r.Unlisted(ctx)
	if err != nil {
		problem("", "cannot list the point's files: %v", err)
	}
	for _, i := range unlisted {
		problem(i.Key, "%s (%d bytes) is no file of the point: manifest-files.json does not list it", i.Key, i.Size)
	}

	var sum ddbjson.Checksum
	alg, algErr := ddbjson.ChecksumAlgorithmOf(r.ContentChecksum())
	if readData {
		if algErr == nil {
			sum, _ = ddbjson.NewChecksum(alg)
		} else {
			note("", "the point records no content checksum cairn knows (%q): its items are counted, not checksummed", r.ContentChecksum())
		}
	}
	dataOK := true
	var outOfSpec int64
	for _, fe := range r.Files() {
		c.Files++
		var err error
		if readData {
			var n, lax int64
			n, lax, err = readFile(ctx, r, fe, &sum, algErr == nil)
			c.Items += n
			outOfSpec += lax
		} else {
			err = r.CheckFile(ctx, fe)
		}
		switch {
		case err == nil:
			c.Bytes += fe.Size
		case errors.Is(err, blob.ErrArchived):
			note(fe.DataFileS3Key, "%s is archived: not read (restore it from the archive storage class to check it)", fe.DataFileS3Key)
			dataOK = false
		default:
			problem(fe.DataFileS3Key, "%v", err)
			dataOK = false
		}
	}
	if outOfSpec > 0 {
		note("", "%d items are out of DynamoDB's rules (kept as the source held them; a strict target refuses them)", outOfSpec)
	}
	if readData && dataOK {
		if c.Items != s.ItemCount {
			problem("", "the data files hold %d items, the manifests count %d", c.Items, s.ItemCount)
		}
		if algErr == nil && sum.Sum() != r.ContentChecksum() {
			problem("", "the content checksum of the items read is %s, the point records %s", sum.Sum(), r.ContentChecksum())
		}
	}
	return c
}

// readFile reads every item of one data file, adding each to sum if
// checksum is set, and returns how many it read and how many of those are
// out of DynamoDB's rules (a backup keeps them; their digest is the lax
// one, as the engine's). The ItemReader checks the file's size, MD5 and
// item count at its end.
func readFile(ctx context.Context, r *vault.Reader, fe vault.FileEntry, sum *ddbjson.Checksum, checksum bool) (items, outOfSpec int64, err error) {
	ir, err := r.OpenFile(ctx, fe)
	if err != nil {
		return 0, 0, err
	}
	defer ir.Close()
	for {
		item, err := ir.Next()
		if err == io.EOF {
			return ir.Items(), outOfSpec, nil
		}
		if err != nil {
			return ir.Items(), outOfSpec, err
		}
		if !checksum {
			continue
		}
		if err := sum.Add(item); err != nil {
			if lerr := sum.AddOutOfSpec(item); lerr != nil {
				return ir.Items(), outOfSpec, fmt.Errorf("data file %s: item %d is no DynamoDB item: %w", fe.DataFileS3Key, ir.Items(), err)
			}
			outOfSpec++
		}
	}
}

// describe names a location as a reader would.
func describe(l blob.Location) string {
	switch {
	case l.Bucket == "":
		return "no bucket (a directory)"
	case l.Prefix == "":
		return "s3://" + l.Bucket
	}
	return "s3://" + l.Bucket + "/" + l.Prefix
}
