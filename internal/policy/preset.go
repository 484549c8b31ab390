package policy

import (
	"embed"
	"fmt"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
)

//go:embed presets/*.json
var presets embed.FS

// PresetSuperwerker is the name of the preset that applies superwerker's
// two policies ("Automated Backups").
const PresetSuperwerker = "superwerker"

// Presets lists the names Preset knows.
var Presets = []string{PresetSuperwerker}

// Preset returns the policies of a named preset for a server whose home
// region is region. superwerker's are its tag policy (key
// superwerker:backup, values none and daily, enforced for dynamodb:table
// and ec2:volume; default value daily) and its backup policy (plan
// superwerker-backup: daily at 05:00 UTC into vault Default, kept 30 days,
// for tables tagged superwerker:backup=daily), with the backup policy's
// regions naming region.
func Preset(name, region string) ([]backup.ApplyPolicyInput, error) {
	if name != PresetSuperwerker {
		return nil, backup.Errorf(backup.ErrInvalidParameter, "unknown governance preset %q; known: %s", name, strings.Join(Presets, ", "))
	}
	tags, err := presets.ReadFile("presets/superwerker-tag-policy.json")
	if err != nil {
		return nil, fmt.Errorf("preset %s: %w", name, err)
	}
	plans, err := presets.ReadFile("presets/superwerker-backup-policy.json")
	if err != nil {
		return nil, fmt.Errorf("preset %s: %w", name, err)
	}
	if !regionRE.MatchString(region) {
		return nil, backup.Errorf(backup.ErrInvalidParameter, "preset %s: %q is not a region name", name, region)
	}
	// The document names us-east-1 as its one region; the preset names
	// the server's.
	doc := strings.Replace(string(plans), `"us-east-1"`, fmt.Sprintf("%q", region), 1)
	return []backup.ApplyPolicyInput{
		{Name: "superwerker-backup-tags", Type: backup.PolicyTypeTag, Document: string(tags),
			Options: Options{DefaultValue: "daily"}},
		{Name: "superwerker-backup", Type: backup.PolicyTypeBackup, Document: doc},
	}, nil
}
