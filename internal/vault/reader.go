package vault

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"

	"github.com/cairn-backup/cairn/internal/blob"
)

// maxManifestBytes bounds what Open reads into memory for one manifest.
const maxManifestBytes = 256 << 20

// Reader reads a complete recovery point.
type Reader struct {
	v               *Vault
	id              string
	summary         Summary
	files           []FileEntry
	metadata        json.RawMessage
	contentChecksum string
}

// Open reads point id's manifests and checks them against each other and
// their checksums. It returns an error wrapping ErrIncomplete if the point
// has no summary, ErrCorrupt if a manifest does not check out.
func (v *Vault) Open(ctx context.Context, id string) (*Reader, error) {
	if err := checkPointID(id); err != nil {
		return nil, err
	}
	raw, err := v.readSmall(ctx, SummaryKey(id))
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrIncomplete, id)
	}
	if err != nil {
		return nil, fmt.Errorf("vault: open %s: %w", id, err)
	}
	s, err := parseSummary(raw, id)
	if err != nil {
		return nil, fmt.Errorf("vault: open %s: %w", id, err)
	}
	mfRaw, err := v.readChecked(ctx, s.Cairn.ManifestFiles)
	if err != nil {
		return nil, fmt.Errorf("vault: open %s: %w", id, err)
	}
	files, err := parseFilesManifest(mfRaw, id)
	if err != nil {
		return nil, fmt.Errorf("vault: open %s: %w", id, err)
	}
	var items int64
	for _, fe := range files {
		items += fe.ItemCount
	}
	if items != s.ItemCount || len(files) != s.Cairn.DataFileCount {
		return nil, fmt.Errorf("vault: open %s: %w: manifests list %d files of %d items, summary says %d of %d",
			id, ErrCorrupt, len(files), items, s.Cairn.DataFileCount, s.ItemCount)
	}
	metaRaw, err := v.readChecked(ctx, s.Cairn.Metadata)
	if err != nil {
		return nil, fmt.Errorf("vault: open %s: %w", id, err)
	}
	var meta metadataFile
	if err := json.Unmarshal(metaRaw, &meta); err != nil {
		return nil, fmt.Errorf("vault: open %s: %w: %s: %v", id, ErrCorrupt, metadataName, err)
	}
	if meta.RecoveryPointID != id || meta.ContentChecksum != s.Cairn.ContentChecksum {
		return nil, fmt.Errorf("vault: open %s: %w: %s does not match the summary", id, ErrCorrupt, metadataName)
	}
	return &Reader{v: v, id: id, summary: *s, files: files, metadata: meta.Metadata, contentChecksum: meta.ContentChecksum}, nil
}

// readSmall reads a whole manifest-sized object.
func (v *Vault) readSmall(ctx context.Context, key string) ([]byte, error) {
	rc, err := v.store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxManifestBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxManifestBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrCorrupt, key, maxManifestBytes)
	}
	return data, nil
}

// readChecked reads the object d names and checks its size and SHA-256.
func (v *Vault) readChecked(ctx context.Context, d Digest) ([]byte, error) {
	data, err := v.readSmall(ctx, d.Key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s is missing", ErrCorrupt, d.Key)
	}
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	if int64(len(data)) != d.Size || hex.EncodeToString(sum[:]) != d.SHA256 {
		return nil, fmt.Errorf("%w: %s: checksum or size mismatch (%d bytes, want %d)", ErrCorrupt, d.Key, len(data), d.Size)
	}
	return data, nil
}

// ID returns the point's ID.
func (r *Reader) ID() string { return r.id }

// Summary returns the point's manifest-summary.json.
func (r *Reader) Summary() Summary { return r.summary }

// Files returns the point's data files, in key order.
func (r *Reader) Files() []FileEntry { return append([]FileEntry(nil), r.files...) }

// Metadata returns the metadata given to Commit.
func (r *Reader) Metadata() json.RawMessage { return r.metadata }

// ContentChecksum returns the content checksum given to Commit.
func (r *Reader) ContentChecksum() string { return r.contentChecksum }

// OpenFile opens one of the point's data files for reading its items.
func (r *Reader) OpenFile(ctx context.Context, fe FileEntry) (*ItemReader, error) {
	md5sum, err := base64.StdEncoding.DecodeString(fe.MD5Checksum)
	if err != nil {
		return nil, fmt.Errorf("vault: open %s: %w: md5Checksum: %v", fe.DataFileS3Key, ErrCorrupt, err)
	}
	rc, err := r.v.store.Get(ctx, fe.DataFileS3Key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("vault: open %s: %w: data file is missing", fe.DataFileS3Key, ErrCorrupt)
	}
	if err != nil {
		return nil, fmt.Errorf("vault: open %s: %w", fe.DataFileS3Key, err)
	}
	c := r.summary.Cairn.Compression
	ir := &ItemReader{
		fe: fe, rc: rc, wantMD5: md5sum, pool: r.v.decoders[c],
		hr: &hashReader{r: rc, md5: md5.New()},
	}
	if fe.SHA256 != "" {
		ir.hr.sha = sha256.New()
	}
	ir.dec = ir.pool.Get().(decoder)
	if err := ir.dec.Reset(ir.hr); err != nil {
		ir.Close()
		return nil, ir.decodeErr(err)
	}
	ir.br = bufio.NewReaderSize(ir.dec, 64<<10)
	return ir, nil
}

// ItemReader reads the items of one data file. At the end it checks the
// file's size, MD5, SHA-256 and item count against the manifest.
type ItemReader struct {
	fe      FileEntry
	rc      io.ReadCloser
	hr      *hashReader
	dec     decoder
	pool    *sync.Pool
	br      *bufio.Reader
	wantMD5 []byte
	long    []byte
	items   int64
	err     error
}

// Next returns the next item's DynamoDB JSON object (without the
// {"Item":...} frame), valid until the next call. It returns io.EOF after
// the last item once the file has checked out, and an error wrapping
// ErrCorrupt if it does not.
func (ir *ItemReader) Next() ([]byte, error) {
	if ir.err != nil {
		return nil, ir.err
	}
	line, err := ir.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		ir.long = append(ir.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = ir.br.ReadSlice('\n')
			ir.long = append(ir.long, line...)
		}
		line = ir.long
	}
	if err == io.EOF {
		if len(line) > 0 {
			return nil, ir.fail(fmt.Errorf("%w: %s: last line is not terminated", ErrCorrupt, ir.fe.DataFileS3Key))
		}
		return nil, ir.finish()
	}
	if err != nil {
		return nil, ir.fail(ir.decodeErr(err))
	}
	ir.items++
	if ir.items > ir.fe.ItemCount {
		return nil, ir.fail(fmt.Errorf("%w: %s: more than %d items", ErrCorrupt, ir.fe.DataFileS3Key, ir.fe.ItemCount))
	}
	item, ok := bytes.CutPrefix(line, itemPrefix)
	if ok {
		item, ok = bytes.CutSuffix(item, itemSuffix)
	}
	if !ok {
		return nil, ir.fail(fmt.Errorf("%w: %s: item %d is not framed as {\"Item\":...}", ErrCorrupt, ir.fe.DataFileS3Key, ir.items))
	}
	return item, nil
}

// decodeErr tells a store failure from corrupt data.
func (ir *ItemReader) decodeErr(err error) error {
	if ir.hr.err != nil {
		return fmt.Errorf("vault: read %s: %w", ir.fe.DataFileS3Key, ir.hr.err)
	}
	return fmt.Errorf("%w: %s: %v", ErrCorrupt, ir.fe.DataFileS3Key, err)
}

func (ir *ItemReader) fail(err error) error {
	ir.err = err
	return err
}

// finish checks the whole file once its items are read.
func (ir *ItemReader) finish() error {
	// The decompressor may stop before the end of the stored bytes.
	if _, err := io.Copy(io.Discard, ir.hr); err != nil {
		return ir.fail(fmt.Errorf("vault: read %s: %w", ir.fe.DataFileS3Key, err))
	}
	key := ir.fe.DataFileS3Key
	switch {
	case ir.hr.n != ir.fe.Size:
		return ir.fail(fmt.Errorf("%w: %s: %d bytes, manifest says %d", ErrCorrupt, key, ir.hr.n, ir.fe.Size))
	case !bytes.Equal(ir.hr.md5.Sum(nil), ir.wantMD5):
		return ir.fail(fmt.Errorf("%w: %s: MD5 mismatch", ErrCorrupt, key))
	case ir.hr.sha != nil && hex.EncodeToString(ir.hr.sha.Sum(nil)) != ir.fe.SHA256:
		return ir.fail(fmt.Errorf("%w: %s: SHA-256 mismatch", ErrCorrupt, key))
	case ir.items != ir.fe.ItemCount:
		return ir.fail(fmt.Errorf("%w: %s: %d items, manifest says %d", ErrCorrupt, key, ir.items, ir.fe.ItemCount))
	}
	return ir.fail(io.EOF)
}

// Items returns the number of items read so far.
func (ir *ItemReader) Items() int64 { return ir.items }

// Close releases the reader.
func (ir *ItemReader) Close() error {
	if ir.dec != nil {
		ir.dec.Reset(bytes.NewReader(nil)) // drop the reference to the store's reader
		ir.pool.Put(ir.dec)
		ir.dec = nil
	}
	if ir.err == nil {
		ir.err = ErrClosed
	}
	return ir.rc.Close()
}

// hashReader hashes and counts the stored bytes as they are read: by an
// ItemReader, and by a data file's upload.
type hashReader struct {
	r        io.Reader
	md5, sha hash.Hash
	n        int64
	err      error         // the underlying reader's error, if any
	stored   *atomic.Int64 // if set, counts the bytes too
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.md5.Write(p[:n])
	if h.sha != nil {
		h.sha.Write(p[:n])
	}
	h.n += int64(n)
	if h.stored != nil {
		h.stored.Add(int64(n))
	}
	if err != nil && err != io.EOF {
		h.err = err
	}
	return n, err
}
