package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

var (
	// ErrTableNotFound: the table does not exist (ResourceNotFoundException).
	ErrTableNotFound = errors.New("table not found")
	// ErrTableExists: CreateTable found a table of that name already
	// (ResourceInUseException); nothing was changed.
	ErrTableExists = errors.New("table already exists")
	// errChecksum: the response body does not match its X-Amz-Crc32 header.
	errChecksum = errors.New("response CRC32 mismatch")
)

// APIError is an error answered by DynamoDB (or a compatible server) on the
// raw data plane.
type APIError struct {
	// Code is the error type without its namespace, for example
	// "ProvisionedThroughputExceededException".
	Code string
	// Message is the server's message.
	Message string
	// StatusCode is the HTTP status of the response.
	StatusCode int
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("dynamodb: %s (HTTP %d)", e.Code, e.StatusCode)
	}
	return fmt.Sprintf("dynamodb: %s (HTTP %d): %s", e.Code, e.StatusCode, e.Message)
}

// Is makes a ResourceNotFoundException match ErrTableNotFound.
func (e *APIError) Is(target error) bool {
	return target == ErrTableNotFound && e.Code == "ResourceNotFoundException"
}

// maxErrorMessage bounds the message kept from a non-JSON error body.
const maxErrorMessage = 512

// parseErrorBody turns a non-2xx response into an *APIError. DynamoDB answers
// {"__type":"com.amazonaws.dynamodb.v20120810#Code","message":"..."}; some
// servers write "Message", put the code in the X-Amzn-ErrorType header
// (headerType), or answer a proxy's HTML page. It never fails.
func parseErrorBody(status int, headerType string, body []byte) *APIError {
	e := &APIError{StatusCode: status}
	var wire struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	if json.Unmarshal(body, &wire) == nil {
		e.Code = wire.Type
		if e.Code == "" {
			e.Code = wire.Code
		}
		e.Message = wire.Message
		if e.Message == "" {
			e.Message = wire.Message2
		}
	} else {
		msg := strings.TrimSpace(string(body))
		if len(msg) > maxErrorMessage {
			msg = msg[:maxErrorMessage] + "..."
		}
		e.Message = msg
	}
	if e.Code == "" {
		e.Code = headerType
	}
	e.Code = trimErrorCode(e.Code)
	if e.Code == "" {
		e.Code = strings.ReplaceAll(http.StatusText(status), " ", "")
		if e.Code == "" {
			e.Code = fmt.Sprintf("HTTP%d", status)
		}
	}
	return e
}

// trimErrorCode strips the namespace ("com.amazonaws.dynamodb.v20120810#")
// and any ":detail" suffix (X-Amzn-ErrorType style) from an error type.
func trimErrorCode(s string) string {
	if i := strings.LastIndexByte(s, '#'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// throttleCodes are the error codes that mean "slow down".
var throttleCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"Throttling":                             true,
	"RequestLimitExceeded":                   true,
	"TooManyRequestsException":               true,
	"RequestThrottled":                       true,
	"RequestThrottledException":              true,
	"SlowDown":                               true,
}

// transientCodes are server-side errors worth retrying whatever their status.
var transientCodes = map[string]bool{
	"InternalServerError":         true,
	"InternalFailure":             true,
	"InternalServerException":     true,
	"ServiceUnavailable":          true,
	"ServiceUnavailableException": true,
	"RequestTimeout":              true,
	"RequestTimeoutException":     true,
}

// errorCodeStatus extracts an error code and HTTP status from a raw
// *APIError or from an SDK error.
func errorCodeStatus(err error) (code string, status int) {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code, ae.StatusCode
	}
	var se smithy.APIError
	if errors.As(err, &se) {
		code = se.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

// IsThrottle reports whether err is DynamoDB asking the client to slow down
// (ProvisionedThroughputExceededException, ThrottlingException,
// RequestLimitExceeded, HTTP 429, ...).
func IsThrottle(err error) bool {
	if err == nil {
		return false
	}
	code, status := errorCodeStatus(err)
	return throttleCodes[code] || status == http.StatusTooManyRequests
}

// IsRetryable reports whether the call that failed with err may succeed if
// sent again: throttling, HTTP 5xx, InternalServerError, ServiceUnavailable,
// connection resets, refused connections, truncated responses, network
// timeouts and response checksum mismatches. Validation errors, missing
// tables, access errors and a canceled context are not retryable. A caller's
// expired deadline shows as a network timeout, so retry loops must check
// their context before sending again (the wrappers here do).
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if IsThrottle(err) || errors.Is(err, errChecksum) {
		return true
	}
	code, status := errorCodeStatus(err)
	if transientCodes[code] || status >= 500 {
		return true
	}
	if code != "" || status != 0 {
		return false // an answer from the server that is not transient
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTemporary || dnsErr.IsTimeout
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// IsItemRefused reports whether err is the target refusing an item it was
// sent as invalid: a ValidationException (DynamoDB's answer to an item that
// breaks its rules: duplicate set members, nesting deeper than 32 levels,
// a number it cannot hold, an item over 400 KB...) or a
// SerializationException (dynalite's answer to a binary value that is not
// base64). DynamoDB refuses a whole BatchWriteItem for one such item.
func IsItemRefused(err error) bool {
	if err == nil {
		return false
	}
	code, _ := errorCodeStatus(err)
	return code == "ValidationException" || code == "SerializationException"
}

// IsNotFound reports whether err is a ResourceNotFoundException: the table
// does not exist, or (right after it was created) not yet everywhere.
func IsNotFound(err error) bool {
	if err == nil {
		return false
	}
	code, _ := errorCodeStatus(err)
	return code == "ResourceNotFoundException"
}

// sdkErrorCode returns the error code of an SDK error, or "".
func sdkErrorCode(err error) string {
	var se smithy.APIError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return ""
}

// isUnsupported reports whether an SDK error means the server does not
// implement (or will not answer) an optional call, so that the caller may
// record a warning and go on.
func isUnsupported(err error) bool {
	switch sdkErrorCode(err) {
	case "UnknownOperationException", "NotImplemented", "NotImplementedException",
		"UnsupportedOperationException", "InvalidAction", "ValidationException",
		"AccessDeniedException", "AccessDenied":
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotImplemented, http.StatusNotFound, http.StatusMethodNotAllowed:
			return true
		}
	}
	return false
}
