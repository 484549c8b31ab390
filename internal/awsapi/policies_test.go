package awsapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
)

func TestApplyPolicyRoute(t *testing.T) {
	e := newTestEnv(t, &fakeService{}, nil)
	body := `{"Type":"TAG_POLICY","Content":"{\"tags\":{}}","Options":{"DefaultValue":"daily","OnViolation":"remediate","Exclude":["tmp-*"],"DryRun":true}}`
	status, _, out := e.do(t, "PUT", "/cairn/policies/governance", []byte(body), true)
	if status != 200 {
		t.Fatalf("status %d: %s", status, out)
	}
	onlyCall(t, e.fake, "ApplyPolicy", backup.ApplyPolicyInput{Name: "governance", Type: backup.PolicyTypeTag, Document: `{"tags":{}}`,
		Options: backup.PolicyOptions{DefaultValue: "daily", OnViolation: backup.OnViolationRemediate, Exclude: []string{"tmp-*"}, DryRun: true}})
	var dec PolicyOutput
	if err := json.Unmarshal(out, &dec); err != nil || dec.Policy.PolicyName != "governance" || dec.Policy.Options.OnViolation != "remediate" ||
		dec.Plans == nil {
		t.Fatalf("answer %s (%v)", out, err)
	}
}

func TestBadPolicyRequestsNeverReachTheService(t *testing.T) {
	for _, tt := range []struct {
		name, method, path, body string
		errType                  string
	}{
		{"no type", "PUT", "/cairn/policies/p", `{"Content":"{}"}`, "MissingParameterValueException"},
		{"bad type", "PUT", "/cairn/policies/p", `{"Type":"SERVICE_CONTROL_POLICY","Content":"{}"}`, "InvalidParameterValueException"},
		{"no content", "PUT", "/cairn/policies/p", `{"Type":"TAG_POLICY"}`, "MissingParameterValueException"},
		{"content not a string", "PUT", "/cairn/policies/p", `{"Type":"TAG_POLICY","Content":{"tags":{}}}`, "SerializationException"},
		{"content too large", "PUT", "/cairn/policies/p", `{"Type":"TAG_POLICY","Content":"` + strings.Repeat("a", MaxPolicyBytes+1) + `"}`, "InvalidParameterValueException"},
		{"bad name", "PUT", "/cairn/policies/a%20b", `{"Type":"TAG_POLICY","Content":"{}"}`, "InvalidParameterValueException"},
		{"get bad name", "GET", "/cairn/policies/a%2Fb", "", "InvalidParameterValueException"},
		{"list bad page", "GET", "/cairn/policies?maxResults=0", "", "InvalidParameterValueException"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil, nil)
			status, errType, body := e.do(t, tt.method, tt.path, []byte(tt.body), true)
			if status != 400 || errType != tt.errType {
				t.Errorf("%d %s %s, want 400 %s", status, errType, body, tt.errType)
			}
			if calls := e.fake.Calls(); len(calls) != 0 {
				t.Errorf("the service was called: %+v", calls)
			}
		})
	}
}

// A managed plan's refusal and a document's path error reach the client
// as AWS's error types with the service's message.
func TestPolicyErrorsOnTheWire(t *testing.T) {
	for _, tt := range []struct {
		err     error
		errType string
	}{
		{&backup.Error{Code: backup.ErrInvalidParameter, Type: "Policy", Context: "plans.p.regions", Message: "plans.p.regions: required"}, "InvalidParameterValueException"},
		{&backup.Error{Code: backup.ErrInvalidRequest, Message: "backup plan p is managed by policy q"}, "InvalidRequestException"},
	} {
		e := newTestEnv(t, &fakeService{errs: map[string]error{"ApplyPolicy": tt.err}}, nil)
		status, errType, body := e.do(t, "PUT", "/cairn/policies/q", []byte(`{"Type":"BACKUP_POLICY","Content":"{}"}`), true)
		var eb struct{ Message string }
		json.Unmarshal(body, &eb)
		if status != 400 || errType != tt.errType || eb.Message != tt.err.(*backup.Error).Message {
			t.Errorf("%d %s %s, want %s with the message", status, errType, body, tt.errType)
		}
	}
}
