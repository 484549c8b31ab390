package vault

import (
	"encoding/json"
	"testing"
)

const (
	fuzzLine = `{"itemCount":3,"md5Checksum":"sQMSpEILNgoQmarvDFonGQ==","etag":"b10312a4420b360a1099aaef0c5a2719",` +
		`"dataFileS3Key":"AWSDynamoDB/p/data/abc.json.zst","sha256":"` +
		`e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":10,"uncompressedSize":30}`
)

func FuzzParseFilesManifest(f *testing.F) {
	f.Add([]byte(fuzzLine + "\n"))
	f.Add([]byte(fuzzLine + "\n" + fuzzLine + "\n"))
	f.Add([]byte(""))
	f.Add([]byte("\n"))
	f.Add([]byte(`{"itemCount":-1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := parseFilesManifest(data, "p")
		if err != nil {
			return
		}
		// What parses re-encodes to something that parses the same.
		var out []byte
		for _, fe := range files {
			line, _ := json.Marshal(fe)
			out = append(append(out, line...), '\n')
		}
		again, err := parseFilesManifest(out, "p")
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
	s := Summary{
		Version: SummaryVersion, OutputFormat: OutputFormat, ExportType: ExportType,
		ManifestFilesS3Key: FilesManifestKey("p"),
		Cairn: CairnSummary{
			FormatVersion: FormatVersion, RecoveryPointID: "p", Compression: Zstd,
			ManifestFiles: digest(FilesManifestKey("p"), nil), Metadata: digest(MetadataKey("p"), nil),
		},
	}
	good, _ := json.Marshal(s)
	f.Add(good)
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
	if _, err := parseFilesManifest([]byte(fuzzLine+"\n"), "p"); err != nil {
		t.Fatal(err)
	}
	if _, err := parseFilesManifest([]byte(fuzzLine+"\n"+fuzzLine+"\n"), "p"); err == nil {
		t.Fatal("duplicate file accepted")
	}
	for _, bad := range []string{
		`{"itemCount":1,"md5Checksum":"x","etag":"","dataFileS3Key":"AWSDynamoDB/p/data/a"}`,
		fuzzLine[:len(fuzzLine)-5],
		"\n" + fuzzLine,
	} {
		if _, err := parseFilesManifest([]byte(bad), "p"); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
