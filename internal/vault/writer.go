package vault

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-backup/cairn/internal/blob"
)

// DefaultMaxFileBytes is the default WriterOptions.MaxFileBytes.
const DefaultMaxFileBytes = 128 << 20

// WriterOptions tunes how a point is written.
type WriterOptions struct {
	// Compression of data files; default Zstd.
	Compression Compression
	// Level is the compression level in the compressor's own scale (zstd
	// 1-22, gzip 1-9); 0 means the fastest (zstd SpeedFastest, gzip
	// BestSpeed).
	Level int
	// MaxFileBytes starts a new data file once a file holds this many
	// uncompressed bytes; default DefaultMaxFileBytes.
	MaxFileBytes int64
	// ZstdNoEntropy makes zstd store literals as they are instead of
	// Huffman-coding them (zstd.WithNoEntropyCompression): less CPU per
	// byte where literals dominate, bigger files. The files stay standard
	// zstd. docs/benchmarks.md (target 3) measures both: with random
	// payloads about 1.2x the MB per CPU-second for files a third bigger
	// (90 % of the JSON instead of 68 %); with order-like items the files
	// are a fifth bigger. Off by default; ignored by gzip and none.
	ZstdNoEntropy bool
	// Started is the content of the point's _started marker, written before
	// anything else: who is writing the point (cairn records the vault and
	// the point's ID, the proof a later sweep checks before it deletes an
	// incomplete point). Empty by default.
	Started []byte
}

func (o *WriterOptions) encoderKey() encoderKey {
	return encoderKey{c: o.Compression, level: o.Level, noEntropy: o.ZstdNoEntropy && o.Compression == Zstd}
}

func (o *WriterOptions) setDefaults() error {
	if o.Compression == "" {
		o.Compression = Zstd
	}
	if _, err := compressionExt(o.Compression); err != nil {
		return fmt.Errorf("vault: WriterOptions.Compression: %w", err)
	}
	if o.MaxFileBytes == 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxFileBytes < 0 {
		return fmt.Errorf("vault: WriterOptions.MaxFileBytes %d is negative", o.MaxFileBytes)
	}
	e, err := getEncoder(o.encoderKey())
	if err != nil {
		return fmt.Errorf("vault: WriterOptions.Level %d: %w", o.Level, err)
	}
	putEncoder(o.encoderKey(), e)
	return nil
}

type writerState int

const (
	writing writerState = iota
	committing
	committed
	aborted
)

// Writer writes one recovery point. Its methods are safe for concurrent
// use; each FileWriter it hands out belongs to one goroutine.
type Writer struct {
	v    *Vault
	id   string
	opts WriterOptions

	// ctx governs every upload; Abort cancels it.
	ctx     context.Context
	cancel  context.CancelCauseFunc
	uploads sync.WaitGroup

	mu     sync.Mutex
	state  writerState
	open   int
	failed error
	files  []FileEntry

	items, bytesIn, bytesStored atomic.Int64
	// stopped is set by Abort so FileWriters fail at once, even when their
	// compressor would still buffer the item.
	stopped atomic.Bool
}

// Create starts writing point id. It fails with ErrExists if anything is
// stored under the point's prefix already (Delete it first). ctx governs
// the whole write, not only this call: cancelling it fails every upload.
func (v *Vault) Create(ctx context.Context, id string, opts WriterOptions) (*Writer, error) {
	if err := checkPointID(id); err != nil {
		return nil, err
	}
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	errFound := errors.New("found")
	err := v.store.List(ctx, PointPrefix(id), func(blob.Info) error { return errFound })
	if err == errFound {
		return nil, fmt.Errorf("%w: %s", ErrExists, id)
	}
	if err != nil {
		return nil, fmt.Errorf("vault: create %s: %w", id, err)
	}
	if err := v.store.Put(ctx, StartedKey(id), bytes.NewReader(opts.Started)); err != nil {
		return nil, fmt.Errorf("vault: create %s: %w", id, err)
	}
	w := &Writer{v: v, id: id, opts: opts}
	w.ctx, w.cancel = context.WithCancelCause(ctx)
	return w, nil
}

// ID returns the point's ID.
func (w *Writer) ID() string { return w.id }

// ItemsWritten returns the number of items written so far. FileWriters
// report their items in batches (see countBatch), and all of them when
// they close.
func (w *Writer) ItemsWritten() int64 { return w.items.Load() }

// BytesIn returns the uncompressed DYNAMODB_JSON bytes written so far,
// counted as ItemsWritten is.
func (w *Writer) BytesIn() int64 { return w.bytesIn.Load() }

// BytesStored returns the compressed bytes handed to the store so far.
func (w *Writer) BytesStored() int64 { return w.bytesStored.Load() }

// NewFile returns a FileWriter for the calling goroutine. If the Writer is
// no longer writing, the FileWriter's methods fail with ErrClosed.
func (w *Writer) NewFile() *FileWriter {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state != writing {
		return &FileWriter{w: w, err: ErrClosed, closed: true}
	}
	w.open++
	return &FileWriter{w: w}
}

// fail records the first failure; Commit then refuses.
func (w *Writer) fail(err error) {
	w.mu.Lock()
	if w.failed == nil {
		w.failed = err
	}
	w.mu.Unlock()
}

// CommitInfo is what Commit records about the point.
type CommitInfo struct {
	TableARN string
	TableID  string
	// ExportARN defaults to TableARN + "/export/" + the point's ID.
	ExportARN string
	// StartTime and EndTime bound the backup job.
	StartTime, EndTime time.Time
	// ScanStartTime and ScanEndTime bound the Scan that read the items:
	// the point is no snapshot, each item is as it was at some moment
	// between them (CairnSummary.Consistency). The summary's exportTime is
	// ScanStartTime. Zero means StartTime and EndTime.
	ScanStartTime, ScanEndTime time.Time
	// ExpectedItemCount, if set, must equal the number of items written.
	ExpectedItemCount *int64
	// Metadata is cairn's own metadata (the table description etc.),
	// stored as is in cairn-metadata.json; nil is stored as null.
	Metadata json.RawMessage
	// ContentChecksum is cairn's checksum of the point's content.
	ContentChecksum string
}

// Manifest is what a committed point's manifests say.
type Manifest struct {
	Summary Summary
	Files   []FileEntry
}

// Commit finishes the point: it writes manifest-files.json,
// cairn-metadata.json and, last, manifest-summary.json. A point without
// items gets one empty data file, as DynamoDB's export of an empty table
// has. It fails if a FileWriter is still open or any failed; after a
// failed Commit, Abort.
func (w *Writer) Commit(ctx context.Context, info CommitInfo) (*Manifest, error) {
	w.mu.Lock()
	empty := w.state == writing && w.open == 0 && w.failed == nil && len(w.files) == 0
	w.mu.Unlock()
	if empty {
		fw := w.NewFile()
		if err := fw.rotate(); err != nil { // starts a data file with no items
			fw.setErr(err)
		}
		fw.Close() // an error fails the point, below
	}
	w.mu.Lock()
	switch {
	case w.state != writing:
		w.mu.Unlock()
		return nil, fmt.Errorf("vault: commit %s: %w", w.id, ErrClosed)
	case w.open > 0:
		n := w.open
		w.mu.Unlock()
		return nil, fmt.Errorf("vault: commit %s: %w (%d)", w.id, ErrFilesOpen, n)
	case w.failed != nil:
		err := w.failed
		w.mu.Unlock()
		return nil, fmt.Errorf("vault: commit %s: a data file failed: %w", w.id, err)
	}
	w.state = committing
	files := append([]FileEntry(nil), w.files...)
	w.mu.Unlock()

	m, err := w.commit(ctx, info, files)
	w.mu.Lock()
	if err != nil {
		w.state = writing // so that Abort may clean up
		if w.failed == nil {
			w.failed = err
		}
	} else {
		w.state = committed
	}
	w.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("vault: commit %s: %w", w.id, err)
	}
	w.cancel(nil)
	return m, nil
}

func (w *Writer) commit(ctx context.Context, info CommitInfo, files []FileEntry) (*Manifest, error) {
	sort.Slice(files, func(i, j int) bool { return files[i].DataFileS3Key < files[j].DataFileS3Key })
	var items, raw, stored int64
	var manifest bytes.Buffer
	for _, fe := range files {
		items += fe.ItemCount
		raw += fe.UncompressedSize
		stored += fe.Size
		line, err := json.Marshal(fe)
		if err != nil {
			return nil, err
		}
		manifest.Write(line)
		manifest.WriteByte('\n')
	}
	if info.ExpectedItemCount != nil && *info.ExpectedItemCount != items {
		return nil, fmt.Errorf("%d items written, %d expected", items, *info.ExpectedItemCount)
	}
	meta := info.Metadata
	if meta == nil {
		meta = json.RawMessage("null")
	}
	if !json.Valid(meta) {
		return nil, errors.New("CommitInfo.Metadata is not valid JSON")
	}
	metaFile, err := json.Marshal(metadataFile{
		FormatVersion: FormatVersion, RecoveryPointID: w.id,
		ContentChecksum: info.ContentChecksum, Metadata: meta,
	})
	if err != nil {
		return nil, err
	}
	exportARN := info.ExportARN
	if exportARN == "" && info.TableARN != "" {
		exportARN = info.TableARN + "/export/" + w.id
	}
	scanStart, scanEnd := info.ScanStartTime, info.ScanEndTime
	if scanStart.IsZero() {
		scanStart = info.StartTime
	}
	if scanEnd.IsZero() {
		scanEnd = info.EndTime
	}
	s := Summary{
		Version:         SummaryVersion,
		ExportARN:       exportARN,
		StartTime:       Timestamp{info.StartTime},
		EndTime:         Timestamp{info.EndTime},
		TableARN:        info.TableARN,
		TableID:         info.TableID,
		ExportTime:      Timestamp{scanStart},
		BilledSizeBytes: raw,
		ItemCount:       items,
		OutputFormat:    OutputFormat,
		ExportType:      ExportType,
		Cairn: CairnSummary{
			FormatVersion:     FormatVersion,
			RecoveryPointID:   w.id,
			Compression:       w.opts.Compression,
			DataFileCount:     len(files),
			UncompressedBytes: raw,
			StoredBytes:       stored,
			ContentChecksum:   info.ContentChecksum,
			ManifestFiles:     digest(FilesManifestKey(w.id), manifest.Bytes()),
			Metadata:          digest(MetadataKey(w.id), metaFile),
			Consistency:       ConsistencyScan,
			ScanStartTime:     &Timestamp{scanStart},
			ScanEndTime:       &Timestamp{scanEnd},
		},
	}
	if err := w.v.putManifests(ctx, w.id, &s, manifest.Bytes(), metaFile); err != nil {
		return nil, err
	}
	return &Manifest{Summary: s, Files: files}, nil
}

// putManifests writes point id's manifest-files.json, cairn-metadata.json
// and their checksums, then, last, its summary: the point then exists. It
// sets the summary's location fields to the vault's.
func (v *Vault) putManifests(ctx context.Context, id string, s *Summary, manifest, metaFile []byte) error {
	s.S3Bucket, s.S3Prefix = optional(v.loc.Bucket), optional(v.loc.Prefix)
	s.ManifestFilesS3Key = v.loc.Key(FilesManifestKey(id))
	s.Cairn.FormatVersion = FormatVersion
	summary, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	summary = append(summary, '\n')
	for _, obj := range []struct {
		key  string
		data []byte
	}{
		{FilesManifestKey(id), manifest},
		{FilesChecksumKey(id), md5hex(manifest)},
		{MetadataKey(id), metaFile},
		{SummaryChecksumKey(id), md5hex(summary)},
		{SummaryKey(id), summary}, // last: the point now exists
	} {
		if err := v.store.Put(ctx, obj.key, bytes.NewReader(obj.data)); err != nil {
			return err
		}
	}
	return nil
}

func md5hex(b []byte) []byte {
	sum := md5.Sum(b)
	return []byte(hex.EncodeToString(sum[:]))
}

func digest(key string, data []byte) Digest {
	sum := sha256.Sum256(data)
	return Digest{Key: key, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
}

// errAborted is the cause of the uploads' context after Abort.
var errAborted = errors.New("vault: point aborted")

// Abort stops every upload in flight and deletes everything written under
// the point's prefix. FileWriters still in use fail from then on. A
// committed point cannot be aborted; Delete it.
func (w *Writer) Abort(ctx context.Context) error {
	w.mu.Lock()
	if w.state == committed || w.state == committing {
		w.mu.Unlock()
		return fmt.Errorf("vault: abort %s: %w", w.id, ErrClosed)
	}
	w.state = aborted
	w.stopped.Store(true)
	w.mu.Unlock()
	w.cancel(errAborted)
	w.uploads.Wait()
	// An object store may finish storing an upload whose request the client
	// already gave up on, after the first sweep listed the prefix; sweep
	// again after a pause. What still lands later is an incomplete point
	// (no summary), which is never restored and which garbage collection
	// removes.
	for i, pause := range []time.Duration{0, 200 * time.Millisecond, time.Second} {
		if i > 0 {
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return fmt.Errorf("vault: abort %s: %w", w.id, ctx.Err())
			}
		}
		if err := blob.DeletePrefix(ctx, w.v.store, PointPrefix(w.id)); err != nil {
			return fmt.Errorf("vault: abort %s: %w", w.id, err)
		}
	}
	return nil
}

// FileWriter writes items into the point's data files, starting a new file
// whenever the current one reaches MaxFileBytes. It is not safe for
// concurrent use: give each goroutine its own.
type FileWriter struct {
	w       *Writer
	cur     *dataFile
	pending []*dataFile // finished files whose uploads may still run
	err     error
	closed  bool
	// items and bytes written but not yet added to the Writer's counters.
	items, bytes int64
}

// countBatch is how many items a FileWriter writes between two updates of
// the Writer's counters: the FileWriters of a point run on several cores,
// and an update of the shared counters per item would move their cache
// line from core to core all the time.
const countBatch = 256

// dataFile is one data file being compressed and uploaded.
type dataFile struct {
	key   string // in the store
	pw    *io.PipeWriter
	enc   encoder
	buf   *bufio.Writer
	items int64
	raw   int64
	done  chan error // the upload's result
	// receipt is the store's, set by the upload goroutine before done.
	receipt blob.Receipt
}

var (
	itemPrefix = []byte(`{"Item":`)
	itemSuffix = []byte("}\n")
)

// WriteItem appends one item: item is the item's DynamoDB JSON object
// ({"attr":{"S":"v"},...}), which WriteItem frames as {"Item":...}\n. item
// must not contain a newline. The first error is sticky and fails Commit.
func (f *FileWriter) WriteItem(item []byte) error {
	if f.err != nil {
		return f.err
	}
	if f.w.stopped.Load() {
		return f.setErr(fmt.Errorf("vault: %s: %w", f.w.id, errAborted))
	}
	if len(item) < 2 || item[0] != '{' || item[len(item)-1] != '}' || bytes.IndexByte(item, '\n') >= 0 {
		return fmt.Errorf("vault: WriteItem: not a one-line JSON object: %.40q", item)
	}
	if f.cur == nil || f.cur.raw >= f.w.opts.MaxFileBytes {
		if err := f.rotate(); err != nil {
			return f.setErr(err)
		}
	}
	d := f.cur
	if _, err := d.enc.Write(itemPrefix); err != nil {
		return f.setErr(d.writeErr(err))
	}
	if _, err := d.enc.Write(item); err != nil {
		return f.setErr(d.writeErr(err))
	}
	if _, err := d.enc.Write(itemSuffix); err != nil {
		return f.setErr(d.writeErr(err))
	}
	n := int64(len(itemPrefix) + len(item) + len(itemSuffix))
	d.items++
	d.raw += n
	f.items++
	f.bytes += n
	if f.items >= countBatch {
		f.count()
	}
	return nil
}

// count adds the items and bytes written since the last call to the
// Writer's counters.
func (f *FileWriter) count() {
	if f.items > 0 {
		f.w.items.Add(f.items)
		f.w.bytesIn.Add(f.bytes)
		f.items, f.bytes = 0, 0
	}
}

func (f *FileWriter) setErr(err error) error {
	if f.err == nil {
		f.err = err
		f.w.fail(err)
	}
	return f.err
}

// rotate finishes the current file, if any, and starts the next.
func (f *FileWriter) rotate() error {
	if f.cur != nil {
		if err := f.finish(f.cur); err != nil {
			return err
		}
		f.pending = append(f.pending, f.cur)
		f.cur = nil
		// Surface a failed earlier upload now rather than at Close.
		for _, d := range f.pending {
			select {
			case err := <-d.done:
				d.done <- err
				if err != nil {
					return err
				}
			default:
			}
		}
	}
	d, err := f.w.startFile()
	if err != nil {
		return err
	}
	f.cur = d
	return nil
}

var fileNameEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// startFile starts the upload of a new data file.
func (w *Writer) startFile() (*dataFile, error) {
	var rnd [16]byte
	rand.Read(rnd[:])
	ext, _ := compressionExt(w.opts.Compression)
	key := DataFileKey(w.id, strings.ToLower(fileNameEncoding.EncodeToString(rnd[:]))+ext)

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state != writing {
		return nil, fmt.Errorf("vault: %s: %w", w.id, ErrClosed)
	}
	if err := context.Cause(w.ctx); err != nil {
		return nil, fmt.Errorf("vault: %s: %w", w.id, err)
	}
	enc, err := getEncoder(w.opts.encoderKey())
	if err != nil {
		return nil, err // checked by setDefaults
	}
	pr, pw := io.Pipe()
	d := &dataFile{key: key, pw: pw, done: make(chan error, 1)}
	d.buf = pipeBufs.Get().(*bufio.Writer)
	d.buf.Reset(pw)
	d.enc = enc
	d.enc.Reset(d.buf)
	w.uploads.Add(1)
	go func() {
		defer w.uploads.Done()
		// A FileWriter that stops writing must not leave Put blocked
		// in Read after Abort.
		stop := context.AfterFunc(w.ctx, func() { pr.CloseWithError(context.Cause(w.ctx)) })
		// The store hashes the bytes on the upload's side of the pipe,
		// off the FileWriter's goroutine, and reports size, MD5 and ETag.
		rc, err := blob.PutWithReceipt(w.ctx, w.v.store, key, &countingReader{r: pr, n: &w.bytesStored})
		stop()
		if err == nil {
			if sum, herr := hex.DecodeString(rc.MD5); herr != nil || len(sum) != md5.Size || !validETag(rc.ETag) {
				err = fmt.Errorf("the store's receipt %+v has no valid MD5 or ETag", rc)
			}
		}
		if err != nil {
			err = fmt.Errorf("vault: upload %s: %w", key, err)
		}
		d.receipt = rc
		pr.CloseWithError(err)
		d.done <- err
	}()
	return d, nil
}

// writeErr turns a failed write into the upload's error, which says why
// the pipe broke.
func (d *dataFile) writeErr(err error) error {
	d.pw.CloseWithError(err)
	if uerr := <-d.done; uerr != nil {
		d.done <- uerr
		return uerr
	}
	d.done <- err
	return err
}

// finish flushes the compressor and ends the upload's input; the upload
// may still be running.
func (f *FileWriter) finish(d *dataFile) error {
	err := d.enc.Close()
	if err == nil {
		err = d.buf.Flush()
	}
	d.enc.Reset(nil)
	putEncoder(f.w.opts.encoderKey(), d.enc)
	d.enc = nil
	if err != nil {
		return d.writeErr(err)
	}
	d.buf.Reset(nil)
	pipeBufs.Put(d.buf)
	d.buf = nil
	d.pw.Close()
	return nil
}

// abandon makes d's upload fail so no partial object appears.
func (d *dataFile) abandon(cause error) {
	d.pw.CloseWithError(cause)
	<-d.done
	d.done <- nil
}

// entry is d's manifest line; call it once d's upload has succeeded.
func (d *dataFile) entry(loc blob.Location) FileEntry {
	md5sum, _ := hex.DecodeString(d.receipt.MD5) // checked by the upload
	return FileEntry{
		ItemCount:        d.items,
		MD5Checksum:      base64.StdEncoding.EncodeToString(md5sum),
		ETag:             d.receipt.ETag,
		DataFileS3Key:    loc.Key(d.key),
		Size:             d.receipt.Size,
		UncompressedSize: d.raw,
	}
}

// countingReader adds the bytes read to n, for Writer.BytesStored.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Close finishes the current data file, waits for this FileWriter's
// uploads and records its files in the point. It returns the first error
// of any write or upload, which also fails Commit. Close is idempotent.
func (f *FileWriter) Close() error {
	if f.closed {
		return f.err
	}
	f.closed = true
	f.count()
	if f.cur != nil {
		if f.err == nil {
			if err := f.finish(f.cur); err != nil {
				f.setErr(err)
			}
		} else if f.cur.enc != nil {
			f.cur.abandon(f.err) // its encoder is not reused
		}
		f.pending = append(f.pending, f.cur)
		f.cur = nil
	}
	var entries []FileEntry
	for _, d := range f.pending {
		err := <-d.done
		d.done <- err
		if err != nil {
			f.setErr(err)
		} else if f.err == nil {
			entries = append(entries, d.entry(f.w.v.loc))
		}
	}
	f.pending = nil
	w := f.w
	w.mu.Lock()
	w.open--
	if f.err == nil {
		w.files = append(w.files, entries...)
	}
	w.mu.Unlock()
	return f.err
}
