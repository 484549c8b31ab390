package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/google/uuid"
)

// The outbox (backup.OutboxStore): events are written by the methods that
// store the change causing them, inside their transaction (appendEvents),
// from what internal/backup's *Events functions derive from the stored
// row before the change and the row after it.

const (
	kindEvent         = "Event"
	kindDelivery      = "Delivery"
	kindNotifications = "BackupVaultNotifications"
	tokenDeliveries   = "d1"
)

// SetClock sets the time source that stamps events whose change carries no
// time of its own (a job that starts running). Call it before the catalog
// is used; the default is the system clock.
func (c *Catalog) SetClock(now func() time.Time) { c.now = now }

func (c *Catalog) clockNow() time.Time {
	if c.now != nil {
		return c.now().UTC()
	}
	return time.Now().UTC()
}

// appendEvents inserts evs into the outbox through db (a transaction of
// the change that caused them), giving each an ID: one statement for all
// of them, so that a job's end (three events) costs its transaction one
// insert, not three.
func appendEvents(ctx context.Context, db execer, evs []backup.Event) error {
	switch len(evs) {
	case 0:
		return nil
	case 1:
		return appendEvent(ctx, db, &evs[0])
	}
	var q strings.Builder
	q.WriteString("INSERT INTO events (id, type, vault_name, time_ns, body) VALUES ")
	args := make([]any, 0, 5*len(evs))
	ids := make([]string, len(evs))
	for i := range evs {
		row, err := eventRow(&evs[i])
		if err != nil {
			return err
		}
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?)")
		args = append(args, row...)
		ids[i] = evs[i].ID
	}
	_, err := db.ExecContext(ctx, q.String(), args...)
	if isUniqueViolation(err) || isPrimaryKeyViolation(err) {
		return wrapf(err, backup.ErrAlreadyExists, kindEvent, ids[0], "one of events %s already exists", strings.Join(ids, ", "))
	}
	if err != nil {
		return fmt.Errorf("sqlite: record events %s: %w", strings.Join(ids, ", "), err)
	}
	return nil
}

// eventRow gives ev an ID if it has none and returns its row's values.
func eventRow(ev *backup.Event) ([]any, error) {
	if ev.ID == "" {
		// Time-ordered (UUIDv7): new events' keys land at the end of the
		// events' and deliveries' indexes instead of on random pages,
		// so a burst dirties few pages per commit.
		id, err := uuid.NewV7()
		if err != nil {
			return nil, fmt.Errorf("sqlite: event ID: %w", err)
		}
		ev.ID = id.String()
	}
	ns, err := requiredNanos(ev.Time, "Event.Time")
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("sqlite: event %s: %w", ev.ID, err)
	}
	return []any{ev.ID, string(ev.Type), ev.VaultName, ns, string(body)}, nil
}

func appendEvent(ctx context.Context, db execer, ev *backup.Event) error {
	row, err := eventRow(ev)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "INSERT INTO events (id, type, vault_name, time_ns, body) VALUES (?, ?, ?, ?, ?)", row...)
	if isUniqueViolation(err) || isPrimaryKeyViolation(err) {
		return wrapf(err, backup.ErrAlreadyExists, kindEvent, ev.ID, "event %s already exists", ev.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: record event %s: %w", ev.ID, err)
	}
	return nil
}

// updateWithEvents runs one UPDATE of a row (query with args) in a
// transaction that first reads the row as it is (selectQuery, by id, with
// scan), then records the events derive finds between that row and the
// new one. No stored row is ErrNotFound of kind and id.
func updateWithEvents[T any](ctx context.Context, c *Catalog, kind, id, selectQuery string, scan func(scanner) (*T, error),
	query string, args []any, derive func(before *T) []backup.Event) (sql.Result, error) {
	tx, err := c.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: update %s %s: %w", kind, id, err)
	}
	defer tx.Rollback()
	before, err := scan(tx.QueryRowContext(ctx, selectQuery, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backup.NotFound(kind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: update %s %s: %w", kind, id, err)
	}
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	if err := appendEvents(ctx, tx, derive(before)); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: update %s %s: commit: %w", kind, id, err)
	}
	return res, nil
}

// AppendEvent implements backup.OutboxStore.
func (c *Catalog) AppendEvent(ctx context.Context, ev *backup.Event) error {
	return appendEvent(ctx, c.write, ev)
}

// UnplannedEvents implements backup.OutboxStore.
func (c *Catalog) UnplannedEvents(ctx context.Context, limit int) ([]backup.Event, error) {
	rows, err := c.read.QueryContext(ctx, "SELECT id, body FROM events WHERE planned = 0 ORDER BY seq LIMIT ?", max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("sqlite: unplanned events: %w", err)
	}
	defer rows.Close()
	var out []backup.Event
	for rows.Next() {
		var id, body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, fmt.Errorf("sqlite: unplanned events: %w", err)
		}
		var ev backup.Event
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			return nil, fmt.Errorf("sqlite: event %s: %w", id, err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: unplanned events: %w", err)
	}
	return out, nil
}

// PlanDeliveries implements backup.OutboxStore. A batch is a few
// statements, not three per event: one UPDATE marks the events not yet
// planned and returns them, and multi-row INSERTs record their
// deliveries, so the sender holds the catalog's one writer briefly.
func (c *Catalog) PlanDeliveries(ctx context.Context, plans []backup.DeliveryPlan, now time.Time) error {
	ns, err := requiredNanos(now, "now")
	if err != nil {
		return err
	}
	if len(plans) == 0 {
		return nil
	}
	tx, err := c.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: plan deliveries: %w", err)
	}
	defer tx.Rollback()
	ids := make([]string, 0, len(plans))
	seen := make(map[string]bool, len(plans))
	for _, p := range plans {
		if !seen[p.EventID] {
			seen[p.EventID] = true
			ids = append(ids, p.EventID)
		}
	}
	// Which of them this call plans: the events not planned before.
	fresh := make(map[string]bool, len(ids))
	for chunk := range slices.Chunk(ids, maxParams) {
		if err := queryIDs(ctx, tx, "UPDATE events SET planned = 1 WHERE planned = 0 AND id IN ("+placeholders(len(chunk))+") RETURNING id",
			chunk, fresh); err != nil {
			return fmt.Errorf("sqlite: plan deliveries: %w", err)
		}
	}
	if len(fresh) < len(ids) {
		// The others must exist (planned already: kept as they were).
		var rest []string
		for _, id := range ids {
			if !fresh[id] {
				rest = append(rest, id)
			}
		}
		exist := map[string]bool{}
		for chunk := range slices.Chunk(rest, maxParams) {
			if err := queryIDs(ctx, tx, "SELECT id FROM events WHERE id IN ("+placeholders(len(chunk))+")", chunk, exist); err != nil {
				return fmt.Errorf("sqlite: plan deliveries: %w", err)
			}
		}
		for _, id := range rest {
			if !exist[id] {
				return backup.NotFound(kindEvent, id)
			}
		}
	}
	var rows []any
	for _, p := range plans {
		if !fresh[p.EventID] {
			continue
		}
		delete(fresh, p.EventID) // an event named twice keeps its first plan
		for _, t := range p.Targets {
			rows = append(rows, p.EventID, t.Kind, t.Name, backup.DeliveryPending, ns, ns)
		}
	}
	const cols = 6
	for chunk := range slices.Chunk(rows, maxParams/cols*cols) {
		q := "INSERT INTO deliveries (event_id, target_kind, target_name, status, created_ns, next_ns) VALUES " +
			strings.Repeat("(?, ?, ?, ?, ?, ?), ", len(chunk)/cols-1) + "(?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
		if _, err := tx.ExecContext(ctx, q, chunk...); err != nil {
			return fmt.Errorf("sqlite: plan deliveries: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: plan deliveries: %w", err)
	}
	return nil
}

// maxParams bounds the parameters of one statement, well below SQLite's
// limit (32766).
const maxParams = 960

func placeholders(n int) string {
	return strings.Repeat("?, ", n-1) + "?"
}

// queryIDs runs query with ids as its arguments and adds the ids of the
// rows it returns to into.
func queryIDs(ctx context.Context, tx *sql.Tx, query string, ids []string, into map[string]bool) error {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		into[id] = true
	}
	return rows.Err()
}

const deliveryCols = `d.event_id, d.target_kind, d.target_name, d.status, d.attempts, d.last_error,
	d.created_ns, d.last_ns, d.next_ns, d.delivered_ns, e.body`

func scanDelivery(s scanner) (*backup.Delivery, error) {
	var (
		d                     backup.Delivery
		created               int64
		last, next, delivered sql.NullInt64
		body                  string
	)
	if err := s.Scan(&d.EventID, &d.TargetKind, &d.TargetName, &d.Status, &d.Attempts, &d.LastError,
		&created, &last, &next, &delivered, &body); err != nil {
		return nil, err
	}
	d.CreatedAt = time.Unix(0, created).UTC()
	d.LastAttemptAt, d.NextAttemptAt, d.DeliveredAt = timeOf(last), timeOf(next), timeOf(delivered)
	if err := json.Unmarshal([]byte(body), &d.Event); err != nil {
		return nil, fmt.Errorf("event %s: %w", d.EventID, err)
	}
	return &d, nil
}

func queryDeliveries(ctx context.Context, db *sql.DB, query string, args ...any) ([]*backup.Delivery, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: deliveries: %w", err)
	}
	defer rows.Close()
	out := []*backup.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: deliveries: %w", err)
	}
	return out, nil
}

// DueDeliveries implements backup.OutboxStore. It reads the due
// deliveries in the order of the partial index deliveries_due and stops at
// limit; without INDEXED BY, SQLite picks deliveries_by_status, reads
// every pending delivery (those waiting for a retry too) and sorts them,
// on every batch of the sender.
func (c *Catalog) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*backup.Delivery, error) {
	return queryDeliveries(ctx, c.read, "SELECT "+deliveryCols+` FROM deliveries d INDEXED BY deliveries_due JOIN events e ON e.id = d.event_id
		WHERE d.status = 'PENDING' AND d.next_ns <= ? ORDER BY d.next_ns, d.event_id LIMIT ?`, now.UnixNano(), max(limit, 1))
}

// UpdateDeliveries implements backup.OutboxStore. A batch is one UPDATE
// ... FROM VALUES per 100 deliveries (SQLite looks each up by its primary
// key), not one statement per delivery; a delivery named twice takes its
// last outcome, as it did when they were written one after the other.
func (c *Catalog) UpdateDeliveries(ctx context.Context, ds []*backup.Delivery) error {
	type key struct{ event, kind, name string }
	rows := make(map[key][]any, len(ds))
	var order []key
	for _, d := range ds {
		args, err := deliveryArgs(d)
		if err != nil {
			return err
		}
		k := key{d.EventID, d.TargetKind, d.TargetName}
		if _, ok := rows[k]; !ok {
			order = append(order, k)
		}
		rows[k] = args
	}
	if len(order) == 0 {
		return nil
	}
	tx, err := c.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: update deliveries: %w", err)
	}
	defer tx.Rollback()
	const cols = 9
	for chunk := range slices.Chunk(order, maxParams/cols) {
		args := make([]any, 0, cols*len(chunk))
		for _, k := range chunk {
			args = append(args, rows[k]...)
		}
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = v.column1, attempts = v.column2, last_error = v.column3,
			last_ns = v.column4, next_ns = v.column5, delivered_ns = v.column6
			FROM (VALUES `+strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", len(chunk)-1)+`(?, ?, ?, ?, ?, ?, ?, ?, ?)) AS v
			WHERE deliveries.event_id = v.column7 AND deliveries.target_kind = v.column8 AND deliveries.target_name = v.column9`, args...)
		if err != nil {
			return fmt.Errorf("sqlite: update deliveries: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("sqlite: update deliveries: %w", err)
		}
		if n == int64(len(chunk)) {
			continue
		}
		// Some delivery is not stored: name the first.
		for _, k := range chunk {
			var one int
			err := tx.QueryRowContext(ctx, "SELECT 1 FROM deliveries WHERE event_id = ? AND target_kind = ? AND target_name = ?",
				k.event, k.kind, k.name).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return backup.NotFound(kindDelivery, k.event+" "+k.kind+" "+k.name)
			}
			if err != nil {
				return fmt.Errorf("sqlite: update deliveries: %w", err)
			}
		}
		return fmt.Errorf("sqlite: update deliveries: %d of %d updated", n, len(chunk))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: update deliveries: %w", err)
	}
	return nil
}

// deliveryArgs checks d and returns its row's values: status, attempts,
// last error, last, next and delivered times, then its key (event,
// target kind, target name).
func deliveryArgs(d *backup.Delivery) ([]any, error) {
	switch d.Status {
	case backup.DeliveryPending, backup.DeliveryDelivered, backup.DeliveryUndeliverable:
	default:
		return nil, backup.Errorf(backup.ErrInvalidParameter, "delivery status %q is not PENDING, DELIVERED or UNDELIVERABLE", d.Status)
	}
	args := []any{d.Status, d.Attempts, d.LastError}
	for _, t := range []struct {
		t     time.Time
		field string
	}{{d.LastAttemptAt, "LastAttemptAt"}, {d.NextAttemptAt, "NextAttemptAt"}, {d.DeliveredAt, "DeliveredAt"}} {
		v, err := nanos(t.t, t.field)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	return append(args, d.EventID, d.TargetKind, d.TargetName), nil
}

// ListDeliveries implements backup.OutboxStore. Pages are by offset: the
// listing is for people reading recent deliveries.
func (c *Catalog) ListDeliveries(ctx context.Context, f backup.DeliveryFilter) ([]*backup.Delivery, string, error) {
	limit, err := pageSize(f.Page)
	if err != nil {
		return nil, "", err
	}
	offset := 0
	if f.NextToken != "" {
		parts, err := decodeToken(tokenDeliveries, f.NextToken, 1)
		if err != nil {
			return nil, "", err
		}
		if offset, err = strconv.Atoi(parts[0]); err != nil || offset < 0 {
			return nil, "", backup.Errorf(backup.ErrInvalidParameter, "invalid NextToken %q", f.NextToken)
		}
	}
	var where []string
	var args []any
	if f.VaultName != "" {
		where, args = append(where, "e.vault_name = ?"), append(args, f.VaultName)
	}
	if f.EventID != "" {
		where, args = append(where, "d.event_id = ?"), append(args, f.EventID)
	}
	if f.Status != "" {
		where, args = append(where, "d.status = ?"), append(args, f.Status)
	}
	q := "SELECT " + deliveryCols + " FROM deliveries d JOIN events e ON e.id = d.event_id"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY d.created_ns DESC, e.seq DESC, d.target_kind, d.target_name LIMIT ? OFFSET ?"
	out, err := queryDeliveries(ctx, c.read, q, append(args, limit+1, offset)...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeToken(tokenDeliveries, strconv.Itoa(offset+limit))
	}
	return out, next, nil
}

// PruneEvents implements backup.OutboxStore.
func (c *Catalog) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	res, err := c.write.ExecContext(ctx, `DELETE FROM events WHERE seq IN (
		SELECT seq FROM events e WHERE e.time_ns < ? AND e.planned = 1
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'PENDING')
		ORDER BY e.seq LIMIT ?)`, before.UnixNano(), max(limit, 1))
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune events: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune events: %w", err)
	}
	return int(n), nil
}

// DeliveryCounts implements backup.OutboxStore.
func (c *Catalog) DeliveryCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := c.read.QueryContext(ctx, "SELECT status, count(*) FROM deliveries GROUP BY status")
	if err != nil {
		return nil, fmt.Errorf("sqlite: delivery counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{backup.DeliveryPending: 0, backup.DeliveryDelivered: 0, backup.DeliveryUndeliverable: 0}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("sqlite: delivery counts: %w", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}

// PutVaultNotifications implements backup.OutboxStore.
func (c *Catalog) PutVaultNotifications(ctx context.Context, n *backup.VaultNotifications) error {
	events, err := json.Marshal(n.Events)
	if err != nil {
		return fmt.Errorf("sqlite: vault notifications of %s: %w", n.VaultName, err)
	}
	_, err = c.write.ExecContext(ctx, `INSERT INTO vault_notifications (vault_name, sns_topic_arn, events) VALUES (?, ?, ?)
		ON CONFLICT (vault_name) DO UPDATE SET sns_topic_arn = excluded.sns_topic_arn, events = excluded.events`,
		n.VaultName, n.SNSTopicARN, string(events))
	if isForeignKeyViolation(err) {
		return wrapf(err, backup.ErrNotFound, kindVault, n.VaultName, "%s %s not found", kindVault, n.VaultName)
	}
	if err != nil {
		return fmt.Errorf("sqlite: vault notifications of %s: %w", n.VaultName, err)
	}
	return nil
}

// GetVaultNotifications implements backup.OutboxStore.
func (c *Catalog) GetVaultNotifications(ctx context.Context, vault string) (*backup.VaultNotifications, error) {
	var n backup.VaultNotifications
	var events string
	err := c.read.QueryRowContext(ctx, `SELECT n.vault_name, v.arn, n.sns_topic_arn, n.events
		FROM vault_notifications n JOIN vaults v ON v.name = n.vault_name WHERE n.vault_name = ?`, vault).
		Scan(&n.VaultName, &n.VaultARN, &n.SNSTopicARN, &events)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backup.NotFound(kindNotifications, vault)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: vault notifications of %s: %w", vault, err)
	}
	if err := json.Unmarshal([]byte(events), &n.Events); err != nil {
		return nil, fmt.Errorf("sqlite: vault notifications of %s: %w", vault, err)
	}
	return &n, nil
}

// DeleteVaultNotifications implements backup.OutboxStore.
func (c *Catalog) DeleteVaultNotifications(ctx context.Context, vault string) error {
	res, err := c.write.ExecContext(ctx, "DELETE FROM vault_notifications WHERE vault_name = ?", vault)
	if err != nil {
		return fmt.Errorf("sqlite: delete vault notifications of %s: %w", vault, err)
	}
	return affectedOne(res, kindNotifications, vault)
}
