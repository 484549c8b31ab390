package backup

import (
	"strings"
	"testing"
)

func TestNormalizeEndpointURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "",
		"http://127.0.0.1:7070":    "http://127.0.0.1:7070",
		"HTTP://Minio.Local:7070/": "http://minio.local:7070",
		"https://s3.example:443":   "https://s3.example",
		"http://s3.example:80/x/":  "http://s3.example/x",
		"http://[::1]:80":          "http://[::1]",
	} {
		if got := NormalizeEndpointURL(in); got != want {
			t.Errorf("NormalizeEndpointURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidEndpointName(t *testing.T) {
	for _, ok := range []string{"a", "minio", "aws-eu.1", "x_y"} {
		if !ValidEndpointName(ok) {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"", "-a", ".a", "a b", "a/b", "http:", strings.Repeat("a", 64)} {
		if ValidEndpointName(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The policy resolves what a client asks for to a configured endpoint, or
// refuses it saying what the operator must configure.
func TestResolveS3(t *testing.T) {
	p := StoragePolicy{Endpoints: []S3Endpoint{
		{Name: "minio", URL: "http://minio.internal:9000", Region: "eu-west-1", PathStyle: true, Buckets: []string{"backups"}},
		{Name: "aws"},
	}}
	tests := []struct {
		name    string
		in      VaultStorage
		want    VaultStorage
		wantErr string
	}{
		{"by name", VaultStorage{Kind: StorageS3, Bucket: "backups", EndpointName: "minio"},
			VaultStorage{Kind: StorageS3, Bucket: "backups", EndpointName: "minio", Endpoint: "http://minio.internal:9000", Region: "eu-west-1", PathStyle: true}, ""},
		{"by equal URL", VaultStorage{Kind: StorageS3, Bucket: "backups", Endpoint: "HTTP://minio.internal:9000/"},
			VaultStorage{Kind: StorageS3, Bucket: "backups", EndpointName: "minio", Endpoint: "http://minio.internal:9000", Region: "eu-west-1", PathStyle: true}, ""},
		{"AWS by name, any bucket, region of the vault", VaultStorage{Kind: StorageS3, Bucket: "any", EndpointName: "aws", Region: "us-west-2"},
			VaultStorage{Kind: StorageS3, Bucket: "any", EndpointName: "aws", Region: "us-west-2"}, ""},
		{"unknown name", VaultStorage{Kind: StorageS3, Bucket: "backups", EndpointName: "evil"}, VaultStorage{}, "storage.s3_endpoints"},
		{"unknown URL", VaultStorage{Kind: StorageS3, Bucket: "backups", Endpoint: "http://169.254.169.254"}, VaultStorage{}, "configured: minio, aws"},
		{"several, none named", VaultStorage{Kind: StorageS3, Bucket: "backups"}, VaultStorage{}, "cairn:s3-endpoint=NAME"},
		{"bucket not allowed", VaultStorage{Kind: StorageS3, Bucket: "other", EndpointName: "minio"}, VaultStorage{}, "allowed: backups"},
		{"region contradicts", VaultStorage{Kind: StorageS3, Bucket: "backups", EndpointName: "minio", Region: "us-east-1"}, VaultStorage{}, "contradicts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.ResolveS3(tt.in)
			if tt.wantErr != "" {
				if ErrorCode(err) != ErrInvalidParameter || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want InvalidParameter with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	one := StoragePolicy{Endpoints: p.Endpoints[:1]}
	if got, err := one.ResolveS3(VaultStorage{Kind: StorageS3, Bucket: "backups"}); err != nil || got.EndpointName != "minio" {
		t.Errorf("the only endpoint: %+v, %v", got, err)
	}
	if _, err := (StoragePolicy{}).ResolveS3(VaultStorage{Kind: StorageS3, Bucket: "backups"}); err == nil || !strings.Contains(err.Error(), "allows no S3 storage") {
		t.Errorf("no endpoints: %v", err)
	}
}

func TestLocationOverlaps(t *testing.T) {
	dir := func(p string) Location { return Location{Path: p} }
	s3 := func(ep, b, p string) Location { return Location{Endpoint: ep, Bucket: b, Prefix: p} }
	tests := []struct {
		a, b Location
		want bool
	}{
		{dir("/srv/a"), dir("/srv/a"), true},
		{dir("/srv/a"), dir("/srv/a/b"), true},
		{dir("/srv/a/b"), dir("/srv/a"), true},
		{dir("/"), dir("/srv/a"), true},
		{dir("/srv/a"), dir("/srv/ab"), false},
		{dir("/srv/a"), dir("/srv/a.cold"), false},
		{s3("", "b", "team"), s3("", "b", "team"), true},
		{s3("", "b", "team"), s3("", "b", "team/x"), true},
		{s3("", "b", ""), s3("", "b", "team/x"), true},
		{s3("", "b", "team"), s3("", "b", "teamx"), false},
		{s3("", "b", "team"), s3("", "c", "team"), false},
		{s3("http://m:9000", "b", "team"), s3("", "b", "team"), false},
		{s3("", "b", "team"), dir("/team"), false},
	}
	for _, tt := range tests {
		if got := tt.a.Overlaps(tt.b); got != tt.want {
			t.Errorf("%s overlaps %s = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := tt.b.Overlaps(tt.a); got != tt.want {
			t.Errorf("%s overlaps %s = %v, want %v (reversed)", tt.b, tt.a, got, tt.want)
		}
	}
	err := OverlapError(Location{Vault: "evil", Role: "cold directory", Path: "/d/vaults/Default"},
		Location{Vault: "Default", Role: "directory", Path: "/d/vaults/Default"})
	if ErrorCode(err) != ErrInvalidParameter || !strings.Contains(err.Error(), "vault Default") || !strings.Contains(err.Error(), "cold directory /d/vaults/Default of vault evil") {
		t.Errorf("OverlapError: %v", err)
	}
}
