package awsapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
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
	fake := &fakeService{vault: testVault("v1"), job: testJob("j1"), point: testPoint(), restore: testRestore("r1")}
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
