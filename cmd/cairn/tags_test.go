package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// listAllTags pages through ListTags, maxResults at a time, and fails on a
// key seen twice.
func listAllTags(t *testing.T, c *bk.Client, arn string, maxResults int32) map[string]string {
	t.Helper()
	all := map[string]string{}
	var token *string
	for {
		out, err := c.ListTags(context.Background(), &bk.ListTagsInput{ResourceArn: aws.String(arn), MaxResults: aws.Int32(maxResults), NextToken: token})
		if err != nil {
			t.Fatalf("ListTags %s: %v", arn, err)
		}
		if len(out.Tags) > int(maxResults) {
			t.Fatalf("ListTags %s: %d tags on a page of %d", arn, len(out.Tags), maxResults)
		}
		for k, v := range out.Tags {
			if _, dup := all[k]; dup {
				t.Fatalf("ListTags %s: key %q on two pages", arn, k)
			}
			all[k] = v
		}
		if out.NextToken == nil {
			return all
		}
		token = out.NextToken
	}
}

// apiCode returns the AWS error code of err, "" for nil.
func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestTaggingAPI runs TagResource, UntagResource and ListTags against a
// real server on vaults, plans and recovery points with aws-sdk-go-v2, the
// AWS CLI and boto3: the tags given at creation are listed, changes stick,
// cairn's reserved vault tags cannot change, and the limits and errors are
// AWS's.
func TestTaggingAPI(t *testing.T) {
	dyn := testbed.Dynalite(t)
	elsewhere := t.TempDir()
	m, _ := storageServer(t, t.TempDir(), dyn.Endpoint, elsewhere)
	c, db := backupClient(m), ddbClient(dyn.Endpoint)
	ctx := context.Background()

	// A vault with storage of its own (a reserved tag) and an ordinary tag.
	storage := "file://" + filepath.Join(elsewhere, "tagged")
	v, err := c.CreateBackupVault(ctx, &bk.CreateBackupVaultInput{BackupVaultName: aws.String("tagged"),
		BackupVaultTags: map[string]string{"team": "storage", "cairn:storage": storage}})
	if err != nil {
		t.Fatalf("CreateBackupVault: %v", err)
	}
	vaultARN := aws.ToString(v.BackupVaultArn)
	p, err := c.CreateBackupPlan(ctx, &bk.CreateBackupPlanInput{
		BackupPlan: &bktypes.BackupPlanInput{BackupPlanName: aws.String("daily"), Rules: []bktypes.BackupRuleInput{{
			RuleName: aws.String("r"), TargetBackupVaultName: aws.String("tagged"), RecoveryPointTags: map[string]string{"rule": "r"}}}},
		BackupPlanTags: map[string]string{"owner": "ops"}})
	if err != nil {
		t.Fatalf("CreateBackupPlan: %v", err)
	}
	planARN := aws.ToString(p.BackupPlanArn)
	createTable(t, db, "orders", ddbjson.TypeS, false)
	seedRandom(t, db, "orders", 20)
	job, err := c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("tagged"), IamRoleArn: aws.String(role),
		ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/orders"), RecoveryPointTags: map[string]string{"env": "prod"}})
	if err != nil {
		t.Fatalf("StartBackupJob: %v", err)
	}
	j := waitBackupJob(t, c, aws.ToString(job.BackupJobId))
	if j.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("backup: %s %s", j.State, aws.ToString(j.StatusMessage))
	}
	pointARN := aws.ToString(j.RecoveryPointArn)

	// The tags given at creation are there.
	for arn, want := range map[string]map[string]string{
		vaultARN: {"team": "storage", "cairn:storage": storage},
		planARN:  {"owner": "ops"},
		pointARN: {"env": "prod"},
	} {
		if got := listAllTags(t, c, arn, 1000); !maps.Equal(got, want) {
			t.Errorf("ListTags %s = %v, want the tags of its creation %v", arn, got, want)
		}
	}

	// Add, change and remove tags of a recovery point; page through them.
	more := map[string]string{"env": "staging"}
	for i := range 30 {
		more[fmt.Sprintf("k%02d", i)] = fmt.Sprintf("v %d", i)
	}
	if _, err := c.TagResource(ctx, &bk.TagResourceInput{ResourceArn: aws.String(pointARN), Tags: more}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := c.UntagResource(ctx, &bk.UntagResourceInput{ResourceArn: aws.String(pointARN), TagKeyList: []string{"k00", "k01", "absent"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	want := maps.Clone(more)
	delete(want, "k00")
	delete(want, "k01")
	for _, size := range []int32{1, 7, 29, 1000} {
		if got := listAllTags(t, c, pointARN, size); !maps.Equal(got, want) {
			t.Errorf("ListTags in pages of %d = %v, want %v", size, got, want)
		}
	}
	// A lifecycle change rewrites the point in the catalog: its tags stay.
	if _, err := c.UpdateRecoveryPointLifecycle(ctx, &bk.UpdateRecoveryPointLifecycleInput{BackupVaultName: aws.String("tagged"),
		RecoveryPointArn: aws.String(pointARN), Lifecycle: &bktypes.Lifecycle{DeleteAfterDays: aws.Int64(400)}}); err != nil {
		t.Fatalf("UpdateRecoveryPointLifecycle: %v", err)
	}
	if got := listAllTags(t, c, pointARN, 1000); !maps.Equal(got, want) {
		t.Errorf("tags after UpdateRecoveryPointLifecycle = %v, want %v", got, want)
	}

	// Refused, changing nothing.
	refusals := []struct {
		name string
		do   func() error
		code string
	}{
		{"change the vault's storage", func() error {
			_, err := c.TagResource(ctx, &bk.TagResourceInput{ResourceArn: aws.String(vaultARN), Tags: map[string]string{"cairn:storage": "/tmp/x", "a": "b"}})
			return err
		}, "InvalidParameterValueException"},
		{"add a storage tag", func() error {
			_, err := c.TagResource(ctx, &bk.TagResourceInput{ResourceArn: aws.String(vaultARN), Tags: map[string]string{"cairn:cold-path": "/tmp/cold"}})
			return err
		}, "InvalidParameterValueException"},
		{"remove the storage tag", func() error {
			_, err := c.UntagResource(ctx, &bk.UntagResourceInput{ResourceArn: aws.String(vaultARN), TagKeyList: []string{"team", "cairn:storage"}})
			return err
		}, "InvalidParameterValueException"},
		{"51 tags", func() error {
			_, err := c.TagResource(ctx, &bk.TagResourceInput{ResourceArn: aws.String(pointARN), Tags: map[string]string{
				"x1": "1", "x2": "2", "x3": "3", "x4": "4", "x5": "5", "x6": "6", "x7": "7", "x8": "8", "x9": "9", "x10": "10",
				"x11": "1", "x12": "2", "x13": "3", "x14": "4", "x15": "5", "x16": "6", "x17": "7", "x18": "8", "x19": "9", "x20": "20", "x21": "21", "x22": "22"}})
			return err
		}, "LimitExceededException"},
		{"aws: key", func() error {
			_, err := c.TagResource(ctx, &bk.TagResourceInput{ResourceArn: aws.String(planARN), Tags: map[string]string{"AWS:backup": "x"}})
			return err
		}, "InvalidParameterValueException"},
		{"NUL in a key", func() error {
			_, err := c.TagResource(ctx, &bk.TagResourceInput{ResourceArn: aws.String(planARN), Tags: map[string]string{"a\x00b": "x"}})
			return err
		}, "InvalidParameterValueException"},
		{"unknown vault", func() error {
			_, err := c.ListTags(ctx, &bk.ListTagsInput{ResourceArn: aws.String(vaultARN + "x")})
			return err
		}, "ResourceNotFoundException"},
		{"vault of another account", func() error {
			_, err := c.ListTags(ctx, &bk.ListTagsInput{ResourceArn: aws.String(strings.Replace(vaultARN, "000000000000", "111122223333", 1))})
			return err
		}, "ResourceNotFoundException"},
		{"account 0", func() error {
			_, err := c.ListTags(ctx, &bk.ListTagsInput{ResourceArn: aws.String(strings.Replace(vaultARN, "000000000000", "0", 1))})
			return err
		}, "InvalidParameterValueException"},
		{"a table's ARN", func() error {
			_, err := c.TagResource(ctx, &bk.TagResourceInput{ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/orders"), Tags: map[string]string{"a": "b"}})
			return err
		}, "InvalidParameterValueException"},
		{"a selection's ARN", func() error {
			_, err := c.ListTags(ctx, &bk.ListTagsInput{ResourceArn: aws.String(planARN + "/selection/x")})
			return err
		}, "InvalidParameterValueException"},
	}
	for _, r := range refusals {
		if got := apiCode(r.do()); got != r.code {
			t.Errorf("%s: %s, want %s", r.name, got, r.code)
		}
	}
	if got := listAllTags(t, c, vaultARN, 1000); !maps.Equal(got, map[string]string{"team": "storage", "cairn:storage": storage}) {
		t.Errorf("vault tags after refusals: %v", got)
	}
	if got := listAllTags(t, c, pointARN, 1000); !maps.Equal(got, want) {
		t.Errorf("point tags after refusals: %v", got)
	}
	// Giving a reserved tag its own value changes nothing and is accepted
	// (Terraform sends back what ListTags showed).
	if _, err := c.TagResource(ctx, &bk.TagResourceInput{ResourceArn: aws.String(vaultARN), Tags: map[string]string{"cairn:storage": storage, "team": "blue"}}); err != nil {
		t.Errorf("TagResource with the vault's own storage tag: %v", err)
	}
	// The vault still keeps its points where it did.
	if _, err := c.DescribeRecoveryPoint(ctx, &bk.DescribeRecoveryPointInput{BackupVaultName: aws.String("tagged"), RecoveryPointArn: aws.String(pointARN)}); err != nil {
		t.Errorf("DescribeRecoveryPoint: %v", err)
	}
	if matches, _ := filepath.Glob(filepath.Join(elsewhere, "tagged", "*", pointID(pointARN), "manifest-summary.json")); len(matches) == 0 {
		t.Errorf("the point's files are not in the vault's storage %s", storage)
	}

	// The AWS CLI: tag-resource, untag-resource, list-tags.
	t.Run("aws cli", func(t *testing.T) {
		awscli := newAWSCLI(t, m, m.Keys.AccessKeyID, m.Keys.SecretAccessKey)
		awscli.ok("tag-resource", "--resource-arn", vaultARN, "--tags", "cli=1,other=two words")
		awscli.ok("untag-resource", "--resource-arn", vaultARN, "--tag-key-list", "other")
		got := awscli.ok("list-tags", "--resource-arn", vaultARN)
		wantTags := map[string]any{"team": "blue", "cairn:storage": storage, "cli": "1"}
		if !reflect.DeepEqual(got["Tags"], wantTags) {
			t.Errorf("aws backup list-tags = %v, want %v", got["Tags"], wantTags)
		}
		awscli.fails("InvalidParameterValueException", "tag-resource", "--resource-arn", vaultARN, "--tags", "cairn:storage=/tmp/moved")
		awscli.fails("ResourceNotFoundException", "list-tags", "--resource-arn", strings.Replace(planARN, "backup-plan:", "backup-plan:nope", 1))
	})

	// boto3.
	t.Run("boto3", func(t *testing.T) {
		py, err := exec.LookPath("python3")
		if err == nil {
			err = exec.Command(py, "-c", "import boto3").Run()
		}
		if err != nil {
			testbed.Missing(t, "python3 with boto3")
		}
		cmd := exec.Command(py, filepath.Join("testdata", "tags_boto3.py"), "http://"+m.Addr, vaultARN, planARN, pointARN)
		cmd.Env = testbed.Env("AWS_ACCESS_KEY_ID="+m.Keys.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+m.Keys.SecretAccessKey)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("tags_boto3.py: %v\n%s", err, errb.String())
		}
		var got struct {
			Vault, Plan, Point map[string]string
			PlanAfter          map[string]string `json:"plan_after"`
			PlanFinal          map[string]string `json:"plan_final"`
			PointKeysPaged     []string          `json:"point_keys_paged"`
			Errors             map[string]*string
		}
		dec := json.NewDecoder(&out)
		if err := dec.Decode(&got); err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got.Plan, map[string]string{"owner": "ops"}) || !maps.Equal(got.Point, want) || got.Vault["cairn:storage"] != storage {
			t.Errorf("boto3 list_tags: vault %v, plan %v, point %v", got.Vault, got.Plan, got.Point)
		}
		if wantPlan := map[string]string{"boto": "yes", "cost centre": "42"}; !maps.Equal(got.PlanAfter, wantPlan) || !maps.Equal(got.PlanFinal, wantPlan) {
			t.Errorf("boto3 plan tags after tag/untag %v, at the end %v; want %v", got.PlanAfter, got.PlanFinal, wantPlan)
		}
		if keys := slices.Sorted(maps.Keys(want)); !slices.Equal(sortedCopy(got.PointKeysPaged), keys) {
			t.Errorf("boto3 paged keys %v, want %v", got.PointKeysPaged, keys)
		}
		wantErrs := map[string]string{"reserved_prefix": "InvalidParameterValueException", "change_storage": "InvalidParameterValueException",
			"remove_storage": "InvalidParameterValueException", "unknown_vault": "ResourceNotFoundException",
			"table_arn": "InvalidParameterValueException", "too_many": "LimitExceededException"}
		for k, w := range wantErrs {
			if g := got.Errors[k]; g == nil || *g != w {
				t.Errorf("boto3 %s: error %v, want %s", k, g, w)
			}
		}
	})

	// A deleted plan has no tags to list.
	if _, err := c.DeleteBackupPlan(ctx, &bk.DeleteBackupPlanInput{BackupPlanId: p.BackupPlanId}); err != nil {
		t.Fatalf("DeleteBackupPlan: %v", err)
	}
	if _, err := c.ListTags(ctx, &bk.ListTagsInput{ResourceArn: aws.String(planARN)}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("ListTags of a deleted plan: %v", err)
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
