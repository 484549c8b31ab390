package backup

import (
	"net/url"
	"path/filepath"
	"slices"
	"strings"
)

// Reserved vault tags. CreateBackupVault has no field for where a vault keeps
// its bytes, so cairn reads it from these tags (which the AWS CLI can send)
// and does not store them as ordinary tags.
const (
	// TagStorage is "s3://BUCKET/PREFIX" or "file:///ABSOLUTE/PATH" (or a bare
	// absolute path). Absent means a directory under the server's data dir.
	TagStorage = "cairn:storage"
	// TagS3Endpoint names one of the S3 endpoints the server's operator
	// configured (StoragePolicy.Endpoints), by its name or by its exact
	// URL; absent means the only configured endpoint. Region, addressing
	// style and credentials come from the configuration, never from the
	// request.
	TagS3Endpoint = "cairn:s3-endpoint"
	// TagS3Region is the bucket's region for an endpoint whose
	// configuration names none; absent means the server's region.
	TagS3Region = "cairn:s3-region"
	// TagColdPath is the directory (an absolute path or "file:///PATH") a
	// file vault moves recovery points to when their lifecycle sends them
	// to cold storage; absent means the vault's directory + ".cold".
	TagColdPath = "cairn:cold-path"
	// TagColdStorageClass is the S3 storage class an S3 vault rewrites a
	// recovery point's data files to when it goes to cold storage; absent
	// means DefaultColdStorageClass.
	TagColdStorageClass = "cairn:cold-storage-class"
)

// DefaultColdStorageClass is the storage class of an S3 vault's cold
// recovery points unless the vault names another.
const DefaultColdStorageClass = "GLACIER"

// ColdStorageClasses are the S3 storage classes a vault may name for its
// cold recovery points: the infrequent-access and archive classes.
var ColdStorageClasses = []string{"STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"}

func isReservedTag(k string) bool { return slices.Contains(ReservedVaultTags(), k) }

// StorageFromTags splits the reserved storage tags off tags and returns the
// storage they describe (zero if none) and the remaining tags. Without
// cairn:storage the vault is a directory under the server's data dir: the
// result's Kind is empty and only ColdPath and Compression may be set.
func StorageFromTags(tags map[string]string) (VaultStorage, map[string]string, error) {
	rest := make(map[string]string, len(tags))
	for k, v := range tags {
		if !isReservedTag(k) {
			rest[k] = v
		}
	}
	loc, endpoint, region := tags[TagStorage], tags[TagS3Endpoint], tags[TagS3Region]
	cold, err := coldFromTags(tags)
	if err != nil {
		return VaultStorage{}, nil, err
	}
	if cold.Compression, err = compressionFromTags(tags); err != nil {
		return VaultStorage{}, nil, err
	}
	if loc == "" {
		if endpoint != "" || region != "" {
			return VaultStorage{}, nil, Errorf(ErrInvalidParameter, "tag %s needs tag %s=s3://BUCKET/PREFIX as well", TagS3Endpoint, TagStorage)
		}
		if cold.ColdStorageClass != "" {
			return VaultStorage{}, nil, Errorf(ErrInvalidParameter, "tag %s applies only to s3:// storage: add tag %s=s3://BUCKET/PREFIX, or use %s for a vault on local disk", TagColdStorageClass, TagStorage, TagColdPath)
		}
		return cold, rest, nil
	}
	st, err := ParseStorage(loc)
	if err != nil {
		return VaultStorage{}, nil, err
	}
	st.ColdPath, st.ColdStorageClass, st.Compression = cold.ColdPath, cold.ColdStorageClass, cold.Compression
	if err := st.ValidateCold(); err != nil {
		return VaultStorage{}, nil, err
	}
	if st.Kind != StorageS3 && (endpoint != "" || region != "") {
		return VaultStorage{}, nil, Errorf(ErrInvalidParameter, "tags %s and %s apply only to s3:// storage", TagS3Endpoint, TagS3Region)
	}
	switch {
	case endpoint == "":
	case strings.Contains(endpoint, "://"):
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return VaultStorage{}, nil, Errorf(ErrInvalidParameter, "tag %s=%q is neither the name of a configured S3 endpoint nor an http(s) URL", TagS3Endpoint, endpoint)
		}
		st.Endpoint = endpoint
	case ValidEndpointName(endpoint):
		st.EndpointName = endpoint
	default:
		return VaultStorage{}, nil, Errorf(ErrInvalidParameter, "tag %s=%q is neither the name of a configured S3 endpoint nor an http(s) URL", TagS3Endpoint, endpoint)
	}
	st.Region = region
	return st, rest, nil
}

// coldFromTags reads the cold storage tags into a VaultStorage of no kind.
func coldFromTags(tags map[string]string) (VaultStorage, error) {
	var st VaultStorage
	if p, ok := tags[TagColdPath]; ok {
		loc, err := ParseStorage(p)
		if err != nil || loc.Kind != StorageFile {
			return VaultStorage{}, Errorf(ErrInvalidParameter, "tag %s=%q must be an absolute path or file:///PATH", TagColdPath, p)
		}
		st.ColdPath = loc.Path
	}
	if c, ok := tags[TagColdStorageClass]; ok {
		class := strings.ToUpper(strings.TrimSpace(c))
		if !slices.Contains(ColdStorageClasses, class) {
			return VaultStorage{}, Errorf(ErrInvalidParameter, "tag %s=%q is not a cold S3 storage class; use one of %s",
				TagColdStorageClass, c, strings.Join(ColdStorageClasses, ", "))
		}
		st.ColdStorageClass = class
	}
	return st, nil
}

// ValidateCold checks the storage's cold settings against its kind: a cold
// path only for a file vault, outside the vault's own directory; a cold
// storage class only for an S3 vault.
func (s VaultStorage) ValidateCold() error {
	switch s.Kind {
	case StorageFile:
		if s.ColdStorageClass != "" {
			return Errorf(ErrInvalidParameter, "tag %s applies only to s3:// storage; a vault on local disk moves cold points to a directory (tag %s)", TagColdStorageClass, TagColdPath)
		}
		if s.ColdPath == "" {
			return nil
		}
		if !filepath.IsAbs(s.ColdPath) {
			return Errorf(ErrInvalidParameter, "cold path %q must be absolute", s.ColdPath)
		}
		if within(s.ColdPath, s.Path) || within(s.Path, s.ColdPath) {
			return Errorf(ErrInvalidParameter, "cold path %s must lie outside the vault's directory %s (and not contain it); choose a sibling directory", s.ColdPath, s.Path)
		}
	case StorageS3:
		if s.ColdPath != "" {
			return Errorf(ErrInvalidParameter, "tag %s applies only to vaults on local disk; an S3 vault keeps cold points in place under another storage class (tag %s)", TagColdPath, TagColdStorageClass)
		}
		if s.ColdStorageClass != "" && !slices.Contains(ColdStorageClasses, s.ColdStorageClass) {
			return Errorf(ErrInvalidParameter, "cold storage class %q is not one of %s", s.ColdStorageClass, strings.Join(ColdStorageClasses, ", "))
		}
	}
	return nil
}

// within reports whether path p is dir or lies under it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// Within reports whether the clean absolute path p is dir or lies under it.
func Within(p, dir string) bool { return within(p, dir) }

// ColdDir returns the directory a file vault's cold recovery points live
// in: ColdPath, or the vault's directory + ".cold".
func (s VaultStorage) ColdDir() string {
	if s.ColdPath != "" {
		return s.ColdPath
	}
	return s.Path + ".cold"
}

// ColdClass returns the S3 storage class of an S3 vault's cold recovery
// points: ColdStorageClass or DefaultColdStorageClass.
func (s VaultStorage) ColdClass() string {
	if s.ColdStorageClass != "" {
		return s.ColdStorageClass
	}
	return DefaultColdStorageClass
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
