package awsapi

import "github.com/cairn-backup/cairn/internal/backup"

// cairn's verification operations (backup.VerifyService), beside the other
// /cairn/ operations of ext.go. A client checks a vault in two steps: the
// vault's agreement with the catalog, then each recovery point it lists,
// so that no request runs for long and progress can be shown.
//
//	GET /cairn/verify/vaults/{backupVaultName}                                     -> VaultCheck
//	GET /cairn/verify/vaults/{backupVaultName}/recovery-points/{recoveryPointArn}  -> PointCheck
//	    ?readData=true: also decompress every data file and recompute the item
//	    count and content checksum

// VerifyFinding is one thing a check found: a problem or a note.
type VerifyFinding struct {
	RecoveryPointId string `json:"RecoveryPointId,omitempty"`
	File            string `json:"File,omitempty"`
	Message         string `json:"Message"`
}

// VaultCheck answers GET /cairn/verify/vaults/{backupVaultName}.
type VaultCheck struct {
	BackupVaultName string `json:"BackupVaultName"`
	// RecoveryPointArns are the points to check one by one.
	RecoveryPointArns []string        `json:"RecoveryPointArns"`
	CatalogPoints     int             `json:"CatalogPoints"`
	StoredPoints      int             `json:"StoredPoints"`
	Problems          []VerifyFinding `json:"Problems"`
	Notes             []VerifyFinding `json:"Notes"`
}

// PointCheck answers GET
// /cairn/verify/vaults/{backupVaultName}/recovery-points/{recoveryPointArn}.
type PointCheck struct {
	BackupVaultName  string          `json:"BackupVaultName"`
	RecoveryPointArn string          `json:"RecoveryPointArn"`
	Files            int             `json:"Files"`
	Bytes            int64           `json:"Bytes"`
	Items            int64           `json:"Items"`
	ReadData         bool            `json:"ReadData"`
	Problems         []VerifyFinding `json:"Problems"`
	Notes            []VerifyFinding `json:"Notes"`
}

func toFindings(fs []backup.VerifyFinding) []VerifyFinding {
	out := []VerifyFinding{}
	for _, f := range fs {
		out = append(out, VerifyFinding{RecoveryPointId: f.RecoveryPointID, File: f.File, Message: f.Message})
	}
	return out
}

func (s *Server) verifyVault(q *request) (any, error) {
	name := q.path("backupVaultName")
	if err := checkVaultName(name); err != nil {
		return nil, err
	}
	c, err := s.svc.VerifyVault(q.ctx(), name)
	if err != nil {
		return nil, err
	}
	out := VaultCheck{BackupVaultName: c.VaultName, RecoveryPointArns: append([]string{}, c.RecoveryPointARNs...),
		CatalogPoints: c.CatalogPoints, StoredPoints: c.StoredPoints, Problems: toFindings(c.Problems), Notes: toFindings(c.Notes)}
	return out, nil
}

func (s *Server) verifyRecoveryPoint(q *request) (any, error) {
	vault, arn, err := s.pointRef(q)
	if err != nil {
		return nil, err
	}
	readData := q.boolean("readData")
	if err := q.err(); err != nil {
		return nil, err
	}
	c, err := s.svc.VerifyRecoveryPoint(q.ctx(), vault, arn, readData)
	if err != nil {
		return nil, err
	}
	return PointCheck{BackupVaultName: c.VaultName, RecoveryPointArn: c.RecoveryPointARN, Files: c.Files, Bytes: c.Bytes,
		Items: c.Items, ReadData: c.ReadData, Problems: toFindings(c.Problems), Notes: toFindings(c.Notes)}, nil
}
