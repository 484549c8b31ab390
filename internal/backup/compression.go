package backup

import "strings"

// Compressions of a recovery point's data files, as cairn names them.
// DynamoDB's own exports are gzip; DynamoDB ImportTable reads all three
// (InputCompressionType GZIP, ZSTD, NONE).
const (
	CompressionZstd = "zstd" // .json.zst, cairn's default
	CompressionGzip = "gzip" // .json.gz, what DynamoDB exports write
	CompressionNone = "none" // .json
)

// TagCompression is the reserved vault tag that chooses how the vault's
// recovery points' data files are compressed: zstd, gzip or none (any
// case). Absent means the server's configured compression. A backup job's
// BackupOptions Compression overrides it.
const TagCompression = "cairn:compression"

// ParseCompression returns the compression s names: zstd, gzip or none in
// any case (so ImportTable's GZIP, ZSTD and NONE work too); "" gives "".
func ParseCompression(s string) (string, error) {
	switch c := strings.ToLower(strings.TrimSpace(s)); c {
	case "", CompressionZstd, CompressionGzip, CompressionNone:
		return c, nil
	}
	return "", Errorf(ErrInvalidParameter, "compression %q is not one of zstd, gzip or none (gzip is what DynamoDB's own exports use)", s)
}

// compressionFromTags reads TagCompression.
func compressionFromTags(tags map[string]string) (string, error) {
	v, ok := tags[TagCompression]
	if !ok {
		return "", nil
	}
	c, err := ParseCompression(v)
	if err == nil && c == "" {
		err = Errorf(ErrInvalidParameter, "tag %s is empty", TagCompression)
	}
	if err != nil {
		return "", Errorf(ErrInvalidParameter, "tag %s=%q must be zstd, gzip or none (gzip is what DynamoDB's own exports use)", TagCompression, v)
	}
	return c, nil
}
