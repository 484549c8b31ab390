package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-backup/cairn/internal/backup"
)

// tagTables says where the tags of each kind of resource live: the table
// and the condition that selects one live resource by its name or id.
var tagTables = map[backup.TagKind]struct{ table, where string }{
	backup.TagKindVault:         {"vaults", "name = $1"},
	backup.TagKindPlan:          {"backup_plans", "id = $1 AND deletion_ns IS NULL"},
	backup.TagKindRecoveryPoint: {"recovery_points", "id = $1"},
	backup.TagKindFramework:     {"frameworks", "name = $1"},
}

// UpdateTags reads a resource's tags with its row locked (FOR UPDATE), lets
// update change them and writes them back in the same transaction, so that
// concurrent updates, on any node, queue instead of losing each other's
// changes.
func (c *Catalog) UpdateTags(ctx context.Context, t backup.TagTarget, update func(tags map[string]string) error) error {
	tt, ok := tagTables[t.Kind]
	if !ok {
		return backup.Errorf(backup.ErrInvalidParameter, "resources of kind %q carry no tags", t.Kind)
	}
	return c.inTx(ctx, fmt.Sprintf("update tags of %s %s", t.Kind, t.ID), func(tx pgx.Tx) error {
		var text *string
		err := tx.QueryRow(ctx, "SELECT tags FROM "+tt.table+" WHERE "+tt.where+" FOR UPDATE", t.ID).Scan(&text)
		if errors.Is(err, pgx.ErrNoRows) {
			return backup.NotFound(string(t.Kind), t.ID)
		}
		if err != nil {
			return fmt.Errorf("postgres: update tags of %s %s: %w", t.Kind, t.ID, err)
		}
		tags := map[string]string{}
		if err := fromJSON(text, &tags); err != nil {
			return fmt.Errorf("postgres: update tags of %s %s: stored tags: %w", t.Kind, t.ID, err)
		}
		if tags == nil { // stored as JSON null
			tags = map[string]string{}
		}
		if err := update(tags); err != nil {
			return err
		}
		v, err := jsonText(tags, len(tags) == 0)
		if err != nil {
			return fmt.Errorf("postgres: update tags of %s %s: %w", t.Kind, t.ID, err)
		}
		if _, err := tx.Exec(ctx, "UPDATE "+tt.table+" SET tags = $2 WHERE "+tt.where, t.ID, v); err != nil {
			return fmt.Errorf("postgres: update tags of %s %s: %w", t.Kind, t.ID, err)
		}
		return nil
	})
}
