package backup

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// AWS's rules for tags, which every operation that takes tags applies
// through ValidateTags (AWS General Reference, "Tag naming limits and
// requirements", and AWS Backup's quota of 50 tags per resource).
const (
	// MaxTags is how many tags a vault, a plan or a recovery point may carry,
	// and how many one request may give.
	MaxTags = 50
	// MaxTagKeyLength and MaxTagValueLength are in characters (runes).
	MaxTagKeyLength   = 128
	MaxTagValueLength = 256
	// reservedTagPrefix is AWS's: keys that start with it (in any case)
	// cannot be set, changed or removed by users.
	reservedTagPrefix = "aws:"
	// cairnTagPrefix is the namespace of cairn's reserved vault tags
	// (TagStorage and the others in storage.go).
	cairnTagPrefix = "cairn:"
)

// ValidateTags checks the tags a request gives (member names the request
// member in messages): at most MaxTags, and each as ValidateTag checks it.
// Errors are ErrInvalidParameter *Error with Context member.
func ValidateTags(member string, tags map[string]string) error {
	if len(tags) > MaxTags {
		return tagError(member, "at most %d tags; got %d", MaxTags, len(tags))
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if err := ValidateTag(member, k, tags[k]); err != nil {
			return err
		}
	}
	return nil
}

// ValidateTag checks one tag as AWS does: a key of 1 to 128 characters and
// a value of at most 256, both valid UTF-8 of letters, digits, spaces
// (Unicode's \p{L}, \p{N} and \p{Z}) and _ . : / = + - @ only, and a key that does not start with "aws:" (in
// any case). The values of cairn's reserved vault tags (cairn:storage and
// the like) are paths and URLs that their own parser checks: for them only
// the length, UTF-8 and the absence of control characters (NUL included)
// are required here.
func ValidateTag(member, key, value string) error {
	if err := ValidateTagKey(member, key); err != nil {
		return err
	}
	if !utf8.ValidString(value) {
		return tagError(member, "the value of tag %q is not valid UTF-8", key)
	}
	if n := utf8.RuneCountInString(value); n > MaxTagValueLength {
		return tagError(member, "the value of tag %q must be at most %d characters long; it has %d", key, MaxTagValueLength, n)
	}
	if isReservedTag(key) {
		if strings.ContainsFunc(value, unicode.IsControl) {
			return tagError(member, "the value of tag %q must not contain control characters", key)
		}
		return nil
	}
	if !validTagText(value) {
		return tagError(member, "the value of tag %q (%q) may contain only letters, digits, spaces and _ . : / = + - @", key, value)
	}
	return nil
}

// ValidateTagKey checks a tag key: 1 to 128 characters of valid UTF-8
// letters, digits, spaces and _ . : / = + - @, not starting with
// "aws:".
func ValidateTagKey(member, key string) error {
	if !utf8.ValidString(key) {
		return tagError(member, "tag key %q is not valid UTF-8", key)
	}
	if n := utf8.RuneCountInString(key); n < 1 || n > MaxTagKeyLength {
		return tagError(member, "tag key %q must be 1 to %d characters long", key, MaxTagKeyLength)
	}
	if strings.HasPrefix(strings.ToLower(key), reservedTagPrefix) {
		return tagError(member, "tag key %q: the prefix aws: is reserved for AWS; choose a key without it", key)
	}
	if !validTagText(key) {
		return tagError(member, "tag key %q may contain only letters, digits, spaces and _ . : / = + - @", key)
	}
	return nil
}

// ValidateVaultTags checks the tags of a new vault: ValidateTags, and no key
// in cairn's namespace ("cairn:") but its reserved vault tags, so that a
// misspelt cairn:storage is refused instead of creating the vault in the
// default place.
func ValidateVaultTags(member string, tags map[string]string) error {
	if err := ValidateTags(member, tags); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if strings.HasPrefix(k, cairnTagPrefix) && !isReservedTag(k) {
			return tagError(member, "tag key %q: the prefix cairn: is reserved for cairn's vault tags (%s); check the spelling",
				k, strings.Join(ReservedVaultTags(), ", "))
		}
	}
	return nil
}

// ReservedVaultTags returns the keys of cairn's reserved vault tags.
func ReservedVaultTags() []string {
	return []string{TagStorage, TagS3Endpoint, TagS3Region, TagColdPath, TagColdStorageClass, TagCompression}
}

func validTagText(s string) bool {
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Z, r) || strings.ContainsRune("_.:/=+-@", r)) {
			return false
		}
	}
	return utf8.ValidString(s)
}

func tagError(member, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if member != "" {
		msg = member + ": " + msg
	}
	return &Error{Code: ErrInvalidParameter, Message: msg, Type: "Parameter", Context: member}
}

// TagKind is the kind of resource that carries tags.
type TagKind string

// The kinds of resources TagResource, UntagResource and ListTags work on,
// named as the Type of AWS's ResourceNotFoundException names them.
const (
	TagKindVault         TagKind = "BackupVault"
	TagKindPlan          TagKind = "BackupPlan"
	TagKindRecoveryPoint TagKind = "RecoveryPoint"
	// TagKindFramework: an Audit Manager framework, by its name.
	TagKindFramework TagKind = "Framework"
)

// TagTarget names a resource that carries tags: a vault by its name, a
// backup plan or a recovery point by its id.
type TagTarget struct {
	Kind TagKind
	ID   string
}

// ParseTaggableARN parses the ARN of a resource TagResource, UntagResource
// and ListTags work on:
//
//	arn:PARTITION:backup:REGION:ACCOUNT:backup-vault:NAME
//	arn:PARTITION:backup:REGION:ACCOUNT:backup-plan:ID
//	arn:PARTITION:backup:REGION:ACCOUNT:recovery-point:ID
//	arn:PARTITION:backup:REGION:ACCOUNT:framework:NAME-UUID
//
// with a 12-digit account. ARNs of AWS Backup resources cairn does not have
// (report plans, legal holds, restore testing plans) are
// ErrNotFound; anything else is ErrInvalidParameter.
func ParseTaggableARN(s string) (TagTarget, ARN, error) {
	const want = "arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME, ...:backup-plan:ID or ...:recovery-point:ID"
	a, err := ParseARN(s)
	if err != nil || a.Service != "backup" {
		if err == nil && a.Service == "dynamodb" {
			return TagTarget{}, ARN{}, Errorf(ErrInvalidParameter,
				"%q is a DynamoDB ARN: cairn tags its vaults, backup plans and recovery points (%s); tag tables with DynamoDB's TagResource", s, want)
		}
		return TagTarget{}, ARN{}, Errorf(ErrInvalidParameter, "%q is not the ARN of a backup vault, backup plan or recovery point (%s)", s, want)
	}
	if a.Region == "" || !isAccountID(a.AccountID) {
		return TagTarget{}, ARN{}, Errorf(ErrInvalidParameter, "%q must name a region and a 12-digit account (%s)", s, want)
	}
	kind, id, _ := strings.Cut(a.Resource, ":")
	var t TagTarget
	switch kind {
	case "backup-vault":
		if err := ValidateVaultName(id); err != nil {
			return TagTarget{}, ARN{}, Errorf(ErrInvalidParameter, "%q: %s", s, errorMessage(err))
		}
		t = TagTarget{Kind: TagKindVault, ID: id}
	case "backup-plan":
		t = TagTarget{Kind: TagKindPlan, ID: id}
	case "recovery-point":
		t = TagTarget{Kind: TagKindRecoveryPoint, ID: id}
	case "framework":
		// NAME-UUID: the name is what precedes "-" and the UUID (36
		// characters) that CreateFramework appends.
		const suffix = 1 + 36
		name := ""
		if len(id) > suffix && id[len(id)-suffix] == '-' {
			name = id[:len(id)-suffix]
		}
		if name == "" || ValidateFrameworkName(name) != nil {
			// Not an ARN cairn issues (...:framework:NAME-UUID): no
			// framework of cairn's has it.
			return TagTarget{}, ARN{}, &Error{Code: ErrNotFound, Type: string(TagKindFramework), Context: s,
				Message: fmt.Sprintf("framework %s not found", s)}
		}
		return TagTarget{Kind: TagKindFramework, ID: name}, a, nil
	case "report-plan":
		return TagTarget{}, ARN{}, &Error{Code: ErrNotFound, Type: kind, Context: s,
			Message: fmt.Sprintf("%s: cairn does not list or change a report plan's tags (they are those CreateReportPlan gave it); it tags backup vaults, backup plans, recovery points and frameworks", s)}
	case "legal-hold", "restore-testing-plan":
		return TagTarget{}, ARN{}, &Error{Code: ErrNotFound, Type: kind, Context: s,
			Message: fmt.Sprintf("%s not found: cairn has no %ss; it tags backup vaults, backup plans and recovery points", s, kind)}
	default:
		return TagTarget{}, ARN{}, Errorf(ErrInvalidParameter, "%q is not the ARN of a backup vault, backup plan or recovery point (%s)", s, want)
	}
	if t.Kind != TagKindVault && !validID(t.ID) {
		return TagTarget{}, ARN{}, Errorf(ErrInvalidParameter, "%q: %q is not an id cairn issues (letters, digits, '-', '_' and '.', at most 128)", s, t.ID)
	}
	return t, a, nil
}

// validID reports whether s looks like an id cairn issues for plans,
// recovery points and jobs.
func validID(s string) bool {
	if len(s) < 1 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return s[0] != '.' && s[0] != '-' && s[0] != '_'
}

// AddTags applies TagResource's tags to cur, the tags a resource of kind
// carries now: new keys are added and existing ones get the new value. It
// checks the limit of MaxTags (ErrLimitExceeded) and, for a vault, that
// none of cairn's reserved tags changes: they say where the vault keeps its
// recovery points, which is fixed when the vault is created, so giving one
// with the value it has is accepted and changes nothing, and anything else
// is refused. On error cur is unchanged.
func AddTags(kind TagKind, name string, cur, tags map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if kind == TagKindVault && strings.HasPrefix(k, cairnTagPrefix) {
			if old, ok := cur[k]; ok && old == tags[k] && isReservedTag(k) {
				continue
			}
			return fixedVaultTag(name, k)
		}
	}
	n := len(cur)
	for k := range tags {
		if _, ok := cur[k]; !ok {
			n++
		}
	}
	if n > MaxTags {
		return &Error{Code: ErrLimitExceeded, Type: string(kind), Context: name,
			Message: fmt.Sprintf("%s %s would have %d tags; at most %d are allowed: remove some with UntagResource first", kind, name, n, MaxTags)}
	}
	maps.Copy(cur, tags)
	return nil
}

// RemoveTags applies UntagResource's keys to cur, the tags a resource of
// kind carries now. Keys it does not carry are ignored. A vault's reserved
// tags (cairn:storage and the like) cannot be removed. On error cur is
// unchanged.
func RemoveTags(kind TagKind, name string, cur map[string]string, keys []string) error {
	for _, k := range keys {
		if _, ok := cur[k]; ok && kind == TagKindVault && strings.HasPrefix(k, cairnTagPrefix) {
			return fixedVaultTag(name, k)
		}
	}
	for _, k := range keys {
		delete(cur, k)
	}
	return nil
}

func fixedVaultTag(vault, key string) *Error {
	if !isReservedTag(key) {
		return tagError("Tags", "tag key %q: the prefix cairn: is reserved for cairn's vault tags (%s), which are set when a vault is created",
			key, strings.Join(ReservedVaultTags(), ", "))
	}
	if key == TagCompression {
		e := Errorf(ErrInvalidParameter, "tag %s of backup vault %s is fixed when the vault is created: it cannot be added, changed or removed with "+
			"TagResource or UntagResource. Choose one backup's compression with StartBackupJob's BackupOptions {\"Compression\": \"gzip\"}, "+
			"or create a new vault with the compression you want", key, vault)
		e.Type, e.Context = string(TagKindVault), vault
		return e
	}
	e := Errorf(ErrInvalidParameter, "tag %s of backup vault %s says where the vault keeps its recovery points, which is fixed when the vault is created: "+
		"it cannot be added, changed or removed with TagResource or UntagResource. To keep points elsewhere, create a new vault with the storage you want "+
		"and copy the points into it with StartCopyJob", key, vault)
	e.Type, e.Context = string(TagKindVault), vault
	return e
}
