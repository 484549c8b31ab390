package backup

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
)

func TestValidateTags(t *testing.T) {
	fifty := map[string]string{}
	for i := range MaxTags {
		fifty[fmt.Sprintf("k%02d", i)] = "v"
	}
	fiftyOne := maps.Clone(fifty)
	fiftyOne["one-more"] = "v"
	good := []map[string]string{
		nil, {}, fifty,
		{"team": "storage", "cost centre": "42", "path": "a/b:c=d+e-f@g_h.i"},
		{"ключ": "значение", "キー": "値", "k": ""},
		{strings.Repeat("k", 128): strings.Repeat("v", 256)},
		{strings.Repeat("é", 128): strings.Repeat("ü", 256)}, // characters, not bytes
		{"cairn:storage": "/srv/backups/a,b~c"},              // reserved: the storage parser checks it
		{"awsx": "aws:value"},                                // only keys are reserved
	}
	for _, tags := range good {
		if err := ValidateTags("Tags", tags); err != nil {
			t.Errorf("ValidateTags(%v): %v", tags, err)
		}
	}
	bad := []struct {
		tags map[string]string
		want string
	}{
		{fiftyOne, "at most 50 tags; got 51"},
		{map[string]string{"": "v"}, "1 to 128 characters"},
		{map[string]string{strings.Repeat("k", 129): "v"}, "1 to 128 characters"},
		{map[string]string{"k": strings.Repeat("v", 257)}, "at most 256 characters"},
		{map[string]string{"aws:backup": "v"}, "prefix aws: is reserved"},
		{map[string]string{"AwS:x": "v"}, "prefix aws: is reserved"},
		{map[string]string{"a\x00b": "v"}, "may contain only"},
		{map[string]string{"k": "a\x00b"}, "may contain only"},
		{map[string]string{"tab\tkey": "v"}, "may contain only"},
		{map[string]string{"k": "semi;colon"}, "may contain only"},
		{map[string]string{"\xff": "v"}, "not valid UTF-8"},
		{map[string]string{"k": "\xff"}, "not valid UTF-8"},
		{map[string]string{"cairn:storage": "/tmp/a\x00b"}, "control characters"},
		{map[string]string{"cairn:storage": "/tmp/" + strings.Repeat("p", 260)}, "at most 256"},
	}
	for _, tt := range bad {
		err := ValidateTags("RecoveryPointTags", tt.tags)
		var e *Error
		if !errors.As(err, &e) || e.Code != ErrInvalidParameter || e.Context != "RecoveryPointTags" ||
			!strings.HasPrefix(e.Message, "RecoveryPointTags: ") || !strings.Contains(e.Message, tt.want) {
			t.Errorf("ValidateTags(%q) = %v, want ErrInvalidParameter on RecoveryPointTags saying %q", tt.tags, err, tt.want)
		}
	}
}

func TestValidateVaultTags(t *testing.T) {
	if err := ValidateVaultTags("BackupVaultTags", map[string]string{"cairn:storage": "s3://b/p", "cairn:s3-endpoint": "http://127.0.0.1:7070", "team": "x"}); err != nil {
		t.Errorf("reserved tags refused: %v", err)
	}
	err := ValidateVaultTags("BackupVaultTags", map[string]string{"cairn:storge": "/srv/x"})
	if ErrorCode(err) != ErrInvalidParameter || !strings.Contains(err.Error(), "check the spelling") {
		t.Errorf("misspelt reserved tag: %v", err)
	}
	if err := ValidateTags("BackupPlanTags", map[string]string{"cairn:anything": "x"}); err != nil {
		t.Errorf("cairn: keys are ordinary tags outside vaults: %v", err)
	}
}

func TestParseTaggableARN(t *testing.T) {
	good := map[string]TagTarget{
		"arn:aws:backup:us-east-1:123456789012:backup-vault:Default":       {TagKindVault, "Default"},
		"arn:aws-cn:backup:cn-north-1:123456789012:backup-plan:p-1":        {TagKindPlan, "p-1"},
		"arn:aws:backup:eu-west-3:000000000000:recovery-point:0a1b-2c3d.4": {TagKindRecoveryPoint, "0a1b-2c3d.4"},
	}
	for s, want := range good {
		got, _, err := ParseTaggableARN(s)
		if err != nil || got != want {
			t.Errorf("ParseTaggableARN(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	bad := map[string]Code{
		"":        ErrInvalidParameter,
		"Default": ErrInvalidParameter,
		"arn:aws:dynamodb:us-east-1:123456789012:table/orders":                ErrInvalidParameter,
		"arn:aws:backup:us-east-1:0:backup-vault:Default":                     ErrInvalidParameter,
		"arn:aws:backup::123456789012:backup-vault:Default":                   ErrInvalidParameter,
		"arn:aws:backup:us-east-1:123456789012:backup-vault:a":                ErrInvalidParameter,
		"arn:aws:backup:us-east-1:123456789012:backup-vault:":                 ErrInvalidParameter,
		"arn:aws:backup:us-east-1:123456789012:backup-plan:":                  ErrInvalidParameter,
		"arn:aws:backup:us-east-1:123456789012:backup-plan:p/selection/s":     ErrInvalidParameter,
		"arn:aws:backup:us-east-1:123456789012:recovery-point:..":             ErrInvalidParameter,
		"arn:aws:backup:us-east-1:123456789012:backup-selection:s":            ErrInvalidParameter,
		"arn:aws:backup:us-east-1:123456789012:framework:f-1":                 ErrNotFound,
		"arn:aws:backup:us-east-1:123456789012:legal-hold:h-1":                ErrNotFound,
		"arn:aws:backup:us-east-1:123456789012:report-plan:r":                 ErrNotFound,
		"arn:aws:backup:us-east-1:123456789012:restore-testing-plan:rtp-name": ErrNotFound,
	}
	fw := "arn:aws:backup:us-east-1:123456789012:framework:daily_audit-6f1b2c3d-0a1b-4c2d-8e3f-123456789abc"
	if tt, _, err := ParseTaggableARN(fw); err != nil || tt != (TagTarget{Kind: TagKindFramework, ID: "daily_audit"}) {
		t.Errorf("ParseTaggableARN(%q) = %+v, %v; want the framework daily_audit", fw, tt, err)
	}
	for s, code := range bad {
		if _, _, err := ParseTaggableARN(s); ErrorCode(err) != code {
			t.Errorf("ParseTaggableARN(%q) = %v, want %s", s, err, code)
		}
	}
}

func TestAddRemoveTags(t *testing.T) {
	vault := func() map[string]string {
		return map[string]string{"team": "a", TagStorage: "s3://bucket/p", TagS3Endpoint: "http://127.0.0.1:7070"}
	}
	t.Run("add and change", func(t *testing.T) {
		cur := vault()
		if err := AddTags(TagKindVault, "v", cur, map[string]string{"team": "b", "new": "1", TagStorage: "s3://bucket/p"}); err != nil {
			t.Fatal(err)
		}
		want := vault()
		want["team"], want["new"] = "b", "1"
		if !maps.Equal(cur, want) {
			t.Errorf("got %v, want %v", cur, want)
		}
	})
	refusedVault := []map[string]string{
		{TagStorage: "s3://other/p"},
		{TagColdPath: "/srv/cold"},               // a reserved tag the vault was created without
		{"cairn:other": "x"},                     // not a reserved tag, but in cairn's namespace
		{"ok": "1", TagS3Endpoint: "http://x:1"}, // one refused key refuses all
	}
	for _, tags := range refusedVault {
		cur := vault()
		err := AddTags(TagKindVault, "v", cur, tags)
		if ErrorCode(err) != ErrInvalidParameter || !maps.Equal(cur, vault()) {
			t.Errorf("AddTags(%v) = %v, tags now %v; want ErrInvalidParameter and no change", tags, err, cur)
		}
	}
	if cur := (map[string]string{TagStorage: "x"}); AddTags(TagKindPlan, "p", cur, map[string]string{TagStorage: "y"}) != nil || cur[TagStorage] != "y" {
		t.Errorf("a plan's cairn: tags are ordinary: %v", cur)
	}
	t.Run("limit", func(t *testing.T) {
		cur := map[string]string{}
		for i := range MaxTags - 1 {
			cur[fmt.Sprintf("k%02d", i)] = "v"
		}
		if err := AddTags(TagKindRecoveryPoint, "rp", cur, map[string]string{"k00": "changed", "last": "v"}); err != nil || len(cur) != MaxTags {
			t.Fatalf("reaching %d: %v, %d tags", MaxTags, err, len(cur))
		}
		before := maps.Clone(cur)
		err := AddTags(TagKindRecoveryPoint, "rp", cur, map[string]string{"k00": "again", "one-too-many": "v"})
		if ErrorCode(err) != ErrLimitExceeded || !strings.Contains(err.Error(), "would have 51 tags") || !maps.Equal(cur, before) {
			t.Errorf("51st tag: %v, changed %v", err, !maps.Equal(cur, before))
		}
	})
	t.Run("remove", func(t *testing.T) {
		cur := vault()
		if err := RemoveTags(TagKindVault, "v", cur, []string{"team", "absent", TagColdPath}); err != nil {
			t.Fatal(err)
		}
		if _, ok := cur["team"]; ok || len(cur) != 2 {
			t.Errorf("after removing: %v", cur)
		}
		if err := RemoveTags(TagKindVault, "v", cur, []string{TagStorage}); ErrorCode(err) != ErrInvalidParameter || cur[TagStorage] == "" {
			t.Errorf("removing the storage tag: %v, %v", err, cur)
		}
	})
}

// FuzzTags: ParseTaggableARN and ValidateTag never panic, and what they
// accept is what the rules say.
func FuzzTags(f *testing.F) {
	f.Add("arn:aws:backup:us-east-1:123456789012:backup-vault:Default", "team", "storage")
	f.Add("arn:aws:backup:us-east-1:123456789012:recovery-point:x", "aws:x", "\x00")
	f.Add("arn:aws:backup:us-east-1:0:backup-plan:p", "cairn:storage", "/tmp/a b")
	f.Fuzz(func(t *testing.T, arn, key, value string) {
		if tt, a, err := ParseTaggableARN(arn); err == nil {
			if tt.ID == "" || a.Service != "backup" || !isAccountID(a.AccountID) {
				t.Fatalf("ParseTaggableARN(%q) = %+v, %+v", arn, tt, a)
			}
		}
		if ValidateTag("Tags", key, value) == nil {
			if strings.HasPrefix(strings.ToLower(key), "aws:") || strings.ContainsRune(key, 0) || strings.ContainsRune(value, 0) || key == "" {
				t.Fatalf("ValidateTag accepted %q=%q", key, value)
			}
		}
	})
}
