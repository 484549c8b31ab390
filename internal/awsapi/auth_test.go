package awsapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	backupsdk "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/smithy-go"

	"github.com/cairn-backup/cairn/internal/backup"
)

// refused checks that err is an API error of type code and that the
// service was not called.
func refused(t *testing.T, e *testEnv, err error, code string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != code {
		t.Errorf("err = %v, want %s", err, code)
	}
	if calls := e.fake.Calls(); len(calls) != 0 {
		t.Errorf("the service was called: %+v", calls)
	}
}

func TestAuthRefusesSDKClients(t *testing.T) {
	vault := &backup.Vault{Name: "v1"}
	t.Run("wrong secret", func(t *testing.T) {
		e := newTestEnv(t, &fakeService{vault: vault}, nil)
		c := newClient(e.srv.URL, testAccessKey, "not-the-secret")
		_, err := c.CreateBackupVault(context.Background(), &backupsdk.CreateBackupVaultInput{BackupVaultName: aws.String("v1")})
		refused(t, e, err, "InvalidSignatureException")
	})
	t.Run("unknown key", func(t *testing.T) {
		e := newTestEnv(t, &fakeService{vault: vault}, nil)
		c := newClient(e.srv.URL, "AKIDSTRANGER", testSecretKey)
		_, err := c.CreateBackupVault(context.Background(), &backupsdk.CreateBackupVaultInput{BackupVaultName: aws.String("v1")})
		refused(t, e, err, "UnrecognizedClientException")
	})
	t.Run("server clock 20 minutes ahead", func(t *testing.T) {
		e := newTestEnv(t, &fakeService{vault: vault}, func() time.Time { return time.Now().Add(20 * time.Minute) })
		_, err := e.client.DescribeBackupVault(context.Background(), &backupsdk.DescribeBackupVaultInput{BackupVaultName: aws.String("v1")})
		refused(t, e, err, "InvalidSignatureException")
		if err == nil || !strings.Contains(err.Error(), "Signature expired") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("server clock 20 minutes behind", func(t *testing.T) {
		e := newTestEnv(t, &fakeService{vault: vault}, func() time.Time { return time.Now().Add(-20 * time.Minute) })
		_, err := e.client.DescribeBackupVault(context.Background(), &backupsdk.DescribeBackupVaultInput{BackupVaultName: aws.String("v1")})
		refused(t, e, err, "InvalidSignatureException")
	})
	t.Run("server clock 10 minutes ahead is fine", func(t *testing.T) {
		e := newTestEnv(t, &fakeService{vault: vault}, func() time.Time { return time.Now().Add(10 * time.Minute) })
		if _, err := e.client.DescribeBackupVault(context.Background(), &backupsdk.DescribeBackupVaultInput{BackupVaultName: aws.String("v1")}); err != nil {
			t.Error(err)
		}
	})
	t.Run("any region", func(t *testing.T) {
		e := newTestEnv(t, &fakeService{vault: vault}, nil)
		_, err := e.client.DescribeBackupVault(context.Background(), &backupsdk.DescribeBackupVaultInput{BackupVaultName: aws.String("v1")},
			func(o *backupsdk.Options) { o.Region = "ap-south-2" })
		if err != nil {
			t.Error(err)
		}
	})
}

// TestAuthRefusesRawRequests tampers with signed requests.
func TestAuthRefusesRawRequests(t *testing.T) {
	body := []byte(`{"BackupVaultTags":{"a":"b"}}`)
	tests := []struct {
		name   string
		tamper func(*http.Request) *http.Request // applied after signing
		sign   bool
		code   string
	}{
		{"unsigned", nil, false, "MissingAuthenticationTokenException"},
		{"body changed", func(r *http.Request) *http.Request {
			r.Body = io.NopCloser(strings.NewReader(`{"BackupVaultTags":{"a":"c"}}`))
			return r
		}, true, "InvalidSignatureException"},
		{"path changed", func(r *http.Request) *http.Request { r.URL.Path = "/backup-vaults/v2"; return r }, true, "InvalidSignatureException"},
		{"query added", func(r *http.Request) *http.Request { r.URL.RawQuery = "x=1"; return r }, true, "InvalidSignatureException"},
		{"method changed", func(r *http.Request) *http.Request { r.Method = "DELETE"; return r }, true, "InvalidSignatureException"},
		{"signed header changed", func(r *http.Request) *http.Request { r.Header.Set("X-Amz-Date", "20200101T000000Z"); return r }, true, "InvalidSignatureException"},
		{"signature changed", func(r *http.Request) *http.Request {
			h := r.Header.Get("Authorization")
			r.Header.Set("Authorization", h[:len(h)-64]+strings.Repeat("0", 64))
			return r
		}, true, "InvalidSignatureException"},
		{"other service", func(r *http.Request) *http.Request {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/backup/", "/dynamodb/", 1))
			return r
		}, true, "InvalidSignatureException"},
		{"malformed authorization", func(r *http.Request) *http.Request {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
			return r
		}, true, "IncompleteSignatureException"},
		{"sigv2", func(r *http.Request) *http.Request {
			r.Header.Set("Authorization", "AWS AKID:c2ln")
			return r
		}, true, "IncompleteSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, &fakeService{vault: &backup.Vault{Name: "v1"}}, nil)
			req, _ := http.NewRequest("PUT", e.srv.URL+"/backup-vaults/v1", bytes.NewReader(body))
			if tt.sign {
				signRequest(t, req, body, testAccessKey, testSecretKey, time.Now())
			}
			if tt.tamper != nil {
				req = tt.tamper(req)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 403 || resp.Header.Get("x-amzn-ErrorType") != tt.code {
				t.Errorf("got %d %s %s, want 403 %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), b, tt.code)
			}
			if calls := e.fake.Calls(); len(calls) != 0 {
				t.Errorf("the service was called: %+v", calls)
			}
		})
	}
}

func TestAuthUnknownRouteNeedsSignatureToo(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	if status, code, _ := e.do(t, "GET", "/nothing-here", nil, false); status != 403 || code != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned unknown route: %d %s", status, code)
	}
}

func TestAuthPresignedURL(t *testing.T) {
	e := newTestEnv(t, &fakeService{vault: testVault("v1")}, nil)
	presign := func(at time.Time) string {
		req, _ := http.NewRequest("GET", e.srv.URL+"/backup-vaults/v1?X-Amz-Expires=300", nil)
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(),
			aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey},
			req, hashHex(nil), "backup", testRegion, at)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	resp, err := http.Get(presign(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("presigned: status %d %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
	resp, err = http.Get(presign(time.Now().Add(-10 * time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("x-amzn-ErrorType") != "InvalidSignatureException" {
		t.Errorf("expired presigned: status %d %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
	if calls := e.fake.Calls(); len(calls) != 1 {
		t.Errorf("calls = %+v, want the one valid request", calls)
	}
}
