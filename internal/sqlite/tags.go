package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
)

// tagTables says where the tags of each kind of resource live: the table
// and the condition that selects one live resource by its name or id.
var tagTables = map[backup.TagKind]struct{ table, where string }{
	backup.TagKindVault:         {"vaults", "name = ?"},
	backup.TagKindPlan:          {"backup_plans", "id = ? AND deletion_ns IS NULL"},
	backup.TagKindRecoveryPoint: {"recovery_points", "id = ?"},
	backup.TagKindFramework:     {"frameworks", "name = ?"},
}

// UpdateTags reads a resource's tags, lets update change them and writes
// them back, all in one write transaction; writes are serialised on the one
// write connection, so concurrent updates queue instead of racing.
func (c *Catalog) UpdateTags(ctx context.Context, t backup.TagTarget, update func(tags map[string]string) error) error {
	tt, ok := tagTables[t.Kind]
	if !ok {
		return backup.Errorf(backup.ErrInvalidParameter, "resources of kind %q carry no tags", t.Kind)
	}
	tx, err := c.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: update tags of %s %s: %w", t.Kind, t.ID, err)
	}
	defer tx.Rollback()
	var text sql.NullString
	err = tx.QueryRowContext(ctx, "SELECT tags FROM "+tt.table+" WHERE "+tt.where, t.ID).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return backup.NotFound(string(t.Kind), t.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: update tags of %s %s: %w", t.Kind, t.ID, err)
	}
	tags := map[string]string{}
	if err := fromJSON(text, &tags); err != nil {
		return fmt.Errorf("sqlite: update tags of %s %s: stored tags: %w", t.Kind, t.ID, err)
	}
	if tags == nil { // stored as JSON null
		tags = map[string]string{}
	}
	if err := update(tags); err != nil {
		return err
	}
	v, err := jsonText(tags, len(tags) == 0)
	if err != nil {
		return fmt.Errorf("sqlite: update tags of %s %s: %w", t.Kind, t.ID, err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE "+tt.table+" SET tags = ? WHERE "+tt.where, v, t.ID); err != nil {
		return fmt.Errorf("sqlite: update tags of %s %s: %w", t.Kind, t.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: update tags of %s %s: %w", t.Kind, t.ID, err)
	}
	return nil
}
