package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cairn-backup/cairn/internal/backup"
)

// The outbox (backup.OutboxStore), as internal/sqlite's: events are written
// by the methods that store the change causing them, inside their
// transaction (appendEvents), from what internal/backup's *Events functions
// derive from the stored row before the change (read FOR UPDATE, so that
// two concurrent changes of one row derive their events one after the
// other) and the row after it.

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
// round trip, not three.
func appendEvents(ctx context.Context, db querier, evs []backup.Event) error {
	switch len(evs) {
	case 0:
		return nil
	case 1:
		return appendEvent(ctx, db, &evs[0])
	}
	var ids, types, vaults, bodies []string
	var times []int64
	for i := range evs {
		ev := &evs[i]
		ns, body, err := eventRow(ev)
		if err != nil {
			return err
		}
		ids, types, vaults = append(ids, ev.ID), append(types, string(ev.Type)), append(vaults, ev.VaultName)
		times, bodies = append(times, ns), append(bodies, body)
	}
	_, err := db.Exec(ctx, `INSERT INTO events (id, type, vault_name, time_ns, body)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[])`, ids, types, vaults, times, bodies)
	if isUniqueViolation(err) {
		return wrapf(err, backup.ErrAlreadyExists, kindEvent, ids[0], "one of events %s already exists", strings.Join(ids, ", "))
	}
	if err != nil {
		return fmt.Errorf("postgres: record events %s: %w", strings.Join(ids, ", "), err)
	}
	return nil
}

// eventRow gives ev an ID if it has none and returns its time and body.
func eventRow(ev *backup.Event) (int64, string, error) {
	if ev.ID == "" {
		// Time-ordered (UUIDv7), as in internal/sqlite: new keys land at
		// the end of the indexes.
		id, err := uuid.NewV7()
		if err != nil {
			return 0, "", fmt.Errorf("postgres: event ID: %w", err)
		}
		ev.ID = id.String()
	}
	ns, err := requiredNanos(ev.Time, "Event.Time")
	if err != nil {
		return 0, "", err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return 0, "", fmt.Errorf("postgres: event %s: %w", ev.ID, err)
	}
	return ns, string(body), nil
}

func appendEvent(ctx context.Context, db querier, ev *backup.Event) error {
	ns, body, err := eventRow(ev)
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, "INSERT INTO events (id, type, vault_name, time_ns, body) VALUES ($1, $2, $3, $4, $5)",
		ev.ID, string(ev.Type), ev.VaultName, ns, body)
	if isUniqueViolation(err) {
		return wrapf(err, backup.ErrAlreadyExists, kindEvent, ev.ID, "event %s already exists", ev.ID)
	}
	if err != nil {
		return fmt.Errorf("postgres: record event %s: %w", ev.ID, err)
	}
	return nil
}

// updateWithEvents runs one UPDATE of a row (query with args) in a
// transaction that first reads and locks the row as it is (selectQuery, by
// id, with scan), then records the events derive finds between that row and
// the new one. No stored row is ErrNotFound of kind and id.
func updateWithEvents[T any](ctx context.Context, c *Catalog, kind, id, selectQuery string, scan func(scanner) (*T, error),
	query string, args []any, derive func(before *T) []backup.Event) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	err := c.inTx(ctx, "update "+kind+" "+id, func(tx pgx.Tx) error {
		before, err := scan(tx.QueryRow(ctx, selectQuery+" FOR UPDATE", id))
		if errors.Is(err, pgx.ErrNoRows) {
			return backup.NotFound(kind, id)
		}
		if err != nil {
			return fmt.Errorf("postgres: update %s %s: %w", kind, id, err)
		}
		if tag, err = tx.Exec(ctx, query, args...); err != nil {
			return err
		}
		return appendEvents(ctx, tx, derive(before))
	})
	return tag, err
}

// AppendEvent implements backup.OutboxStore.
func (c *Catalog) AppendEvent(ctx context.Context, ev *backup.Event) error {
	return appendEvent(ctx, c.pool, ev)
}

// UnplannedEvents implements backup.OutboxStore.
func (c *Catalog) UnplannedEvents(ctx context.Context, limit int) ([]backup.Event, error) {
	rows, err := c.pool.Query(ctx, "SELECT id, body FROM events WHERE NOT planned ORDER BY seq LIMIT $1", max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("postgres: unplanned events: %w", err)
	}
	out, err := collectRows(rows, func(s scanner) (backup.Event, error) {
		var id, body string
		var ev backup.Event
		if err := s.Scan(&id, &body); err != nil {
			return ev, err
		}
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			return ev, fmt.Errorf("event %s: %w", id, err)
		}
		return ev, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: unplanned events: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// PlanDeliveries implements backup.OutboxStore. A batch is a few
// statements, not three per event: one UPDATE marks the events not yet
// planned (locking their rows, so two senders plan an event once: the
// second waits and then finds it planned) and returns them, and one
// INSERT records their deliveries.
func (c *Catalog) PlanDeliveries(ctx context.Context, plans []backup.DeliveryPlan, now time.Time) error {
	ns, err := requiredNanos(now, "now")
	if err != nil {
		return err
	}
	if len(plans) == 0 {
		return nil
	}
	ids := make([]string, 0, len(plans))
	seen := make(map[string]bool, len(plans))
	for _, p := range plans {
		if !seen[p.EventID] {
			seen[p.EventID] = true
			ids = append(ids, p.EventID)
		}
	}
	return c.inTx(ctx, "plan deliveries", func(tx pgx.Tx) error {
		fresh, err := queryIDs(ctx, tx, "UPDATE events SET planned = true WHERE id = ANY($1) AND NOT planned RETURNING id", ids)
		if err != nil {
			return fmt.Errorf("postgres: plan deliveries: %w", err)
		}
		if len(fresh) < len(ids) {
			// The others must exist (planned already: kept as they were).
			exist, err := queryIDs(ctx, tx, "SELECT id FROM events WHERE id = ANY($1)", ids)
			if err != nil {
				return fmt.Errorf("postgres: plan deliveries: %w", err)
			}
			for _, id := range ids {
				if !exist[id] {
					return backup.NotFound(kindEvent, id)
				}
			}
		}
		var events, kinds, names []string
		for _, p := range plans {
			if !fresh[p.EventID] {
				continue
			}
			delete(fresh, p.EventID) // an event named twice keeps its first plan
			for _, t := range p.Targets {
				events, kinds, names = append(events, p.EventID), append(kinds, t.Kind), append(names, t.Name)
			}
		}
		if len(events) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO deliveries (event_id, target_kind, target_name, status, created_ns, next_ns)
			SELECT e, k, n, $4, $5, $5 FROM unnest($1::text[], $2::text[], $3::text[]) AS t (e, k, n) ON CONFLICT DO NOTHING`,
			events, kinds, names, backup.DeliveryPending, ns); err != nil {
			return fmt.Errorf("postgres: plan deliveries: %w", err)
		}
		return nil
	})
}

// queryIDs runs query with ids as $1 and returns the ids of the rows it
// returns.
func queryIDs(ctx context.Context, tx pgx.Tx, query string, ids []string) (map[string]bool, error) {
	rows, err := tx.Query(ctx, query, ids)
	if err != nil {
		return nil, err
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(got))
	for _, id := range got {
		out[id] = true
	}
	return out, nil
}

const deliveryCols = `d.event_id, d.target_kind, d.target_name, d.status, d.attempts, d.last_error,
	d.created_ns, d.last_ns, d.next_ns, d.delivered_ns, e.body`

func scanDelivery(s scanner) (*backup.Delivery, error) {
	var (
		d                     backup.Delivery
		created               int64
		last, next, delivered *int64
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

func (c *Catalog) queryDeliveries(ctx context.Context, query string, args ...any) ([]*backup.Delivery, error) {
	rows, err := c.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: deliveries: %w", err)
	}
	out, err := collectRows(rows, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("postgres: deliveries: %w", err)
	}
	return out, nil
}

// DueDeliveries implements backup.OutboxStore.
func (c *Catalog) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*backup.Delivery, error) {
	return c.queryDeliveries(ctx, "SELECT "+deliveryCols+` FROM deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.status = 'PENDING' AND d.next_ns <= $1 ORDER BY d.next_ns, d.event_id LIMIT $2`, now.UnixNano(), max(limit, 1))
}

// UpdateDeliveries implements backup.OutboxStore: the batch's updates
// go to the server in one round trip.
func (c *Catalog) UpdateDeliveries(ctx context.Context, ds []*backup.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, d := range ds {
		args, err := deliveryArgs(d)
		if err != nil {
			return err
		}
		b.Queue(`UPDATE deliveries SET status = $1, attempts = $2, last_error = $3,
			last_ns = $4, next_ns = $5, delivered_ns = $6 WHERE event_id = $7 AND target_kind = $8 AND target_name = $9`, args...)
	}
	return c.inTx(ctx, "update deliveries", func(tx pgx.Tx) error {
		res := tx.SendBatch(ctx, b)
		for _, d := range ds {
			tag, err := res.Exec()
			if err == nil {
				err = affectedOne(tag, kindDelivery, d.EventID+" "+d.TargetKind+" "+d.TargetName)
			} else {
				err = fmt.Errorf("postgres: update delivery of %s to %s %s: %w", d.EventID, d.TargetKind, d.TargetName, err)
			}
			if err != nil {
				_ = res.Close()
				return err
			}
		}
		return res.Close()
	})
}

// deliveryArgs checks d and returns the arguments of its update.
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
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.VaultName != "" {
		add("e.vault_name = $%d", f.VaultName)
	}
	if f.EventID != "" {
		add("d.event_id = $%d", f.EventID)
	}
	if f.Status != "" {
		add("d.status = $%d", f.Status)
	}
	q := "SELECT " + deliveryCols + " FROM deliveries d JOIN events e ON e.id = d.event_id"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY d.created_ns DESC, e.seq DESC, d.target_kind, d.target_name LIMIT $%d OFFSET $%d", len(args)+1, len(args)+2)
	out, err := c.queryDeliveries(ctx, q, append(args, limit+1, offset)...)
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
	tag, err := c.pool.Exec(ctx, `DELETE FROM events WHERE seq IN (
		SELECT seq FROM events e WHERE e.time_ns < $1 AND e.planned
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'PENDING')
		ORDER BY e.seq LIMIT $2)`, before.UnixNano(), max(limit, 1))
	if err != nil {
		return 0, fmt.Errorf("postgres: prune events: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// DeliveryCounts implements backup.OutboxStore.
func (c *Catalog) DeliveryCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := c.pool.Query(ctx, "SELECT status, count(*) FROM deliveries GROUP BY status")
	if err != nil {
		return nil, fmt.Errorf("postgres: delivery counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{backup.DeliveryPending: 0, backup.DeliveryDelivered: 0, backup.DeliveryUndeliverable: 0}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("postgres: delivery counts: %w", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}

// PutVaultNotifications implements backup.OutboxStore.
func (c *Catalog) PutVaultNotifications(ctx context.Context, n *backup.VaultNotifications) error {
	events, err := json.Marshal(n.Events)
	if err != nil {
		return fmt.Errorf("postgres: vault notifications of %s: %w", n.VaultName, err)
	}
	_, err = c.pool.Exec(ctx, `INSERT INTO vault_notifications (vault_name, sns_topic_arn, events) VALUES ($1, $2, $3)
		ON CONFLICT (vault_name) DO UPDATE SET sns_topic_arn = excluded.sns_topic_arn, events = excluded.events`,
		n.VaultName, n.SNSTopicARN, string(events))
	if isForeignKeyViolation(err) {
		return wrapf(err, backup.ErrNotFound, kindVault, n.VaultName, "%s %s not found", kindVault, n.VaultName)
	}
	if err != nil {
		return fmt.Errorf("postgres: vault notifications of %s: %w", n.VaultName, err)
	}
	return nil
}

// GetVaultNotifications implements backup.OutboxStore.
func (c *Catalog) GetVaultNotifications(ctx context.Context, vault string) (*backup.VaultNotifications, error) {
	var n backup.VaultNotifications
	var events string
	err := c.pool.QueryRow(ctx, `SELECT n.vault_name, v.arn, n.sns_topic_arn, n.events
		FROM vault_notifications n JOIN vaults v ON v.name = n.vault_name WHERE n.vault_name = $1`, vault).
		Scan(&n.VaultName, &n.VaultARN, &n.SNSTopicARN, &events)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, backup.NotFound(kindNotifications, vault)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: vault notifications of %s: %w", vault, err)
	}
	if err := json.Unmarshal([]byte(events), &n.Events); err != nil {
		return nil, fmt.Errorf("postgres: vault notifications of %s: %w", vault, err)
	}
	return &n, nil
}

// DeleteVaultNotifications implements backup.OutboxStore.
func (c *Catalog) DeleteVaultNotifications(ctx context.Context, vault string) error {
	tag, err := c.pool.Exec(ctx, "DELETE FROM vault_notifications WHERE vault_name = $1", vault)
	if err != nil {
		return fmt.Errorf("postgres: delete vault notifications of %s: %w", vault, err)
	}
	return affectedOne(tag, kindNotifications, vault)
}
