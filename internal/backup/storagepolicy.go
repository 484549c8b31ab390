package backup

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// StoragePolicy is where the server's operator lets vaults keep their data.
// It comes from the server's configuration, never from an API request: a
// client chooses among the places it names, and is refused anything else.
// The data dir's own vaults/ directory is always allowed; the runner adds
// it.
type StoragePolicy struct {
	// AllowedPaths are clean absolute directories. A file vault's
	// directory and cold directory must be one of them or lie under one,
	// both as written and with symbolic links followed.
	AllowedPaths []string
	// Endpoints are the S3 servers vaults may be kept on.
	Endpoints []S3Endpoint
}

// S3Endpoint is an S3 server the operator allows vaults on. Its
// credentials are not part of it: they stay with the code that opens
// stores, and are only ever sent to URL.
type S3Endpoint struct {
	// Name is how clients choose it (tag cairn:s3-endpoint).
	Name string
	// URL is the server's base URL; empty means AWS S3 itself.
	URL string
	// Region is the buckets' region; empty lets a vault name one
	// (cairn:s3-region), else the server's region.
	Region string
	// PathStyle selects path-style addressing, which most S3-compatible
	// servers expect.
	PathStyle bool
	// Buckets, if not empty, are the only buckets vaults may use.
	Buckets []string
}

// ValidEndpointName reports whether name can name an S3 endpoint: 1 to 63
// letters, digits, '.', '_' and '-', starting with a letter or digit.
func ValidEndpointName(name string) bool {
	if name == "" || len(name) > 63 {
		return false
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !ok && (i == 0 || r != '.' && r != '_' && r != '-') {
			return false
		}
	}
	return true
}

// NormalizeEndpointURL returns an S3 endpoint URL in the form two URLs
// of one server compare equal in: scheme and host in lower case, the
// scheme's default port dropped, no trailing slash. It returns "" for ""
// (AWS S3).
func NormalizeEndpointURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return strings.TrimRight(raw, "/")
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if port := u.Port(); scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		host = strings.ToLower(u.Hostname())
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	return scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/")
}

// Endpoint returns the configured endpoint a vault's storage names: by
// EndpointName, else by Endpoint's URL; ok is false if none matches.
func (p StoragePolicy) Endpoint(st VaultStorage) (S3Endpoint, bool) {
	for _, e := range p.Endpoints {
		if st.EndpointName != "" && e.Name == st.EndpointName {
			return e, true
		}
	}
	if st.EndpointName != "" {
		return S3Endpoint{}, false
	}
	want := NormalizeEndpointURL(st.Endpoint)
	for _, e := range p.Endpoints {
		if NormalizeEndpointURL(e.URL) == want {
			return e, true
		}
	}
	return S3Endpoint{}, false
}

func (p StoragePolicy) endpointNames() string {
	if len(p.Endpoints) == 0 {
		return "none"
	}
	names := make([]string, len(p.Endpoints))
	for i, e := range p.Endpoints {
		names[i] = e.Name
	}
	return strings.Join(names, ", ")
}

// ResolveS3 checks an S3 vault's storage, as a client asked for it, against
// the policy, and returns it completed from the configured endpoint: the
// endpoint's name, URL, addressing style and region. Without an endpoint
// name or URL, the only configured endpoint is used. Anything the operator
// did not configure is refused with ErrInvalidParameter, saying what the
// operator must add.
func (p StoragePolicy) ResolveS3(st VaultStorage) (VaultStorage, error) {
	var e S3Endpoint
	switch {
	case st.EndpointName != "" || st.Endpoint != "":
		var ok bool
		if e, ok = p.Endpoint(st); !ok {
			asked := st.EndpointName
			if asked == "" {
				asked = st.Endpoint
			}
			return VaultStorage{}, Errorf(ErrInvalidParameter,
				"S3 endpoint %q is not one the server allows; set tag %s to the name of a configured endpoint (configured: %s), "+
					"or ask the server's operator to add it under storage.s3_endpoints in cairn's config file", asked, TagS3Endpoint, p.endpointNames())
		}
	case len(p.Endpoints) == 1:
		e = p.Endpoints[0]
	case len(p.Endpoints) == 0:
		return VaultStorage{}, Errorf(ErrInvalidParameter,
			"this server allows no S3 storage; its operator must configure an endpoint under storage.s3_endpoints in cairn's config file")
	default:
		return VaultStorage{}, Errorf(ErrInvalidParameter,
			"this server allows several S3 endpoints; choose one with tag %s=NAME (configured: %s)", TagS3Endpoint, p.endpointNames())
	}
	if len(e.Buckets) > 0 && !slices.Contains(e.Buckets, st.Bucket) {
		return VaultStorage{}, Errorf(ErrInvalidParameter,
			"bucket %q is not allowed on S3 endpoint %s (allowed: %s); use one of those, or ask the server's operator to add it to that endpoint's buckets in cairn's config file",
			st.Bucket, e.Name, strings.Join(e.Buckets, ", "))
	}
	if e.Region != "" && st.Region != "" && st.Region != e.Region {
		return VaultStorage{}, Errorf(ErrInvalidParameter,
			"tag %s=%s contradicts the region %s configured for S3 endpoint %s; leave the tag out", TagS3Region, st.Region, e.Region, e.Name)
	}
	st.EndpointName, st.Endpoint, st.PathStyle = e.Name, e.URL, e.PathStyle
	if e.Region != "" {
		st.Region = e.Region
	}
	return st, nil
}

// A Location is one place a vault keeps data: a directory (its own or its
// cold directory) or an S3 bucket prefix. Two vaults must never share one.
type Location struct {
	// Vault is the vault's name; Role says which of its locations this is
	// ("directory", "cold directory", "S3 prefix").
	Vault string
	Role  string
	// Path is a directory, clean, absolute and with symbolic links
	// followed as far as it exists.
	Path string
	// Endpoint (NormalizeEndpointURL; "" for AWS S3), Bucket and Prefix
	// place an S3 location.
	Endpoint, Bucket, Prefix string
}

func (l Location) String() string {
	if l.Path != "" {
		return l.Path
	}
	s := "s3://" + l.Bucket
	if l.Prefix != "" {
		s += "/" + l.Prefix
	}
	if l.Endpoint != "" {
		s += " at " + l.Endpoint
	}
	return s
}

// Overlaps reports whether a and b share data: the same directory or one
// inside the other; the same S3 server and bucket with equal or nested
// prefixes (an empty prefix holds the whole bucket).
func (a Location) Overlaps(b Location) bool {
	switch {
	case a.Path != "" && b.Path != "":
		return within(a.Path, b.Path) || within(b.Path, a.Path)
	case a.Path == "" && b.Path == "":
		return a.Endpoint == b.Endpoint && a.Bucket == b.Bucket && (prefixWithin(a.Prefix, b.Prefix) || prefixWithin(b.Prefix, a.Prefix))
	}
	return false
}

// prefixWithin reports whether key prefix p is dir or lies under it, whole
// segments only ("a/bc" is not under "a/b").
func prefixWithin(p, dir string) bool {
	return dir == "" || p == dir || strings.HasPrefix(p, dir+"/")
}

// OverlapError is the error CreateVault returns for a location that
// overlaps another vault's (or the server's own data).
func OverlapError(l, other Location) error {
	what := fmt.Sprintf("the %s of vault %s (%s)", other.Role, other.Vault, other)
	if other.Vault == "" {
		what = fmt.Sprintf("%s (%s)", other.Role, other)
	}
	return &Error{Code: ErrInvalidParameter, Type: "BackupVault", Context: l.Vault,
		Message: fmt.Sprintf("the %s %s of vault %s overlaps %s: two vaults never share storage, and no vault may hold or sit inside cairn's own files; choose a separate location",
			l.Role, l, l.Vault, what)}
}
