package backup

import "testing"

func TestStorageFromTags(t *testing.T) {
	tests := []struct {
		name    string
		tags    map[string]string
		want    VaultStorage
		rest    int
		wantErr bool
	}{
		{"none", map[string]string{"team": "a"}, VaultStorage{}, 1, false},
		{"s3", map[string]string{TagStorage: "s3://my-bucket/vaults/prod/", TagS3Endpoint: "http://127.0.0.1:7070", "x": "y"},
			VaultStorage{Kind: StorageS3, Bucket: "my-bucket", Prefix: "vaults/prod", Endpoint: "http://127.0.0.1:7070"}, 1, false},
		{"s3 endpoint by name", map[string]string{TagStorage: "s3://bkt/p", TagS3Endpoint: "minio-1"},
			VaultStorage{Kind: StorageS3, Bucket: "bkt", Prefix: "p", EndpointName: "minio-1"}, 0, false},
		{"bad endpoint name", map[string]string{TagStorage: "s3://bkt", TagS3Endpoint: "-x y"}, VaultStorage{}, 0, true},
		{"s3 no prefix", map[string]string{TagStorage: "s3://bkt"}, VaultStorage{Kind: StorageS3, Bucket: "bkt"}, 0, false},
		{"file url", map[string]string{TagStorage: "file:///srv/vault/"}, VaultStorage{Kind: StorageFile, Path: "/srv/vault"}, 0, false},
		{"abs path", map[string]string{TagStorage: "/srv/v"}, VaultStorage{Kind: StorageFile, Path: "/srv/v"}, 0, false},
		{"relative path", map[string]string{TagStorage: "srv/v"}, VaultStorage{}, 0, true},
		{"bad bucket", map[string]string{TagStorage: "s3://A_B"}, VaultStorage{}, 0, true},
		{"dotdot prefix", map[string]string{TagStorage: "s3://bkt/a/../b"}, VaultStorage{}, 0, true},
		{"endpoint without storage", map[string]string{TagS3Endpoint: "http://x"}, VaultStorage{}, 0, true},
		{"endpoint on file", map[string]string{TagStorage: "/a", TagS3Endpoint: "http://x"}, VaultStorage{}, 0, true},
		{"bad endpoint", map[string]string{TagStorage: "s3://bkt", TagS3Endpoint: "ftp://x"}, VaultStorage{}, 0, true},
		{"cold path", map[string]string{TagStorage: "/srv/v", TagColdPath: "file:///mnt/cold/v", "x": "y"},
			VaultStorage{Kind: StorageFile, Path: "/srv/v", ColdPath: "/mnt/cold/v"}, 1, false},
		{"cold path, default storage", map[string]string{TagColdPath: "/mnt/cold"}, VaultStorage{ColdPath: "/mnt/cold"}, 0, false},
		{"cold class", map[string]string{TagStorage: "s3://bkt", TagColdStorageClass: "glacier_ir"},
			VaultStorage{Kind: StorageS3, Bucket: "bkt", ColdStorageClass: "GLACIER_IR"}, 0, false},
		{"cold path relative", map[string]string{TagColdPath: "cold"}, VaultStorage{}, 0, true},
		{"cold path on s3", map[string]string{TagStorage: "s3://bkt", TagColdPath: "/cold"}, VaultStorage{}, 0, true},
		{"cold path inside vault", map[string]string{TagStorage: "/srv/v", TagColdPath: "/srv/v/cold"}, VaultStorage{}, 0, true},
		{"vault inside cold path", map[string]string{TagStorage: "/srv/v", TagColdPath: "/srv"}, VaultStorage{}, 0, true},
		{"cold path is the vault", map[string]string{TagStorage: "/srv/v", TagColdPath: "/srv/v/"}, VaultStorage{}, 0, true},
		{"cold class on file", map[string]string{TagStorage: "/srv/v", TagColdStorageClass: "GLACIER"}, VaultStorage{}, 0, true},
		{"compression", map[string]string{TagStorage: "s3://bkt/p", TagCompression: "GZIP", "x": "y"},
			VaultStorage{Kind: StorageS3, Bucket: "bkt", Prefix: "p", Compression: CompressionGzip}, 1, false},
		{"compression, default storage", map[string]string{TagCompression: "none"}, VaultStorage{Compression: CompressionNone}, 0, false},
		{"compression unknown", map[string]string{TagCompression: "lz4"}, VaultStorage{}, 0, true},
		{"compression empty", map[string]string{TagCompression: ""}, VaultStorage{}, 0, true},
		{"cold class, default storage", map[string]string{TagColdStorageClass: "GLACIER"}, VaultStorage{}, 0, true},
		{"cold class STANDARD", map[string]string{TagStorage: "s3://bkt", TagColdStorageClass: "STANDARD"}, VaultStorage{}, 0, true},
		{"cold class unknown", map[string]string{TagStorage: "s3://bkt", TagColdStorageClass: "FROZEN"}, VaultStorage{}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rest, err := StorageFromTags(tt.tags)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if ErrorCode(err) != ErrInvalidParameter {
					t.Fatalf("code = %v", ErrorCode(err))
				}
				return
			}
			if got != tt.want || len(rest) != tt.rest {
				t.Fatalf("got %+v rest %v, want %+v rest %d", got, rest, tt.want, tt.rest)
			}
			if got.Kind != "" {
				again, err := ParseStorage(got.String())
				if err != nil || again.Kind != got.Kind || again.Bucket != got.Bucket || again.Prefix != got.Prefix || again.Path != got.Path {
					t.Fatalf("String round trip: %q -> %+v, %v", got.String(), again, err)
				}
			}
		})
	}
}

func TestColdDefaults(t *testing.T) {
	f := VaultStorage{Kind: StorageFile, Path: "/data/vaults/v"}
	if got := f.ColdDir(); got != "/data/vaults/v.cold" {
		t.Errorf("default ColdDir = %q", got)
	}
	f.ColdPath = "/mnt/cold"
	if got := f.ColdDir(); got != "/mnt/cold" {
		t.Errorf("ColdDir = %q", got)
	}
	s := VaultStorage{Kind: StorageS3, Bucket: "b"}
	if got := s.ColdClass(); got != DefaultColdStorageClass {
		t.Errorf("default ColdClass = %q", got)
	}
	s.ColdStorageClass = "DEEP_ARCHIVE"
	if got := s.ColdClass(); got != "DEEP_ARCHIVE" {
		t.Errorf("ColdClass = %q", got)
	}
	if err := (VaultStorage{Kind: StorageS3, Bucket: "b", ColdStorageClass: "STANDARD"}).ValidateCold(); ErrorCode(err) != ErrInvalidParameter {
		t.Errorf("ValidateCold(STANDARD) = %v", err)
	}
	if err := (VaultStorage{Kind: StorageFile, Path: "/v", ColdPath: "rel"}).ValidateCold(); ErrorCode(err) != ErrInvalidParameter {
		t.Errorf("ValidateCold(relative) = %v", err)
	}
}

func TestARNs(t *testing.T) {
	arn := TableARN("eu-west-1", "123456789012", "orders.v2")
	a, name, err := ParseTableARN(arn)
	if err != nil || name != "orders.v2" || a.Region != "eu-west-1" || a.AccountID != "123456789012" {
		t.Fatalf("ParseTableARN(%q) = %+v %q %v", arn, a, name, err)
	}
	for _, bad := range []string{"", "arn:aws:dynamodb", "arn:aws:s3:::bucket", "arn:aws:dynamodb:r:a:table/", "arn:aws:dynamodb:r:a:table/x", "arn:aws:dynamodb:r:a:table/abc/index/i", "nope:aws:dynamodb:r:a:table/abc"} {
		if _, _, err := ParseTableARN(bad); ErrorCode(err) != ErrInvalidParameter {
			t.Errorf("ParseTableARN(%q) err = %v, want InvalidParameter", bad, err)
		}
	}
	id, err := ParseRecoveryPointARN(RecoveryPointARN("us-east-1", "000000000000", "abc-123"))
	if err != nil || id != "abc-123" {
		t.Fatalf("ParseRecoveryPointARN = %q, %v", id, err)
	}
	if _, err := ParseRecoveryPointARN(VaultARN("us-east-1", "0", "v")); err == nil {
		t.Fatal("vault ARN accepted as recovery point ARN")
	}
}

func TestValidateVaultName(t *testing.T) {
	for _, ok := range []string{"Default", "ab", "a-b_c9"} {
		if err := ValidateVaultName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a", "has space", "dots.no", string(make([]byte, 51))} {
		if err := ValidateVaultName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestLifecycleCalculate(t *testing.T) {
	t0 := mustTime("2026-01-31T05:00:00Z")
	cold, del := Lifecycle{MoveToColdStorageAfterDays: 1, DeleteAfterDays: 30}.Calculate(t0)
	if !cold.Equal(mustTime("2026-02-01T05:00:00Z")) || !del.Equal(mustTime("2026-03-02T05:00:00Z")) {
		t.Fatalf("cold %v delete %v", cold, del)
	}
	if c, d := (Lifecycle{}).Calculate(t0); !c.IsZero() || !d.IsZero() {
		t.Fatal("zero lifecycle gave dates")
	}
}
