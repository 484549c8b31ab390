package runner

import (
	"context"
	"encoding/base64"
	"maps"
	"slices"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
)

// TagResource adds tags to a vault, a backup plan or a recovery point, or
// gives existing keys new values, in one catalog transaction.
func (s *Service) TagResource(ctx context.Context, arn string, tags map[string]string) error {
	if len(tags) == 0 {
		return &backup.Error{Code: backup.ErrMissingParameter, Message: "Tags must hold at least one tag", Type: "Parameter", Context: "Tags"}
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if err := backup.ValidateTag("Tags", k, tags[k]); err != nil {
			return err
		}
	}
	t, err := s.tagTarget(ctx, arn)
	if err != nil {
		return err
	}
	if err := s.cfg.Catalog.UpdateTags(ctx, t, func(cur map[string]string) error {
		return backup.AddTags(t.Kind, t.ID, cur, tags)
	}); err != nil {
		return err
	}
	s.tagsChanged(ctx, t)
	s.log.Info("tags added", "resource", arn, "keys", strings.Join(slices.Sorted(maps.Keys(tags)), ","))
	return nil
}

// UntagResource removes tags from a vault, a backup plan or a recovery
// point.
func (s *Service) UntagResource(ctx context.Context, arn string, keys []string) error {
	if len(keys) == 0 {
		return &backup.Error{Code: backup.ErrMissingParameter, Message: "TagKeyList must name at least one tag key", Type: "Parameter", Context: "TagKeyList"}
	}
	for _, k := range keys {
		if err := backup.ValidateTagKey("TagKeyList", k); err != nil {
			return err
		}
	}
	t, err := s.tagTarget(ctx, arn)
	if err != nil {
		return err
	}
	if err := s.cfg.Catalog.UpdateTags(ctx, t, func(cur map[string]string) error {
		return backup.RemoveTags(t.Kind, t.ID, cur, keys)
	}); err != nil {
		return err
	}
	s.tagsChanged(ctx, t)
	s.log.Info("tags removed", "resource", arn, "keys", strings.Join(keys, ","))
	return nil
}

// tagsChanged writes the new tags of a vault or a recovery point into the
// record it keeps beside its data (records.go), so that a rebuilt catalog
// has them. The catalog has them already: a failure is logged, and the
// record catches up at the next change (a vault's at the next start).
func (s *Service) tagsChanged(ctx context.Context, t backup.TagTarget) {
	switch t.Kind {
	case backup.TagKindRecoveryPoint:
		s.refreshPointRecord(ctx, t.ID)
	case backup.TagKindVault:
		v, err := s.cfg.Catalog.GetVault(ctx, t.ID)
		if err == nil {
			err = s.persistVault(ctx, v)
		}
		if err != nil {
			s.log.Warn("the vault's record beside its data lacks its new tags", "vault", t.ID, "err", err)
		}
	}
}

// ListTags returns a page of a resource's tags in key order. NextToken is
// the last key of the page, encoded.
func (s *Service) ListTags(ctx context.Context, arn string, p backup.Page) (map[string]string, string, error) {
	limit := p.MaxResults
	switch {
	case limit < 0:
		return nil, "", backup.Errorf(backup.ErrInvalidParameter, "MaxResults must not be negative")
	case limit == 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	after, err := decodeTagToken(p.NextToken)
	if err != nil {
		return nil, "", err
	}
	t, err := s.tagTarget(ctx, arn)
	if err != nil {
		return nil, "", err
	}
	tags, err := s.currentTags(ctx, t)
	if err != nil {
		return nil, "", err
	}
	keys := slices.Sorted(maps.Keys(tags))
	i, _ := slices.BinarySearch(keys, after)
	if p.NextToken != "" && i < len(keys) && keys[i] == after {
		i++
	}
	keys = keys[i:]
	next := ""
	if len(keys) > limit {
		keys = keys[:limit]
		next = encodeTagToken(keys[limit-1])
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[k] = tags[k]
	}
	return out, next, nil
}

// tagTarget resolves the ARN of a vault, a plan or a recovery point to the
// resource it names, which must exist with exactly that ARN.
func (s *Service) tagTarget(ctx context.Context, arn string) (backup.TagTarget, error) {
	t, _, err := backup.ParseTaggableARN(arn)
	if err != nil {
		return t, err
	}
	var stored string
	switch t.Kind {
	case backup.TagKindVault:
		v, err := s.cfg.Catalog.GetVault(ctx, t.ID)
		if err != nil {
			return t, notFoundARN(t, arn, err)
		}
		stored = v.ARN
	case backup.TagKindPlan:
		p, err := s.cfg.Catalog.GetBackupPlan(ctx, t.ID, "")
		if err != nil {
			return t, notFoundARN(t, arn, err)
		}
		if !p.DeletionDate.IsZero() {
			return t, backup.NotFound(string(t.Kind), arn)
		}
		stored = p.ARN
	case backup.TagKindRecoveryPoint:
		rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, t.ID)
		if err != nil {
			return t, notFoundARN(t, arn, err)
		}
		stored = rp.ARN
	case backup.TagKindFramework:
		f, err := s.cfg.Catalog.GetFramework(ctx, t.ID)
		if err != nil {
			return t, notFoundARN(t, arn, err)
		}
		stored = f.ARN
	}
	if stored != arn {
		// The same name or id in another account, region or partition.
		return t, backup.NotFound(string(t.Kind), arn)
	}
	return t, nil
}

// currentTags returns the tags a resource carries now.
func (s *Service) currentTags(ctx context.Context, t backup.TagTarget) (map[string]string, error) {
	switch t.Kind {
	case backup.TagKindVault:
		v, err := s.cfg.Catalog.GetVault(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		return v.Tags, nil
	case backup.TagKindPlan:
		p, err := s.cfg.Catalog.GetBackupPlan(ctx, t.ID, "")
		if err != nil {
			return nil, err
		}
		return p.Tags, nil
	case backup.TagKindFramework:
		f, err := s.cfg.Catalog.GetFramework(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		return f.Tags, nil
	default:
		rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		return rp.Tags, nil
	}
}

// notFoundARN names the ARN asked for in a catalog's ErrNotFound.
func notFoundARN(t backup.TagTarget, arn string, err error) error {
	if backup.IsNotFound(err) {
		return backup.NotFound(string(t.Kind), arn)
	}
	return err
}

const tagTokenPrefix = "tags1."

func encodeTagToken(key string) string {
	return tagTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(key))
}

func decodeTagToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, tagTokenPrefix))
	if err != nil || !strings.HasPrefix(tok, tagTokenPrefix) || len(b) == 0 {
		return "", backup.Errorf(backup.ErrInvalidParameter, "NextToken %q is not one ListTags returned", tok)
	}
	return string(b), nil
}
