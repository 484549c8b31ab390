package vault

import (
	"context"
	"fmt"

	"github.com/cairn-backup/cairn/internal/blob"
)

// pointFileNames are the names, under a point's prefix, of the files a
// point has besides its data files. _started is covered by nothing: it
// only marks a point in progress (DynamoDB's export has it too); nor is
// the point's record (record.go), which changes after the point is made.
var pointFileNames = []string{startedName, summaryName, summaryChecksumName, filesManifestName, filesChecksumName, metadataName,
	pointRecordName}

// Unlisted returns the objects under the point's prefix that are no file of
// the point: data files manifest-files.json does not list, and anything
// else the point's layout does not have. Their keys are full keys, as the
// manifests record keys (see layout.go).
func (r *Reader) Unlisted(ctx context.Context) ([]blob.Info, error) {
	known := make(map[string]bool, len(pointFileNames)+len(r.files))
	for _, n := range pointFileNames {
		known[PointPrefix(r.id)+n] = true
	}
	for _, fe := range r.files {
		known[r.StoreKey(fe.DataFileS3Key)] = true
	}
	var out []blob.Info
	err := r.v.store.List(ctx, PointPrefix(r.id), func(i blob.Info) error {
		if !known[i.Key] {
			i.Key = r.v.loc.Key(i.Key)
			out = append(out, i)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vault: list %s: %w", r.id, err)
	}
	return out, nil
}
