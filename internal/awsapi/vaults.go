package awsapi

import (
	"github.com/cairn-backup/cairn/internal/backup"
)

// The vault type filter's values, as the model's VaultType enum has them.
var vaultTypes = map[string]bool{
	vaultTypeBackup:                     true,
	"LOGICALLY_AIR_GAPPED_BACKUP_VAULT": true,
	"RESTORE_ACCESS_BACKUP_VAULT":       true,
}

func (s *Server) createBackupVault(q *request) (any, error) {
	name := q.path("backupVaultName")
	if err := checkVaultName(name); err != nil {
		return nil, err
	}
	var in createBackupVaultInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if in.EncryptionKeyArn != "" {
		if _, err := backup.ParseARN(in.EncryptionKeyArn); err != nil {
			return nil, err
		}
	}
	if err := backup.ValidateVaultTags("BackupVaultTags", in.BackupVaultTags); err != nil {
		return nil, err
	}
	// Tags pass through untouched: the service reads its reserved ones
	// (cairn:storage and the like).
	v, err := s.svc.CreateVault(q.ctx(), backup.CreateVaultInput{
		Name:             name,
		CreatorRequestID: in.CreatorRequestId,
		EncryptionKeyARN: in.EncryptionKeyArn,
		Tags:             in.BackupVaultTags,
	})
	if err != nil {
		return nil, err
	}
	return createBackupVaultOutput{BackupVaultName: v.Name, BackupVaultArn: v.ARN, CreationDate: epoch(v.CreationDate)}, nil
}

func (s *Server) describeBackupVault(q *request) (any, error) {
	name := q.path("backupVaultName")
	if err := checkVaultName(name); err != nil {
		return nil, err
	}
	if err := s.checkAccount(q, "backupVaultAccountId", "BackupVault", name); err != nil {
		return nil, err
	}
	v, err := s.svc.GetVault(q.ctx(), name)
	if err != nil {
		return nil, err
	}
	return toBackupVault(v), nil
}

func (s *Server) listBackupVaults(q *request) (any, error) {
	vaultType := q.str("vaultType")
	if vaultType != "" && !vaultTypes[vaultType] {
		q.fail(invalidParam("vaultType %q is not one of BACKUP_VAULT, LOGICALLY_AIR_GAPPED_BACKUP_VAULT, RESTORE_ACCESS_BACKUP_VAULT", vaultType))
	}
	shared := q.boolean("shared")
	page := q.page()
	if err := q.err(); err != nil {
		return nil, err
	}
	out := listBackupVaultsOutput{BackupVaultList: []backupVault{}}
	if shared || vaultType != "" && vaultType != vaultTypeBackup {
		// cairn has only plain vaults, none of them shared.
		return out, nil
	}
	vaults, next, err := s.svc.ListVaults(q.ctx(), page)
	if err != nil {
		return nil, err
	}
	for _, v := range vaults {
		out.BackupVaultList = append(out.BackupVaultList, toBackupVault(v))
	}
	out.NextToken = next
	return out, nil
}

func (s *Server) deleteBackupVault(q *request) (any, error) {
	name := q.path("backupVaultName")
	if err := checkVaultName(name); err != nil {
		return nil, err
	}
	return nil, s.svc.DeleteVault(q.ctx(), name)
}
