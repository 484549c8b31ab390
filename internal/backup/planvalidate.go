package backup

// ValidatePlanDocument checks a plan as AWS does (names, windows, lifecycle,
// schedule expression and time zone) and fills in AWS's defaults. It does
// not check that vaults exist. (Being written: see issue 3.)
func ValidatePlanDocument(d *PlanDocument) error { return nil }

// PlanARN returns the ARN of a backup plan.
func PlanARN(region, account, id string) string {
	return ARN{Partition: "aws", Service: "backup", Region: region, AccountID: account, Resource: "backup-plan:" + id}.String()
}
