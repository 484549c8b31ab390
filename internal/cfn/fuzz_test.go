package cfn

import (
	"context"
	"os"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
)

// FuzzParse feeds arbitrary bytes to the template parser and, when they
// parse, resolves and applies them against the fake backend: nothing may
// panic, and a failed apply must leave no stack record behind unless
// something was created.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../../cmd/cairn/testdata/blog-dynamodb-backup.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(evalSrc))
	f.Add([]byte(twoVaults))
	f.Add([]byte(`{"Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {"X": {"Fn::Sub": ["${A}", {"A": {"Ref": "AWS::Region"}}]}}}}}`))
	f.Add([]byte("Resources:\n  A: &a {Type: AWS::SNS::Topic, Properties: {X: *a}}\n"))
	f.Add([]byte("Resources: {A: {Type: AWS::SNS::Topic, Properties: {X: !Select [!Ref AWS::NoValue, !Split [',', !Join ['', [a]]]]}}}"))
	f.Fuzz(func(t *testing.T, src []byte) {
		tmpl, err := Parse(src)
		if err != nil {
			return
		}
		_ = tmpl.Dependencies()
		if _, err := tmpl.Order(); err != nil {
			return
		}
		h := newHarness(t)
		_, err = h.stacks.Apply(context.Background(), backup.ApplyStackInput{StackName: "fuzz", Template: src})
		if err != nil && len(h.backend.writes) == 0 {
			if _, gerr := h.store.GetStack(context.Background(), "fuzz"); !backup.IsNotFound(gerr) && backup.ErrorCode(err) == backup.ErrInvalidParameter {
				t.Errorf("apply failed on invalid input (%v) but recorded the stack", err)
			}
		}
	})
}
