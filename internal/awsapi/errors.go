package awsapi

import (
	"errors"
	"net/http"

	"github.com/cairn-backup/cairn/internal/backup"
)

// apiError is an error as AWS Backup sends it: an HTTP status, the error
// type in the x-amzn-ErrorType header and the body's Code, and the body's
// Message, Type and Context.
type apiError struct {
	Status  int
	Type    string // the exception name, e.g. ResourceNotFoundException
	Message string
	// Kind and Context name the thing at fault (the body's Type and Context
	// members), e.g. "BackupVault" and the vault's name.
	Kind    string
	Context string
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

// errorBody is the JSON body of an error response; its members are those of
// the model's error shapes.
type errorBody struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
	Type    string `json:"Type,omitempty"`
	Context string `json:"Context,omitempty"`
}

// codeErrors maps each domain error code to the AWS error it becomes. It is
// the only place where that mapping is made.
var codeErrors = map[backup.Code]struct {
	status int
	typ    string
}{
	backup.ErrNotFound:         {http.StatusBadRequest, "ResourceNotFoundException"},
	backup.ErrInvalidParameter: {http.StatusBadRequest, "InvalidParameterValueException"},
	backup.ErrMissingParameter: {http.StatusBadRequest, "MissingParameterValueException"},
	backup.ErrAlreadyExists:    {http.StatusBadRequest, "AlreadyExistsException"},
	backup.ErrInvalidRequest:   {http.StatusBadRequest, "InvalidRequestException"},
	backup.ErrConflict:         {http.StatusBadRequest, "ConflictException"},
	backup.ErrLimitExceeded:    {http.StatusBadRequest, "LimitExceededException"},
	backup.ErrUnavailable:      {http.StatusInternalServerError, "ServiceUnavailableException"},
	backup.ErrInternal:         {http.StatusInternalServerError, "ServiceUnavailableException"},
}

// internalMessage is all an API user learns of an internal error.
const internalMessage = "The service encountered an internal error; try again later."

// toAPIError turns any error a handler returns into the AWS error to send.
// Domain errors are mapped by code; anything else is internal, and its
// detail is not shown.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var de *backup.Error
	if errors.As(err, &de) && de.Code != backup.ErrInternal {
		if m, ok := codeErrors[de.Code]; ok {
			return &apiError{Status: m.status, Type: m.typ, Message: de.Message, Kind: de.Type, Context: de.Context}
		}
	}
	m := codeErrors[backup.ErrInternal]
	return &apiError{Status: m.status, Type: m.typ, Message: internalMessage}
}

// Errors the API layer raises itself, before any service is called.

func errSerialization(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: "SerializationException", Message: msg}
}

func errUnknownOperation() *apiError {
	return &apiError{Status: http.StatusNotFound, Type: "UnknownOperationException", Message: "Unknown operation"}
}

func errBusy() *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Type: "ServiceUnavailableException",
		Message: "The server is reading too many requests at once; retry."}
}

func errTooLarge() *apiError {
	return &apiError{Status: http.StatusRequestEntityTooLarge, Type: "RequestEntityTooLargeException",
		Message: "Request body is too large."}
}

// invalidParam and missingParam are the domain errors for bad requests, so
// that they go through the same mapping as the service's.
func invalidParam(format string, args ...any) error {
	return backup.Errorf(backup.ErrInvalidParameter, format, args...)
}

func missingParam(name string) error {
	return &backup.Error{Code: backup.ErrMissingParameter, Message: "Missing required parameter " + name,
		Type: "Parameter", Context: name}
}
