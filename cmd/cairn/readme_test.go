package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/testbed"
)

// readmeSkip marks, on the line before a fence, a README block the test
// does not run.
const readmeSkip = "<!-- readme-test: skip"

// readmeBlock is one ```sh block of the README.
type readmeBlock struct {
	line int // of the opening fence
	text string
	skip string // why it is not run; "" if it is
}

// readmeBlocks returns the sh blocks of the README in order.
func readmeBlocks(t *testing.T, path string) []readmeBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks []readmeBlock
		cur    *readmeBlock
		prev   string
		n      int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		l := sc.Text()
		switch {
		case cur == nil && (l == "```sh" || l == "```bash"):
			cur = &readmeBlock{line: n}
			if strings.HasPrefix(strings.TrimSpace(prev), readmeSkip) {
				cur.skip = strings.TrimSpace(prev)
			}
		case cur != nil && l == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += l + "\n"
		}
		if strings.TrimSpace(l) != "" {
			prev = l
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s: the block at line %d is not closed", path, cur.line)
	}
	return blocks
}

// TestREADME runs the README's command blocks in order with bash, as a new
// user pasting them would: a temporary HOME, no AWS or CAIRN variables,
// dynalite from the test bed in place of the README's port 8000, a free
// port in place of 7171. Any command that fails fails the test.
func TestREADME(t *testing.T) {
	for _, tool := range []struct{ name, install string }{
		{"bash", "install bash"}, {"jq", "install jq (Debian: apt-get install jq)"},
		{"go", "install Go"}, {"node", "install Node.js"},
	} {
		if _, err := exec.LookPath(tool.name); err != nil {
			testbed.Missing(t, tool.name, tool.install)
		}
	}
	aws := testbed.AWSCLI(t)
	dyn := testbed.Dynalite(t)
	apiPort := testbed.FreePort(t)
	root := testbed.RepoRoot()

	blocks := readmeBlocks(t, filepath.Join(root, "README.md"))
	var script strings.Builder
	script.WriteString("set -eo pipefail\nPS4='+ README: '\nset -x\n")
	ran, skipped := 0, 0
	for _, b := range blocks {
		if b.skip != "" {
			skipped++
			continue
		}
		ran++
		text := strings.ReplaceAll(b.text, "127.0.0.1:8000", fmt.Sprintf("127.0.0.1:%d", dyn.Port))
		text = strings.ReplaceAll(text, "127.0.0.1:7171", fmt.Sprintf("127.0.0.1:%d", apiPort))
		fmt.Fprintf(&script, ": README.md block at line %d\n%s\n", b.line, text)
	}
	// The list of skipped blocks stays short: the README is meant to run.
	if ran < 5 || skipped > 6 {
		t.Fatalf("README: %d blocks run, %d skipped; want most of them run", ran, skipped)
	}

	home := t.TempDir()
	env := []string{"HOME=" + home, "PATH=" + filepath.Dir(aws) + string(os.PathListSeparator) + os.Getenv("PATH")}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "HOME" || k == "PATH" || strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "CAIRN_") {
			continue
		}
		env = append(env, kv)
	}
	// Go's caches stay where they are, so that the README's go build is
	// not a cold one.
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		out, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", k, err)
		}
		env = append(env, k+"="+strings.TrimSpace(string(out)))
	}

	logf, err := os.Create(filepath.Join(t.TempDir(), "readme.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir, cmd.Env = root, env
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so that whatever the README left running
	// (the server, if a block failed before stopping it) is stopped.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	runErr := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	out, _ := os.ReadFile(logf.Name())
	if runErr != nil {
		serverLog, _ := os.ReadFile(filepath.Join(root, "cairn.log"))
		t.Fatalf("the README's commands failed: %v\noutput (the last command run is the last '+ README:' line):\n%s\ncairn.log:\n%s",
			runErr, out, serverLog)
	}
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		t.Logf("README run:\n%s", out)
	}
	_ = os.Remove(filepath.Join(root, "cairn.log"))
}
