// Package s3 is a blob.Store in an S3-compatible bucket, under an optional
// key prefix, through aws-sdk-go-v2.
//
// Put streams objects of unknown length with bounded memory: an object that
// fits in one part goes up in a single PutObject; a larger one in a
// multipart upload holding at most Concurrency+1 parts in memory, aborted if
// anything fails, so a partial object never becomes visible. PutReceipt
// reports the ETag the server returned, which for a multipart object is not
// its MD5; the store computes the MD5 itself as the bytes pass.
package s3

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-backup/cairn/internal/blob"
)

// Defaults for Config.
const (
	DefaultPartSize    = 8 << 20
	DefaultConcurrency = 1
	// MinPartSize is S3's smallest multipart part (except the last).
	MinPartSize = 5 << 20
	maxParts    = 10000
)

// Config says where the store lives and how to reach it.
type Config struct {
	// Bucket is required.
	Bucket string
	// Prefix is prepended to every key; a trailing '/' is added if missing.
	// Empty means the bucket root.
	Prefix string
	// Endpoint is the base URL of an S3-compatible server; empty means AWS
	// (or AWS_ENDPOINT_URL_S3 through the SDK's default configuration).
	Endpoint string
	// Region defaults to the SDK's default chain, then us-east-1.
	Region string
	// PathStyle selects path-style addressing (bucket in the path), which
	// most self-hosted servers need.
	PathStyle bool
	// AccessKey and SecretKey are static credentials; if empty, the SDK's
	// default credential chain is used.
	AccessKey string
	SecretKey string
	// PartSize is the multipart part size, at least MinPartSize; default
	// DefaultPartSize. Objects up to PartSize go up in one PutObject.
	PartSize int64
	// Concurrency is the number of parts of one Put uploaded at once;
	// default 1. A Put buffers at most Concurrency+1 parts.
	Concurrency int
}

// Validate reports the first field at fault.
func (c Config) Validate() error {
	switch {
	case c.Bucket == "":
		return errors.New("s3: Config.Bucket is required")
	case c.PartSize != 0 && c.PartSize < MinPartSize:
		return fmt.Errorf("s3: Config.PartSize %d is below the minimum %d", c.PartSize, MinPartSize)
	case c.Concurrency < 0:
		return fmt.Errorf("s3: Config.Concurrency %d is negative", c.Concurrency)
	case (c.AccessKey == "") != (c.SecretKey == ""):
		return errors.New("s3: Config.AccessKey and Config.SecretKey must be set together")
	case c.Prefix != "" && !blob.ValidKey(strings.TrimSuffix(c.Prefix, "/")):
		return fmt.Errorf("s3: Config.Prefix %q is not a valid key prefix", c.Prefix)
	}
	return nil
}

// Client is the part of *s3.Client the store uses.
type Client interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	CreateBucket(context.Context, *s3.CreateBucketInput, ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
}

// Store is a blob.Store in an S3 bucket.
type Store struct {
	client      Client
	bucket      string
	prefix      string
	region      string
	partSize    int64
	concurrency int
	bufs        sync.Pool // *[]byte of partSize
}

var (
	_ blob.Store         = (*Store)(nil)
	_ blob.ClassSetter   = (*Store)(nil)
	_ blob.ReceiptPutter = (*Store)(nil)
	_ blob.Locator       = (*Store)(nil)
)

// New builds an SDK client from cfg and returns the store. It does not
// contact the server.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var loadOpts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKey != "" {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("s3: load AWS config: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	})
	cfg.Region = awsCfg.Region
	return NewWithClient(client, cfg)
}

// NewWithClient returns a store using client; cfg's connection fields
// (Endpoint, PathStyle, credentials) are ignored.
func NewWithClient(client Client, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Store{
		client:      client,
		bucket:      cfg.Bucket,
		prefix:      cfg.Prefix,
		region:      cfg.Region,
		partSize:    cfg.PartSize,
		concurrency: cfg.Concurrency,
	}
	if s.prefix != "" && !strings.HasSuffix(s.prefix, "/") {
		s.prefix += "/"
	}
	if s.partSize == 0 {
		s.partSize = DefaultPartSize
	}
	if s.concurrency == 0 {
		s.concurrency = DefaultConcurrency
	}
	s.bufs.New = func() any { b := make([]byte, s.partSize); return &b }
	return s, nil
}

// EnsureBucket creates the bucket if it does not exist.
func (s *Store) EnsureBucket(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket})
	if err == nil {
		return nil
	}
	if !isNotFound(err) {
		return fmt.Errorf("s3: head bucket %s: %w", s.bucket, err)
	}
	in := &s3.CreateBucketInput{Bucket: &s.bucket}
	if s.region != "" && s.region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(s.region),
		}
	}
	_, err = s.client.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("s3: create bucket %s: %w", s.bucket, err)
	}
	return nil
}

func (s *Store) key(key string) (string, error) {
	if err := blob.CheckKey(key); err != nil {
		return "", err
	}
	return s.prefix + key, nil
}

// Location implements blob.Locator: the bucket and the prefix before
// every key.
func (s *Store) Location() blob.Location {
	return blob.Location{Bucket: s.bucket, Prefix: strings.TrimSuffix(s.prefix, "/")}
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) error {
	_, err := s.PutReceipt(ctx, key, r)
	return err
}

// PutReceipt implements blob.ReceiptPutter: the ETag is the one the server
// returned for the PutObject or CompleteMultipartUpload.
func (s *Store) PutReceipt(ctx context.Context, key string, r io.Reader) (blob.Receipt, error) {
	k, err := s.key(key)
	if err != nil {
		return blob.Receipt{}, err
	}
	if err := ctx.Err(); err != nil {
		return blob.Receipt{}, fmt.Errorf("s3: put %s: %w", key, err)
	}
	h := blob.NewHashingReader(r)
	bp := s.bufs.Get().(*[]byte)
	n, err := io.ReadFull(h, *bp)
	var rest io.Reader = h
	if err == nil {
		// A full part: one more byte tells an object of exactly one part,
		// which goes up in one PutObject too, from a larger one.
		var one [1]byte
		m, rerr := io.ReadFull(h, one[:])
		switch rerr {
		case io.EOF:
			err = io.ErrUnexpectedEOF
		case nil:
			rest = io.MultiReader(bytes.NewReader(one[:m]), h)
		default:
			err = rerr
		}
	}
	var etag string
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		defer s.bufs.Put(bp)
		if err := ctx.Err(); err != nil {
			return blob.Receipt{}, fmt.Errorf("s3: put %s: %w", key, err)
		}
		out, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        &s.bucket,
			Key:           &k,
			Body:          bytes.NewReader((*bp)[:n]),
			ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			return blob.Receipt{}, fmt.Errorf("s3: put %s: %w", key, err)
		}
		etag = aws.ToString(out.ETag)
	case err != nil:
		s.bufs.Put(bp)
		return blob.Receipt{}, fmt.Errorf("s3: put %s: %w", key, err)
	default:
		if etag, err = s.multipart(ctx, k, bp, rest); err != nil {
			return blob.Receipt{}, fmt.Errorf("s3: put %s: %w", key, err)
		}
	}
	rc := h.Receipt()
	if etag = blob.CleanETag(etag); etag == "" {
		return blob.Receipt{}, fmt.Errorf("s3: put %s: the server returned no ETag", key)
	}
	rc.ETag = etag
	return rc, nil
}

// multipart uploads first (a full part) and the rest of r, and returns the
// object's ETag. It takes over bp.
func (s *Store) multipart(ctx context.Context, k string, bp *[]byte, r io.Reader) (etag string, err error) {
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &k})
	if err != nil {
		s.bufs.Put(bp)
		return "", err
	}
	uploadID := created.UploadId
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer func() {
		if err != nil {
			actx, acancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer acancel()
			_, _ = s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
				Bucket: &s.bucket, Key: &k, UploadId: uploadID,
			})
		}
	}()

	var (
		mu    sync.Mutex
		parts []types.CompletedPart
		wg    sync.WaitGroup
		sem   = make(chan struct{}, s.concurrency)
	)
	upload := func(num int32, bp *[]byte, n int) {
		defer wg.Done()
		defer func() { <-sem }()
		defer s.bufs.Put(bp)
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &s.bucket, Key: &k, UploadId: uploadID, PartNumber: aws.Int32(num),
			Body: bytes.NewReader((*bp)[:n]), ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			cancel(fmt.Errorf("upload part %d: %w", num, err))
			return
		}
		mu.Lock()
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag})
		mu.Unlock()
	}
	// wait stops the pipeline and returns the first failure.
	wait := func() error {
		wg.Wait()
		if cause := context.Cause(ctx); cause != nil {
			return cause
		}
		return nil
	}

	num := int32(1)
	n := len(*bp)
	for {
		sem <- struct{}{}
		if ctx.Err() != nil {
			<-sem
			s.bufs.Put(bp)
			return "", wait()
		}
		wg.Add(1)
		go upload(num, bp, n)
		if n < len(*bp) {
			break // that was the last, short part
		}
		if num == maxParts {
			cancel(fmt.Errorf("object exceeds %d parts of %d bytes", maxParts, s.partSize))
			return "", wait()
		}
		num++
		bp = s.bufs.Get().(*[]byte)
		var rerr error
		n, rerr = io.ReadFull(r, *bp)
		if rerr == io.EOF {
			s.bufs.Put(bp)
			break
		}
		if rerr != nil && rerr != io.ErrUnexpectedEOF {
			s.bufs.Put(bp)
			cancel(fmt.Errorf("read: %w", rerr))
			return "", wait()
		}
	}
	if err := wait(); err != nil {
		return "", err
	}
	// Parts finish out of order when Concurrency > 1.
	for i := 1; i < len(parts); i++ {
		for j := i; j > 0 && *parts[j].PartNumber < *parts[j-1].PartNumber; j-- {
			parts[j], parts[j-1] = parts[j-1], parts[j]
		}
	}
	out, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: &k, UploadId: uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return "", fmt.Errorf("complete multipart upload: %w", err)
	}
	return aws.ToString(out.ETag), nil
}

// Get implements blob.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	k, err := s.key(key)
	if err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &k})
	if err != nil {
		return nil, s.mapErr("get", key, err)
	}
	return out.Body, nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	k, err := s.key(key)
	if err != nil {
		return blob.Info{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &k})
	if err != nil {
		return blob.Info{}, s.mapErr("stat", key, err)
	}
	return blob.Info{Key: key, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

// List implements blob.Store. S3 lists keys in UTF-8 binary order, which is
// blob's lexical order.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: &s.bucket,
		Prefix: aws.String(s.prefix + prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("s3: list %q: %w", prefix, err)
		}
		for _, o := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
			if !blob.ValidKey(key) {
				continue // written by something else; not ours
			}
			if err := fn(blob.Info{Key: key, Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &k}); err != nil && (!isNotFound(err) || isNoSuchBucket(err)) {
		return fmt.Errorf("s3: delete %s: %w", key, err)
	}
	return nil
}

// SetClass implements blob.ClassSetter: it copies the object onto itself
// with the new storage class (CopyObject, so objects up to 5 GiB).
func (s *Store) SetClass(ctx context.Context, key, class string) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	if class == "" {
		return fmt.Errorf("s3: set class of %s: no storage class given", key)
	}
	src := escapeCopySource(s.bucket + "/" + k)
	_, err = s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: &s.bucket, Key: &k, CopySource: &src,
		StorageClass: types.StorageClass(class),
		// An object copied onto itself must change something besides its
		// class for some servers (versitygw); cairn sets no metadata.
		MetadataDirective: types.MetadataDirectiveReplace,
	})
	if err != nil {
		return s.mapErr("set class of", key, err)
	}
	return nil
}

// escapeCopySource percent-encodes every byte of a CopySource but the
// unreserved characters and '/', so no server reads '+' as a space.
func escapeCopySource(p string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// ClassInfo implements blob.ClassSetter.
func (s *Store) ClassInfo(ctx context.Context, key string) (blob.ClassInfo, error) {
	k, err := s.key(key)
	if err != nil {
		return blob.ClassInfo{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &k})
	if err != nil {
		return blob.ClassInfo{}, s.mapErr("stat", key, err)
	}
	ci := blob.ClassInfo{Size: aws.ToInt64(out.ContentLength), Class: string(out.StorageClass)}
	if ci.Class == "" {
		ci.Class = blob.StandardClass // S3 names no class for STANDARD objects
	}
	if etag := strings.Trim(aws.ToString(out.ETag), `"`); len(etag) == 32 {
		if _, err := hex.DecodeString(etag); err == nil {
			ci.MD5 = strings.ToLower(etag) // a multipart ETag has a "-N" suffix
		}
	}
	return ci, nil
}

func (s *Store) mapErr(op, key string, err error) error {
	if isNotFound(err) && !isNoSuchBucket(err) {
		return fmt.Errorf("s3: %s %s: %w", op, key, blob.ErrNotFound)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "InvalidObjectState" {
		return fmt.Errorf("s3: %s %s: %w (%v)", op, key, blob.ErrArchived, err)
	}
	return fmt.Errorf("s3: %s %s: %w", op, key, err)
}

func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchBucket":
			return true
		}
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}

func isNoSuchBucket(err error) bool {
	var nsb *types.NoSuchBucket
	if errors.As(err, &nsb) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket"
}
