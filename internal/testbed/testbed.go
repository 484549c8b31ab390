// Package testbed starts the real servers cairn is tested against (dynalite,
// versitygw, moto, Prometheus, PostgreSQL) on free loopback ports, one per
// test, and stops them when the test ends. scripts/testbed.sh installs them
// into .testbed/ (or $CAIRN_TESTBED_DIR).
//
// A missing server skips the test on a developer's machine, with the command
// that installs it, and fails it when CI=true: CI never skips an integration
// test.
package testbed

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Dir returns the test bed directory.
func Dir() string {
	if d := os.Getenv("CAIRN_TESTBED_DIR"); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(), ".testbed")
}

// RepoRoot returns the root of the cairn checkout.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// MotoInstall is the command that installs moto_server, which comes from
// Python's package index (scripts/testbed.sh cannot install it).
const MotoInstall = `pip install "moto[server]==5.2.1"`

// installTestbed is how to install what scripts/testbed.sh installs.
const installTestbed = "run scripts/testbed.sh (or make testbed)"

// Missing skips the test, or fails it under CI=true, because what names is
// not installed; install says how to install it (default: run
// scripts/testbed.sh).
func Missing(t testing.TB, what string, install ...string) {
	t.Helper()
	how := installTestbed
	if len(install) > 0 {
		how = strings.Join(install, "; ")
	}
	msg := fmt.Sprintf("%s is not installed; %s", what, how)
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and %s", msg)
	}
	t.Skip(msg)
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Server is a started test bed server.
type Server struct {
	// Endpoint is the base URL, http://127.0.0.1:PORT.
	Endpoint string
	Port     int
	cmd      *exec.Cmd
}

// Stop kills the server and waits for it.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

func start(t testing.TB, name string, cmd *exec.Cmd, port int, ready func(endpoint string) bool) *Server {
	t.Helper()
	logf, err := os.CreateTemp("", "cairn-testbed-"+name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), Port: port, cmd: cmd}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			// A test server that died mid-test is a common cause of
			// "connection refused": show what it said.
			out, _ := os.ReadFile(logf.Name())
			if len(out) > 4096 {
				out = out[len(out)-4096:]
			}
			t.Logf("%s output, last 4 KB:\n%s", name, out)
		}
		logf.Close()
		os.Remove(logf.Name())
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if ready(s.Endpoint) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, _ := os.ReadFile(logf.Name())
	t.Fatalf("%s did not become ready on %s; its output:\n%s", name, s.Endpoint, out)
	return nil
}

func httpReady(endpoint string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// DynaliteGuard is the script dynalite is started with (node -r) so that a
// client that disconnects in the middle of a request does not crash it (see
// the script).
func DynaliteGuard() string { return filepath.Join(RepoRoot(), "scripts", "dynalite-guard.js") }

// Dynalite starts an in-memory dynalite and returns it. Its tables are the
// test's own.
func Dynalite(t testing.TB) *Server {
	t.Helper()
	cli := filepath.Join(Dir(), "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		Missing(t, "dynalite", installTestbed)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		Missing(t, "node", "install Node.js and npm (Debian: apt-get install nodejs npm)")
	}
	port := FreePort(t)
	cmd := exec.Command(node, "-r", DynaliteGuard(), cli, "--host", "127.0.0.1", "--port", fmt.Sprint(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	return start(t, "dynalite", cmd, port, httpReady)
}

// S3 is a started versitygw with its credentials.
type S3 struct {
	*Server
	AccessKey string
	SecretKey string
	Dir       string
}

// Versity starts versitygw serving a fresh directory; buckets are created
// through the S3 API.
func Versity(t testing.TB) *S3 {
	t.Helper()
	s := &S3{AccessKey: "cairntestkey", SecretKey: "cairntestsecret", Dir: t.TempDir()}
	s.Server = s.start(t, FreePort(t))
	return s
}

// Restart starts a stopped versitygw again on the same port and directory,
// for tests of an S3 endpoint that goes down and comes back.
func (s *S3) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	s.Server = s.start(t, s.Port)
}

func (s *S3) start(t testing.TB, port int) *Server {
	t.Helper()
	bin := filepath.Join(Dir(), "bin", "versitygw")
	if _, err := os.Stat(bin); err != nil {
		Missing(t, "versitygw", installTestbed)
	}
	cmd := exec.Command(bin, "--port", fmt.Sprintf("127.0.0.1:%d", port), "--access", s.AccessKey,
		"--secret", s.SecretKey, "--quiet", "posix", s.Dir)
	return start(t, "versitygw", cmd, port, httpReady)
}

// Moto starts moto_server, which implements the DynamoDB APIs dynalite
// lacks (TTL, PITR, streams, tags at CreateTable), slowly.
func Moto(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		Missing(t, "moto_server", "install it with: "+MotoInstall)
	}
	port := FreePort(t)
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	return start(t, "moto", cmd, port, httpReady)
}

// AWSCLI returns the path of the aws command ($CAIRN_AWS_CLI, else aws on
// PATH), or skips/fails the test. Tests pass --endpoint-url: Debian's
// aws-cli 2.9.19 ignores AWS_ENDPOINT_URL.
func AWSCLI(t testing.TB) string {
	t.Helper()
	name := "aws"
	if v := os.Getenv("CAIRN_AWS_CLI"); v != "" {
		name = v
	}
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "the AWS CLI ("+name+")", installTestbed+"; it installs Debian's awscli package with apt-get")
	}
	return p
}

// Promtool returns the path of Prometheus' promtool ($CAIRN_PROMTOOL, else
// promtool on PATH), or skips/fails the test.
func Promtool(t testing.TB) string {
	t.Helper()
	name := "promtool"
	if v := os.Getenv("CAIRN_PROMTOOL"); v != "" {
		name = v
	}
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "promtool ("+name+")", installTestbed+"; it installs Debian's prometheus package with apt-get")
	}
	return p
}

// Env returns os.Environ() with the AWS variables a test client needs to
// talk to a local server and nothing of the developer's own AWS setup.
func Env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "CAIRN_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	return append(env, extra...)
}

// Prometheus starts a real Prometheus server (Debian's prometheus package,
// the one that gives promtool; $CAIRN_PROMETHEUS names another binary)
// with the configuration file config, its data in a temporary directory.
func Prometheus(t testing.TB, config string) *Server {
	t.Helper()
	name := "prometheus"
	if v := os.Getenv("CAIRN_PROMETHEUS"); v != "" {
		name = v
	}
	bin, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "prometheus ("+name+")", installTestbed+"; it installs Debian's prometheus package with apt-get")
	}
	port := FreePort(t)
	cmd := exec.Command(bin, "--config.file="+config, "--storage.tsdb.path="+t.TempDir(),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--log.level=warn")
	return start(t, "prometheus", cmd, port, func(endpoint string) bool {
		resp, err := http.Get(endpoint + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// Chromium returns the path of Debian's Chromium ($CAIRN_CHROMIUM, else
// chromium or chromium-browser on PATH), or skips/fails the test. The
// console's browser tests drive it headless; scripts/testbed.sh installs
// Debian's chromium package with apt-get when it is missing.
func Chromium(t testing.TB) string {
	t.Helper()
	names := []string{"chromium", "chromium-browser"}
	if v := os.Getenv("CAIRN_CHROMIUM"); v != "" {
		names = []string{v}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	Missing(t, "Chromium ("+strings.Join(names, " or ")+")", "run scripts/testbed.sh chromium (or make testbed); it installs Debian's chromium package with apt-get")
	return ""
}
