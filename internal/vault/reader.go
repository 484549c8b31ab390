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
	"strings"
	"sync"

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

// Open reads point id's manifests and checks every one of them against
// what records it: manifest-summary.json against manifest-summary.checksum,
// manifest-files.json against the summary's SHA-256 and
// manifest-files.checksum, cairn-metadata.json against the summary's
// SHA-256, and the manifests' counts against each other. It returns an
// error wrapping ErrIncomplete if the point has no summary, ErrCorrupt
// naming the file at fault if one does not check out. Data files are
// checked as they are read (OpenFile) or by CheckFiles.
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
	if err := v.checkMD5File(ctx, SummaryKey(id), SummaryChecksumKey(id), raw); err != nil {
		return nil, fmt.Errorf("vault: open %s: %w", id, err)
	}
	s, err := parseSummary(raw, id)
	if err != nil {
		return nil, fmt.Errorf("vault: open %s: %w", id, err)
	}
	mfRaw, err := v.readChecked(ctx, s.Cairn.ManifestFiles, summaryName)
	if err != nil {
		return nil, fmt.Errorf("vault: open %s: %w", id, err)
	}
	if err := v.checkMD5File(ctx, FilesManifestKey(id), FilesChecksumKey(id), mfRaw); err != nil {
		return nil, fmt.Errorf("vault: open %s: %w", id, err)
	}
	files, err := parseFilesManifest(mfRaw, s)
	if err != nil {
		return nil, fmt.Errorf("vault: open %s: %w", id, err)
	}
	var items int64
	for _, fe := range files {
		items += fe.ItemCount
	}
	if items != s.ItemCount || len(files) != s.Cairn.DataFileCount {
		return nil, fmt.Errorf("vault: open %s: %w: %s lists %d files of %d items, %s says %d of %d",
			id, ErrCorrupt, filesManifestName, len(files), items, summaryName, s.Cairn.DataFileCount, s.ItemCount)
	}
	metaRaw, err := v.readChecked(ctx, s.Cairn.Metadata, summaryName)
	if err != nil {
		return nil, fmt.Errorf("vault: open %s: %w", id, err)
	}
	var meta metadataFile
	if err := json.Unmarshal(metaRaw, &meta); err != nil {
		return nil, fmt.Errorf("vault: open %s: %w: %s: %v", id, ErrCorrupt, metadataName, err)
	}
	if meta.RecoveryPointID != id || meta.ContentChecksum != s.Cairn.ContentChecksum {
		return nil, fmt.Errorf("vault: open %s: %w: %s does not match %s", id, ErrCorrupt, metadataName, summaryName)
	}
	return &Reader{v: v, id: id, summary: *s, files: files, metadata: meta.Metadata, contentChecksum: meta.ContentChecksum}, nil
}

// checkMD5File checks data, the object at key, against the hex MD5 in the
// checksum file at sumKey.
func (v *Vault) checkMD5File(ctx context.Context, key, sumKey string, data []byte) error {
	want, err := v.readSmall(ctx, sumKey)
	if errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("%w: %s is missing", ErrCorrupt, sumKey)
	}
	if err != nil {
		return err
	}
	if got := md5hex(data); !bytes.Equal(got, want) {
		if len(want) != 2*md5.Size {
			return fmt.Errorf("%w: %s is not an MD5 (%d bytes)", ErrCorrupt, sumKey, len(want))
		}
		return fmt.Errorf("%w: %s (MD5 %s) does not match %s (%.32q)", ErrCorrupt, key, got, sumKey, want)
	}
	return nil
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

// readChecked reads the object d names and checks its size and SHA-256
// against d, which the file by is from.
func (v *Vault) readChecked(ctx context.Context, d Digest, by string) ([]byte, error) {
	data, err := v.readSmall(ctx, d.Key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s is missing", ErrCorrupt, d.Key)
	}
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	if int64(len(data)) != d.Size || hex.EncodeToString(sum[:]) != d.SHA256 {
		return nil, fmt.Errorf("%w: %s does not match the SHA-256 and size %s records (%d bytes, want %d)",
			ErrCorrupt, d.Key, by, len(data), d.Size)
	}
	return data, nil
}

// ID returns the point's ID.
func (r *Reader) ID() string { return r.id }

// Summary returns the point's manifest-summary.json.
func (r *Reader) Summary() Summary { return r.summary }

// Files returns the point's data files, in key order. Their
// DataFileS3Key is the key the manifest records (a full bucket key).
func (r *Reader) Files() []FileEntry { return append([]FileEntry(nil), r.files...) }

// StoreKey returns the key in the vault's store of a key the point's
// manifests record (DataFileS3Key): without the recorded s3Prefix. The
// point may have been written where the store's prefix was another, so the
// recorded one counts.
func (r *Reader) StoreKey(recorded string) string {
	return strings.TrimPrefix(recorded, r.summary.keyPrefix())
}

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
	rc, err := r.v.store.Get(ctx, r.StoreKey(fe.DataFileS3Key))
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("vault: data file %s: %w: it is missing", fe.DataFileS3Key, ErrCorrupt)
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
			return nil, ir.fail(fmt.Errorf("%w: data file %s: last line is not terminated", ErrCorrupt, ir.fe.DataFileS3Key))
		}
		return nil, ir.finish()
	}
	if err != nil {
		return nil, ir.fail(ir.decodeErr(err))
	}
	ir.items++
	if ir.items > ir.fe.ItemCount {
		return nil, ir.fail(fmt.Errorf("%w: data file %s: more than %d items", ErrCorrupt, ir.fe.DataFileS3Key, ir.fe.ItemCount))
	}
	item, ok := bytes.CutPrefix(line, itemPrefix)
	if ok {
		item, ok = bytes.CutSuffix(item, itemSuffix)
	}
	if !ok {
		return nil, ir.fail(fmt.Errorf("%w: data file %s: item %d is not framed as {\"Item\":...}", ErrCorrupt, ir.fe.DataFileS3Key, ir.items))
	}
	return item, nil
}

// decodeErr tells a store failure from corrupt data.
func (ir *ItemReader) decodeErr(err error) error {
	if ir.hr.err != nil {
		return fmt.Errorf("vault: read %s: %w", ir.fe.DataFileS3Key, ir.hr.err)
	}
	return fmt.Errorf("%w: data file %s: %v", ErrCorrupt, ir.fe.DataFileS3Key, err)
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
		return ir.fail(fmt.Errorf("%w: data file %s: %d bytes, %s says %d", ErrCorrupt, key, ir.hr.n, filesManifestName, ir.fe.Size))
	case !bytes.Equal(ir.hr.md5.Sum(nil), ir.wantMD5):
		return ir.fail(fmt.Errorf("%w: data file %s: its MD5 is not the md5Checksum %s records", ErrCorrupt, key, filesManifestName))
	case ir.hr.sha != nil && hex.EncodeToString(ir.hr.sha.Sum(nil)) != ir.fe.SHA256:
		return ir.fail(fmt.Errorf("%w: data file %s: its SHA-256 is not the one %s records", ErrCorrupt, key, filesManifestName))
	case ir.items != ir.fe.ItemCount:
		return ir.fail(fmt.Errorf("%w: data file %s: %d items, %s says %d", ErrCorrupt, key, ir.items, filesManifestName, ir.fe.ItemCount))
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

// hashReader hashes and counts the stored bytes as they are read by an
// ItemReader or a check.
type hashReader struct {
	r        io.Reader
	md5, sha hash.Hash
	n        int64
	err      error // the underlying reader's error, if any
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.md5.Write(p[:n])
	if h.sha != nil {
		h.sha.Write(p[:n])
	}
	h.n += int64(n)
	if err != nil && err != io.EOF {
		h.err = err
	}
	return n, err
}
