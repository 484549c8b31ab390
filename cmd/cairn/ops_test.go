package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/testbed"
)

// The Dockerfile's build command is the one docs/operations.md gives, and
// it makes a static binary (no ELF interpreter, no shared libraries) that
// runs. The systemd unit in contrib/ is valid, gives SIGTERM to the server
// and leaves it more than its default grace period.
func TestStaticBuildAndServiceFiles(t *testing.T) {
	root := testbed.RepoRoot()
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := os.ReadFile(filepath.Join(root, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	var build string
	for line := range strings.SplitSeq(string(dockerfile), "\n") {
		if cmd, ok := strings.CutPrefix(line, "RUN "); ok && strings.Contains(cmd, "go build") {
			build = cmd
		}
	}
	if !strings.HasPrefix(build, "CGO_ENABLED=0 go build ") || !strings.Contains(build, "-o /out/cairn ./cmd/cairn") {
		t.Fatalf("the Dockerfile's build step %q is not a CGO_ENABLED=0 build of ./cmd/cairn into /out/cairn", build)
	}
	if !bytes.Contains(docs, []byte(build)) {
		t.Fatalf("docs/operations.md does not give the Dockerfile's build command %q", build)
	}

	out := filepath.Join(t.TempDir(), "cairn")
	cmd := exec.Command("sh", "-c", strings.Replace(build, "-o /out/cairn", "-o "+out, 1))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "VERSION=ops-test", "CGO_ENABLED=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary needs an ELF interpreter: it is not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("the binary needs shared libraries %v", libs)
	}
	f.Close()
	if b, err := exec.Command(out, "version").CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "cairn ops-test" {
		t.Fatalf("%s version: %v %q", out, err, b)
	}
	if !regexp.MustCompile(`(?m)^CMD \["server", "--listen", ":7171", "--data-dir", "/var/lib/cairn"\]$`).Match(dockerfile) ||
		!bytes.Contains(dockerfile, []byte("VOLUME /var/lib/cairn")) {
		t.Error("the image's command must listen on :7171 with its data dir on the volume")
	}

	unitPath := filepath.Join(root, "contrib", "systemd", "cairn.service")
	unit, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(docs, []byte("contrib/systemd/cairn.service")) {
		t.Error("docs/operations.md does not point at the unit file")
	}
	m := regexp.MustCompile(`(?m)^TimeoutStopSec=(\S+)$`).FindSubmatch(unit)
	if m == nil {
		t.Fatal("the unit sets no TimeoutStopSec")
	}
	stop, err := time.ParseDuration(string(m[1]))
	if err != nil || stop < DefaultShutdownGrace+30*time.Second {
		t.Errorf("TimeoutStopSec=%s must exceed the default shutdown grace %v by 30s (%v)", m[1], DefaultShutdownGrace, err)
	}
	for _, want := range []string{"ExecStart=/usr/local/bin/cairn server ", "KillSignal=SIGTERM", "StateDirectory=cairn"} {
		if !bytes.Contains(unit, []byte(want)) {
			t.Errorf("the unit does not say %q", want)
		}
	}
	// systemd checks the unit if it is on this machine (it checks that the
	// command exists, so point it at the binary just built).
	if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
		copyPath := filepath.Join(t.TempDir(), "cairn.service")
		os.WriteFile(copyPath, bytes.ReplaceAll(unit, []byte("/usr/local/bin/cairn"), []byte(out)), 0o644)
		if b, err := exec.Command(analyze, "verify", copyPath).CombinedOutput(); err != nil || len(bytes.TrimSpace(b)) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, b)
		}
	} else {
		t.Log("systemd-analyze is not installed: the unit's syntax was not checked by systemd")
	}
}

// --log-format json writes one JSON object per line, with the constant
// keys; text stays the default.
func TestJSONLogs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := startProcWith(t, dir, "http://127.0.0.1:1", "log_format: json\n")
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}
	b, err := os.ReadFile(p.log)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		if line["level"] == nil || line["time"] == nil {
			t.Fatalf("log line without level or time: %q", sc.Text())
		}
		msgs = append(msgs, line["msg"].(string))
	}
	joined := strings.Join(msgs, "\n")
	for _, want := range []string{"cairn server started", "cairn server stopped"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no %q in the log:\n%s", want, b)
		}
	}
}
