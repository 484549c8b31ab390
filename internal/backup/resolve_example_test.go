package backup_test

import (
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
)

func ExampleResolve() {
	daily := &backup.BackupPlan{ID: "daily"}
	tagged := &backup.BackupSelection{SelectionID: "tagged", SelectionDocument: backup.SelectionDocument{
		ListOfTags: []backup.TagCondition{{ConditionType: backup.ConditionStringEquals, ConditionKey: "backup", ConditionValue: "daily"}},
	}}
	plans := []backup.PlanSelections{{Plan: daily, Selections: []*backup.BackupSelection{tagged}}}
	tables := []backup.Resource{
		{ARN: backup.TableARN("us-east-1", "123456789012", "orders"), Tags: map[string]string{"backup": "daily"}},
		{ARN: backup.TableARN("us-east-1", "123456789012", "sessions")},
	}
	for _, a := range backup.Resolve(plans, tables) {
		fmt.Println(a.Plan.ID, a.Selection.SelectionID, a.Resource.ARN)
	}
	for _, v := range backup.Explain(plans, tables[1]) {
		fmt.Println(v.SelectionID, v.Covered, v.Reason)
	}
	// Output:
	// daily tagged arn:aws:dynamodb:us-east-1:123456789012:table/orders
	// tagged false no tag backup (ListOfTags wants backup=daily)
}
