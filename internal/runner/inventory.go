package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/dynamodb"
)

// inventoryWorkers is how many tables of one source are described at once.
const inventoryWorkers = 8

// inventory is every table of every source with its tags, as the scheduler
// resolves selections against them.
type inventory struct {
	Resources []backup.Resource
	// Failed names the sources that could not be listed. Their tables are
	// missing from Resources: a rule occurrence must be tried again rather
	// than treated as done.
	Failed []string
}

// Complete reports whether every source was listed.
func (inv *inventory) Complete() bool { return len(inv.Failed) == 0 }

// inventoryPolicy is the retry policy of inventory calls: the configured
// one, with fewer attempts by default so a source that is down does not
// hold the scheduler for long (the next pass tries again).
func (s *Service) inventoryPolicy(log *slog.Logger) dynamodb.RetryPolicy {
	p := s.retryPolicy(log)
	if p.MaxAttempts == 0 {
		p.MaxAttempts = 4
	}
	if p.MaxElapsed == 0 {
		p.MaxElapsed = time.Minute
	}
	return p
}

// inventory lists every table of every configured source with its ARN and
// tags. A source that fails is logged and named in Failed; the others are
// listed all the same.
func (s *Service) inventory(ctx context.Context) *inventory {
	inv := &inventory{}
	seen := map[string]bool{}
	for _, src := range s.cfg.Sources {
		log := s.log.With("source", src.Name)
		res, err := s.sourceTables(ctx, src, log)
		if err != nil {
			log.Warn("cannot list the tables of a DynamoDB source; its tables are left out of this pass", "err", err)
			inv.Failed = append(inv.Failed, src.Name)
			continue
		}
		for _, r := range res {
			if !seen[r.ARN] {
				seen[r.ARN] = true
				inv.Resources = append(inv.Resources, r)
			}
		}
	}
	return inv
}

// sourceTables lists the tables of one source that this source serves (a
// table whose ARN another source claims first is backed up from there).
func (s *Service) sourceTables(ctx context.Context, src *Source, log *slog.Logger) ([]backup.Resource, error) {
	ddb := dynamodb.NewRetryInventory(src.Client, s.inventoryPolicy(log))
	names, err := ddb.ListTables(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]backup.Resource, len(names))
	keep := make([]bool, len(names))
	errs := make([]error, len(names))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(inventoryWorkers, len(names)) {
		wg.Go(func() {
			for i := range next {
				r, err := s.describeResource(ctx, src, ddb, names[i])
				switch {
				case errors.Is(err, dynamodb.ErrTableNotFound): // deleted since it was listed
				case err != nil:
					errs[i] = err
				default:
					out[i], keep[i] = r, true
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
	for i, r := range out {
		if !keep[i] {
			continue
		}
		if owner, _, _, err := s.source(r.ARN); err != nil || owner != src {
			log.Debug("table left to another source", "resource", r.ARN)
			continue
		}
		res = append(res, r)
	}
	return res, nil
}

// describeResource returns one table as a backup.Resource with its tags.
// Table ARNs are remembered: a table's ARN is fixed by its name.
func (s *Service) describeResource(ctx context.Context, src *Source, ddb dynamodb.Inventory, table string) (backup.Resource, error) {
	key := src.Name + "\x00" + table
	s.mu.Lock()
	arn, ok := s.tableARNs[key]
	s.mu.Unlock()
	if !ok {
		var err error
		if arn, err = ddb.TableARN(ctx, table); err != nil {
			return backup.Resource{}, err
		}
		s.mu.Lock()
		s.tableARNs[key] = arn
		s.mu.Unlock()
	}
	tags, err := s.tableTags(ctx, ddb, arn)
	if err != nil {
		return backup.Resource{}, err
	}
	return backup.Resource{ARN: arn, Type: backup.ResourceTypeDynamoDB, Name: table, Tags: tags}, nil
}

// tableTags returns a table's tags as a map; a server without tagging
// gives none.
func (s *Service) tableTags(ctx context.Context, ddb dynamodb.Inventory, arn string) (map[string]string, error) {
	tags, err := ddb.ListTags(ctx, arn)
	if errors.Is(err, errors.ErrUnsupported) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tags of %s: %w", arn, err)
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m, nil
}
