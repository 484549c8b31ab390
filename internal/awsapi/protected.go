package awsapi

import (
	"github.com/cairn-backup/cairn/internal/backup"
)

// Protected resources: the resources with a COMPLETED recovery point
// (ListProtectedResources is in recoverypoints.go).

type describeProtectedResourceOutput struct {
	ResourceArn          string
	ResourceType         string
	ResourceName         string `json:",omitempty"`
	LastBackupTime       epoch  `json:",omitzero"`
	LastBackupVaultArn   string `json:",omitempty"`
	LastRecoveryPointArn string `json:",omitempty"`
}

func (s *Server) describeProtectedResource(q *request) (any, error) {
	arn := q.path("resourceArn")
	if arn == "" {
		return nil, missingParam("ResourceArn")
	}
	if _, err := backup.ParseARN(arn); err != nil {
		return nil, inMember("ResourceArn", err)
	}
	r, err := s.svc.DescribeProtectedResource(q.ctx(), arn)
	if err != nil {
		return nil, err
	}
	return describeProtectedResourceOutput(toProtectedResource(r)), nil
}

func (s *Server) listProtectedResourcesByBackupVault(q *request) (any, error) {
	name := q.path("backupVaultName")
	if err := checkVaultName(name); err != nil {
		return nil, err
	}
	page := q.page()
	if err := q.err(); err != nil {
		return nil, err
	}
	if err := s.checkAccount(q, "backupVaultAccountId", "BackupVault", name); err != nil {
		return nil, err
	}
	res, next, err := s.svc.ListProtectedResourcesByVault(q.ctx(), name, page)
	if err != nil {
		return nil, err
	}
	out := listProtectedResourcesOutput{Results: []protectedResource{}, NextToken: next}
	for _, r := range res {
		out.Results = append(out.Results, toProtectedResource(r))
	}
	return out, nil
}
