package console

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// tableSpec is the part of a recovery point's recorded table description
// the point's page shows, in the JSON shape the backup wrote
// (DescribeTable's names; see docs/settings.md).
type tableSpec struct {
	TableName              string
	KeySchema              []keyElement
	AttributeDefinitions   []struct{ AttributeName, AttributeType string }
	GlobalSecondaryIndexes []struct {
		IndexName             string
		KeySchema             []keyElement
		Projection            projection
		ProvisionedThroughput *throughput
	}
	LocalSecondaryIndexes []struct {
		IndexName  string
		KeySchema  []keyElement
		Projection projection
	}
	BillingMode           string
	ProvisionedThroughput *throughput
	SSEDescription        *struct{ Status, SSEType, KMSMasterKeyArn string }
	StreamSpecification   *struct {
		StreamEnabled  bool
		StreamViewType string
	}
	TimeToLive        *struct{ TimeToLiveStatus, AttributeName string } `json:"TimeToLiveDescription"`
	ContinuousBackups *struct {
		PointInTimeRecoveryStatus string
		RecoveryPeriodInDays      int32
	} `json:"ContinuousBackupsDescription"`
	Tags                      []struct{ Key, Value string }
	TableClass                string
	DeletionProtectionEnabled bool
	Warnings                  []string
}

type keyElement struct{ AttributeName, KeyType string }

type projection struct {
	ProjectionType   string
	NonKeyAttributes []string
}

type throughput struct{ ReadCapacityUnits, WriteCapacityUnits int64 }

// Key is a key schema in words: "pk (S, partition) + sk (N, sort)".
func (t *tableSpec) Key(ks []keyElement) string {
	types := map[string]string{}
	for _, a := range t.AttributeDefinitions {
		types[a.AttributeName] = a.AttributeType
	}
	var parts []string
	for _, k := range ks {
		role := "partition"
		if k.KeyType == "RANGE" {
			role = "sort"
		}
		parts = append(parts, fmt.Sprintf("%s (%s, %s)", k.AttributeName, types[k.AttributeName], role))
	}
	return strings.Join(parts, " + ")
}

func (p projection) String() string {
	if len(p.NonKeyAttributes) > 0 {
		return p.ProjectionType + ": " + strings.Join(p.NonKeyAttributes, ", ")
	}
	return p.ProjectionType
}

func (t *throughput) String() string {
	if t == nil {
		return ""
	}
	return fmt.Sprintf("%d read, %d write capacity units", t.ReadCapacityUnits, t.WriteCapacityUnits)
}

// pointTable reads the point's recorded table description, if the server
// can give it.
func (h *Handler) pointTable(ctx context.Context, vault, arn string) (*tableSpec, error) {
	if h.cfg.PointTable == nil {
		return nil, nil
	}
	raw, err := h.cfg.PointTable(ctx, vault, arn)
	if err != nil {
		return nil, err
	}
	var t tableSpec
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("the recorded table description is not readable: %w", err)
	}
	return &t, nil
}
