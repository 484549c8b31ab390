package dynamodb

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

func hmacSHA256(key []byte, s string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(s))
	return h.Sum(nil)
}

// verifySigV4 checks r's signature from first principles (the AWS
// Signature Version 4 documentation), not with the SDK's signer.
func verifySigV4(t *testing.T, r *http.Request, body []byte, secret, region, service string) {
	t.Helper()
	auth := r.Header.Get("Authorization")
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		t.Fatalf("Authorization %q", auth)
	}
	fields := map[string]string{}
	for _, kv := range strings.Split(strings.TrimPrefix(auth, algo), ", ") {
		k, v, _ := strings.Cut(kv, "=")
		fields[k] = v
	}
	scope := strings.SplitN(fields["Credential"], "/", 2)[1]
	date := r.Header.Get("X-Amz-Date")
	if want := date[:8] + "/" + region + "/" + service + "/aws4_request"; scope != want {
		t.Fatalf("scope %q, want %q", scope, want)
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	if !sort.StringsAreSorted(signed) {
		t.Fatalf("signed headers not sorted: %v", signed)
	}
	for _, must := range []string{"host", "x-amz-date", "x-amz-target", "content-type"} {
		if !strings.Contains(";"+fields["SignedHeaders"]+";", ";"+must+";") {
			t.Errorf("%s not signed: %v", must, signed)
		}
	}
	var canon strings.Builder
	for _, h := range signed {
		v := r.Header.Get(h)
		switch h {
		case "host":
			v = r.Host
		case "content-length":
			v = r.Header.Get("Content-Length")
		}
		canon.WriteString(h + ":" + strings.TrimSpace(v) + "\n")
	}
	sum := sha256.Sum256(body)
	creq := strings.Join([]string{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, canon.String(), fields["SignedHeaders"], hex.EncodeToString(sum[:])}, "\n")
	creqSum := sha256.Sum256([]byte(creq))
	sts := "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + hex.EncodeToString(creqSum[:])
	key := hmacSHA256([]byte("AWS4"+secret), date[:8])
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	key = hmacSHA256(key, "aws4_request")
	if got, want := fields["Signature"], hex.EncodeToString(hmacSHA256(key, sts)); got != want {
		t.Errorf("signature %s, want %s; canonical request:\n%s", got, want, creq)
	}
}

func TestRequestsAreSigned(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		verifySigV4(t, r, body, "s3cr3t", "eu-central-1", "dynamodb")
		if r.Header.Get("X-Amz-Security-Token") != "tok" {
			t.Errorf("session token %q", r.Header.Get("X-Amz-Security-Token"))
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
			t.Errorf("Content-Type %q", ct)
		}
		seen = append(seen, r.Header.Get("X-Amz-Target"))
		switch r.Header.Get("X-Amz-Target") {
		case "DynamoDB_20120810.Scan":
			_, _ = io.WriteString(w, `{"Count":1,"ScannedCount":1,"Items":[{"pk":{"S":"a"}}]}`)
		default:
			_, _ = io.WriteString(w, `{"UnprocessedItems":{"t":[{"PutRequest":{"Item":{"pk":{"S":"b"}}}}]},"ConsumedCapacity":[{"TableName":"t","CapacityUnits":2}]}`)
		}
	}))
	defer srv.Close()
	c, err := New(aws.Config{Region: "eu-central-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "s3cr3t", "tok")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := c.ScanPage(ctx, ScanInput{Table: "t", Segment: 1, TotalSegments: 2})
	if err != nil || len(p.Items) != 1 || string(p.Items[0]) != `{"pk":{"S":"a"}}` || p.LastEvaluatedKey != nil {
		t.Fatalf("scan: %v %+v", err, p)
	}
	p.Release()
	p.Release()
	un, cu, err := c.BatchWrite(ctx, "t", [][]byte{[]byte(`{"pk":{"S":"a"}}`), []byte(`{"pk":{"S":"b"}}`)})
	if err != nil || len(un) != 1 || string(un[0]) != `{"pk":{"S":"b"}}` || cu != 2 {
		t.Fatalf("batch write: %v %q %v", err, un, cu)
	}
	if strings.Join(seen, ",") != "DynamoDB_20120810.Scan,DynamoDB_20120810.BatchWriteItem" {
		t.Errorf("targets %v", seen)
	}
}

func TestChecksumMismatchIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amz-Crc32", "12345")
		_, _ = io.WriteString(w, `{"Count":0,"ScannedCount":0,"Items":[]}`)
	}))
	defer srv.Close()
	c, err := New(testConfig(srv.URL), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ScanPage(context.Background(), ScanInput{Table: "t"})
	if err == nil || !IsRetryable(err) {
		t.Fatalf("err %v", err)
	}
}
