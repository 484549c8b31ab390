package vault

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/blob"
)

// Values of the summary's fixed fields, as DynamoDB writes them.
const (
	SummaryVersion = "2020-06-30"
	OutputFormat   = "DYNAMODB_JSON"
	ExportType     = "FULL_EXPORT"
	// FormatVersion is the version of cairn's additions that new points
	// are written with. Version 2 writes full bucket keys, s3Bucket and
	// s3Prefix, the ETag the store returned and the scan's bounds; version
	// 1 points (keys relative to the vault, etag always the MD5) are still
	// read.
	FormatVersion = 2
	// ConsistencyScan is CairnSummary.Consistency of a point made by a
	// Scan: not a snapshot (see CairnSummary).
	ConsistencyScan = "SCAN"
)

// Timestamp is a time that encodes as DynamoDB's export manifests write
// times: RFC 3339 in UTC with milliseconds, "2020-11-04T07:28:34.028Z".
type Timestamp struct{ time.Time }

const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON implements json.Marshaler.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.UTC().Format(timestampLayout))
}

// UnmarshalJSON implements json.Unmarshaler; it accepts any RFC 3339 time.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// FileEntry is one line of manifest-files.json: one data file. The first
// four fields are DynamoDB's; the rest are cairn's additions, which export
// readers ignore.
type FileEntry struct {
	ItemCount int64 `json:"itemCount"`
	// MD5Checksum is the base64 MD5 of the stored (compressed) file; cairn
	// checks every file it reads against it.
	MD5Checksum string `json:"md5Checksum"`
	// ETag is the object's ETag as the store returned it when the file was
	// stored: what a GET of DataFileS3Key answers and a reader may send in
	// If-Match. For a file uploaded in parts it is not an MD5 ("HEX-N").
	// Version 1 points always recorded the hex MD5 here.
	ETag string `json:"etag"`
	// DataFileS3Key is the file's key in the bucket: the vault's prefix
	// (the summary's s3Prefix), then the key in the vault. In a vault on
	// local disk (no bucket) it is the path under the vault's directory.
	// Version 1 points recorded the key in the vault only.
	DataFileS3Key string `json:"dataFileS3Key"`
	// SHA256 is the hex SHA-256 of the stored file, if recorded. cairn
	// writes only MD5 for data files (DynamoDB's manifest needs it, and a
	// second hash cost 5% of the backup's CPU); readers check both when
	// present.
	SHA256 string `json:"sha256,omitempty"`
	// Size is the stored file's size in bytes.
	Size int64 `json:"size"`
	// UncompressedSize is the size of the DYNAMODB_JSON lines it holds.
	UncompressedSize int64 `json:"uncompressedSize"`
}

// Digest names a file of the point, by its key in the vault, and its
// checksum.
type Digest struct {
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// CairnSummary is cairn's addition to manifest-summary.json.
type CairnSummary struct {
	FormatVersion     int         `json:"formatVersion"`
	RecoveryPointID   string      `json:"recoveryPointId"`
	Compression       Compression `json:"compression"`
	DataFileCount     int         `json:"dataFileCount"`
	UncompressedBytes int64       `json:"uncompressedBytes"`
	StoredBytes       int64       `json:"storedBytes"`
	ContentChecksum   string      `json:"contentChecksum,omitempty"`
	ManifestFiles     Digest      `json:"manifestFiles"`
	Metadata          Digest      `json:"metadata"`
	// Consistency says what moment the data reflects. ConsistencyScan: the
	// point was read by a Scan between ScanStartTime and ScanEndTime, so it
	// is not a snapshot. Every item holds a version no older than at
	// ScanStartTime (the summary's exportTime) and no newer than at
	// ScanEndTime; an item written or deleted during the scan may be in the
	// point or not, and two items may reflect different moments. Empty in
	// version 1 points, which meant the same.
	Consistency   string     `json:"consistency,omitempty"`
	ScanStartTime *Timestamp `json:"scanStartTime,omitempty"`
	ScanEndTime   *Timestamp `json:"scanEndTime,omitempty"`
}

// Summary is manifest-summary.json: DynamoDB's export summary and cairn's
// addition under "cairn".
type Summary struct {
	Version   string    `json:"version"`
	ExportARN string    `json:"exportArn"`
	StartTime Timestamp `json:"startTime"`
	EndTime   Timestamp `json:"endTime"`
	TableARN  string    `json:"tableArn"`
	TableID   string    `json:"tableId"`
	// ExportTime is when the scan started: the point holds every write
	// acknowledged before it (unless overwritten or deleted during the
	// scan), but it is not a snapshot of that moment; see
	// CairnSummary.Consistency.
	ExportTime Timestamp `json:"exportTime"`
	// S3Bucket and S3Prefix say where the point is, as DynamoDB's export
	// does: the vault's bucket and key prefix; null for a vault on local
	// disk, and S3Prefix null for a vault at its bucket's root.
	S3Bucket *string `json:"s3Bucket"`
	S3Prefix *string `json:"s3Prefix"`
	// ManifestFilesS3Key is manifest-files.json's key in the bucket, as
	// DataFileS3Key.
	ManifestFilesS3Key string       `json:"manifestFilesS3Key"`
	BilledSizeBytes    int64        `json:"billedSizeBytes"`
	ItemCount          int64        `json:"itemCount"`
	OutputFormat       string       `json:"outputFormat"`
	ExportType         string       `json:"exportType"`
	Cairn              CairnSummary `json:"cairn"`
}

// keyPrefix is what the point's manifests put before a key in the vault:
// the recorded s3Prefix and '/' (version 2), or nothing.
func (s *Summary) keyPrefix() string {
	if s.Cairn.FormatVersion < 2 || s.S3Prefix == nil || *s.S3Prefix == "" {
		return ""
	}
	return *s.S3Prefix + "/"
}

// Location returns where the summary says the point is.
func (s Summary) Location() blob.Location {
	var l blob.Location
	if s.S3Bucket != nil {
		l.Bucket = *s.S3Bucket
	}
	if s.S3Prefix != nil {
		l.Prefix = *s.S3Prefix
	}
	return l
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// metadataFile is cairn-metadata.json.
type metadataFile struct {
	FormatVersion   int             `json:"formatVersion"`
	RecoveryPointID string          `json:"recoveryPointId"`
	ContentChecksum string          `json:"contentChecksum"`
	Metadata        json.RawMessage `json:"metadata"`
}

// parseSummary decodes and checks manifest-summary.json of point id.
func parseSummary(data []byte, id string) (*Summary, error) {
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, summaryName, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrCorrupt, summaryName, fmt.Sprintf(format, args...))
	}
	c := &s.Cairn
	if c.FormatVersion != 1 && c.FormatVersion != FormatVersion {
		return nil, bad("cairn.formatVersion %d; this cairn reads versions 1 and %d (a newer cairn wrote it?)", c.FormatVersion, FormatVersion)
	}
	manifestKey := s.keyPrefix() + FilesManifestKey(id)
	switch {
	case s.Version != SummaryVersion:
		return nil, bad("version %q, want %q", s.Version, SummaryVersion)
	case s.OutputFormat != OutputFormat:
		return nil, bad("outputFormat %q, want %q", s.OutputFormat, OutputFormat)
	case c.RecoveryPointID != id:
		return nil, bad("cairn.recoveryPointId %q, want %q", c.RecoveryPointID, id)
	case s.S3Prefix != nil && *s.S3Prefix != "" && !blob.ValidKey(*s.S3Prefix):
		return nil, bad("s3Prefix %q is not a key prefix", *s.S3Prefix)
	case s.ManifestFilesS3Key != manifestKey || c.ManifestFiles.Key != FilesManifestKey(id):
		return nil, bad("manifest files key %q, want %q", s.ManifestFilesS3Key, manifestKey)
	case c.Metadata.Key != MetadataKey(id):
		return nil, bad("metadata key %q, want %q", c.Metadata.Key, MetadataKey(id))
	case !validSHA256(c.ManifestFiles.SHA256) || !validSHA256(c.Metadata.SHA256):
		return nil, bad("malformed sha256")
	case s.ItemCount < 0 || c.DataFileCount < 0 || c.ManifestFiles.Size < 0 || c.Metadata.Size < 0:
		return nil, bad("negative count or size")
	}
	if _, err := compressionExt(c.Compression); err != nil {
		return nil, bad("%v", err)
	}
	return &s, nil
}

// parseFilesManifest decodes manifest-files.json of the point whose
// summary is s: one JSON object per line, each naming a distinct data file
// of the point.
func parseFilesManifest(data []byte, s *Summary) ([]FileEntry, error) {
	var files []FileEntry
	seen := make(map[string]bool)
	prefix := s.keyPrefix() + DataPrefix(s.Cairn.RecoveryPointID)
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: %s line %d: %s", ErrCorrupt, filesManifestName, n, fmt.Sprintf(format, args...))
		}
		if len(line) == 0 {
			return nil, bad("empty line")
		}
		var fe FileEntry
		if err := json.Unmarshal(line, &fe); err != nil {
			return nil, bad("%v", err)
		}
		md5sum, err := base64.StdEncoding.DecodeString(fe.MD5Checksum)
		switch {
		case err != nil || len(md5sum) != 16:
			return nil, bad("malformed md5Checksum %q", fe.MD5Checksum)
		case s.Cairn.FormatVersion == 1 && fe.ETag != hex.EncodeToString(md5sum):
			return nil, bad("etag %q does not match md5Checksum", fe.ETag)
		case !validETag(fe.ETag):
			return nil, bad("malformed etag %q", fe.ETag)
		case fe.SHA256 != "" && !validSHA256(fe.SHA256):
			return nil, bad("malformed sha256 %q", fe.SHA256)
		case fe.ItemCount < 0 || fe.Size < 0 || fe.UncompressedSize < 0:
			return nil, bad("negative count or size")
		case !strings.HasPrefix(fe.DataFileS3Key, prefix) || strings.Contains(fe.DataFileS3Key[len(prefix):], "/") ||
			!blob.ValidKey(fe.DataFileS3Key):
			return nil, bad("data file key %q is not under %q", fe.DataFileS3Key, prefix)
		case seen[fe.DataFileS3Key]:
			return nil, bad("data file %q listed twice", fe.DataFileS3Key)
		}
		seen[fe.DataFileS3Key] = true
		files = append(files, fe)
	}
	return files, nil
}

// validETag accepts what S3-compatible stores return as ETags: printable
// ASCII without quotes, at most 256 bytes.
func validETag(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' || s[i] == '"' {
			return false
		}
	}
	return true
}

func validSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32 && s == strings.ToLower(s)
}
