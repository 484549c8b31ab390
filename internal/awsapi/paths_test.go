package awsapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// pythonBotocore returns the path of a python3 that imports botocore, or
// skips the test (fails it in CI).
func pythonBotocore(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(bin, "-c", "import botocore, boto3").Run()
	}
	if err != nil {
		testbed.Missing(t, "python3 with botocore and boto3")
	}
	return bin
}

// runPython runs a script of testdata with args and stdin, and returns its
// stdout.
func runPython(t *testing.T, script string, stdin any, args ...string) []byte {
	t.Helper()
	in, err := json.Marshal(stdin)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pythonBotocore(t), append([]string{filepath.Join("testdata", script)}, args...)...)
	cmd.Env = testbed.Env("AWS_ACCESS_KEY_ID="+testAccessKey, "AWS_SECRET_ACCESS_KEY="+testSecretKey, "AWS_REGION="+testRegion)
	cmd.Stdin = bytes.NewReader(in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("python3 %s: %v\n%s", script, err, errb.String())
	}
	return out.Bytes()
}

func TestNormalizePath(t *testing.T) {
	for raw, want := range map[string]string{
		"":                                 "/",
		"/":                                "/",
		"//":                               "/",
		"/backup-vaults/":                  "/backup-vaults/",
		"/backup-vaults//":                 "/backup-vaults/",
		"//backup-vaults":                  "/backup-vaults",
		"/backup-vaults/./v1":              "/backup-vaults/v1",
		"/backup-vaults/.":                 "/backup-vaults",
		"/backup-vaults/..":                "/",
		"/backup-vaults/../..":             "/",
		"/a/b/../c/":                       "/a/c/",
		"/a/%2E%2E/b":                      "/a/%2E%2E/b", // encoded dots are not dot segments
		"/a/.../b":                         "/a/.../b",
		"/backup-vaults//recovery-points/": "/backup-vaults/recovery-points/",
	} {
		if got := normalizePath(raw); got != want {
			t.Errorf("normalizePath(%q) = %q, want %q", raw, got, want)
		}
	}
}

// TestCanonicalURIMatchesBotocore compares the canonical URI of many paths,
// random mixes of empty, dot and percent-encoded segments included, with
// the one botocore's own signer computes (SigV4Auth._normalize_url_path).
func TestCanonicalURIMatchesBotocore(t *testing.T) {
	paths := []string{"/", "//", "/backup-vaults/", "/backup-vaults/./v1", "/backup-vaults/../x/", "/a//b///c/",
		"/resources/arn%3Aaws%3Adynamodb%3Aus-east-1%3A123456789012%3Atable%2Forders/recovery-points/",
		"/tags/arn%3Aaws%3Abackup%3Aus-east-1%3A123456789012%3Abackup-vault%3Av1/", "/a%20b/c~d/%2E/./..", "/x/y/z/../../.."}
	segs := []string{"", ".", "..", "a", "b-c", "%2F", "%2E", "~x", "arn%3Aaws", "..."}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		var b strings.Builder
		for range 1 + rng.IntN(6) {
			b.WriteString("/" + segs[rng.IntN(len(segs))])
		}
		if rng.IntN(3) == 0 {
			b.WriteString("/")
		}
		paths = append(paths, b.String())
	}
	var want []string
	if err := json.Unmarshal(runPython(t, "botocore_raw.py", paths, "--normalize"), &want); err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		if got := canonicalURIs(p)[0]; got != want[i] {
			t.Errorf("canonical URI of %q = %q; botocore's is %q", p, got, want[i])
		}
	}
}

// botocoreAnswer is what botocore_raw.py prints for one request.
type botocoreAnswer struct {
	Status  int
	Headers map[string]string
	Body    string
}

// TestBotocoreRawPaths sends requests signed by botocore's SigV4 signer
// whose paths have empty and dot segments, sent exactly so. botocore signs
// the normalised path; cairn must accept the signature, then answer with an
// AWS error in JSON (never a redirect, never a signature error) without
// calling the service. A clean path is served.
func TestBotocoreRawPaths(t *testing.T) {
	pythonBotocore(t)
	e := newTestEnv(t, &fakeService{vault: testVault("v1"), vaults: []*backup.Vault{testVault("v1")}}, nil)
	reqs := []map[string]string{
		{"method": "GET", "path": "/backup-vaults/"},         // ListBackupVaults: served
		{"method": "GET", "path": "/backup-vaults//"},        // empty segment
		{"method": "GET", "path": "//backup-vaults/"},        // empty first segment
		{"method": "GET", "path": "/backup-vaults/./v1"},     // dot segment
		{"method": "GET", "path": "/backup-vaults/v2/../v1"}, // dot-dot segment
		{"method": "GET", "path": "/backup-vaults/.."},       // a vault named ".."
		{"method": "DELETE", "path": "/backup-vaults/v1/recovery-points/.."},
		{"method": "PUT", "path": "/backup-vaults//recovery-points/", "body": "{}"},
		{"method": "POST", "path": "/tags/./x", "body": `{"Tags":{"k":"v"}}`},
	}
	var answers []botocoreAnswer
	if err := json.Unmarshal(runPython(t, "botocore_raw.py", reqs, e.srv.URL), &answers); err != nil {
		t.Fatal(err)
	}
	for i, a := range answers {
		r := reqs[i]
		if i == 0 {
			if a.Status != 200 {
				t.Errorf("%s %s: status %d %s, want 200", r["method"], r["path"], a.Status, a.Body)
			}
			continue
		}
		var body errorBody
		if err := json.Unmarshal([]byte(a.Body), &body); err != nil {
			t.Errorf("%s %s: body %q is not JSON: %v", r["method"], r["path"], a.Body, err)
		}
		if a.Status != 400 || a.Headers["x-amzn-errortype"] != "InvalidParameterValueException" || body.Code != "InvalidParameterValueException" ||
			!strings.Contains(body.Message, "cannot be empty") || a.Headers["location"] != "" {
			t.Errorf("%s %s: status %d, error type %q, location %q, body %s; want 400 InvalidParameterValueException in JSON",
				r["method"], r["path"], a.Status, a.Headers["x-amzn-errortype"], a.Headers["location"], a.Body)
		}
	}
	if calls := e.fake.Calls(); len(calls) != 1 || calls[0].Op != "ListVaults" {
		t.Errorf("service calls %+v, want only the ListVaults of the clean path", calls)
	}
}

// TestUncleanPathsGoSigner: aws-sdk-go-v2's signer signs the path as sent,
// without normalising it. Such a signature is accepted too, and the path
// answered with the same JSON error; an unsigned one is still refused first.
func TestUncleanPathsGoSigner(t *testing.T) {
	e := newTestEnv(t, &fakeService{vault: testVault("v1")}, nil)
	for _, p := range []string{"/backup-vaults/./v1", "/backup-vaults/x/../v1", "/backup-vaults//recovery-points/", "/backup-vaults/v1/."} {
		status, typ, body := e.do(t, "GET", p, nil, true)
		if status != 400 || typ != "InvalidParameterValueException" || !json.Valid(body) {
			t.Errorf("signed GET %s: %d %s %s; want 400 InvalidParameterValueException in JSON", p, status, typ, body)
		}
		status, typ, _ = e.do(t, "GET", p, nil, false)
		if status != 403 || typ != "MissingAuthenticationTokenException" {
			t.Errorf("unsigned GET %s: %d %s; want 403 MissingAuthenticationTokenException", p, status, typ)
		}
	}
	if calls := e.fake.Calls(); len(calls) != 0 {
		t.Errorf("the service was called: %+v", calls)
	}
}

// TestAWSCLIDotVaultName: the AWS CLI sends a vault name "." or ".." as a
// dot segment; the answer is an AWS error naming the problem, not a
// signature mismatch.
func TestAWSCLIDotVaultName(t *testing.T) {
	testbed.AWSCLI(t)
	e := newTestEnv(t, &fakeService{vault: testVault("v1")}, nil)
	for _, name := range []string{".", ".."} {
		_, errb, code := awsCLI(t, e.srv.URL, "describe-backup-vault", "--backup-vault-name", name)
		if code == 0 || !bytes.Contains(errb, []byte("InvalidParameterValueException")) || bytes.Contains(errb, []byte("Signature")) {
			t.Errorf("describe-backup-vault --backup-vault-name %s: exit %d: %s", name, code, errb)
		}
	}
	if calls := e.fake.Calls(); len(calls) != 0 {
		t.Errorf("the service was called: %+v", calls)
	}
}

// TestCleanPathMatchesServeMux: every path dispatch lets through is one
// ServeMux serves without a redirect.
func TestCleanPathMatchesServeMux(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {})
	for _, p := range []string{"/", "/a", "/a/", "/a/b/", "/a//b", "/a/./b", "/a/../b", "//", "/a/.", "/a/..", "/.", "/a/.b/", "/%2E/"} {
		req, _ := http.NewRequest("GET", "http://x"+p, nil)
		rec := &statusRecorder{}
		mux.ServeHTTP(rec, req)
		redirected := rec.status == http.StatusTemporaryRedirect || rec.status == http.StatusMovedPermanently
		if clean := cleanPath(req.URL.EscapedPath()) == req.URL.EscapedPath(); clean == redirected {
			t.Errorf("%s: clean %v, ServeMux redirects %v", p, clean, redirected)
		}
	}
}

type statusRecorder struct {
	status int
	h      http.Header
}

func (r *statusRecorder) Header() http.Header {
	if r.h == nil {
		r.h = http.Header{}
	}
	return r.h
}
func (r *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *statusRecorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}

// FuzzNormalizePath: a normalised request path is its own normal form and
// clean for ServeMux (no empty, "." or ".." segment).
func FuzzNormalizePath(f *testing.F) {
	for _, p := range []string{"/", "//a/./b/../c/", "/backup-vaults/..", "a/b", "/%2E/./", ""} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p // a request's path; botocore's relative-path answers differ only off it
		}
		n := normalizePath(p)
		if normalizePath(n) != n {
			t.Fatalf("normalizePath(%q) = %q, which normalises to %q", p, n, normalizePath(n))
		}
		if cleanPath(n) != n {
			t.Fatalf("normalizePath(%q) = %q, which ServeMux would clean to %q", p, n, cleanPath(n))
		}
		if len(canonicalURIs(p)) < 1 || len(canonicalURIs(p)) > 2 {
			t.Fatalf("canonicalURIs(%q) = %q", p, canonicalURIs(p))
		}
	})
}
