package vault

import (
	"bufio"
	"fmt"
	"io"
	"sync"
	"time"

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

// encoderKey is what makes encoders differ: WriterOptions' Compression,
// Level and ZstdNoEntropy.
type encoderKey struct {
	c         Compression
	level     int
	noEntropy bool
}

func newEncoder(k encoderKey) (encoder, error) {
	switch k.c {
	case Zstd:
		lvl := zstd.SpeedFastest
		if k.level != 0 {
			lvl = zstd.EncoderLevelFromZstd(k.level)
		}
		return zstd.NewWriter(nil,
			zstd.WithEncoderLevel(lvl),
			zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(zstdWindow),
			zstd.WithEncoderCRC(false),
			zstd.WithNoEntropyCompression(k.noEntropy))
	case Gzip:
		level := k.level
		if level == 0 {
			level = gzip.BestSpeed
		}
		zw, err := gzip.NewWriterLevel(nil, level)
		if err != nil {
			return nil, err
		}
		g := &gzipEncoder{zw}
		g.Reset(nil)
		return g, nil
	case None:
		return &plainEncoder{}, nil
	}
	return nil, fmt.Errorf("unknown compression %q", k.c)
}

// gzipEncoder writes 0 as the gzip header's modification time, as RFC 1952
// says for "no time stamp": the library writes the time it is given, and
// the zero time.Time came out as 2042-07-14, which readers show.
type gzipEncoder struct{ *gzip.Writer }

func (g *gzipEncoder) Reset(w io.Writer) {
	g.Writer.Reset(w) // also resets the header
	g.ModTime = time.Unix(0, 0)
}

// Idle encoders are shared by every Writer, not kept per point: a zstd
// encoder owns about 2.5 MB of history and tables, which each new point
// would otherwise allocate (and the kernel zero) again for every segment.
// sync.Pool lets the GC free them when backups stop.
var encoderPools sync.Map // encoderKey → *sync.Pool

// getEncoder returns an idle encoder for k, or a new one.
func getEncoder(k encoderKey) (encoder, error) {
	if p, ok := encoderPools.Load(k); ok {
		if e, ok := p.(*sync.Pool).Get().(encoder); ok {
			return e, nil
		}
	}
	return newEncoder(k)
}

// putEncoder makes e, an encoder for k that was Reset to nil, available to
// getEncoder.
func putEncoder(k encoderKey, e encoder) {
	p, _ := encoderPools.LoadOrStore(k, new(sync.Pool))
	p.(*sync.Pool).Put(e)
}

// pipeBufSize is the size of the buffer between an encoder and its upload
// pipe: each pass through the pipe (a goroutine switch, a Read, a hash
// update and a write to the store) carries this many bytes.
const pipeBufSize = 128 << 10

// pipeBufs holds idle pipe buffers, Reset to nil.
var pipeBufs = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, pipeBufSize) }}

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
