package vault

import (
	"fmt"
	"strings"
)

// The key layout of a vault, relative to the blob store's root. A recovery
// point is laid out as DynamoDB's own export to S3 lays out an export, so
// DynamoDB ImportTable (pointed at the point's data/ prefix) and export
// readers can use it as is (docs/format.md says what a reader may rely on):
//
//	AWSDynamoDB/<rpID>/_started                   written first, marks a point in progress; says who writes it
//	AWSDynamoDB/<rpID>/data/<random>.json.zst     DYNAMODB_JSON lines, {"Item":{...}}\n (.json.gz, .json);
//	                                              at least one file, empty for an empty table
//	AWSDynamoDB/<rpID>/manifest-files.json        one JSON line per data file
//	AWSDynamoDB/<rpID>/manifest-files.checksum    hex MD5 of manifest-files.json
//	AWSDynamoDB/<rpID>/cairn-metadata.json        cairn's metadata and content checksum
//	AWSDynamoDB/<rpID>/manifest-summary.checksum  hex MD5 of manifest-summary.json
//	AWSDynamoDB/<rpID>/manifest-summary.json      written last: the point exists iff this does
//	AWSDynamoDB/<rpID>/cairn-point.json           the point's record, rewritten as it changes (record.go)
//	cairn-vault.json                              the vault's record (record.go)
//
// The keys the manifests record (manifestFilesS3Key, dataFileS3Key) are
// full bucket keys: the store's blob.Location prefix, then the key above;
// the summary's s3Bucket and s3Prefix name the bucket and prefix. A store
// with no Location (a directory) records the keys above and null.
//
// The summary records the SHA-256 of manifest-files.json and
// cairn-metadata.json and is itself covered by manifest-summary.checksum;
// manifest-files.json is covered by manifest-files.checksum as well; each
// manifest-files line records the MD5 of its data file. Every byte of a
// point is checked when it is opened or verified. The point record is the
// exception: it changes after the point is committed, and is read as it is.
const (
	// RootPrefix is the prefix of every recovery point.
	RootPrefix = "AWSDynamoDB/"

	startedName         = "_started"
	dataDir             = "data/"
	filesManifestName   = "manifest-files.json"
	filesChecksumName   = "manifest-files.checksum"
	metadataName        = "cairn-metadata.json"
	summaryChecksumName = "manifest-summary.checksum"
	summaryName         = "manifest-summary.json"
)

// ValidPointID reports whether id can name a recovery point: 1 to 128
// characters from [A-Za-z0-9._-], not starting with '.'.
func ValidPointID(id string) bool {
	if id == "" || len(id) > 128 || id[0] == '.' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func checkPointID(id string) error {
	if !ValidPointID(id) {
		return fmt.Errorf("%w: %q", ErrInvalidPointID, id)
	}
	return nil
}

// PointPrefix is the prefix of every key of point id.
func PointPrefix(id string) string { return RootPrefix + id + "/" }

// DataPrefix is the prefix of point id's data files; give it to DynamoDB
// ImportTable as the S3 key prefix.
func DataPrefix(id string) string { return PointPrefix(id) + dataDir }

// DataFileKey is the key of point id's data file name.
func DataFileKey(id, name string) string { return DataPrefix(id) + name }

// SummaryKey is the key of point id's manifest-summary.json.
func SummaryKey(id string) string { return PointPrefix(id) + summaryName }

// SummaryChecksumKey is the key of point id's manifest-summary.checksum.
func SummaryChecksumKey(id string) string { return PointPrefix(id) + summaryChecksumName }

// FilesManifestKey is the key of point id's manifest-files.json.
func FilesManifestKey(id string) string { return PointPrefix(id) + filesManifestName }

// FilesChecksumKey is the key of point id's manifest-files.checksum.
func FilesChecksumKey(id string) string { return PointPrefix(id) + filesChecksumName }

// MetadataKey is the key of point id's cairn-metadata.json.
func MetadataKey(id string) string { return PointPrefix(id) + metadataName }

// StartedKey is the key of point id's _started marker.
func StartedKey(id string) string { return PointPrefix(id) + startedName }

// splitPointKey splits a key under RootPrefix into its point ID and the
// rest ("data/x.json.zst", "manifest-summary.json").
func splitPointKey(key string) (id, rest string, ok bool) {
	s, ok := strings.CutPrefix(key, RootPrefix)
	if !ok {
		return "", "", false
	}
	id, rest, ok = strings.Cut(s, "/")
	if !ok || !ValidPointID(id) {
		return "", "", false
	}
	return id, rest, true
}
