package backup

import (
	"errors"
	"fmt"
)

// Code classifies a domain error. The API layer maps each code to exactly one
// AWS error type and HTTP status.
type Code string

const (
	// ErrNotFound: a named vault, job, recovery point or resource does not exist.
	ErrNotFound Code = "NotFound"
	// ErrInvalidParameter: a parameter has a value that cannot be accepted.
	ErrInvalidParameter Code = "InvalidParameter"
	// ErrMissingParameter: a required parameter is absent.
	ErrMissingParameter Code = "MissingParameter"
	// ErrAlreadyExists: the thing to create exists already.
	ErrAlreadyExists Code = "AlreadyExists"
	// ErrInvalidRequest: the request is well formed but not allowed in the current state.
	ErrInvalidRequest Code = "InvalidRequest"
	// ErrConflict: another operation on the same resource is under way.
	ErrConflict Code = "Conflict"
	// ErrLimitExceeded: a quota would be exceeded.
	ErrLimitExceeded Code = "LimitExceeded"
	// ErrUnavailable: the server cannot do it because of its own state (a
	// full or failing disk, storage it cannot reach, a shutdown under way);
	// the message says so and the client may try again later, once the
	// operator has fixed it or the server has restarted.
	ErrUnavailable Code = "Unavailable"
	// ErrInternal: anything else; details are logged, not shown.
	ErrInternal Code = "Internal"
)

// Error is a domain error carrying a Code and a message meant for API users.
type Error struct {
	Code    Code
	Message string
	// Type and Context name the thing at fault for AWS errors that carry them
	// (for example Type "BackupVault", Context the vault name).
	Type    string
	Context string
	Err     error // optional cause, never shown to API users
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns an ErrNotFound error naming the kind of thing and its id.
func NotFound(kind, id string) *Error {
	return &Error{Code: ErrNotFound, Message: fmt.Sprintf("%s %s not found", kind, id), Type: kind, Context: id}
}

// ErrorCode returns the Code of err, or ErrInternal if err is not an *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ErrInternal
}

// IsNotFound reports whether err is a domain ErrNotFound.
func IsNotFound(err error) bool { return err != nil && ErrorCode(err) == ErrNotFound }
