package backup

import (
	"net/url"
	"path/filepath"
	"strings"
)

// Reserved vault tags. CreateBackupVault has no field for where a vault keeps
// its bytes, so cairn reads it from these tags (which the AWS CLI can send)
// and does not store them as ordinary tags.
const (
	// TagStorage is "s3://BUCKET/PREFIX" or "file:///ABSOLUTE/PATH" (or a bare
	// absolute path). Absent means a directory under the server's data dir.
	TagStorage = "cairn:storage"
	// TagS3Endpoint is the endpoint of an S3-compatible server
	// ("http://127.0.0.1:7070"); absent means AWS S3. Setting it turns on
	// path-style addressing, which S3-compatible servers expect.
	TagS3Endpoint = "cairn:s3-endpoint"
	// TagS3Region is the bucket's region; absent means the server's region.
	TagS3Region = "cairn:s3-region"
)

// StorageFromTags splits the reserved storage tags off tags and returns the
// storage they describe (zero if none) and the remaining tags.
func StorageFromTags(tags map[string]string) (VaultStorage, map[string]string, error) {
	rest := make(map[string]string, len(tags))
	for k, v := range tags {
		if k != TagStorage && k != TagS3Endpoint && k != TagS3Region {
			rest[k] = v
		}
	}
	loc, endpoint, region := tags[TagStorage], tags[TagS3Endpoint], tags[TagS3Region]
	if loc == "" {
		if endpoint != "" || region != "" {
			return VaultStorage{}, nil, Errorf(ErrInvalidParameter, "tag %s needs tag %s=s3://BUCKET/PREFIX as well", TagS3Endpoint, TagStorage)
		}
		return VaultStorage{}, rest, nil
	}
	st, err := ParseStorage(loc)
	if err != nil {
		return VaultStorage{}, nil, err
	}
	if st.Kind != StorageS3 && (endpoint != "" || region != "") {
		return VaultStorage{}, nil, Errorf(ErrInvalidParameter, "tags %s and %s apply only to s3:// storage", TagS3Endpoint, TagS3Region)
	}
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return VaultStorage{}, nil, Errorf(ErrInvalidParameter, "tag %s=%q is not an http(s) URL", TagS3Endpoint, endpoint)
		}
		st.Endpoint, st.PathStyle = endpoint, true
	}
	st.Region = region
	return st, rest, nil
}

// ParseStorage parses "s3://BUCKET[/PREFIX]", "file:///PATH" or an absolute
// path.
func ParseStorage(loc string) (VaultStorage, error) {
	switch {
	case strings.HasPrefix(loc, "s3://"):
		rest := strings.TrimPrefix(loc, "s3://")
		bucket, prefix, _ := strings.Cut(rest, "/")
		if !validBucket(bucket) {
			return VaultStorage{}, Errorf(ErrInvalidParameter, "%q: bucket name %q is not valid (3-63 lowercase letters, digits, '.' and '-')", loc, bucket)
		}
		prefix = strings.Trim(prefix, "/")
		if strings.Contains(prefix, "//") || strings.Contains(prefix, "..") {
			return VaultStorage{}, Errorf(ErrInvalidParameter, "%q: prefix must not contain '//' or '..'", loc)
		}
		return VaultStorage{Kind: StorageS3, Bucket: bucket, Prefix: prefix}, nil
	case strings.HasPrefix(loc, "file://"):
		return ParseStorage(strings.TrimPrefix(loc, "file://"))
	case filepath.IsAbs(loc):
		return VaultStorage{Kind: StorageFile, Path: filepath.Clean(loc)}, nil
	}
	return VaultStorage{}, Errorf(ErrInvalidParameter, "vault storage %q must be s3://BUCKET/PREFIX, file:///PATH or an absolute path", loc)
}

// String returns the storage as ParseStorage reads it.
func (s VaultStorage) String() string {
	switch s.Kind {
	case StorageS3:
		if s.Prefix == "" {
			return "s3://" + s.Bucket
		}
		return "s3://" + s.Bucket + "/" + s.Prefix
	case StorageFile:
		return "file://" + s.Path
	}
	return ""
}

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for _, r := range b {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
