package vault

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression is how data files are compressed. DynamoDB ImportTable reads
// all three.
type Compression string

// The compressions.
const (
	Zstd Compression = "zstd" // .json.zst; the default
	Gzip Compression = "gzip" // .json.gz, as DynamoDB's own exports
	None Compression = "none" // .json
)

func compressionExt(c Compression) (string, error) {
	switch c {
	case Zstd:
		return ".json.zst", nil
	case Gzip:
		return ".json.gz", nil
	case None:
		return ".json", nil
	}
	return "", fmt.Errorf("unknown compression %q", c)
}

// zstdWindow bounds the memory of an encoder and of a decoder.
const (
	zstdWindow        = 1 << 20
	zstdMaxDecoderWin = 8 << 20
)

// encoder is a reusable compressor.
type encoder interface {
	io.WriteCloser
	Reset(w io.Writer)
}

func newEncoder(c Compression, level int) (encoder, error) {
	switch c {
	case Zstd:
		lvl := zstd.SpeedFastest
		if level != 0 {
			lvl = zstd.EncoderLevelFromZstd(level)
		}
		return zstd.NewWriter(nil,
			zstd.WithEncoderLevel(lvl),
			zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(zstdWindow),
			zstd.WithEncoderCRC(false))
	case Gzip:
		if level == 0 {
			level = gzip.BestSpeed
		}
		return gzip.NewWriterLevel(nil, level)
	case None:
		return &plainEncoder{}, nil
	}
	return nil, fmt.Errorf("unknown compression %q", c)
}

type plainEncoder struct{ w io.Writer }

func (p *plainEncoder) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p *plainEncoder) Close() error                { return nil }
func (p *plainEncoder) Reset(w io.Writer)           { p.w = w }

// decoder is a reusable decompressor.
type decoder interface {
	io.Reader
	Reset(r io.Reader) error
}

func newDecoder(c Compression) (decoder, error) {
	switch c {
	case Zstd:
		d, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(zstdMaxDecoderWin))
		if err != nil {
			return nil, err
		}
		return zstdDecoder{d}, nil
	case Gzip:
		return &gzipDecoder{}, nil
	case None:
		return &plainDecoder{}, nil
	}
	return nil, fmt.Errorf("unknown compression %q", c)
}

type zstdDecoder struct{ *zstd.Decoder }

func (z zstdDecoder) Reset(r io.Reader) error { return z.Decoder.Reset(r) }

type gzipDecoder struct{ r *gzip.Reader }

func (g *gzipDecoder) Reset(r io.Reader) error {
	if g.r == nil {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return err
		}
		g.r = zr
		return nil
	}
	return g.r.Reset(r)
}

func (g *gzipDecoder) Read(p []byte) (int, error) { return g.r.Read(p) }

type plainDecoder struct{ r io.Reader }

func (p *plainDecoder) Reset(r io.Reader) error    { p.r = r; return nil }
func (p *plainDecoder) Read(b []byte) (int, error) { return p.r.Read(b) }
