package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/cairn-backup/cairn/internal/testbed"
)

// openServer runs the real server in-process with cfg adjusted by adjust,
// on a fresh data dir; no job runs, so its DynamoDB source is a dead port.
func openServer(t *testing.T, adjust func(*Config)) *Main {
	t.Helper()
	m := &Main{Config: Config{Listen: "127.0.0.1:0", DataDir: filepath.Join(t.TempDir(), "data"),
		Sources: []SourceConfig{{Name: "local", Region: "us-east-1", Endpoint: "http://127.0.0.1:1", AccessKeyID: "x", SecretAccessKey: "x"}}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		m.Logger = slog.Default()
	}
	if adjust != nil {
		adjust(&m.Config)
	}
	if err := m.Open(context.Background()); err != nil {
		t.Fatalf("open server: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// signedHeaders returns the headers of a request for path signed with the
// server's key pair, for a body of bodyLen bytes whose hash is bodyHash.
func signedHeaders(t *testing.T, m *Main, method, path string, bodyLen int, bodyHash string) http.Header {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+m.Addr+path, nil)
	req.ContentLength = int64(bodyLen)
	req.Header.Set("Content-Length", fmt.Sprint(bodyLen))
	creds := aws.Credentials{AccessKeyID: m.Keys.AccessKeyID, SecretAccessKey: m.Keys.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, bodyHash, "backup", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req.Header
}

func rawRequest(method, path, host string, h http.Header) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host)
	for k, vs := range h {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

// waitClosed reads from c until the server closes it; it fails if the
// connection is still open after a minute (a guard against a hang, not a
// measure of speed).
func waitClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Minute))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("%s: the server kept the connection open", what)
	}
}

// Slow and idle clients are disconnected by the configured timeouts: one
// that never finishes its headers (ReadHeaderTimeout), one that sends a
// signed request's body too slowly (ReadTimeout), one that sits idle on a
// kept-alive connection (IdleTimeout); headers over MaxHeaderBytes are
// refused.
func TestSlowClientsAreDisconnected(t *testing.T) {
	m := openServer(t, func(c *Config) {
		c.ReadHeaderTimeout, c.ReadTimeout, c.IdleTimeout = 300*time.Millisecond, time.Second, 500*time.Millisecond
		c.MaxHeaderBytes = 8 << 10
	})
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", m.Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	// Many connections that never finish their headers.
	var conns []net.Conn
	for range 100 {
		c := dial()
		fmt.Fprintf(c, "POST /backup-vaults/ HTTP/1.1\r\nHost: %s\r\nX-Slow: ", m.Addr)
		conns = append(conns, c)
	}
	for i, c := range conns {
		waitClosed(t, c, fmt.Sprintf("unfinished headers #%d", i))
	}

	// A signed request whose body never arrives in full.
	body := strings.Repeat("x", 1000)
	sum := sha256.Sum256([]byte(body))
	c := dial()
	io.WriteString(c, rawRequest("POST", "/backup-vaults/slow", m.Addr, signedHeaders(t, m, "POST", "/backup-vaults/slow", len(body), hex.EncodeToString(sum[:]))))
	io.WriteString(c, body[:10])
	waitClosed(t, c, "slow body")

	// A kept-alive connection left idle after a good request.
	empty := sha256.Sum256(nil)
	c = dial()
	io.WriteString(c, rawRequest("GET", "/backup-vaults/", m.Addr, signedHeaders(t, m, "GET", "/backup-vaults/", 0, hex.EncodeToString(empty[:]))))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 || resp.Close {
		t.Fatalf("signed request: %v %v", resp, err)
	}
	waitClosed(t, c, "idle keep-alive connection")

	// Headers over max_header_bytes.
	c = dial()
	fmt.Fprintf(c, "GET /backup-vaults/ HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n", m.Addr, strings.Repeat("y", 64<<10))
	c.SetReadDeadline(time.Now().Add(time.Minute))
	if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized headers: %v %v", resp, err)
	}
}

// writeTLSFiles makes a CA and a certificate for 127.0.0.1 signed by it and
// returns the paths of the CA's certificate, the server's certificate and
// its key.
func writeTLSFiles(t *testing.T) (caFile, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cairn test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	caCert, _ := x509.ParseCertificate(caDER)
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("cert.pem", "CERTIFICATE", leafDER), write("key.pem", "EC PRIVATE KEY", keyDER)
}

// With --tls-cert and --tls-key the API is served over HTTPS only: the real
// AWS CLI (--ca-bundle) and cairn's CLI (AWS_CA_BUNDLE) work against it,
// without the CA they refuse the certificate, and plain HTTP gets nowhere.
func TestTLS(t *testing.T) {
	caFile, certFile, keyFile := writeTLSFiles(t)
	m := openServer(t, func(c *Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	endpoint := "https://" + m.Addr
	keys := []string{"AWS_ACCESS_KEY_ID=" + m.Keys.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + m.Keys.SecretAccessKey}

	aws := exec.Command(testbed.AWSCLI(t), "backup", "list-backup-vaults", "--endpoint-url", endpoint, "--ca-bundle", caFile, "--output", "json")
	aws.Env = testbed.Env(keys...)
	out, err := aws.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"BackupVaultName": "Default"`) {
		t.Fatalf("aws backup list-backup-vaults over TLS: %v\n%s", err, out)
	}
	aws = exec.Command(testbed.AWSCLI(t), "backup", "create-backup-vault", "--backup-vault-name", "over-tls", "--endpoint-url", endpoint, "--output", "json")
	aws.Env = testbed.Env(append(keys, "AWS_CA_BUNDLE="+caFile)...)
	if out, err := aws.CombinedOutput(); err != nil {
		t.Fatalf("aws backup create-backup-vault with AWS_CA_BUNDLE: %v\n%s", err, out)
	}

	cairn := func(env ...string) (string, error) {
		cmd := exec.Command(cairnBinary(t), "vault", "list")
		cmd.Env = testbed.Env(append([]string{"CAIRN_ENDPOINT=" + endpoint, "CAIRN_ACCESS_KEY_ID=" + m.Keys.AccessKeyID,
			"CAIRN_SECRET_ACCESS_KEY=" + m.Keys.SecretAccessKey}, env...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := cairn("AWS_CA_BUNDLE=" + caFile); err != nil || !strings.Contains(out, "over-tls") {
		t.Fatalf("cairn vault list over TLS: %v\n%s", err, out)
	}
	if out, err := cairn(); err == nil || !strings.Contains(out, "certificate") {
		t.Fatalf("cairn vault list without the CA: %v\n%s", err, out)
	}
	resp, err := http.Get("http://" + m.Addr + "/backup-vaults/")
	if err == nil && resp.StatusCode < 400 {
		t.Fatalf("plain HTTP to the TLS port answered %s", resp.Status)
	}
}
