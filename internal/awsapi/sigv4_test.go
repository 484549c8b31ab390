package awsapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const testSig = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"

func TestParseAuthorization(t *testing.T) {
	good := sigV4Auth{AccessKeyID: "AKID", Date: "20150830", Region: "us-east-1", Service: "backup",
		SignedHeaders: []string{"content-type", "host", "x-amz-date"}, Signature: testSig}
	tests := []struct {
		name, header string
		want         *sigV4Auth // nil: must fail
	}{
		{"sdk form", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/backup/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=" + testSig, &good},
		{"no spaces", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/backup/aws4_request,SignedHeaders=content-type;host;x-amz-date,Signature=" + testSig, &good},
		{"any order", "AWS4-HMAC-SHA256 Signature=" + testSig + ", Credential=AKID/20150830/us-east-1/backup/aws4_request, SignedHeaders=content-type;host;x-amz-date", &good},
		{"empty", "", nil},
		{"other algorithm", "AWS4-HMAC-SHA512 Credential=AKID/20150830/us-east-1/backup/aws4_request, SignedHeaders=host, Signature=" + testSig, nil},
		{"sigv2", "AWS AKID:abc", nil},
		{"no credential", "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + testSig, nil},
		{"no signed headers", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/backup/aws4_request, Signature=" + testSig, nil},
		{"no signature", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/backup/aws4_request, SignedHeaders=host", nil},
		{"repeated", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/backup/aws4_request, Credential=AKID/20150830/us-east-1/backup/aws4_request, SignedHeaders=host, Signature=" + testSig, nil},
		{"unknown part", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/backup/aws4_request, SignedHeaders=host, Signature=" + testSig + ", Extra=1", nil},
		{"not key=value", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/backup/aws4_request, SignedHeaders=host, " + testSig, nil},
		{"short scope", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/aws4_request, SignedHeaders=host, Signature=" + testSig, nil},
		{"bad terminator", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/backup/aws5_request, SignedHeaders=host, Signature=" + testSig, nil},
		{"bad date", "AWS4-HMAC-SHA256 Credential=AKID/2015-08-30/us-east-1/backup/aws4_request, SignedHeaders=host, Signature=" + testSig, nil},
		{"empty key", "AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/backup/aws4_request, SignedHeaders=host, Signature=" + testSig, nil},
		{"unsorted headers", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/backup/aws4_request, SignedHeaders=x-amz-date;host, Signature=" + testSig, nil},
		{"upper-case header", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/backup/aws4_request, SignedHeaders=Host, Signature=" + testSig, nil},
		{"duplicate header", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/backup/aws4_request, SignedHeaders=host;host, Signature=" + testSig, nil},
		{"host not signed", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/backup/aws4_request, SignedHeaders=x-amz-date, Signature=" + testSig, nil},
		{"short signature", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/backup/aws4_request, SignedHeaders=host, Signature=abc", nil},
		{"upper-case signature", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/backup/aws4_request, SignedHeaders=host, Signature=" + strings.ToUpper(testSig), nil},
		{"not hex", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/backup/aws4_request, SignedHeaders=host, Signature=" + strings.Repeat("g", 64), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAuthorization(tt.header)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("parsed %q as %+v", tt.header, got)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, *tt.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, *tt.want)
			}
		})
	}
}

// TestSignatureKnownAnswer checks the whole computation against the
// example of AWS's Signature Version 4 documentation (IAM ListUsers).
func TestSignatureKnownAnswer(t *testing.T) {
	r := httptest.NewRequest("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	a := sigV4Auth{AccessKeyID: "AKIDEXAMPLE", Date: "20150830", Region: "us-east-1", Service: "iam",
		SignedHeaders: []string{"content-type", "host", "x-amz-date"}}
	creq, err := canonicalRequest(r, canonicalURI(rawPath(r)), a.SignedHeaders, hashHex(nil), false)
	if err != nil {
		t.Fatal(err)
	}
	wantCreq := "GET\n/\nAction=ListUsers&Version=2010-05-08\n" +
		"content-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n" +
		"content-type;host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if creq != wantCreq {
		t.Fatalf("canonical request:\n%s\nwant:\n%s", creq, wantCreq)
	}
	if got := signature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", a, "20150830T123600Z", creq); got != testSig {
		t.Errorf("signature = %s, want %s", got, testSig)
	}
}

func TestCanonicalURI(t *testing.T) {
	for raw, want := range map[string]string{
		"":                "/",
		"/":               "/",
		"/backup-vaults/": "/backup-vaults/",
		"/a%20b/c~d":      "/a%2520b/c~d",
		"/resources/arn:aws:dynamodb:eu-west-3:1:table%2Fx/recovery-points/": "/resources/arn%3Aaws%3Adynamodb%3Aeu-west-3%3A1%3Atable%252Fx/recovery-points/",
		"/resources/arn%3Aaws%3Ax/": "/resources/arn%253Aaws%253Ax/",
	} {
		if got := canonicalURI(raw); got != want {
			t.Errorf("canonicalURI(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	for raw, want := range map[string]string{
		"":                                  "",
		"b=2&a=1&a=0":                       "a=0&a=1&b=2",
		"k=a%20b":                           "k=a%20b",
		"k=a+b":                             "k=a%20b",
		"k":                                 "k=",
		"x=%2a&y=~&z=a%2Fb":                 "x=%2A&y=~&z=a%2Fb",
		"createdAfter=2025-01-01T00:00:00Z": "createdAfter=2025-01-01T00%3A00%3A00Z",
		"&&a=1&":                            "a=1",
	} {
		got, err := canonicalQuery(raw, false)
		if err != nil || got != want {
			t.Errorf("canonicalQuery(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	if got, _ := canonicalQuery("X-Amz-Signature=abc&X-Amz-Date=1", true); got != "X-Amz-Date=1" {
		t.Errorf("presigned canonical query = %q", got)
	}
	if _, err := canonicalQuery("a=%zz", false); err == nil {
		t.Error("bad escape accepted")
	}
}

// TestVerifyAgainstSDKSigner signs awkward paths and queries with the SDK's
// signer and checks that the verifier agrees, and refuses other secrets.
func TestVerifyAgainstSDKSigner(t *testing.T) {
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	v := &verifier{
		credentials: func(ak string) (string, bool) { return "s3cr3t/+=", ak == "AKID" },
		now:         func() time.Time { return now },
		service:     "backup",
	}
	var got []error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, r.ContentLength)
		_, _ = r.Body.Read(body)
		_, err := v.verify(r, body)
		got = append(got, err)
	}))
	defer srv.Close()
	paths := []string{
		"/backup-vaults/",
		"/backup-vaults/v1/recovery-points/" + url.PathEscape(pointARN),
		"/resources/" + url.PathEscape(tableARN) + "/recovery-points/",
		"/resources/arn%3Aaws%3Adynamodb%3Aeu-west-3%3A1%3Atable%2Fx/recovery-points/",
		"/a%20b/%C3%BC/plus+sign/star*/tilde~",
	}
	queries := []string{
		"",
		"maxResults=10&nextToken=abc%2Bdef%2F%3D%3D",
		"createdAfter=2025-01-01T00%3A00%3A00Z&state=COMPLETED",
		"k=%C3%BC%20x&k=a&empty=",
	}
	for _, p := range paths {
		for _, q := range queries {
			for _, secret := range []string{"s3cr3t/+=", "wrong"} {
				got = nil
				u := srv.URL + p
				if q != "" {
					u += "?" + q
				}
				body := `{"x":1}`
				req, err := http.NewRequest("PUT", u, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
				req.Header.Set("X-Custom", "  two   spaces  ")
				err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: secret},
					req, hashHex([]byte(body)), "backup", "eu-central-1", now)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if len(got) != 1 {
					t.Fatalf("%s: handler ran %d times", u, len(got))
				}
				if ok := got[0] == nil; ok != (secret == "s3cr3t/+=") {
					t.Errorf("%s with secret %q: verify = %v", u, secret, got[0])
				}
			}
		}
	}
}

// FuzzParseAuthorization checks that the parser never panics and that what
// it accepts is well formed and survives a round trip.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/backup/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=" + testSig)
	f.Add("AWS4-HMAC-SHA256 Credential=A/B/20150830/r/s/aws4_request,SignedHeaders=host,Signature=" + testSig)
	f.Add("AWS4-HMAC-SHA256 ")
	f.Add("AWS4-HMAC-SHA256 Credential==,,,=")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			return
		}
		if len(a.Signature) != 64 || a.AccessKeyID == "" || a.Region == "" || a.Service == "" {
			t.Fatalf("accepted %q as %+v", h, a)
		}
		for i, sh := range a.SignedHeaders {
			if sh == "" || i > 0 && a.SignedHeaders[i-1] >= sh {
				t.Fatalf("accepted signed headers %q", a.SignedHeaders)
			}
		}
		again := "AWS4-HMAC-SHA256 Credential=" + a.AccessKeyID + "/" + a.scope() +
			", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + ", Signature=" + a.Signature
		b, err := parseAuthorization(again)
		if err != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", again, b, err, a)
		}
	})
}

// FuzzCanonicalQuery checks that any query either fails or canonicalizes
// to something that is its own canonical form.
func FuzzCanonicalQuery(f *testing.F) {
	f.Add("b=2&a=1")
	f.Add("k=a+b%20c&x=%2a")
	f.Add("=&&=%")
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := canonicalQuery(raw, false)
		if err != nil {
			return
		}
		c2, err := canonicalQuery(c, false)
		if err != nil || c2 != c {
			t.Fatalf("canonicalQuery(%q) = %q, then %q, %v", raw, c, c2, err)
		}
	})
}
