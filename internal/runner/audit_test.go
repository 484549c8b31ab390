package runner

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/dynamodb"
)

// A framework evaluated while one source is down: the tables of the source
// that answers get verdicts, the evaluation names the one that did not,
// and its tables are not reported NON_COMPLIANT.
func TestEvaluateFrameworkSourceDown(t *testing.T) {
	down, err := dynamodb.New(aws.Config{Region: "us-west-2", BaseEndpoint: aws.String("http://127.0.0.1:1"), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}, dynamodb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, func(c *Config) {
		c.Sources = append(c.Sources, &Source{Name: "down", Region: "us-west-2", Client: down})
	})
	ctx := context.Background()
	arn := f.table(t, "audited", 3)
	f.tag(t, arn, "backup", "daily")
	newPlan(t, f.svc, dailyPlan("p"), tagSelection("s", "backup", "daily"))
	if _, err := f.svc.CreateFramework(ctx, backup.CreateFrameworkInput{Name: "fw", Controls: []backup.FrameworkControl{
		{Name: backup.ControlProtectedByBackupPlan}, {Name: backup.ControlLastRecoveryPointCreated}}}); err != nil {
		t.Fatal(err)
	}
	ev, err := f.svc.EvaluateFramework(ctx, "fw")
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.FailedSources) != 1 || ev.FailedSources[0] != "down" {
		t.Errorf("FailedSources %v, want [down]", ev.FailedSources)
	}
	for _, c := range ev.Controls {
		if len(c.Resources) != 1 || c.Resources[0].ResourceARN != arn || !strings.Contains(c.Note, "down") {
			t.Errorf("%s: resources %+v, note %q; want only %s and a note naming the source", c.ControlName, c.Resources, c.Note, arn)
		}
	}
	if got := ev.Controls[0].Resources[0].Compliance; got != backup.Compliant {
		t.Errorf("protected by plan: %s", got)
	}
	if got := ev.Controls[1].Resources[0].Compliance; got != backup.NonCompliant {
		t.Errorf("last recovery point of a table never backed up: %s", got)
	}
	if _, err := f.svc.EvaluateFramework(ctx, "nope"); !backup.IsNotFound(err) {
		t.Errorf("EvaluateFramework of an unknown framework: %v", err)
	}
}

// CreateFramework and UpdateFramework: validation first, nothing stored on
// bad input; a retry with the same token is the same framework; an update
// keeps what it is not given.
func TestFrameworkService(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ctl := []backup.FrameworkControl{{Name: backup.ControlRecoveryPointMinRetention,
		InputParameters: []backup.ControlInputParameter{{Name: backup.ParamRequiredRetentionDays, Value: "7"}}}}
	for _, in := range []backup.CreateFrameworkInput{
		{Name: "bad name", Controls: ctl},
		{Name: "fw"},
		{Name: "fw", Controls: []backup.FrameworkControl{{Name: backup.ControlRecoveryPointMinRetention,
			InputParameters: []backup.ControlInputParameter{{Name: backup.ParamRequiredRetentionDays, Value: "seven"}}}}},
		{Name: "fw", Controls: ctl, Tags: map[string]string{"aws:x": "1"}},
	} {
		if _, err := f.svc.CreateFramework(ctx, in); backup.ErrorCode(err) != backup.ErrInvalidParameter && backup.ErrorCode(err) != backup.ErrMissingParameter {
			t.Errorf("CreateFramework(%+v): %v, want a parameter error", in, err)
		}
	}
	if fws, _, err := f.svc.ListFrameworks(ctx, backup.Page{}); err != nil || len(fws) != 0 {
		t.Fatalf("frameworks after bad input: %d, %v", len(fws), err)
	}
	in := backup.CreateFrameworkInput{Name: "fw", Description: "d", Controls: ctl, IdempotencyToken: "t1"}
	a, err := f.svc.CreateFramework(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.svc.CreateFramework(ctx, in)
	if err != nil || b.ARN != a.ARN {
		t.Fatalf("retry: %+v, %v; want %s", b, err, a.ARN)
	}
	in.Description = "other"
	if _, err := f.svc.CreateFramework(ctx, in); backup.ErrorCode(err) != backup.ErrAlreadyExists {
		t.Errorf("same token, other parameters: %v, want AlreadyExists", err)
	}
	desc := "new"
	up, err := f.svc.UpdateFramework(ctx, backup.UpdateFrameworkInput{Name: "fw", Description: &desc, IdempotencyToken: "t2"})
	if err != nil || up.Description != "new" || len(up.Controls) != 1 || up.Controls[0].InputParameters[0].Value != "7" || up.ARN != a.ARN {
		t.Fatalf("UpdateFramework of the description: %+v, %v", up, err)
	}
	if _, err := f.svc.UpdateFramework(ctx, backup.UpdateFrameworkInput{Name: "fw", Controls: []backup.FrameworkControl{}}); backup.ErrorCode(err) != backup.ErrInvalidParameter {
		t.Errorf("UpdateFramework to no controls: %v", err)
	}
	got, err := f.svc.GetFramework(ctx, "fw")
	if err != nil || got.Description != "new" || got.IdempotencyToken != "t2" || len(got.Controls) != 1 {
		t.Errorf("after the refused update: %+v, %v", got, err)
	}
}
