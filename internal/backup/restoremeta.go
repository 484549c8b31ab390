package backup

import (
	"maps"
	"slices"
	"strings"
)

// DynamoDB restore metadata keys. AWS Backup documents targetTableName,
// encryptionType, kmsMasterKeyArn and deletionProtection for DynamoDB and
// says metadata keys are not case sensitive: cairn matches every key below
// without regard to case, so TargetTableName (the spelling of AWS's CLI
// examples) and targetTableName are the same key.
const (
	// MetaTargetTableName names the new table (required).
	MetaTargetTableName = "targetTableName"
	// MetaEncryptionType is Default (a key owned by DynamoDB) or KMS
	// (kmsMasterKeyArn, or the AWS-managed key when that is absent).
	MetaEncryptionType = "encryptionType"
	// MetaKMSMasterKeyARN is the KMS key of a KMS-encrypted restore.
	MetaKMSMasterKeyARN = "kmsMasterKeyArn"
	// MetaDeletionProtection is true or false.
	MetaDeletionProtection = "deletionProtection"

	// Keys GetRecoveryPointRestoreMetadata reports (cairn's). BillingMode
	// and TableClass may be changed to restore with another setting; the
	// others describe the recovery point and, when sent back, must be as
	// reported.
	MetaBillingMode         = "BillingMode"
	MetaTableClass          = "TableClass"
	MetaOriginalTableName   = "originalTableName"
	MetaTableARN            = "TableArn"
	MetaItemCount           = "ItemCount"
	MetaContentChecksum     = "ContentChecksum"
	MetaWarmThroughput      = "WarmThroughput"
	MetaIndexWarmThroughput = "IndexWarmThroughput"
	MetaOutOfSpecItems      = "OutOfSpecItems"

	// cairn's own keys.
	//
	// MetaTargetSource names the configured source to restore into; default
	// the source the table was backed up from.
	MetaTargetSource = "cairn:TargetSource"
	// MetaSkipValidation set to true skips the post-restore check of item
	// count and content checksum.
	MetaSkipValidation = "cairn:SkipValidation"
	// MetaAllowRefusedItems set to true ends a restore whose target refused
	// some items (see docs/api.md) COMPLETED instead of FAILED; the refused
	// items are named in its StatusMessage either way.
	MetaAllowRefusedItems = "cairn:AllowRefusedItems"
)

// Encryption types of restore metadata.
const (
	EncryptionDefault = "Default"
	EncryptionKMS     = "KMS"
)

// informativeMetaKeys describe a recovery point: sent back, they must match
// what GetRecoveryPointRestoreMetadata reported.
var informativeMetaKeys = []string{MetaOriginalTableName, MetaTableARN, MetaItemCount, MetaContentChecksum,
	MetaWarmThroughput, MetaIndexWarmThroughput, MetaOutOfSpecItems}

// restoreMetaKeys are all the keys a DynamoDB restore takes.
var restoreMetaKeys = append([]string{MetaTargetTableName, MetaEncryptionType, MetaKMSMasterKeyARN, MetaDeletionProtection,
	MetaBillingMode, MetaTableClass, MetaTargetSource, MetaSkipValidation, MetaAllowRefusedItems}, informativeMetaKeys...)

// DynamoDBRestore is the restore metadata of a DynamoDB restore, read and
// checked by ParseDynamoDBRestoreMetadata. Empty fields (nil for
// DeletionProtection) keep what the recovery point recorded.
type DynamoDBRestore struct {
	TargetTableName    string
	EncryptionType     string // "", EncryptionDefault or EncryptionKMS
	KMSMasterKeyARN    string
	DeletionProtection *bool
	BillingMode        string // "", PROVISIONED or PAY_PER_REQUEST
	TableClass         string // "", STANDARD or STANDARD_INFREQUENT_ACCESS
	TargetSource       string
	SkipValidation     bool
	AllowRefusedItems  bool
	// Recorded holds the informative keys given, by their names above,
	// for CheckRecorded.
	Recorded map[string]string
}

// ParseDynamoDBRestoreMetadata reads StartRestoreJob's metadata for a
// DynamoDB table. Keys are matched without regard to case; a key given
// twice (in two spellings) with different values, an unknown key, or a
// value a key does not take is an ErrInvalidParameter error naming the key;
// a missing table name is an ErrMissingParameter error.
func ParseDynamoDBRestoreMetadata(m map[string]string) (*DynamoDBRestore, error) {
	canon := map[string]string{}
	for _, k := range restoreMetaKeys {
		canon[strings.ToLower(k)] = k
	}
	vals := map[string]string{}
	given := map[string]string{} // canonical key -> the spelling given
	for _, k := range slices.Sorted(maps.Keys(m)) {
		ck, ok := canon[strings.ToLower(k)]
		if !ok {
			return nil, Errorf(ErrInvalidParameter, "unknown restore metadata key %q; a DynamoDB restore takes %s",
				k, strings.Join(restoreMetaKeys, ", "))
		}
		if prev, dup := given[ck]; dup && vals[ck] != m[k] {
			return nil, Errorf(ErrInvalidParameter, "restore metadata keys %q and %q are the same key (%s) with different values %q and %q",
				prev, k, ck, vals[ck], m[k])
		}
		given[ck], vals[ck] = k, m[k]
	}
	r := &DynamoDBRestore{TargetTableName: vals[MetaTargetTableName], TargetSource: vals[MetaTargetSource]}
	if r.TargetTableName == "" {
		return nil, &Error{Code: ErrMissingParameter, Type: "Parameter", Context: "Metadata." + MetaTargetTableName,
			Message: "Missing required parameter Metadata." + MetaTargetTableName + ": name the new table, e.g. --metadata targetTableName=NAME"}
	}
	if err := ValidateTableName(r.TargetTableName); err != nil {
		return nil, err
	}
	var err error
	boolean := func(key string) (*bool, error) {
		v, ok := vals[key]
		if !ok {
			return nil, nil
		}
		switch strings.ToLower(v) {
		case "true":
			return new(true), nil
		case "false":
			return new(false), nil
		}
		return nil, Errorf(ErrInvalidParameter, "restore metadata %s must be true or false, not %q", given[key], v)
	}
	oneOf := func(key string, allowed ...string) (string, error) {
		v, ok := vals[key]
		if !ok {
			return "", nil
		}
		for _, a := range allowed {
			if strings.EqualFold(v, a) {
				return a, nil
			}
		}
		return "", Errorf(ErrInvalidParameter, "restore metadata %s must be %s, not %q", given[key], strings.Join(allowed, " or "), v)
	}
	if r.DeletionProtection, err = boolean(MetaDeletionProtection); err != nil {
		return nil, err
	}
	for key, dst := range map[string]*bool{MetaSkipValidation: &r.SkipValidation, MetaAllowRefusedItems: &r.AllowRefusedItems} {
		b, err := boolean(key)
		if err != nil {
			return nil, err
		}
		*dst = b != nil && *b
	}
	if r.EncryptionType, err = oneOf(MetaEncryptionType, EncryptionDefault, EncryptionKMS); err != nil {
		return nil, err
	}
	if r.BillingMode, err = oneOf(MetaBillingMode, "PROVISIONED", "PAY_PER_REQUEST"); err != nil {
		return nil, err
	}
	if r.TableClass, err = oneOf(MetaTableClass, "STANDARD", "STANDARD_INFREQUENT_ACCESS"); err != nil {
		return nil, err
	}
	if key, ok := vals[MetaKMSMasterKeyARN]; ok && key != "" {
		switch r.EncryptionType {
		case "":
			r.EncryptionType = EncryptionKMS
		case EncryptionDefault:
			return nil, Errorf(ErrInvalidParameter, "restore metadata %s names a KMS key but %s is %s; set it to %s or leave the key out",
				given[MetaKMSMasterKeyARN], given[MetaEncryptionType], EncryptionDefault, EncryptionKMS)
		}
		if a, err := ParseARN(key); err != nil || a.Service != "kms" || !strings.HasPrefix(a.Resource, "key/") && !strings.HasPrefix(a.Resource, "alias/") {
			return nil, Errorf(ErrInvalidParameter, "restore metadata %s must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not %q",
				given[MetaKMSMasterKeyARN], key)
		}
		r.KMSMasterKeyARN = key
	}
	for _, k := range informativeMetaKeys {
		if v, ok := vals[k]; ok {
			if r.Recorded == nil {
				r.Recorded = map[string]string{}
			}
			r.Recorded[k] = v
		}
	}
	return r, nil
}

// CheckRecorded checks the informative keys given against the restore
// metadata of the recovery point (what GetRecoveryPointRestoreMetadata
// reported): they describe the point and cannot be changed.
func (r *DynamoDBRestore) CheckRecorded(pointARN string, reported map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(r.Recorded)) {
		if v := r.Recorded[k]; v != reported[k] {
			return Errorf(ErrInvalidParameter, "restore metadata %s is %q, but recovery point %s has %q: %s describes the recovery point "+
				"and cannot be changed; send it back as GetRecoveryPointRestoreMetadata reports it, or leave it out", k, v, pointARN, reported[k], k)
		}
	}
	return nil
}

// MetadataValue returns the value of restore metadata key in m, matching
// keys without regard to case, and whether it is there.
func MetadataValue(m map[string]string, key string) (string, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if strings.EqualFold(k, key) {
			return m[k], true
		}
	}
	return "", false
}
