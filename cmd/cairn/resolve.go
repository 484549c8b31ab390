package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
)

// Commands that take a job id, a recovery point or a plan accept what the
// tables show: a unique prefix of an id (the 8 characters of a short id),
// a recovery point's id instead of its ARN, and a plan's name.

// fullIDLen is the length of a UUID, the form of every job and point id.
const fullIDLen = 36

// pick returns the one match, or an error that says there is none or
// which ones there are.
func pick(what, given, hint string, matches []string) (string, error) {
	switch len(matches) {
	case 0:
		return "", fmt.Errorf("no %s %q; %s", what, given, hint)
	case 1:
		return matches[0], nil
	}
	if len(matches) > 5 {
		matches = append(matches[:5], "...")
	}
	return "", fmt.Errorf("%q matches %d %ss (%s); give more of it", given, len(matches), what, strings.Join(matches, ", "))
}

// resolveBackupJob turns a job id or a unique prefix of one into the id.
func (c *cli) resolveBackupJob(ctx context.Context, s string) (string, error) {
	if len(s) == fullIDLen {
		return s, nil
	}
	var matches []string
	p := bk.NewListBackupJobsPaginator(c.client, &bk.ListBackupJobsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, j := range page.BackupJobs {
			if id := aws.ToString(j.BackupJobId); strings.HasPrefix(id, s) && s != "" {
				matches = append(matches, id)
			}
		}
	}
	return pick("backup job", s, "see cairn backup list", matches)
}

// resolveRestoreJob turns a job id or a unique prefix of one into the id.
func (c *cli) resolveRestoreJob(ctx context.Context, s string) (string, error) {
	if len(s) == fullIDLen {
		return s, nil
	}
	var matches []string
	p := bk.NewListRestoreJobsPaginator(c.client, &bk.ListRestoreJobsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, j := range page.RestoreJobs {
			if id := aws.ToString(j.RestoreJobId); strings.HasPrefix(id, s) && s != "" {
				matches = append(matches, id)
			}
		}
	}
	return pick("restore job", s, "see cairn restore list", matches)
}

// resolvePoint finds a recovery point given as an ARN, an id or a unique
// prefix of an id, in vault or (vault "") in every vault, and returns its
// ARN and vault.
func (c *cli) resolvePoint(ctx context.Context, s, vault string) (arn, inVault string, err error) {
	if strings.HasPrefix(s, "arn:") && vault != "" {
		return s, vault, nil
	}
	vaults := []string{vault}
	if vault == "" {
		vaults = nil
		p := bk.NewListBackupVaultsPaginator(c.client, &bk.ListBackupVaultsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return "", "", err
			}
			for _, v := range page.BackupVaultList {
				vaults = append(vaults, aws.ToString(v.BackupVaultName))
			}
		}
	}
	type hit struct{ arn, vault string }
	var hits []hit
	var names []string
	for _, v := range vaults {
		p := bk.NewListRecoveryPointsByBackupVaultPaginator(c.client, &bk.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String(v)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return "", "", err
			}
			for _, rp := range page.RecoveryPoints {
				a := aws.ToString(rp.RecoveryPointArn)
				if a == s || (s != "" && strings.HasPrefix(pointID(a), s)) {
					hits = append(hits, hit{a, v})
					names = append(names, v+"/"+pointID(a))
				}
			}
		}
	}
	where := "any vault"
	if vault != "" {
		where = "vault " + vault
	}
	if _, err := pick("recovery point", s, "none in "+where+"; see cairn point list", names); err != nil {
		return "", "", err
	}
	return hits[0].arn, hits[0].vault, nil
}

// pointID is the id at the end of a recovery point ARN.
func pointID(arn string) string { return arn[strings.LastIndexByte(arn, ':')+1:] }

// resolvePlan turns a plan id or a plan's name into the plan's id. A name
// that several plans have is refused with their ids.
func (c *cli) resolvePlan(ctx context.Context, s string) (string, error) {
	var byName []string
	p := bk.NewListBackupPlansPaginator(c.client, &bk.ListBackupPlansInput{IncludeDeleted: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, pl := range page.BackupPlansList {
			if aws.ToString(pl.BackupPlanId) == s {
				return s, nil
			}
			if aws.ToString(pl.BackupPlanName) == s && pl.DeletionDate == nil {
				byName = append(byName, aws.ToString(pl.BackupPlanId))
			}
		}
	}
	if len(byName) == 0 {
		return s, nil // GetBackupPlan says it does not exist
	}
	return pick("plan named", s, "see cairn plan list", byName)
}
