package vault

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/cairn-backup/cairn/internal/blob"
)

// CheckStored checks that point id is stored intact: the manifests as Open
// checks them, then every data file's size and MD5 (and SHA-256 when
// recorded) as read back from the store. Unlike Verify it does not
// decompress the data files, so it costs one read of the stored bytes. It
// returns the point's manifests, or an error wrapping ErrIncomplete,
// ErrCorrupt or the store's failure.
func (v *Vault) CheckStored(ctx context.Context, id string) (*Manifest, error) {
	r, err := v.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := r.CheckFiles(ctx); err != nil {
		return nil, err
	}
	return &Manifest{Summary: r.summary, Files: r.Files()}, nil
}

// CheckFiles checks every data file of the point as CheckFile does and
// returns the first failure.
func (r *Reader) CheckFiles(ctx context.Context) error {
	for _, fe := range r.files {
		if err := r.CheckFile(ctx, fe); err != nil {
			return err
		}
	}
	return nil
}

// CheckFile reads one data file's stored bytes and checks their size and
// MD5 (and SHA-256 when recorded) against its manifest entry, without
// decompressing them. It returns nil, or an error naming the file that
// wraps ErrCorrupt (or blob.ErrArchived, or the store's failure).
func (r *Reader) CheckFile(ctx context.Context, fe FileEntry) error {
	rc, err := r.v.store.Get(ctx, r.StoreKey(fe.DataFileS3Key))
	if errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("vault: data file %s: %w: it is missing", fe.DataFileS3Key, ErrCorrupt)
	}
	if err != nil {
		return fmt.Errorf("vault: data file %s: %w", fe.DataFileS3Key, err)
	}
	defer rc.Close()
	hr := newFileHasher(rc, fe)
	if _, err := io.Copy(io.Discard, hr); err != nil {
		return fmt.Errorf("vault: data file %s: %w", fe.DataFileS3Key, err)
	}
	if err := hr.check(fe); err != nil {
		return fmt.Errorf("vault: data file %s: %w", fe.DataFileS3Key, err)
	}
	return nil
}

func newFileHasher(r io.Reader, fe FileEntry) *hashReader {
	hr := &hashReader{r: r, md5: md5.New()}
	if fe.SHA256 != "" {
		hr.sha = sha256.New()
	}
	return hr
}

// check compares what hr read with the manifest entry fe.
func (h *hashReader) check(fe FileEntry) error {
	want, err := base64.StdEncoding.DecodeString(fe.MD5Checksum)
	switch {
	case err != nil:
		return fmt.Errorf("%w: md5Checksum: %v", ErrCorrupt, err)
	case h.n != fe.Size:
		return fmt.Errorf("%w: %d bytes, %s says %d", ErrCorrupt, h.n, filesManifestName, fe.Size)
	case !bytes.Equal(h.md5.Sum(nil), want):
		return fmt.Errorf("%w: its MD5 is not the md5Checksum %s records", ErrCorrupt, filesManifestName)
	case h.sha != nil && hex.EncodeToString(h.sha.Sum(nil)) != fe.SHA256:
		return fmt.Errorf("%w: its SHA-256 is not the one %s records", ErrCorrupt, filesManifestName)
	}
	return nil
}

// CopyOptions tunes Copy.
type CopyOptions struct {
	// Metadata, if set, turns the source's cairn metadata (what was given to
	// Commit) into the copy's, for metadata that names the point.
	Metadata func(json.RawMessage) (json.RawMessage, error)
	// Started is the content of the copy's _started marker, as in
	// WriterOptions.
	Started []byte
}

// Copy copies the complete point srcID of src into dst as point dstID and
// checks what dst then holds (CheckStored). Data files are copied byte for
// byte, and checked against the manifest as they are read from src. When
// dstID is srcID, no Metadata function is given, dst's store is where src's
// is as far as readers can tell (same blob.Location, so the same recorded
// keys) and it returned the recorded ETags, every other object is copied
// byte for byte too; otherwise the manifests are written anew for dstID
// and dst's location, with the same data file checksums, item counts and
// content checksum and the ETags dst returned. The summary is written
// last, so a copy cut short leaves an incomplete point in dst, which the
// caller deletes or a later Copy replaces. If dst already holds a complete
// point dstID with the source's files and content checksum that checks
// out, Copy only checks it: a repeated Copy is cheap.
func Copy(ctx context.Context, src *Vault, srcID string, dst *Vault, dstID string, opts CopyOptions) (*Manifest, error) {
	if err := checkPointID(dstID); err != nil {
		return nil, err
	}
	r, err := src.Open(ctx, srcID)
	if err != nil {
		return nil, fmt.Errorf("vault: copy %s: %w", srcID, err)
	}
	if m, err := dst.CheckStored(ctx, dstID); err == nil && sameContent(m, r) {
		return m, nil
	}
	fail := func(err error) (*Manifest, error) {
		return nil, fmt.Errorf("vault: copy %s to %s: %w", srcID, dstID, err)
	}
	// A summary left by an earlier copy must not make a half-rewritten point
	// look complete.
	for _, k := range []string{SummaryKey(dstID), SummaryChecksumKey(dstID)} {
		if err := dst.store.Delete(ctx, k); err != nil {
			return fail(err)
		}
	}
	if err := dst.store.Put(ctx, StartedKey(dstID), bytes.NewReader(opts.Started)); err != nil {
		return fail(err)
	}
	verbatim := srcID == dstID && opts.Metadata == nil && src.loc == dst.loc
	files := make([]FileEntry, len(r.files))
	for i, fe := range r.files {
		files[i] = fe
		key := DataFileKey(dstID, path.Base(fe.DataFileS3Key))
		files[i].DataFileS3Key = dst.loc.Key(key)
		etag, err := copyFile(ctx, r, fe, dst, key)
		if err != nil {
			return fail(err)
		}
		verbatim = verbatim && etag == fe.ETag
		files[i].ETag = etag
	}
	if verbatim {
		keys := []string{FilesManifestKey(srcID), FilesChecksumKey(srcID), MetadataKey(srcID),
			SummaryChecksumKey(srcID), SummaryKey(srcID)} // the summary last
		for _, k := range keys {
			data, err := src.readSmall(ctx, k)
			if err != nil {
				return fail(err)
			}
			if err := dst.store.Put(ctx, k, bytes.NewReader(data)); err != nil {
				return fail(err)
			}
		}
	} else if err := dst.putCopyManifests(ctx, r, dstID, files, opts); err != nil {
		return fail(err)
	}
	m, err := dst.CheckStored(ctx, dstID)
	if err != nil {
		return fail(fmt.Errorf("the copy does not check out: %w", err))
	}
	if !sameContent(m, r) {
		return fail(fmt.Errorf("%w: the copy's manifests differ from the source's", ErrCorrupt))
	}
	return m, nil
}

// putCopyManifests writes the manifests of point dstID, a copy of r with
// the data files files.
func (v *Vault) putCopyManifests(ctx context.Context, r *Reader, dstID string, files []FileEntry, opts CopyOptions) error {
	var manifest bytes.Buffer
	for _, fe := range files {
		line, err := json.Marshal(fe)
		if err != nil {
			return err
		}
		manifest.Write(line)
		manifest.WriteByte('\n')
	}
	meta := r.metadata
	if opts.Metadata != nil {
		var err error
		if meta, err = opts.Metadata(meta); err != nil {
			return fmt.Errorf("metadata of the copy: %w", err)
		}
		if !json.Valid(meta) {
			return errors.New("metadata of the copy is not valid JSON")
		}
	}
	metaFile, err := json.Marshal(metadataFile{FormatVersion: FormatVersion, RecoveryPointID: dstID,
		ContentChecksum: r.contentChecksum, Metadata: meta})
	if err != nil {
		return err
	}
	s := r.summary
	if base, ok := strings.CutSuffix(s.ExportARN, "/export/"+r.id); ok {
		s.ExportARN = base + "/export/" + dstID
	}
	if s.Cairn.FormatVersion < 2 && s.Cairn.Consistency == "" {
		s.Cairn.Consistency = ConsistencyScan // what version 1 points were too
	}
	s.Cairn.RecoveryPointID = dstID
	s.Cairn.ManifestFiles = digest(FilesManifestKey(dstID), manifest.Bytes())
	s.Cairn.Metadata = digest(MetadataKey(dstID), metaFile)
	return v.putManifests(ctx, dstID, &s, manifest.Bytes(), metaFile)
}

// copyFile streams one data file of r to key in dst, checking the bytes
// read against the manifest entry, and returns the ETag dst gave it.
func copyFile(ctx context.Context, r *Reader, fe FileEntry, dst *Vault, key string) (string, error) {
	rc, err := r.v.store.Get(ctx, r.StoreKey(fe.DataFileS3Key))
	if errors.Is(err, blob.ErrNotFound) {
		return "", fmt.Errorf("source %s: %w: data file is missing", fe.DataFileS3Key, ErrCorrupt)
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", fe.DataFileS3Key, err)
	}
	defer rc.Close()
	hr := newFileHasher(rc, fe)
	receipt, err := blob.PutWithReceipt(ctx, dst.store, key, hr)
	if err != nil {
		if hr.err != nil {
			return "", fmt.Errorf("read %s: %w", fe.DataFileS3Key, hr.err)
		}
		return "", fmt.Errorf("write %s: %w", key, err)
	}
	if err := hr.check(fe); err != nil {
		return "", fmt.Errorf("source %s: %w", fe.DataFileS3Key, err)
	}
	if !validETag(receipt.ETag) {
		return "", fmt.Errorf("write %s: the store returned the malformed ETag %q", key, receipt.ETag)
	}
	return receipt.ETag, nil
}

// sameContent reports whether m, the manifests of a point, describe the
// same data as the point r reads: the same data files (by name) with the
// same checksums and counts, and the same content checksum.
func sameContent(m *Manifest, r *Reader) bool {
	if m.Summary.Cairn.ContentChecksum != r.contentChecksum ||
		m.Summary.ItemCount != r.summary.ItemCount || len(m.Files) != len(r.files) {
		return false
	}
	for i, fe := range r.files {
		got := m.Files[i]
		if path.Base(got.DataFileS3Key) != path.Base(fe.DataFileS3Key) ||
			got.MD5Checksum != fe.MD5Checksum || got.Size != fe.Size || got.ItemCount != fe.ItemCount {
			return false
		}
	}
	return true
}

// TransitionResult reports what Transition did.
type TransitionResult struct {
	// Rewritten is the number of data files rewritten; files already in
	// the class are left alone.
	Rewritten int
	// Ignored lists the data files the store keeps in another class than
	// asked after the rewrite: an S3-compatible server that accepts
	// storage classes and ignores them. ReportedClass is what it reports.
	Ignored       []string
	ReportedClass string
}

// Transition rewrites point id's data files in place in storage class
// class (S3 cold storage), through the store's blob.ClassSetter, and checks
// each afterwards: its size and, when the store reports one, its MD5, both
// against the manifest. The manifests keep their class, so the point can
// always be listed, opened and checked (S3 lifecycle rules do not move
// objects that small either). Files already in class are left alone, so
// Transition can be repeated after a failure. It fails with an error
// wrapping blob.ErrNoClasses if the store has no storage classes.
func (v *Vault) Transition(ctx context.Context, id, class string) (*TransitionResult, error) {
	cs, ok := v.store.(blob.ClassSetter)
	if !ok {
		return nil, fmt.Errorf("vault: transition %s: %w", id, blob.ErrNoClasses)
	}
	r, err := v.Open(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("vault: transition %s: %w", id, err)
	}
	res := &TransitionResult{}
	for _, fe := range r.files {
		fail := func(err error) (*TransitionResult, error) {
			return nil, fmt.Errorf("vault: transition %s: %s: %w", id, fe.DataFileS3Key, err)
		}
		key := r.StoreKey(fe.DataFileS3Key)
		ci, err := cs.ClassInfo(ctx, key)
		if errors.Is(err, blob.ErrNotFound) {
			return fail(fmt.Errorf("%w: data file is missing", ErrCorrupt))
		}
		if err != nil {
			return fail(err)
		}
		if ci.Class != class {
			if err := cs.SetClass(ctx, key, class); err != nil {
				return fail(err)
			}
			res.Rewritten++
			if ci, err = cs.ClassInfo(ctx, key); err != nil {
				return fail(err)
			}
		}
		md5sum, _ := base64.StdEncoding.DecodeString(fe.MD5Checksum) // checked by Open
		switch {
		case ci.Size != fe.Size:
			return fail(fmt.Errorf("%w: %d bytes after the rewrite, manifest says %d", ErrCorrupt, ci.Size, fe.Size))
		case ci.MD5 != "" && ci.MD5 != hex.EncodeToString(md5sum):
			return fail(fmt.Errorf("%w: MD5 %s after the rewrite, manifest says %x", ErrCorrupt, ci.MD5, md5sum))
		case ci.Class != class:
			res.Ignored = append(res.Ignored, fe.DataFileS3Key)
			res.ReportedClass = ci.Class
		}
	}
	return res, nil
}
