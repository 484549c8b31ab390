package dynamodb

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Billing modes.
const (
	BillingProvisioned   = "PROVISIONED"
	BillingPayPerRequest = "PAY_PER_REQUEST"
)

// TableSpec describes a table well enough to recreate it. It marshals to
// JSON with DynamoDB's field names, so it reads like the output of
// `aws dynamodb describe-table` merged with describe-time-to-live,
// describe-continuous-backups and list-tags-of-resource.
type TableSpec struct {
	TableName string `json:"TableName"`
	TableArn  string `json:"TableArn,omitempty"`
	TableId   string `json:"TableId,omitempty"`
	// TableStatus and CreationDateTime are informative only.
	TableStatus      string     `json:"TableStatus,omitempty"`
	CreationDateTime *time.Time `json:"CreationDateTime,omitempty"`

	KeySchema              []KeySchemaElement     `json:"KeySchema"`
	AttributeDefinitions   []AttributeDefinition  `json:"AttributeDefinitions"`
	GlobalSecondaryIndexes []GlobalSecondaryIndex `json:"GlobalSecondaryIndexes,omitempty"`
	LocalSecondaryIndexes  []LocalSecondaryIndex  `json:"LocalSecondaryIndexes,omitempty"`

	// BillingMode is PROVISIONED or PAY_PER_REQUEST; PROVISIONED when the
	// server does not report a BillingModeSummary.
	BillingMode           string                 `json:"BillingMode"`
	ProvisionedThroughput *ProvisionedThroughput `json:"ProvisionedThroughput,omitempty"`
	OnDemandThroughput    *OnDemandThroughput    `json:"OnDemandThroughput,omitempty"`

	SSEDescription      *SSEDescription      `json:"SSEDescription,omitempty"`
	StreamSpecification *StreamSpecification `json:"StreamSpecification,omitempty"`
	TimeToLive          *TimeToLive          `json:"TimeToLiveDescription,omitempty"`
	ContinuousBackups   *ContinuousBackups   `json:"ContinuousBackupsDescription,omitempty"`
	Tags                []Tag                `json:"Tags,omitempty"`

	TableClass                string `json:"TableClass,omitempty"`
	DeletionProtectionEnabled bool   `json:"DeletionProtectionEnabled"`
	// WarmThroughput is the table's warm throughput: the reads and writes
	// per second it is ready for at once (DynamoDB reports it for every
	// table; pre-warming raises it).
	WarmThroughput *WarmThroughput `json:"WarmThroughput,omitempty"`

	// ItemCount and TableSizeBytes are DynamoDB's estimates, updated about
	// every six hours; some servers always report 0.
	ItemCount      int64 `json:"ItemCount"`
	TableSizeBytes int64 `json:"TableSizeBytes"`

	// Warnings name what could not be read, for example
	// "ContinuousBackups: server does not support DescribeContinuousBackups".
	Warnings []string `json:"Warnings,omitempty"`
}

// KeySchemaElement is one key attribute; KeyType is HASH or RANGE.
type KeySchemaElement struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

// AttributeDefinition declares a key attribute's type: S, N or B.
type AttributeDefinition struct {
	AttributeName string `json:"AttributeName"`
	AttributeType string `json:"AttributeType"`
}

// Projection says which attributes an index holds.
type Projection struct {
	ProjectionType   string   `json:"ProjectionType,omitempty"`
	NonKeyAttributes []string `json:"NonKeyAttributes,omitempty"`
}

// ProvisionedThroughput is a table's or index's provisioned capacity.
type ProvisionedThroughput struct {
	ReadCapacityUnits  int64 `json:"ReadCapacityUnits"`
	WriteCapacityUnits int64 `json:"WriteCapacityUnits"`
}

// OnDemandThroughput caps an on-demand table or index; 0 or -1 is no cap.
type OnDemandThroughput struct {
	MaxReadRequestUnits  int64 `json:"MaxReadRequestUnits,omitempty"`
	MaxWriteRequestUnits int64 `json:"MaxWriteRequestUnits,omitempty"`
}

// WarmThroughput is a table's or GSI's warm throughput.
type WarmThroughput struct {
	ReadUnitsPerSecond  int64  `json:"ReadUnitsPerSecond,omitempty"`
	WriteUnitsPerSecond int64  `json:"WriteUnitsPerSecond,omitempty"`
	Status              string `json:"Status,omitempty"` // informative: ACTIVE, UPDATING, ...
}

// GlobalSecondaryIndex describes a GSI.
type GlobalSecondaryIndex struct {
	IndexName             string                 `json:"IndexName"`
	KeySchema             []KeySchemaElement     `json:"KeySchema"`
	Projection            Projection             `json:"Projection"`
	ProvisionedThroughput *ProvisionedThroughput `json:"ProvisionedThroughput,omitempty"`
	OnDemandThroughput    *OnDemandThroughput    `json:"OnDemandThroughput,omitempty"`
	WarmThroughput        *WarmThroughput        `json:"WarmThroughput,omitempty"`
}

// LocalSecondaryIndex describes an LSI.
type LocalSecondaryIndex struct {
	IndexName  string             `json:"IndexName"`
	KeySchema  []KeySchemaElement `json:"KeySchema"`
	Projection Projection         `json:"Projection"`
}

// SSEDescription is a table's server-side encryption. Absent means
// encryption with a key owned by DynamoDB (the default).
type SSEDescription struct {
	Status          string `json:"Status,omitempty"`  // ENABLED, ENABLING, ...
	SSEType         string `json:"SSEType,omitempty"` // KMS or AES256
	KMSMasterKeyArn string `json:"KMSMasterKeyArn,omitempty"`
}

// StreamSpecification is a table's stream setting.
type StreamSpecification struct {
	StreamEnabled  bool   `json:"StreamEnabled"`
	StreamViewType string `json:"StreamViewType,omitempty"`
}

// TimeToLive is a table's TTL setting.
type TimeToLive struct {
	TimeToLiveStatus string `json:"TimeToLiveStatus"` // ENABLED, DISABLED, ...
	AttributeName    string `json:"AttributeName,omitempty"`
}

// ContinuousBackups is a table's point-in-time recovery setting.
type ContinuousBackups struct {
	ContinuousBackupsStatus   string `json:"ContinuousBackupsStatus,omitempty"`
	PointInTimeRecoveryStatus string `json:"PointInTimeRecoveryStatus,omitempty"` // ENABLED or DISABLED
	RecoveryPeriodInDays      int32  `json:"RecoveryPeriodInDays,omitempty"`
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// specFromDescription fills a TableSpec from DescribeTable's answer.
func specFromDescription(d *types.TableDescription) *TableSpec {
	s := &TableSpec{
		TableName:                 aws.ToString(d.TableName),
		TableArn:                  aws.ToString(d.TableArn),
		TableId:                   aws.ToString(d.TableId),
		TableStatus:               string(d.TableStatus),
		CreationDateTime:          d.CreationDateTime,
		KeySchema:                 keySchemaFrom(d.KeySchema),
		BillingMode:               BillingProvisioned,
		DeletionProtectionEnabled: aws.ToBool(d.DeletionProtectionEnabled),
		ItemCount:                 aws.ToInt64(d.ItemCount),
		TableSizeBytes:            aws.ToInt64(d.TableSizeBytes),
		OnDemandThroughput:        onDemandFrom(d.OnDemandThroughput),
	}
	if w := d.WarmThroughput; w != nil {
		s.WarmThroughput = warmFrom(w.ReadUnitsPerSecond, w.WriteUnitsPerSecond, string(w.Status))
	}
	for _, a := range d.AttributeDefinitions {
		s.AttributeDefinitions = append(s.AttributeDefinitions, AttributeDefinition{
			AttributeName: aws.ToString(a.AttributeName), AttributeType: string(a.AttributeType)})
	}
	if d.BillingModeSummary != nil && d.BillingModeSummary.BillingMode != "" {
		s.BillingMode = string(d.BillingModeSummary.BillingMode)
	}
	if pt := throughputFrom(d.ProvisionedThroughput); pt != nil && (s.BillingMode == BillingProvisioned || pt.ReadCapacityUnits > 0 || pt.WriteCapacityUnits > 0) {
		s.ProvisionedThroughput = pt
	}
	for _, g := range d.GlobalSecondaryIndexes {
		gi := GlobalSecondaryIndex{
			IndexName:          aws.ToString(g.IndexName),
			KeySchema:          keySchemaFrom(g.KeySchema),
			Projection:         projectionFrom(g.Projection),
			OnDemandThroughput: onDemandFrom(g.OnDemandThroughput),
		}
		if w := g.WarmThroughput; w != nil {
			gi.WarmThroughput = warmFrom(w.ReadUnitsPerSecond, w.WriteUnitsPerSecond, string(w.Status))
		}
		if pt := throughputFrom(g.ProvisionedThroughput); pt != nil && (s.BillingMode == BillingProvisioned || pt.ReadCapacityUnits > 0 || pt.WriteCapacityUnits > 0) {
			gi.ProvisionedThroughput = pt
		}
		s.GlobalSecondaryIndexes = append(s.GlobalSecondaryIndexes, gi)
	}
	for _, l := range d.LocalSecondaryIndexes {
		s.LocalSecondaryIndexes = append(s.LocalSecondaryIndexes, LocalSecondaryIndex{
			IndexName:  aws.ToString(l.IndexName),
			KeySchema:  keySchemaFrom(l.KeySchema),
			Projection: projectionFrom(l.Projection),
		})
	}
	if e := d.SSEDescription; e != nil && (e.Status != "" || e.SSEType != "" || e.KMSMasterKeyArn != nil) {
		s.SSEDescription = &SSEDescription{Status: string(e.Status), SSEType: string(e.SSEType), KMSMasterKeyArn: aws.ToString(e.KMSMasterKeyArn)}
	}
	if st := d.StreamSpecification; st != nil {
		s.StreamSpecification = &StreamSpecification{StreamEnabled: aws.ToBool(st.StreamEnabled), StreamViewType: string(st.StreamViewType)}
	}
	if d.TableClassSummary != nil && d.TableClassSummary.TableClass != "" {
		s.TableClass = string(d.TableClassSummary.TableClass)
	}
	if len(d.Replicas) > 0 {
		s.Warnings = append(s.Warnings, "Replicas: the table is a global table; its replicas are not captured")
	}
	if len(d.VectorIndexes) > 0 {
		s.Warnings = append(s.Warnings, "VectorIndexes: the table has vector indexes; cairn does not capture them")
	}
	return s
}

// warmFrom returns a WarmThroughput, or nil when neither rate is set.
func warmFrom(read, write *int64, status string) *WarmThroughput {
	r, w := aws.ToInt64(read), aws.ToInt64(write)
	if r <= 0 && w <= 0 {
		return nil
	}
	return &WarmThroughput{ReadUnitsPerSecond: r, WriteUnitsPerSecond: w, Status: status}
}

// On-demand tables and indexes are warm for these rates from the start
// (DynamoDB's documented initial throughput for on-demand capacity).
const (
	onDemandWarmReads  = 12000
	onDemandWarmWrites = 4000
)

// warmTo returns the WarmThroughput to ask CreateTable for, or nil when w
// asks for nothing above what the new table or index gets anyway: its
// provisioned capacity (pt, for a provisioned one) or the on-demand initial
// throughput. Asking for warm throughput is pre-warming, which AWS charges
// for; asking for what a table has anyway is refused by some servers.
func warmTo(w *WarmThroughput, pt *types.ProvisionedThroughput) *types.WarmThroughput {
	if w == nil {
		return nil
	}
	baseR, baseW := int64(onDemandWarmReads), int64(onDemandWarmWrites)
	if pt != nil {
		baseR, baseW = aws.ToInt64(pt.ReadCapacityUnits), aws.ToInt64(pt.WriteCapacityUnits)
	}
	if w.ReadUnitsPerSecond <= baseR && w.WriteUnitsPerSecond <= baseW {
		return nil
	}
	return &types.WarmThroughput{ReadUnitsPerSecond: aws.Int64(max(w.ReadUnitsPerSecond, baseR)),
		WriteUnitsPerSecond: aws.Int64(max(w.WriteUnitsPerSecond, baseW))}
}

func keySchemaFrom(ks []types.KeySchemaElement) []KeySchemaElement {
	out := make([]KeySchemaElement, 0, len(ks))
	for _, k := range ks {
		out = append(out, KeySchemaElement{AttributeName: aws.ToString(k.AttributeName), KeyType: string(k.KeyType)})
	}
	return out
}

func keySchemaTo(ks []KeySchemaElement) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, 0, len(ks))
	for _, k := range ks {
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)})
	}
	return out
}

func projectionFrom(p *types.Projection) Projection {
	if p == nil {
		return Projection{}
	}
	return Projection{ProjectionType: string(p.ProjectionType), NonKeyAttributes: p.NonKeyAttributes}
}

func projectionTo(p Projection) *types.Projection {
	pt := p.ProjectionType
	if pt == "" {
		pt = string(types.ProjectionTypeAll)
	}
	return &types.Projection{ProjectionType: types.ProjectionType(pt), NonKeyAttributes: p.NonKeyAttributes}
}

func throughputFrom(p *types.ProvisionedThroughputDescription) *ProvisionedThroughput {
	if p == nil {
		return nil
	}
	return &ProvisionedThroughput{ReadCapacityUnits: aws.ToInt64(p.ReadCapacityUnits), WriteCapacityUnits: aws.ToInt64(p.WriteCapacityUnits)}
}

// throughputTo returns p for CreateTable, each unit at least 1 (DynamoDB's
// minimum; some servers describe on-demand leftovers as 0), or fallback
// when p is nil.
func throughputTo(p, fallback *ProvisionedThroughput) *types.ProvisionedThroughput {
	if p == nil {
		p = fallback
	}
	r, w := int64(1), int64(1)
	if p != nil {
		r, w = max(p.ReadCapacityUnits, 1), max(p.WriteCapacityUnits, 1)
	}
	return &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(r), WriteCapacityUnits: aws.Int64(w)}
}

func onDemandFrom(o *types.OnDemandThroughput) *OnDemandThroughput {
	if o == nil {
		return nil
	}
	r, w := aws.ToInt64(o.MaxReadRequestUnits), aws.ToInt64(o.MaxWriteRequestUnits)
	if r <= 0 && w <= 0 {
		return nil // no cap
	}
	return &OnDemandThroughput{MaxReadRequestUnits: r, MaxWriteRequestUnits: w}
}

func onDemandTo(o *OnDemandThroughput) *types.OnDemandThroughput {
	if o == nil {
		return nil
	}
	out := &types.OnDemandThroughput{}
	if o.MaxReadRequestUnits > 0 {
		out.MaxReadRequestUnits = aws.Int64(o.MaxReadRequestUnits)
	}
	if o.MaxWriteRequestUnits > 0 {
		out.MaxWriteRequestUnits = aws.Int64(o.MaxWriteRequestUnits)
	}
	return out
}
