package awsapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// FuzzRequests sends arbitrary paths, queries and bodies to the routes,
// past authentication, and checks that every answer is a 2xx or 4xx with
// a JSON body: no panic, no internal error from a bad request.
func FuzzRequests(f *testing.F) {
	f.Add("PUT", "/backup-vaults/v1", "", `{"BackupVaultTags":{"a":"b"},"CreatorRequestId":"x"}`)
	f.Add("PUT", "/backup-jobs", "", `{"BackupVaultName":"v1","ResourceArn":"`+tableARN+`","IamRoleArn":"`+roleARN+`","Lifecycle":{"DeleteAfterDays":3},"BackupOptions":{"Segments":"4"}}`)
	f.Add("PUT", "/restore-jobs", "", `{"RecoveryPointArn":"`+pointARN+`","Metadata":{"TargetTableName":"abc"}}`)
	f.Add("GET", "/backup-jobs/", "state=COMPLETED&createdAfter=2025-01-01T00:00:00Z&maxResults=5", "")
	f.Add("GET", "/restore-jobs/", "status=FAILED&completeBefore=1700000000.5", "")
	f.Add("GET", "/backup-vaults/v1/recovery-points/", "resourceArn="+url.QueryEscape(tableARN), "")
	f.Add("GET", "/resources/"+url.PathEscape(tableARN)+"/recovery-points/", "managedByAWSBackupOnly=true", "")
	f.Add("GET", "/backup-vaults/v1/recovery-points/"+url.PathEscape(pointARN)+"/restore-metadata", "", "")
	f.Add("DELETE", "/backup-vaults/v1/recovery-points/"+url.PathEscape(pointARN), "", "")
	f.Add("POST", "/backup-jobs/j1", "", "")
	f.Add("PUT", "/backup/plans/", "", blogPlanJSON[strings.Index(blogPlanJSON, ":")+1:strings.LastIndex(blogPlanJSON, "}")])
	f.Add("PUT", "/backup/plans", "", `{"BackupPlan":{"BackupPlanName":"p","Rules":[{"RuleName":"r","TargetBackupVaultName":"v1"}]},"BackupPlanTags":{"a":"b"}}`)
	f.Add("POST", "/backup/plans/plan-1", "", `{"BackupPlan":{"BackupPlanName":"p","Rules":[{"RuleName":"r","TargetBackupVaultName":"v1","StartWindowMinutes":60}]}}`)
	f.Add("GET", "/backup/plans/plan-1/", "versionId=djE%3D&MaxScheduledRunsPreview=3", "")
	f.Add("GET", "/backup/plans/", "includeDeleted=true&maxResults=2", "")
	f.Add("GET", "/backup/plans/plan-1/versions/", "nextToken=1", "")
	f.Add("DELETE", "/backup/plans/plan-1", "", "")
	f.Add("POST", "/tags/"+url.PathEscape(vaultARN), "", `{"Tags":{"k":"v","cairn:storage":"/x"}}`)
	f.Add("POST", "/untag/"+url.PathEscape(pointARN), "", `{"TagKeyList":["k","aws:x"]}`)
	f.Add("GET", "/tags/"+url.PathEscape(vaultARN)+"/", "maxResults=2&nextToken=tags1.aw", "")
	f.Add("GET", "/backup-vaults/./v1//../", "", "")
	f.Add("POST", "/backup/template/json/toPlan", "", `{"BackupPlanTemplateJson":"{\"BackupPlanName\":\"p\",\"Rules\":[{\"RuleName\":\"r\",\"TargetBackupVaultName\":\"v1\"}]}"}`)
	f.Add("PUT", "/backup/plans/plan-1/selections/", "", `{"BackupSelection":{"SelectionName":"s","IamRoleArn":"`+roleARN+`","Resources":["*"],"ListOfTags":[{"ConditionType":"STRINGEQUALS","ConditionKey":"backup","ConditionValue":"daily"}],"Conditions":{"StringLike":[{"ConditionKey":"aws:ResourceTag/a","ConditionValue":"b*"}]}}}`)
	f.Add("GET", "/backup/plans/plan-1/selections/sel-1", "", "")
	f.Add("GET", "/backup/plans/plan-1/selections/", "maxResults=1", "")
	f.Add("DELETE", "/backup/plans/plan-1/selections/sel-1", "", "")
	f.Add("PUT", "/copy-jobs", "", `{"RecoveryPointArn":"`+pointARN+`","SourceBackupVaultName":"v1","DestinationBackupVaultArn":"`+offsiteARN+`","IamRoleArn":"`+roleARN+`","Lifecycle":{"DeleteAfterDays":9}}`)
	f.Add("GET", "/copy-jobs/c1", "", "")
	f.Add("GET", "/copy-jobs/", "state=RUNNING&destinationVaultArn="+url.QueryEscape(offsiteARN), "")
	f.Add("POST", "/backup-vaults/v1/recovery-points/"+url.PathEscape(pointARN), "", `{"Lifecycle":{"MoveToColdStorageAfterDays":1,"DeleteAfterDays":91}}`)
	f.Add("PUT", "/cairn/stacks/s1", "", `{"TemplateBody":"Resources: {}","Parameters":{"A":"b"}}`)
	f.Add("GET", "/cairn/stacks/s1", "", "")
	f.Add("DELETE", "/cairn/stacks/s1", "", "")
	f.Add("GET", "/cairn/explain", "resourceArn="+url.QueryEscape(tableARN), "")
	fake := &fakeService{vault: testVault("v1"), job: testJob("j1"), point: testPoint(), restore: testRestore("r1"),
		plan: testPlan(), plans: []*backup.BackupPlan{testPlan()}, runs: []backup.ScheduledRun{{ExecutionTime: t0, RuleID: "rule-1"}},
		selection: &backup.BackupSelection{SelectionDocument: testSelectionDocument(), SelectionID: "sel-1", BackupPlanID: "plan-1"},
		copyJob:   testCopyJob("c1"), copyJobs: []*backup.CopyJob{testCopyJob("c1")},
		stack: testStack(), stackResult: testStackResult(),
		explanation: &backup.Explanation{Resource: backup.Resource{ARN: tableARN}}}
	s, err := New(Config{Service: fake, Credentials: func(string) (string, bool) { return "", false },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	methods := map[string]bool{"GET": true, "PUT": true, "POST": true, "DELETE": true}
	f.Fuzz(func(t *testing.T, method, path, query, body string) {
		if !methods[method] {
			return
		}
		u, err := url.Parse("http://cairn" + path)
		if err != nil || u.Path == "" || u.Path[0] != '/' || u.RawQuery != "" {
			return
		}
		u.RawQuery = query
		r := &http.Request{Method: method, URL: u, Host: "cairn", Header: http.Header{},
			Body: io.NopCloser(bytes.NewReader([]byte(body))), RequestURI: u.RequestURI()}
		w := httptest.NewRecorder()
		s.mux.ServeHTTP(w, r) // past authentication
		if w.Code >= 500 || (w.Code >= 300 && w.Code < 400 && w.Code != 301 && w.Code != 307 && w.Code != 308) {
			t.Fatalf("%s %s?%s %q: %d %s", method, path, query, body, w.Code, w.Body)
		}
		if w.Code < 300 && w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: invalid JSON %s", method, path, w.Body)
		}
		if w.Code >= 400 && w.Header().Get("x-amzn-ErrorType") == "" {
			t.Fatalf("%s %s: error without x-amzn-ErrorType: %d %s", method, path, w.Code, w.Body)
		}
	})
}

// FuzzPlanTemplate feeds arbitrary documents to GetBackupPlanFromJSON's
// parser: it never panics, fails only with parameter errors, and what it
// accepts has every required member.
func FuzzPlanTemplate(f *testing.F) {
	f.Add(blogPlanJSON)
	f.Add(`{"BackupPlanName":"p","Rules":[{"RuleName":"r","TargetBackupVaultName":"v1","CopyActions":[{"DestinationBackupVaultArn":"` + offsiteARN + `"}]}]}`)
	f.Add(`{"BackupPlan":null}`)
	f.Add(`{"Rules":[null]}`)
	f.Add("{\n\"BackupPlanName\": 1}")
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := parsePlanTemplate(doc)
		if err != nil {
			if c := backup.ErrorCode(err); c != backup.ErrInvalidParameter && c != backup.ErrMissingParameter {
				t.Fatalf("%q: error %v has code %s", doc, err, c)
			}
			return
		}
		if d.BackupPlanName == "" || len(d.Rules) == 0 {
			t.Fatalf("%q: accepted %+v", doc, d)
		}
		for _, r := range d.Rules {
			if !namePattern.MatchString(r.RuleName) || backup.ValidateVaultName(r.TargetBackupVaultName) != nil {
				t.Fatalf("%q: accepted rule %+v", doc, r)
			}
			for _, c := range r.CopyActions {
				if checkVaultARN("", c.DestinationBackupVaultARN) != nil {
					t.Fatalf("%q: accepted copy action %+v", doc, c)
				}
			}
		}
	})
}

func TestEpochJSON(t *testing.T) {
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1741064767, 0), "1741064767"},
		{time.Unix(1741064767, 123_000_000), "1741064767.123"},
		{time.Unix(1741064767, 500_000_000), "1741064767.5"},
		{time.Unix(1741064767, 999_999), "1741064767"},
		{time.Unix(-2, 250_000_000), "-1.75"},
	} {
		b, err := json.Marshal(epoch(tt.t))
		if err != nil || string(b) != tt.want {
			t.Errorf("marshal %v = %s, %v; want %s", tt.t, b, err, tt.want)
		}
		var back epoch
		if err := json.Unmarshal(b, &back); err != nil || !time.Time(back).Equal(tt.t.Truncate(time.Millisecond)) {
			t.Errorf("unmarshal %s = %v, %v", b, time.Time(back), err)
		}
	}
	var e epoch
	for _, bad := range []string{`"2025-01-01"`, `null`, `1e400`, `true`} {
		if err := json.Unmarshal([]byte(bad), &e); err == nil && bad != "null" {
			t.Errorf("unmarshal %s succeeded", bad)
		}
	}
}
