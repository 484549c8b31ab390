package awsapi

import (
	"net/http/httptest"
	"testing"
)

// Operation names each route's operation from the method and path alone,
// the list URIs with and without their trailing slash, and Unknown for
// what no route serves.
func TestOperation(t *testing.T) {
	s, err := New(Config{Service: &fakeService{}, Credentials: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ method, path, op string }{
		{"PUT", "/backup-jobs", "StartBackupJob"},
		{"GET", "/backup-jobs/", "ListBackupJobs"},
		{"GET", "/backup-jobs?maxResults=5", "ListBackupJobs"},
		{"GET", "/backup-jobs/ABC-123", "DescribeBackupJob"},
		{"GET", "/backup-vaults/Default/recovery-points/arn%3Aaws%3Abackup%3Aus-east-1%3A000000000000%3Arecovery-point%3AX", "DescribeRecoveryPoint"},
		{"GET", "/cairn/compliance", "GetCompliance"},
		{"GET", "/cairn/cluster", "GetCluster"},
		{"DELETE", "/backup-jobs", UnknownOperation},
		{"GET", "/no/such/route", UnknownOperation},
		{"GET", "/metrics", UnknownOperation},
	} {
		if got := s.Operation(httptest.NewRequest(tt.method, tt.path, nil)); got != tt.op {
			t.Errorf("%s %s: %q, want %q", tt.method, tt.path, got, tt.op)
		}
	}
}
