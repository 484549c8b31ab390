package backup

import "context"

// Verification: cairn's counterpart of `restic check`. A vault is checked in
// two steps, so that each request stays short and a client can show
// progress: VerifyVault compares what the catalog lists with what the
// vault's storage holds, and VerifyRecoveryPoint checks every file of one
// point against what records it. Problems fail a check; notes are worth
// knowing but harm no point (an incomplete point the background sweep
// removes, an archived file that cannot be read without a restore).

// VerifyFinding is one thing a check found.
type VerifyFinding struct {
	// RecoveryPointID is the point concerned; empty for the vault itself.
	RecoveryPointID string
	// File is the file concerned, by the key the point's manifests record
	// (a full bucket key in an S3 vault); empty if none in particular.
	File string
	// Message says what is wrong and, where it helps, what to do.
	Message string
}

// VaultCheck is what VerifyVault found in one vault.
type VaultCheck struct {
	VaultName string
	// RecoveryPointARNs are the points the catalog and the storage agree
	// on, complete and known to the catalog: the ones to check one by one.
	RecoveryPointARNs []string
	// CatalogPoints and StoredPoints count the points the catalog lists
	// in the vault and the complete points its storage holds.
	CatalogPoints, StoredPoints int
	Problems                    []VerifyFinding
	Notes                       []VerifyFinding
}

// PointCheck is what VerifyRecoveryPoint found in one recovery point.
type PointCheck struct {
	VaultName        string
	RecoveryPointARN string
	RecoveryPointID  string
	// Files is the number of the point's files checked, Bytes the bytes
	// read; Items the items read (with ReadData only).
	Files int
	Bytes int64
	Items int64
	// ReadData says whether the data files were decompressed and their
	// items counted and checksummed.
	ReadData bool
	Problems []VerifyFinding
	Notes    []VerifyFinding
}

// VerifyService checks vaults.
type VerifyService interface {
	// VerifyVault compares the recovery points the catalog lists in the
	// vault with those its storage holds (warm and, for a vault on local
	// disk, cold): points the catalog lists that are missing or incomplete
	// in storage, and complete points in storage the catalog does not
	// list. It reads listings and summaries only. ErrNotFound if the vault
	// does not exist; an unreachable storage is a problem, not an error.
	VerifyVault(ctx context.Context, vaultName string) (*VaultCheck, error)
	// VerifyRecoveryPoint checks every file of a point where it is now:
	// the manifests against their checksums, every data file's presence,
	// size and MD5 (which reads the stored bytes), no file the manifests
	// do not list, and the manifests against the catalog. With readData it
	// also decompresses every data file and recomputes the item count and
	// the content checksum. ErrNotFound if the point is not in the vault.
	VerifyRecoveryPoint(ctx context.Context, vaultName, recoveryPointARN string, readData bool) (*PointCheck, error)
}
