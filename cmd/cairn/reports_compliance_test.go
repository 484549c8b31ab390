package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// TestComplianceReports walks the blog's motivating example: inventory
// tables backed up daily and sales tables hourly, chosen by tag; a
// framework checks that every table is in a plan and has a recovery point
// of the last day; CONTROL_COMPLIANCE_REPORT shows both controls
// COMPLIANT, RESOURCE_COMPLIANCE_REPORT both tables, in CSV and JSON read
// by Python. Untagging a table makes the next report NON_COMPLIANT.
func TestComplianceReports(t *testing.T) {
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	c, db := backupClient(m), ddbClient(dyn.Endpoint)
	ctx := context.Background()
	for table, value := range map[string]string{"inventory": "daily", "sales": "hourly"} {
		createTable(t, db, table, ddbjson.TypeS, false)
		seedRandom(t, db, table, 5)
		if _, err := db.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(tablePrefix + table),
			Tags: []ddbtypes.Tag{{Key: aws.String("backup"), Value: aws.String(value)}}}); err != nil {
			t.Fatal(err)
		}
		p, err := c.CreateBackupPlan(ctx, &bk.CreateBackupPlanInput{BackupPlan: &bktypes.BackupPlanInput{BackupPlanName: aws.String(value),
			Rules: []bktypes.BackupRuleInput{{RuleName: aws.String(value), TargetBackupVaultName: aws.String("Default"),
				ScheduleExpression: aws.String(map[string]string{"daily": "cron(0 5 ? * * *)", "hourly": "cron(0 * ? * * *)"}[value]),
				Lifecycle:          &bktypes.Lifecycle{DeleteAfterDays: aws.Int64(35)}}}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateBackupSelection(ctx, &bk.CreateBackupSelectionInput{BackupPlanId: p.BackupPlanId,
			BackupSelection: &bktypes.BackupSelection{SelectionName: aws.String(value), IamRoleArn: aws.String(role),
				ListOfTags: []bktypes.Condition{{ConditionType: bktypes.ConditionTypeStringequals, ConditionKey: aws.String("backup"),
					ConditionValue: aws.String(value)}}}}); err != nil {
			t.Fatal(err)
		}
		if j := waitBackupJob(t, c, startBackup(t, c, table)); j.State != bktypes.BackupJobStateCompleted {
			t.Fatalf("backup of %s: %s", table, j.State)
		}
	}
	fw, err := c.CreateFramework(ctx, &bk.CreateFrameworkInput{FrameworkName: aws.String("blog"), FrameworkDescription: aws.String("tables by tag"),
		FrameworkControls: []bktypes.FrameworkControl{
			{ControlName: aws.String("BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN"),
				ControlScope: &bktypes.ControlScope{ComplianceResourceTypes: []string{"DynamoDB"}}},
			{ControlName: aws.String("BACKUP_LAST_RECOVERY_POINT_CREATED"), ControlInputParameters: []bktypes.ControlInputParameter{
				{ParameterName: aws.String("recoveryPointAgeUnit"), ParameterValue: aws.String("days")},
				{ParameterName: aws.String("recoveryPointAgeValue"), ParameterValue: aws.String("1")}}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	for _, template := range []string{"CONTROL_COMPLIANCE_REPORT", "RESOURCE_COMPLIANCE_REPORT"} {
		if _, err := c.CreateReportPlan(ctx, &bk.CreateReportPlanInput{ReportPlanName: aws.String(strings.SplitN(template, "_", 2)[0]),
			ReportDeliveryChannel: &bktypes.ReportDeliveryChannel{S3BucketName: aws.String("audit"), Formats: []string{"CSV", "JSON"}},
			ReportSetting:         &bktypes.ReportSetting{ReportTemplate: aws.String(template), FrameworkArns: []string{aws.ToString(fw.FrameworkArn)}}}); err != nil {
			t.Fatalf("CreateReportPlan %s: %v", template, err)
		}
	}
	d, err := c.DescribeReportPlan(ctx, &bk.DescribeReportPlanInput{ReportPlanName: aws.String("CONTROL")})
	if err != nil || d.ReportPlan.ReportSetting.NumberOfFrameworks != 1 {
		t.Fatalf("DescribeReportPlan: %+v %v", d, err)
	}
	run := func(plan string) []string {
		t.Helper()
		out, err := c.StartReportJob(ctx, &bk.StartReportJobInput{ReportPlanName: aws.String(plan)})
		if err != nil {
			t.Fatal(err)
		}
		j := waitReportJob(t, c, aws.ToString(out.ReportJobId))
		if aws.ToString(j.Status) != "COMPLETED" {
			t.Fatalf("report job of %s: %s %s", plan, aws.ToString(j.Status), aws.ToString(j.StatusMessage))
		}
		var files []string
		for _, k := range j.ReportDestination.S3Keys {
			files = append(files, filepath.Join(m.Config.DataDir, "reports", "audit", filepath.FromSlash(k)))
		}
		return files
	}
	all := map[string]string{"frameworkName": "blog", "accountId": "000000000000", "region": "us-east-1"}
	compliant := map[string]string{"controlComplianceStatus": "COMPLIANT", "numResourcesCompliant": "2", "numResourcesNonCompliant": "0"}
	for k, v := range all {
		compliant[k] = v
	}
	if n := readReports(t, "CONTROL_COMPLIANCE_REPORT", run("CONTROL"), "controlName",
		[]string{"BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN", "BACKUP_LAST_RECOVERY_POINT_CREATED"}, compliant); n != "2" {
		t.Fatalf("control compliance report: %s rows, want 2", n)
	}
	if n := readReports(t, "RESOURCE_COMPLIANCE_REPORT", run("RESOURCE"), "resourceId",
		[]string{"AWS::DynamoDB::Table/inventory", "AWS::DynamoDB::Table/sales"},
		map[string]string{"resourceComplianceStatus": "COMPLIANT", "resourceType": "AWS::DynamoDB::Table", "frameworkName": "blog"}); n != "4" {
		t.Fatalf("resource compliance report: %s rows, want 4 (2 tables, 2 controls)", n)
	}

	// sales loses its tag: no plan covers it any more.
	if _, err := db.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: aws.String(tablePrefix + "sales"), TagKeys: []string{"backup"}}); err != nil {
		t.Fatal(err)
	}
	readReports(t, "CONTROL_COMPLIANCE_REPORT", run("CONTROL"), "controlName", []string{"BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN"},
		map[string]string{"controlComplianceStatus": "NON_COMPLIANT", "numResourcesNonCompliant": "1"})
}
