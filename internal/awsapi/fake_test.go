package awsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	backupsdk "github.com/aws/aws-sdk-go-v2/service/backup"

	"github.com/cairn-backup/cairn/internal/backup"
)

const (
	testAccessKey = "AKIDCAIRNTEST"
	testSecretKey = "cairn/test+secret"
	testAccount   = "123456789012"
	testRegion    = "eu-west-3"
)

// call is one call the fake received: the method's name and its input.
type call struct {
	Op string
	In any
}

// fakeService is a backup.Service that records its calls and answers from
// canned values; errs makes a method fail. Lists page through their slice
// with the index of the next item as token.
type fakeService struct {
	// ReportService answers the report plan operations (reportplans_test.go
	// sets it); nil panics, which tests of validation never reach.
	backup.ReportService
	// NotificationTargetService answers the target operations
	// (notifytargets_test.go sets it).
	backup.NotificationTargetService

	mu    sync.Mutex
	calls []call
	errs  map[string]error

	vault     *backup.Vault
	vaults    []*backup.Vault
	job       *backup.BackupJob
	jobs      []*backup.BackupJob
	point     *backup.RecoveryPoint
	points    []*backup.RecoveryPoint
	resources []*backup.ProtectedResource
	restore   *backup.RestoreJob
	restores  []*backup.RestoreJob

	vaultCheck *backup.VaultCheck
	pointCheck *backup.PointCheck

	plan        *backup.BackupPlan
	plans       []*backup.BackupPlan
	runs        []backup.ScheduledRun
	selection   *backup.BackupSelection
	selections  []*backup.BackupSelection
	explanation *backup.Explanation
	copyJob     *backup.CopyJob
	copyJobs    []*backup.CopyJob
	stack       *backup.Stack
	stackResult *backup.StackResult
	tags        map[string]string

	audit fakeAudit // fake_audit_test.go
}

func (f *fakeService) record(op string, in any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{op, in})
	return f.errs[op]
}

// Calls returns the calls received so far.
func (f *fakeService) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// pageOf returns the page of items p asks for.
func pageOf[T any](items []T, p backup.Page) ([]T, string) {
	start, _ := strconv.Atoi(p.NextToken)
	n := p.MaxResults
	if n == 0 {
		n = 100
	}
	start = min(start, len(items))
	end := min(start+n, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next
}

func (f *fakeService) CreateVault(_ context.Context, in backup.CreateVaultInput) (*backup.Vault, error) {
	if err := f.record("CreateVault", in); err != nil {
		return nil, err
	}
	return f.vault, nil
}

func (f *fakeService) GetVault(_ context.Context, name string) (*backup.Vault, error) {
	if err := f.record("GetVault", name); err != nil {
		return nil, err
	}
	return f.vault, nil
}

func (f *fakeService) ListVaults(_ context.Context, p backup.Page) ([]*backup.Vault, string, error) {
	if err := f.record("ListVaults", p); err != nil {
		return nil, "", err
	}
	v, next := pageOf(f.vaults, p)
	return v, next, nil
}

func (f *fakeService) DeleteVault(_ context.Context, name string) error {
	return f.record("DeleteVault", name)
}

func (f *fakeService) StartBackupJob(_ context.Context, in backup.StartBackupJobInput) (*backup.BackupJob, error) {
	if err := f.record("StartBackupJob", in); err != nil {
		return nil, err
	}
	return f.job, nil
}

func (f *fakeService) GetBackupJob(_ context.Context, id string) (*backup.BackupJob, error) {
	if err := f.record("GetBackupJob", id); err != nil {
		return nil, err
	}
	return f.job, nil
}

func (f *fakeService) ListBackupJobs(_ context.Context, flt backup.BackupJobFilter) ([]*backup.BackupJob, string, error) {
	if err := f.record("ListBackupJobs", flt); err != nil {
		return nil, "", err
	}
	j, next := pageOf(f.jobs, flt.Page)
	return j, next, nil
}

func (f *fakeService) StopBackupJob(_ context.Context, id string) error {
	return f.record("StopBackupJob", id)
}

// pointCall is the input of GetRecoveryPoint and DeleteRecoveryPoint.
type pointCall struct{ Vault, ARN string }

func (f *fakeService) GetRecoveryPoint(_ context.Context, vault, arn string) (*backup.RecoveryPoint, error) {
	if err := f.record("GetRecoveryPoint", pointCall{vault, arn}); err != nil {
		return nil, err
	}
	return f.point, nil
}

func (f *fakeService) ListRecoveryPoints(_ context.Context, flt backup.RecoveryPointFilter) ([]*backup.RecoveryPoint, string, error) {
	if err := f.record("ListRecoveryPoints", flt); err != nil {
		return nil, "", err
	}
	p, next := pageOf(f.points, flt.Page)
	return p, next, nil
}

func (f *fakeService) DeleteRecoveryPoint(_ context.Context, vault, arn string) error {
	return f.record("DeleteRecoveryPoint", pointCall{vault, arn})
}

func (f *fakeService) ListProtectedResources(_ context.Context, p backup.Page) ([]*backup.ProtectedResource, string, error) {
	if err := f.record("ListProtectedResources", p); err != nil {
		return nil, "", err
	}
	r, next := pageOf(f.resources, p)
	return r, next, nil
}

func (f *fakeService) StartRestoreJob(_ context.Context, in backup.StartRestoreJobInput) (*backup.RestoreJob, error) {
	if err := f.record("StartRestoreJob", in); err != nil {
		return nil, err
	}
	return f.restore, nil
}

func (f *fakeService) GetRestoreJob(_ context.Context, id string) (*backup.RestoreJob, error) {
	if err := f.record("GetRestoreJob", id); err != nil {
		return nil, err
	}
	return f.restore, nil
}

func (f *fakeService) ListRestoreJobs(_ context.Context, flt backup.RestoreJobFilter) ([]*backup.RestoreJob, string, error) {
	if err := f.record("ListRestoreJobs", flt); err != nil {
		return nil, "", err
	}
	j, next := pageOf(f.restores, flt.Page)
	return j, next, nil
}

func (f *fakeService) UpdateRecoveryPointLifecycle(_ context.Context, vault, arn string, l backup.Lifecycle) (*backup.RecoveryPoint, error) {
	if err := f.record("UpdateRecoveryPointLifecycle", lifecycleCall{vault, arn, l}); err != nil {
		return nil, err
	}
	return f.point, nil
}

// lifecycleCall is the input of UpdateRecoveryPointLifecycle.
type lifecycleCall struct {
	Vault, ARN string
	Lifecycle  backup.Lifecycle
}

func (f *fakeService) CreateBackupPlan(_ context.Context, in backup.CreateBackupPlanInput) (*backup.BackupPlan, error) {
	if err := f.record("CreateBackupPlan", in); err != nil {
		return nil, err
	}
	return f.plan, nil
}

// getPlanCall is the input of GetBackupPlan.
type getPlanCall struct {
	ID, VersionID string
	PreviewRuns   int
}

func (f *fakeService) GetBackupPlan(_ context.Context, id, versionID string, previewRuns int) (*backup.BackupPlan, []backup.ScheduledRun, error) {
	if err := f.record("GetBackupPlan", getPlanCall{id, versionID, previewRuns}); err != nil {
		return nil, nil, err
	}
	return f.plan, f.runs, nil
}

func (f *fakeService) ListBackupPlans(_ context.Context, flt backup.BackupPlanFilter) ([]*backup.BackupPlan, string, error) {
	if err := f.record("ListBackupPlans", flt); err != nil {
		return nil, "", err
	}
	p, next := pageOf(f.plans, flt.Page)
	return p, next, nil
}

// idPageCall is the input of the lists of one plan's versions or
// selections.
type idPageCall struct {
	ID   string
	Page backup.Page
}

func (f *fakeService) ListBackupPlanVersions(_ context.Context, id string, pg backup.Page) ([]*backup.BackupPlan, string, error) {
	if err := f.record("ListBackupPlanVersions", idPageCall{id, pg}); err != nil {
		return nil, "", err
	}
	p, next := pageOf(f.plans, pg)
	return p, next, nil
}

// updatePlanCall is the input of UpdateBackupPlan.
type updatePlanCall struct {
	ID  string
	Doc backup.PlanDocument
}

func (f *fakeService) UpdateBackupPlan(_ context.Context, id string, doc backup.PlanDocument) (*backup.BackupPlan, error) {
	if err := f.record("UpdateBackupPlan", updatePlanCall{id, doc}); err != nil {
		return nil, err
	}
	return f.plan, nil
}

func (f *fakeService) DeleteBackupPlan(_ context.Context, id string) (*backup.BackupPlan, error) {
	if err := f.record("DeleteBackupPlan", id); err != nil {
		return nil, err
	}
	return f.plan, nil
}

func (f *fakeService) CreateBackupSelection(_ context.Context, in backup.CreateBackupSelectionInput) (*backup.BackupSelection, error) {
	if err := f.record("CreateBackupSelection", in); err != nil {
		return nil, err
	}
	return f.selection, nil
}

// selectionCall is the input of GetBackupSelection and
// DeleteBackupSelection.
type selectionCall struct{ PlanID, SelectionID string }

func (f *fakeService) GetBackupSelection(_ context.Context, planID, selectionID string) (*backup.BackupSelection, error) {
	if err := f.record("GetBackupSelection", selectionCall{planID, selectionID}); err != nil {
		return nil, err
	}
	return f.selection, nil
}

func (f *fakeService) ListBackupSelections(_ context.Context, planID string, pg backup.Page) ([]*backup.BackupSelection, string, error) {
	if err := f.record("ListBackupSelections", idPageCall{planID, pg}); err != nil {
		return nil, "", err
	}
	s, next := pageOf(f.selections, pg)
	return s, next, nil
}

func (f *fakeService) DeleteBackupSelection(_ context.Context, planID, selectionID string) error {
	return f.record("DeleteBackupSelection", selectionCall{planID, selectionID})
}

func (f *fakeService) ExplainResource(_ context.Context, resourceARN string) (*backup.Explanation, error) {
	if err := f.record("ExplainResource", resourceARN); err != nil {
		return nil, err
	}
	return f.explanation, nil
}

func (f *fakeService) StartCopyJob(_ context.Context, in backup.StartCopyJobInput) (*backup.CopyJob, error) {
	if err := f.record("StartCopyJob", in); err != nil {
		return nil, err
	}
	return f.copyJob, nil
}

func (f *fakeService) GetCopyJob(_ context.Context, id string) (*backup.CopyJob, error) {
	if err := f.record("GetCopyJob", id); err != nil {
		return nil, err
	}
	return f.copyJob, nil
}

func (f *fakeService) ListCopyJobs(_ context.Context, flt backup.CopyJobFilter) ([]*backup.CopyJob, string, error) {
	if err := f.record("ListCopyJobs", flt); err != nil {
		return nil, "", err
	}
	j, next := pageOf(f.copyJobs, flt.Page)
	return j, next, nil
}

func (f *fakeService) ApplyStack(_ context.Context, in backup.ApplyStackInput) (*backup.StackResult, error) {
	if err := f.record("ApplyStack", in); err != nil {
		return nil, err
	}
	return f.stackResult, nil
}

func (f *fakeService) DeleteStack(_ context.Context, name string) (*backup.StackResult, error) {
	if err := f.record("DeleteStack", name); err != nil {
		return nil, err
	}
	return f.stackResult, nil
}

func (f *fakeService) GetStack(_ context.Context, name string) (*backup.Stack, error) {
	if err := f.record("GetStack", name); err != nil {
		return nil, err
	}
	return f.stack, nil
}

// tagCall is the input of TagResource, UntagResource and ListTags.
type tagCall struct {
	ARN  string
	Tags map[string]string
	Keys []string
	Page backup.Page
}

func (f *fakeService) TagResource(_ context.Context, arn string, tags map[string]string) error {
	return f.record("TagResource", tagCall{ARN: arn, Tags: tags})
}

func (f *fakeService) UntagResource(_ context.Context, arn string, keys []string) error {
	return f.record("UntagResource", tagCall{ARN: arn, Keys: keys})
}

// ListTags pages through f.tags in key order, the token being the index of
// the next key.
func (f *fakeService) ListTags(_ context.Context, arn string, p backup.Page) (map[string]string, string, error) {
	if err := f.record("ListTags", tagCall{ARN: arn, Page: p}); err != nil {
		return nil, "", err
	}
	keys, next := pageOf(slices.Sorted(maps.Keys(f.tags)), p)
	out := map[string]string{}
	for _, k := range keys {
		out[k] = f.tags[k]
	}
	return out, next, nil
}

// verifyPointCall is the input of VerifyRecoveryPoint.
type verifyPointCall struct {
	Vault, ARN string
	ReadData   bool
}

func (f *fakeService) VerifyVault(_ context.Context, name string) (*backup.VaultCheck, error) {
	if err := f.record("VerifyVault", name); err != nil {
		return nil, err
	}
	return f.vaultCheck, nil
}

func (f *fakeService) VerifyRecoveryPoint(_ context.Context, vault, arn string, readData bool) (*backup.PointCheck, error) {
	if err := f.record("VerifyRecoveryPoint", verifyPointCall{vault, arn, readData}); err != nil {
		return nil, err
	}
	return f.pointCheck, nil
}

type putNotificationsCall struct {
	Vault, Topic string
	Events       []string
}

func (f *fakeService) PutBackupVaultNotifications(_ context.Context, vault, topic string, events []string) error {
	return f.record("PutBackupVaultNotifications", putNotificationsCall{vault, topic, events})
}

func (f *fakeService) GetBackupVaultNotifications(_ context.Context, vault string) (*backup.VaultNotifications, error) {
	if err := f.record("GetBackupVaultNotifications", vault); err != nil {
		return nil, err
	}
	return &backup.VaultNotifications{VaultName: vault, VaultARN: "arn:aws:backup:us-east-1:123456789012:backup-vault:" + vault,
		SNSTopicARN: "arn:aws:sns:us-east-1:123456789012:t", Events: []backup.EventType{backup.EventBackupJobFailed}}, nil
}

func (f *fakeService) DeleteBackupVaultNotifications(_ context.Context, vault string) error {
	return f.record("DeleteBackupVaultNotifications", vault)
}

func (f *fakeService) ClusterStatus(context.Context) (*backup.ClusterStatus, error) {
	if err := f.record("ClusterStatus", nil); err != nil {
		return nil, err
	}
	t := time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)
	return &backup.ClusterStatus{Catalog: "postgres", Self: "N1", Leader: "N2", Nodes: []*backup.Node{
		{ID: "N1", Address: "10.0.0.1:7171", MaxJobs: 4, Started: t, Heartbeat: t.Add(time.Minute), Alive: true, Running: []string{"J1"}},
		{ID: "N2", Address: "10.0.0.2:7171", MaxJobs: 8, Started: t, Heartbeat: t.Add(time.Minute), Alive: true, Leader: true},
	}}, nil
}

func (f *fakeService) TestNotification(_ context.Context, vault string) ([]*backup.Delivery, error) {
	return nil, f.record("TestNotification", vault)
}

func (f *fakeService) ListDeliveries(_ context.Context, fl backup.DeliveryFilter) ([]*backup.Delivery, string, error) {
	return nil, "", f.record("ListDeliveries", fl)
}

var _ backup.Service = (*fakeService)(nil)

// testEnv is a Server over a fakeService behind httptest.
type testEnv struct {
	fake   *fakeService
	srv    *httptest.Server
	client *backupsdk.Client
}

// clockFunc is a clock.Clock from a function.
type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }

// newTestEnv starts a server whose only key is testAccessKey and returns an
// SDK client signing with it. now, if not nil, is the server's clock.
func newTestEnv(t *testing.T, fake *fakeService, now func() time.Time) *testEnv {
	t.Helper()
	if fake == nil {
		fake = &fakeService{}
	}
	cfg := Config{
		Service:   fake,
		AccountID: testAccount,
		Region:    testRegion,
		Credentials: func(ak string) (string, bool) {
			if ak == testAccessKey {
				return testSecretKey, true
			}
			return "", false
		},
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	}
	if now != nil {
		cfg.Clock = clockFunc(now)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &testEnv{fake: fake, srv: srv, client: newClient(srv.URL, testAccessKey, testSecretKey)}
}

// newClient returns an SDK client for endpoint that does not retry.
func newClient(endpoint, accessKey, secretKey string) *backupsdk.Client {
	return backupsdk.New(backupsdk.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       testRegion,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}, nil
		}),
		Retryer: aws.NopRetryer{},
	})
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// do sends a request signed with the test key (unless sign is false) and
// returns the status, the error type header and the body.
func (e *testEnv) do(t *testing.T, method, path string, body []byte, sign bool) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	if sign {
		signRequest(t, req, body, testAccessKey, testSecretKey, time.Now())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), b
}

// signRequest signs req with the SDK's own signer.
func signRequest(t testing.TB, req *http.Request, body []byte, ak, sk string, at time.Time) {
	t.Helper()
	sum := sha256.Sum256(body)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk},
		req, hex.EncodeToString(sum[:]), "backup", testRegion, at)
	if err != nil {
		t.Fatal(err)
	}
}

// errorOf decodes an error body.
func errorOf(t *testing.T, b []byte) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body %q: %v", b, err)
	}
	return e
}

func (f *fakeService) ApplyPolicy(_ context.Context, in backup.ApplyPolicyInput) (*backup.PolicyResult, error) {
	if err := f.record("ApplyPolicy", in); err != nil {
		return nil, err
	}
	return &backup.PolicyResult{Policy: &backup.Policy{Name: in.Name, Type: in.Type, Document: in.Document, Options: in.Options}}, nil
}

func (f *fakeService) GetPolicy(_ context.Context, name string) (*backup.PolicyResult, error) {
	if err := f.record("GetPolicy", name); err != nil {
		return nil, err
	}
	return &backup.PolicyResult{Policy: &backup.Policy{Name: name, Type: backup.PolicyTypeTag}}, nil
}

func (f *fakeService) ListPolicies(_ context.Context, p backup.Page) ([]*backup.Policy, string, error) {
	if err := f.record("ListPolicies", p); err != nil {
		return nil, "", err
	}
	return nil, "", nil
}

func (f *fakeService) DeletePolicy(_ context.Context, name string) (*backup.PolicyResult, error) {
	if err := f.record("DeletePolicy", name); err != nil {
		return nil, err
	}
	return &backup.PolicyResult{Policy: &backup.Policy{Name: name, Type: backup.PolicyTypeTag}}, nil
}
