package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestParseErrorBody(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    string
		body      string
		code, msg string
	}{
		{"dynamodb", 400, "", `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`,
			"ProvisionedThroughputExceededException", "slow down"},
		{"capital Message", 400, "", `{"__type":"com.amazon.coral.validate#ValidationException","Message":"bad"}`,
			"ValidationException", "bad"},
		{"not found", 400, "", `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}`,
			"ResourceNotFoundException", "Requested resource not found"},
		{"header type", 500, "InternalServerError:http://internal.amazon.com/", `{}`, "InternalServerError", ""},
		{"html", 502, "", `<html>Bad Gateway</html>`, "BadGateway", "<html>Bad Gateway</html>"},
		{"empty", 503, "", ``, "ServiceUnavailable", ""},
		{"unknown status", 599, "", ``, "HTTP599", ""},
		{"code member", 400, "", `{"code":"UnknownOperationException"}`, "UnknownOperationException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := parseErrorBody(tt.status, tt.header, []byte(tt.body))
			if e.Code != tt.code || e.Message != tt.msg || e.StatusCode != tt.status {
				t.Errorf("got %+v, want code %q message %q status %d", e, tt.code, tt.msg, tt.status)
			}
		})
	}
}

func FuzzParseErrorBody(f *testing.F) {
	f.Add(400, "", []byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"x"}`))
	f.Add(500, "InternalServerError:x", []byte(`{}`))
	f.Add(502, "", []byte(`<html>`))
	f.Add(400, "a#b:c", []byte(`{"__type":"#","Message":null}`))
	f.Add(400, "", []byte(`{"__type":1}`))
	f.Fuzz(func(t *testing.T, status int, header string, body []byte) {
		e := parseErrorBody(status, header, body)
		if e == nil || e.Code == "" {
			t.Fatalf("no code for %d %q %q", status, header, body)
		}
		if e.StatusCode != status {
			t.Fatalf("status %d, want %d", e.StatusCode, status)
		}
		if len(e.Message) > len(body) {
			t.Fatalf("message %q longer than body %q", e.Message, body)
		}
		_ = e.Error()
		_ = IsRetryable(e)
	})
}

// sdkError builds an error shaped as the SDK returns it.
func sdkError(code string, status int) error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "X", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err: &smithy.GenericAPIError{Code: code, Message: "m"}},
	}}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	api := func(code string, status int) error { return &APIError{Code: code, StatusCode: status} }
	tests := []struct {
		name                string
		err                 error
		throttle, retryable bool
	}{
		{"nil", nil, false, false},
		{"provisioned throughput", api("ProvisionedThroughputExceededException", 400), true, true},
		{"throttling", api("ThrottlingException", 400), true, true},
		{"request limit", api("RequestLimitExceeded", 400), true, true},
		{"429", api("TooManyRequests", 429), true, true},
		{"internal server error", api("InternalServerError", 500), false, true},
		{"service unavailable", api("ServiceUnavailable", 503), false, true},
		{"any 5xx", api("BadGateway", 502), false, true},
		{"validation", api("ValidationException", 400), false, false},
		{"not found", api("ResourceNotFoundException", 400), false, false},
		{"access denied", api("AccessDeniedException", 400), false, false},
		{"wrapped throttle", fmt.Errorf("scan t segment 3: %w", api("ProvisionedThroughputExceededException", 400)), true, true},
		{"connection reset", &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}, false, true},
		{"connection refused", &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, false, true},
		{"unexpected EOF", fmt.Errorf("x: %w", io.ErrUnexpectedEOF), false, true},
		{"timeout", &url.Error{Op: "Post", URL: "http://x", Err: timeoutErr{}}, false, true},
		{"checksum", fmt.Errorf("x: %w", errChecksum), false, true},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), false, false},
		{"no such host", &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", IsNotFound: true}}}, false, false},
		{"plain error", errors.New("boom"), false, false},
		{"sdk throttle", sdkError("ProvisionedThroughputExceededException", 400), true, true},
		{"sdk 500", sdkError("InternalServerError", 500), false, true},
		{"sdk validation", sdkError("ValidationException", 400), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsThrottle(tt.err); got != tt.throttle {
				t.Errorf("IsThrottle = %v, want %v", got, tt.throttle)
			}
			if got := IsRetryable(tt.err); got != tt.retryable {
				t.Errorf("IsRetryable = %v, want %v", got, tt.retryable)
			}
		})
	}
}

func TestAPIErrorIsTableNotFound(t *testing.T) {
	err := fmt.Errorf("scan t: %w", &APIError{Code: "ResourceNotFoundException", StatusCode: 400})
	if !errors.Is(err, ErrTableNotFound) {
		t.Error("ResourceNotFoundException does not match ErrTableNotFound")
	}
	if errors.Is(&APIError{Code: "ValidationException"}, ErrTableNotFound) {
		t.Error("ValidationException matches ErrTableNotFound")
	}
	if !isUnsupported(sdkError("UnknownOperationException", 400)) || isUnsupported(sdkError("InternalServerError", 500)) {
		t.Error("isUnsupported misclassifies")
	}
}
