package vault

import (
	"encoding/json"
	"strings"
	"testing"
)

const (
	// fuzzLine is a manifest-files line of point "p" in a vault at the
	// root of its store (format version 1's keys, and version 2's without
	// a prefix).
	fuzzLine = `{"itemCount":3,"md5Checksum":"sQMSpEILNgoQmarvDFonGQ==","etag":"b10312a4420b360a1099aaef0c5a2719",` +
		`"dataFileS3Key":"AWSDynamoDB/p/data/abc.json.zst","sha256":"` +
		`e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":10,"uncompressedSize":30}`
	// fuzzLinePrefixed is one of point "p" in a vault under the prefix
	// "vaults/v", uploaded in parts.
	fuzzLinePrefixed = `{"itemCount":3,"md5Checksum":"sQMSpEILNgoQmarvDFonGQ==","etag":"0123456789abcdef0123456789abcdef-3",` +
		`"dataFileS3Key":"vaults/v/AWSDynamoDB/p/data/abc.json.gz","size":10,"uncompressedSize":30}`
)

// fuzzSummary is the summary of point "p" of format version, in a vault
// under prefix.
func fuzzSummary(version int, prefix string) *Summary {
	s := &Summary{
		Version: SummaryVersion, OutputFormat: OutputFormat, ExportType: ExportType,
		ManifestFilesS3Key: FilesManifestKey("p"),
		Cairn: CairnSummary{
			FormatVersion: version, RecoveryPointID: "p", Compression: Zstd,
			ManifestFiles: digest(FilesManifestKey("p"), nil), Metadata: digest(MetadataKey("p"), nil),
		},
	}
	if prefix != "" {
		s.S3Bucket, s.S3Prefix = optional("bucket"), optional(prefix)
		s.ManifestFilesS3Key = prefix + "/" + s.ManifestFilesS3Key
	}
	return s
}

func FuzzParseFilesManifest(f *testing.F) {
	f.Add([]byte(fuzzLine+"\n"), false)
	f.Add([]byte(fuzzLine+"\n"+fuzzLine+"\n"), false)
	f.Add([]byte(fuzzLinePrefixed+"\n"), true)
	f.Add([]byte(""), false)
	f.Add([]byte("\n"), true)
	f.Add([]byte(`{"itemCount":-1}`), false)
	f.Fuzz(func(t *testing.T, data []byte, prefixed bool) {
		s := fuzzSummary(1, "")
		if prefixed {
			s = fuzzSummary(2, "vaults/v")
		}
		files, err := parseFilesManifest(data, s)
		if err != nil {
			return
		}
		// What parses re-encodes to something that parses the same.
		var out []byte
		for _, fe := range files {
			line, _ := json.Marshal(fe)
			out = append(append(out, line...), '\n')
		}
		again, err := parseFilesManifest(out, s)
		if err != nil || len(again) != len(files) {
			t.Fatalf("re-encoded manifest does not parse: %v", err)
		}
		for i := range files {
			if again[i] != files[i] {
				t.Fatalf("line %d: %+v != %+v", i, again[i], files[i])
			}
		}
	})
}

func FuzzParseSummary(f *testing.F) {
	for _, s := range []*Summary{fuzzSummary(1, ""), fuzzSummary(2, ""), fuzzSummary(2, "vaults/v")} {
		good, _ := json.Marshal(s)
		f.Add(good)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"version":"2020-06-30","startTime":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseSummary(data, "p")
		if err != nil {
			return
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseSummary(out, "p"); err != nil {
			t.Fatalf("re-encoded summary does not parse: %v\n%s", err, out)
		}
	})
}

func TestParseSummarySeed(t *testing.T) {
	for _, s := range []*Summary{fuzzSummary(1, ""), fuzzSummary(2, ""), fuzzSummary(2, "vaults/v")} {
		data, _ := json.Marshal(s)
		if _, err := parseSummary(data, "p"); err != nil {
			t.Errorf("version %d summary: %v", s.Cairn.FormatVersion, err)
		}
	}
	// A version 2 summary that records a prefix but keys without it.
	s := fuzzSummary(2, "vaults/v")
	s.ManifestFilesS3Key = FilesManifestKey("p")
	data, _ := json.Marshal(s)
	if _, err := parseSummary(data, "p"); err == nil {
		t.Error("summary with a key outside its s3Prefix accepted")
	}
	v1, v2 := fuzzSummary(1, ""), fuzzSummary(2, "vaults/v")
	if _, err := parseFilesManifest([]byte(fuzzLine+"\n"), v1); err != nil {
		t.Fatal(err)
	}
	if _, err := parseFilesManifest([]byte(fuzzLinePrefixed+"\n"), v2); err != nil {
		t.Fatal(err)
	}
	if _, err := parseFilesManifest([]byte(fuzzLine+"\n"+fuzzLine+"\n"), v1); err == nil {
		t.Fatal("duplicate file accepted")
	}
	for _, c := range []struct {
		s    *Summary
		line string
	}{
		{v1, `{"itemCount":1,"md5Checksum":"x","etag":"","dataFileS3Key":"AWSDynamoDB/p/data/a"}`},
		{v1, fuzzLine[:len(fuzzLine)-5]},
		{v1, "\n" + fuzzLine},
		{v1, fuzzLinePrefixed}, // a multipart ETag is no MD5 in version 1
		{v2, fuzzLine},         // outside the recorded prefix
		{v2, strings.Replace(fuzzLinePrefixed, `-3"`, `-3\"x"`, 1)}, // quotes in an ETag
	} {
		if _, err := parseFilesManifest([]byte(c.line), c.s); err == nil {
			t.Errorf("version %d accepted %q", c.s.Cairn.FormatVersion, c.line)
		}
	}
}
