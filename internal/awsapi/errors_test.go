package awsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	backupsdk "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-backup/cairn/internal/backup"
)

// TestServiceErrors checks that each domain error code reaches the SDK as
// the typed AWS error with the right status, message, type and context.
func TestServiceErrors(t *testing.T) {
	tests := []struct {
		err     error
		status  int
		typed   error // a pointer to the SDK's error type
		message string
	}{
		{backup.NotFound("BackupVault", "nope"), 400, &types.ResourceNotFoundException{}, "BackupVault nope not found"},
		{backup.Errorf(backup.ErrInvalidParameter, "bad"), 400, &types.InvalidParameterValueException{}, "bad"},
		{backup.Errorf(backup.ErrMissingParameter, "gone"), 400, &types.MissingParameterValueException{}, "gone"},
		{backup.Errorf(backup.ErrAlreadyExists, "dup"), 400, &types.AlreadyExistsException{}, "dup"},
		{backup.Errorf(backup.ErrInvalidRequest, "not now"), 400, &types.InvalidRequestException{}, "not now"},
		{backup.Errorf(backup.ErrConflict, "busy"), 400, &types.ConflictException{}, "busy"},
		{backup.Errorf(backup.ErrLimitExceeded, "too many"), 400, &types.LimitExceededException{}, "too many"},
		{&backup.Error{Code: backup.ErrUnavailable, Message: "cannot write to the storage of vault v: no space left on device", Err: errors.New("ENOSPC /srv/v")},
			500, &types.ServiceUnavailableException{}, "cannot write to the storage of vault v: no space left on device"},
		{&backup.Error{Code: backup.ErrInternal, Message: "disk on fire", Err: errors.New("EIO /var/lib/cairn")},
			500, &types.ServiceUnavailableException{}, internalMessage},
		{fmt.Errorf("wrapped: %w", errors.New("secret detail")), 500, &types.ServiceUnavailableException{}, internalMessage},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%T", tt.typed), func(t *testing.T) {
			e := newTestEnv(t, &fakeService{errs: map[string]error{"GetVault": tt.err}}, nil)
			_, err := e.client.DescribeBackupVault(context.Background(), &backupsdk.DescribeBackupVaultInput{
				BackupVaultName: aws.String("nope")})
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != tt.status {
				t.Fatalf("err = %v, want status %d", err, tt.status)
			}
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorMessage() != tt.message {
				t.Fatalf("err = %v, want message %q", err, tt.message)
			}
			wantCode := strings.TrimPrefix(fmt.Sprintf("%T", tt.typed), "*types.")
			if api.ErrorCode() != wantCode {
				t.Errorf("code = %q, want %q", api.ErrorCode(), wantCode)
			}
			if !errorsAsTyped(err, tt.typed) {
				t.Errorf("errors.As(%v, %T) = false", err, tt.typed)
			}
			if strings.Contains(err.Error(), "EIO") || strings.Contains(err.Error(), "secret") {
				t.Errorf("internal detail shown: %v", err)
			}
		})
	}
}

// errorsAsTyped runs errors.As with a fresh pointer of target's type.
func errorsAsTyped(err error, target error) bool {
	switch target.(type) {
	case *types.ResourceNotFoundException:
		var e *types.ResourceNotFoundException
		return errors.As(err, &e)
	case *types.InvalidParameterValueException:
		var e *types.InvalidParameterValueException
		return errors.As(err, &e)
	case *types.MissingParameterValueException:
		var e *types.MissingParameterValueException
		return errors.As(err, &e)
	case *types.AlreadyExistsException:
		var e *types.AlreadyExistsException
		return errors.As(err, &e)
	case *types.InvalidRequestException:
		var e *types.InvalidRequestException
		return errors.As(err, &e)
	case *types.ConflictException:
		var e *types.ConflictException
		return errors.As(err, &e)
	case *types.LimitExceededException:
		var e *types.LimitExceededException
		return errors.As(err, &e)
	case *types.ServiceUnavailableException:
		var e *types.ServiceUnavailableException
		return errors.As(err, &e)
	}
	return false
}

func TestNotFoundCarriesTypeAndContext(t *testing.T) {
	e := newTestEnv(t, &fakeService{errs: map[string]error{"GetBackupJob": backup.NotFound("BackupJob", "job-x")}}, nil)
	_, err := e.client.DescribeBackupJob(context.Background(), &backupsdk.DescribeBackupJobInput{BackupJobId: aws.String("job-x")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v", err)
	}
	if aws.ToString(nf.Type) != "BackupJob" || aws.ToString(nf.Context) != "job-x" || aws.ToString(nf.Code) != "ResourceNotFoundException" {
		t.Errorf("Type, Context, Code = %q, %q, %q", aws.ToString(nf.Type), aws.ToString(nf.Context), aws.ToString(nf.Code))
	}
}

// TestErrorWireFormat checks the raw response: status, x-amzn-ErrorType,
// JSON body, request id.
func TestErrorWireFormat(t *testing.T) {
	e := newTestEnv(t, &fakeService{errs: map[string]error{"GetVault": backup.NotFound("BackupVault", "v1")}}, nil)
	req, _ := http.NewRequest("GET", e.srv.URL+"/backup-vaults/v1", nil)
	signRequest(t, req, nil, testAccessKey, testSecretKey, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("x-amzn-ErrorType") != "ResourceNotFoundException" ||
		resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	var body errorBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	want := errorBody{Code: "ResourceNotFoundException", Message: "BackupVault v1 not found", Type: "BackupVault", Context: "v1"}
	if body != want {
		t.Errorf("body = %+v, want %+v", body, want)
	}
}
