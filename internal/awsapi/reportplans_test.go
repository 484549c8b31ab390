package awsapi

import (
	"strings"
	"testing"
)

// TestBadReportRequestsNeverReachTheService: malformed report plan and
// report job requests get the model's errors, naming the member at fault,
// before the service is called (its ReportService is nil: a call panics).
func TestBadReportRequestsNeverReachTheService(t *testing.T) {
	ch := `"ReportDeliveryChannel":{"S3BucketName":"reports"}`
	st := `"ReportSetting":{"ReportTemplate":"BACKUP_JOB_REPORT"}`
	tests := []struct {
		name, method, path, body string
		errType, says            string
	}{
		{"create no name", "POST", "/audit/report-plans", `{` + ch + `,` + st + `}`, "MissingParameterValueException", "ReportPlanName"},
		{"create bad name", "POST", "/audit/report-plans", `{"ReportPlanName":"a-b",` + ch + `,` + st + `}`, "InvalidParameterValueException", "ReportPlanName"},
		{"create long name", "POST", "/audit/report-plans", `{"ReportPlanName":"` + strings.Repeat("a", 257) + `",` + ch + `,` + st + `}`, "InvalidParameterValueException", "ReportPlanName"},
		{"create blank description", "POST", "/audit/report-plans", `{"ReportPlanName":"p","ReportPlanDescription":"  ",` + ch + `,` + st + `}`, "InvalidParameterValueException", "ReportPlanDescription"},
		{"create long description", "POST", "/audit/report-plans", `{"ReportPlanName":"p","ReportPlanDescription":"` + strings.Repeat("d", 1025) + `",` + ch + `,` + st + `}`, "InvalidParameterValueException", "1,024"},
		{"create no channel", "POST", "/audit/report-plans", `{"ReportPlanName":"p",` + st + `}`, "MissingParameterValueException", "ReportDeliveryChannel"},
		{"create no bucket", "POST", "/audit/report-plans", `{"ReportPlanName":"p","ReportDeliveryChannel":{},` + st + `}`, "MissingParameterValueException", "S3BucketName"},
		{"create bad bucket", "POST", "/audit/report-plans", `{"ReportPlanName":"p","ReportDeliveryChannel":{"S3BucketName":"a_b"},` + st + `}`, "InvalidParameterValueException", "S3BucketName"},
		{"create bad prefix", "POST", "/audit/report-plans", `{"ReportPlanName":"p","ReportDeliveryChannel":{"S3BucketName":"reports","S3KeyPrefix":"a/../b"},` + st + `}`, "InvalidParameterValueException", "S3KeyPrefix"},
		{"create bad format", "POST", "/audit/report-plans", `{"ReportPlanName":"p","ReportDeliveryChannel":{"S3BucketName":"reports","Formats":["CSV","XML"]},` + st + `}`, "InvalidParameterValueException", "Formats[1]"},
		{"create twice a format", "POST", "/audit/report-plans", `{"ReportPlanName":"p","ReportDeliveryChannel":{"S3BucketName":"reports","Formats":["CSV","CSV"]},` + st + `}`, "InvalidParameterValueException", "Formats[1]"},
		{"create no setting", "POST", "/audit/report-plans", `{"ReportPlanName":"p",` + ch + `}`, "MissingParameterValueException", "ReportSetting"},
		{"create no template", "POST", "/audit/report-plans", `{"ReportPlanName":"p",` + ch + `,"ReportSetting":{}}`, "MissingParameterValueException", "ReportTemplate"},
		{"create bad template", "POST", "/audit/report-plans", `{"ReportPlanName":"p",` + ch + `,"ReportSetting":{"ReportTemplate":"DAILY"}}`, "InvalidParameterValueException", "ReportTemplate"},
		{"create scan template", "POST", "/audit/report-plans", `{"ReportPlanName":"p",` + ch + `,"ReportSetting":{"ReportTemplate":"SCAN_JOB_REPORT"}}`, "InvalidParameterValueException", "malware"},
		{"create frameworks on a job template", "POST", "/audit/report-plans", `{"ReportPlanName":"p",` + ch + `,"ReportSetting":{"ReportTemplate":"BACKUP_JOB_REPORT","FrameworkArns":["arn:aws:backup:us-east-1:123456789012:framework:f-1"]}}`, "InvalidParameterValueException", "FrameworkArns"},
		{"create bad framework arn", "POST", "/audit/report-plans", `{"ReportPlanName":"p",` + ch + `,"ReportSetting":{"ReportTemplate":"CONTROL_COMPLIANCE_REPORT","FrameworkArns":["f-1"]}}`, "InvalidParameterValueException", "FrameworkArns[0]"},
		{"create other account", "POST", "/audit/report-plans", `{"ReportPlanName":"p",` + ch + `,"ReportSetting":{"ReportTemplate":"BACKUP_JOB_REPORT","Accounts":["111111111111"]}}`, "InvalidParameterValueException", "Accounts[0]"},
		{"create other region", "POST", "/audit/report-plans", `{"ReportPlanName":"p",` + ch + `,"ReportSetting":{"ReportTemplate":"BACKUP_JOB_REPORT","Regions":["ap-south-2"]}}`, "InvalidParameterValueException", "Regions[0]"},
		{"create organization units", "POST", "/audit/report-plans", `{"ReportPlanName":"p",` + ch + `,"ReportSetting":{"ReportTemplate":"BACKUP_JOB_REPORT","OrganizationUnits":["ou-1"]}}`, "InvalidParameterValueException", "OrganizationUnits"},
		{"create aws tag", "POST", "/audit/report-plans", `{"ReportPlanName":"p",` + ch + `,` + st + `,"ReportPlanTags":{"aws:x":"y"}}`, "InvalidParameterValueException", "ReportPlanTags"},
		{"create bad json", "POST", "/audit/report-plans", `{"ReportPlanName":`, "SerializationException", "JSON"},
		{"describe bad name", "GET", "/audit/report-plans/a.b", "", "InvalidParameterValueException", "ReportPlanName"},
		{"update bad format", "PUT", "/audit/report-plans/p", `{"ReportDeliveryChannel":{"S3BucketName":"reports","Formats":["PDF"]}}`, "InvalidParameterValueException", "Formats[0]"},
		{"update no bucket", "PUT", "/audit/report-plans/p", `{"ReportDeliveryChannel":{"Formats":["CSV"]}}`, "MissingParameterValueException", "S3BucketName"},
		{"delete bad name", "DELETE", "/audit/report-plans/9p", "", "InvalidParameterValueException", "ReportPlanName"},
		{"start bad name", "POST", "/audit/report-jobs/p-q", "{}", "InvalidParameterValueException", "ReportPlanName"},
		{"list plans max 0", "GET", "/audit/report-plans?MaxResults=0", "", "InvalidParameterValueException", "MaxResults"},
		{"list jobs bad status", "GET", "/audit/report-jobs?Status=DONE", "", "InvalidParameterValueException", "Status"},
		{"list jobs bad time", "GET", "/audit/report-jobs?CreationAfter=soon", "", "InvalidParameterValueException", "CreationAfter"},
		{"list jobs bad plan", "GET", "/audit/report-jobs?ReportPlanName=a-b", "", "InvalidParameterValueException", "ReportPlanName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil, nil)
			status, errType, body := e.do(t, tt.method, tt.path, []byte(tt.body), true)
			if status != 400 || errType != tt.errType {
				t.Fatalf("%s %s: %d %s %s, want 400 %s", tt.method, tt.path, status, errType, body, tt.errType)
			}
			if eb := errorOf(t, body); eb.Code != tt.errType || !strings.Contains(eb.Message, tt.says) {
				t.Errorf("body = %+v, want a message naming %q", eb, tt.says)
			}
		})
	}
}
