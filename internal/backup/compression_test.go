package backup

import (
	"strings"
	"testing"
)

func TestParseCompression(t *testing.T) {
	for in, want := range map[string]string{"": "", "zstd": "zstd", "GZIP": "gzip", " None ": "none", "ZSTD": "zstd"} {
		if got, err := ParseCompression(in); err != nil || got != want {
			t.Errorf("ParseCompression(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"lz4", "gz", "zst", "snappy", "gzip9"} {
		_, err := ParseCompression(in)
		if ErrorCode(err) != ErrInvalidParameter || !strings.Contains(err.Error(), "zstd, gzip or none") {
			t.Errorf("ParseCompression(%q) = %v", in, err)
		}
	}
}
