package s3_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/blob/blobtest"
	"github.com/cairn-backup/cairn/internal/blob/s3"
	"github.com/cairn-backup/cairn/internal/testbed"
)

var bucketSeq atomic.Int64

// NewVersity returns a store in a fresh bucket of srv, under prefix.
func newVersity(t *testing.T, srv *testbed.S3, prefix string, concurrency int) *s3.Store {
	t.Helper()
	s, err := s3.New(context.Background(), s3.Config{
		Bucket:      fmt.Sprintf("cairn-test-%d", bucketSeq.Add(1)),
		Prefix:      prefix,
		Endpoint:    srv.Endpoint,
		Region:      "us-east-1",
		PathStyle:   true,
		AccessKey:   srv.AccessKey,
		SecretKey:   srv.SecretKey,
		PartSize:    s3.MinPartSize,
		Concurrency: concurrency,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(context.Background()); err != nil {
		t.Fatalf("EnsureBucket on an existing bucket: %v", err)
	}
	return s
}

func TestConformanceVersity(t *testing.T) {
	srv := testbed.Versity(t)
	opts := blobtest.Options{PartSize: s3.MinPartSize, ETag: headETag(srv)}
	t.Run("root", func(t *testing.T) {
		blobtest.RunOptions(t, func(t *testing.T) blob.Store { return newVersity(t, srv, "", 0) }, opts)
	})
	t.Run("prefix", func(t *testing.T) {
		blobtest.RunOptions(t, func(t *testing.T) blob.Store { return newVersity(t, srv, "vaults/v1", 0) }, opts)
	})
	t.Run("concurrent-parts", func(t *testing.T) {
		blobtest.RunOptions(t, func(t *testing.T) blob.Store { return newVersity(t, srv, "", 3) }, opts)
	})
}

// headETag returns the ETag a client of srv sees for a key of an s3.Store,
// by its bucket and full key (blob.Locator): what a reader following a
// manifest does.
func headETag(srv *testbed.S3) func(t *testing.T, s blob.Store, key string) string {
	client := sdks3.New(sdks3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, "")})
	return func(t *testing.T, s blob.Store, key string) string {
		t.Helper()
		loc := blob.LocationOf(s)
		out, err := client.HeadObject(context.Background(), &sdks3.HeadObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(loc.Key(key))})
		if err != nil {
			t.Fatalf("HEAD s3://%s/%s: %v", loc.Bucket, loc.Key(key), err)
		}
		return blob.CleanETag(aws.ToString(out.ETag))
	}
}

// versitygw accepts storage classes and ignores them: every object stays
// STANDARD.
func TestClassesVersity(t *testing.T) {
	srv := testbed.Versity(t)
	blobtest.RunClasses(t, func(t *testing.T) blob.Store { return newVersity(t, srv, "vaults/v1", 0) },
		blobtest.ClassOptions{Ignored: true})
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []s3.Config{
		{},
		{Bucket: "b", PartSize: 1 << 20},
		{Bucket: "b", Concurrency: -1},
		{Bucket: "b", AccessKey: "a"},
		{Bucket: "b", Prefix: "/abs"},
		{Bucket: "b", Prefix: "a//b"},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", c)
		}
	}
	if err := (s3.Config{Bucket: "b", Prefix: "p/q/"}).Validate(); err != nil {
		t.Error(err)
	}
}
