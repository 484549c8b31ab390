package governance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/cairn-backup/cairn/internal/dynamodb"
)

// discover lists a source's tables with their ARNs and tags: ListTables
// (every page), then ListTagsOfResource for each table, Workers at once. A
// table's ARN is its source's ARN prefix and its name (DynamoDB's ARNs are
// fixed by name), learnt from one DescribeTable per source, so a pass makes
// the calls of the bare loop and no more.
func (w *Worker) discover(ctx context.Context, src *source) ([]table, error) {
	names, err := src.inv.ListTables(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]table, len(names))
	keep := make([]bool, len(names))
	errs := make([]error, len(names))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(w.cfg.Workers, len(names)) {
		wg.Go(func() {
			for i := range next {
				if ctx.Err() != nil {
					continue
				}
				arn, err := src.arnOf.get(ctx, src.inv, names[i])
				if err == nil {
					var tags map[string]string
					tags, err = readTags(ctx, src.inv, arn)
					out[i] = table{name: names[i], arn: arn, tags: tags}
					if errors.Is(err, errors.ErrUnsupported) {
						out[i].noTags, err = err.Error(), nil
					}
				}
				switch {
				case errors.Is(err, dynamodb.ErrTableNotFound): // deleted since it was listed
				case err != nil:
					errs[i] = err
				default:
					keep[i] = true
				}
			}
		})
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	res := out[:0]
	for i := range out {
		if keep[i] {
			res = append(res, out[i])
		}
	}
	return res, nil
}

// readTags returns a table's tags as a map. A server that does not
// implement ListTagsOfResource, or refuses it, gives an error matching
// errors.ErrUnsupported.
func readTags(ctx context.Context, inv dynamodb.Inventory, arn string) (map[string]string, error) {
	tags, err := inv.ListTags(ctx, arn)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m, nil
}

// arnCache learns a source's table ARN prefix from its first DescribeTable
// ("arn:aws:dynamodb:REGION:ACCOUNT:table/"); a server whose ARNs do not end
// in the table's name is asked for each table, once.
type arnCache struct {
	mu     sync.Mutex
	prefix string
	byName map[string]string
}

func (c *arnCache) get(ctx context.Context, inv dynamodb.Inventory, name string) (string, error) {
	c.mu.Lock()
	prefix, arn := c.prefix, c.byName[name]
	c.mu.Unlock()
	if prefix != "" {
		return prefix + name, nil
	}
	if arn != "" {
		return arn, nil
	}
	arn, err := inv.TableARN(ctx, name)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := strings.CutSuffix(arn, ":table/"+name); ok {
		c.prefix = p + ":table/"
	} else {
		if c.byName == nil {
			c.byName = map[string]string{}
		}
		c.byName[name] = arn
	}
	return arn, nil
}

// limitedInventory waits for the source's call budget before each call.
type limitedInventory struct {
	inv dynamodb.Inventory
	lim *dynamodb.Limiter
}

func wait(ctx context.Context, lim *dynamodb.Limiter) error {
	if lim == nil {
		return nil
	}
	if err := lim.Wait(ctx); err != nil {
		return fmt.Errorf("governance: waiting for the call budget: %w", err)
	}
	lim.Debit(1)
	return nil
}

func (l *limitedInventory) ListTables(ctx context.Context) ([]string, error) {
	if err := wait(ctx, l.lim); err != nil {
		return nil, err
	}
	names, err := l.inv.ListTables(ctx)
	if l.lim != nil && len(names) > 100 {
		l.lim.Debit(float64((len(names) - 1) / 100)) // one call per page of 100
	}
	return names, err
}

func (l *limitedInventory) TableARN(ctx context.Context, name string) (string, error) {
	if err := wait(ctx, l.lim); err != nil {
		return "", err
	}
	return l.inv.TableARN(ctx, name)
}

func (l *limitedInventory) ListTags(ctx context.Context, arn string) ([]dynamodb.Tag, error) {
	if err := wait(ctx, l.lim); err != nil {
		return nil, err
	}
	return l.inv.ListTags(ctx, arn)
}

type limitedTagger struct {
	t   dynamodb.Tagger
	lim *dynamodb.Limiter
}

func (l *limitedTagger) TagResource(ctx context.Context, arn string, tags []dynamodb.Tag) error {
	if err := wait(ctx, l.lim); err != nil {
		return err
	}
	return l.t.TagResource(ctx, arn, tags)
}
