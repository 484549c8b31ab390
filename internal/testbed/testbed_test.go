package testbed_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/testbed"
)

// A client that disconnects in the middle of sending a request body (a
// cairn server killed during a BatchWriteItem) must not take dynalite down:
// without the guard, dynalite 4.0.0 rethrows the request's "aborted" error
// and exits, and the next request gets "connection refused".
func TestDynaliteSurvivesAnAbortedRequest(t *testing.T) {
	srv := testbed.Dynalite(t)
	for round := range 3 {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", srv.Port))
		if err != nil {
			t.Fatal(err)
		}
		body := `{"RequestItems":{"t":[{"PutRequest":{"Item":{"pk":{"S":"`
		fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: DynamoDB_20120810.BatchWriteItem\r\n"+
			"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 100000\r\n\r\n%s", body)
		time.Sleep(50 * time.Millisecond) // let dynalite start reading the body
		conn.Close()
		time.Sleep(100 * time.Millisecond)

		req, _ := http.NewRequest(http.MethodPost, srv.Endpoint, strings.NewReader(`{}`))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00")
		req.Header.Set("X-Amz-Date", "20260101T000000Z")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("round %d: dynalite is gone after a client aborted a request: %v", round, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("round %d: ListTables answered %s", round, resp.Status)
		}
	}
}

// recorder is a testing.TB that records what Missing says instead of
// ending the test.
type recorder struct {
	testing.TB
	msg string
}

type stopped struct{}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, a ...any) {
	r.msg = fmt.Sprintf(format, a...)
	panic(stopped{})
}
func (r *recorder) Skip(a ...any) { r.msg = fmt.Sprint(a...); panic(stopped{}) }

func said(t *testing.T, f func(t testing.TB)) string {
	r := &recorder{TB: t}
	func() {
		defer func() {
			if v := recover(); v != nil {
				if _, ok := v.(stopped); !ok {
					panic(v)
				}
			}
		}()
		f(r)
	}()
	return r.msg
}

// A missing server fails under CI=true with the command that installs it:
// moto from Python's package index, the rest with scripts/testbed.sh.
func TestMissingSaysHowToInstall(t *testing.T) {
	t.Setenv("CI", "true")
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CAIRN_AWS_CLI", "")
	if msg := said(t, func(t testing.TB) { testbed.Moto(t) }); !strings.Contains(msg, `pip install "moto[server]==5.2.1"`) || !strings.Contains(msg, "CI=true") {
		t.Errorf("missing moto_server: %q", msg)
	}
	if msg := said(t, func(t testing.TB) { testbed.AWSCLI(t) }); !strings.Contains(msg, "scripts/testbed.sh") || !strings.Contains(msg, "awscli") {
		t.Errorf("missing aws: %q", msg)
	}
	t.Setenv("CAIRN_TESTBED_DIR", t.TempDir())
	if msg := said(t, func(t testing.TB) { testbed.Versity(t) }); !strings.Contains(msg, "scripts/testbed.sh") {
		t.Errorf("missing versitygw: %q", msg)
	}
	t.Setenv("CAIRN_POSTGRES_BIN", t.TempDir())
	if msg := said(t, func(t testing.TB) { testbed.PostgresServer(t) }); !strings.Contains(msg, "CI=true") ||
		!strings.Contains(msg, "postgresql package") {
		t.Errorf("missing PostgreSQL: %q", msg)
	}
}
