package dynamodb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// tableErr wraps an SDK error of op on table name, adding ErrTableNotFound
// for ResourceNotFoundException.
func tableErr(op, name string, err error) error {
	if sdkErrorCode(err) == "ResourceNotFoundException" {
		return fmt.Errorf("%s %s: %w: %w", op, name, ErrTableNotFound, err)
	}
	return fmt.Errorf("%s %s: %w", op, name, err)
}

// warning describes an optional call the server (who: "server" when
// reading, "target" when creating) would not answer.
func warning(what, who, op string, err error) string {
	code := sdkErrorCode(err)
	if code == "" {
		code = err.Error()
	}
	return fmt.Sprintf("%s: %s does not support %s (%s)", what, who, op, code)
}

// DescribeTable returns the spec of table name: DescribeTable, then
// DescribeTimeToLive, DescribeContinuousBackups and ListTagsOfResource.
// When the server does not implement one of the last three (or refuses it:
// UnknownOperationException, ValidationException, AccessDenied, HTTP 501)
// the spec records a warning and goes without. A missing table is
// ErrTableNotFound.
func (c *Client) DescribeTable(ctx context.Context, name string) (*TableSpec, error) {
	out, err := c.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return nil, tableErr("describe table", name, err)
	}
	if out.Table == nil {
		return nil, fmt.Errorf("describe table %s: empty answer", name)
	}
	s := specFromDescription(out.Table)

	ttl, err := c.api.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	switch {
	case err == nil:
		if d := ttl.TimeToLiveDescription; d != nil {
			s.TimeToLive = &TimeToLive{TimeToLiveStatus: string(d.TimeToLiveStatus), AttributeName: aws.ToString(d.AttributeName)}
		}
	case isUnsupported(err):
		s.Warnings = append(s.Warnings, warning("TimeToLive", "server", "DescribeTimeToLive", err))
	default:
		return nil, tableErr("describe time to live of", name, err)
	}

	cb, err := c.api.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name)})
	switch {
	case err == nil:
		if d := cb.ContinuousBackupsDescription; d != nil {
			s.ContinuousBackups = &ContinuousBackups{ContinuousBackupsStatus: string(d.ContinuousBackupsStatus)}
			if p := d.PointInTimeRecoveryDescription; p != nil {
				s.ContinuousBackups.PointInTimeRecoveryStatus = string(p.PointInTimeRecoveryStatus)
				s.ContinuousBackups.RecoveryPeriodInDays = aws.ToInt32(p.RecoveryPeriodInDays)
			}
		}
	case isUnsupported(err):
		s.Warnings = append(s.Warnings, warning("ContinuousBackups", "server", "DescribeContinuousBackups", err))
	default:
		return nil, tableErr("describe continuous backups of", name, err)
	}

	if s.TableArn == "" {
		s.Warnings = append(s.Warnings, "Tags: the server reports no table ARN to list tags of")
		return s, nil
	}
	tags, err := c.listTags(ctx, s.TableArn)
	switch {
	case err == nil:
		s.Tags = tags
	case isUnsupported(err):
		s.Warnings = append(s.Warnings, warning("Tags", "server", "ListTagsOfResource", err))
	default:
		return nil, tableErr("list tags of", name, err)
	}
	return s, nil
}

func (c *Client) listTags(ctx context.Context, arn string) ([]Tag, error) {
	var tags []Tag
	in := &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn)}
	for {
		out, err := c.api.ListTagsOfResource(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, t := range out.Tags {
			tags = append(tags, Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
		}
		if aws.ToString(out.NextToken) == "" {
			return tags, nil
		}
		in.NextToken = out.NextToken
	}
}

// CreateOptions tune CreateTable. The zero value recreates the spec's table
// without its tags.
type CreateOptions struct {
	// CopyTags applies the spec's tags to the new table (AWS Backup's
	// CopySourceTagsToRestoredResource). Tags with the reserved "aws:"
	// prefix are never copied.
	CopyTags bool
	// Tags are applied in addition to (and over) the copied ones.
	Tags []Tag
	// BillingMode overrides the spec's when not empty.
	BillingMode string
	// EncryptionType overrides the spec's encryption when not empty:
	// "Default" (a key owned by DynamoDB) or "KMS" (KMSMasterKeyArn, or the
	// AWS-managed key when that is empty), as in AWS Backup's restore
	// metadata.
	EncryptionType  string
	KMSMasterKeyArn string
	// DeletionProtection overrides the spec's deletion protection when not
	// nil (AWS Backup's deletionProtection restore metadata).
	DeletionProtection *bool
	// TableClass overrides the spec's table class when not empty.
	TableClass string
}

// CreateResult reports what CreateTable did.
type CreateResult struct {
	TableARN string
	// Applied names the optional settings the new table has, e.g.
	// "GlobalSecondaryIndexes", "TimeToLive", "Tags".
	Applied []string
	// NotApplied says, one human-readable line each, what the target did not
	// take, e.g. "TimeToLive: target does not support UpdateTimeToLive".
	NotApplied []string
}

// CreateTable creates a new table called name shaped like spec: key schema,
// attribute definitions, secondary indexes, billing mode and throughput
// (provisioned, on-demand maximum, and warm throughput above what a new
// table has anyway, for the table and each GSI), encryption, stream, table
// class and deletion protection; waits until it and its indexes are ACTIVE;
// then applies time to live, point-in-time recovery and (with CopyTags)
// tags, each where the target supports it. What the target ignored or
// refused is listed in NotApplied: the new table is described and compared
// with what was asked, since some servers accept settings silently without
// applying them; a target that refuses the warm throughput asked
// (ValidationException) gets the table without it. The calls after
// CreateTable are sent again for a while if the target answers
// ResourceNotFoundException for the table it just called ACTIVE.
//
// If a table called name exists already, CreateTable returns ErrTableExists
// and changes nothing. An error after the table was created comes with the
// non-nil result so far: the table exists.
func (c *Client) CreateTable(ctx context.Context, spec *TableSpec, name string, o CreateOptions) (*CreateResult, error) {
	in, res, err := createInput(spec, name, o)
	if err != nil {
		return nil, err
	}
	out, err := c.api.CreateTable(ctx, in)
	if err != nil && sdkErrorCode(err) == "ValidationException" && hasWarmThroughput(in) {
		// Warm throughput is the one setting a target may refuse for its
		// values (below its minimum, above its account limits): create the
		// table without it and say so.
		res.NotApplied = append(res.NotApplied, "WarmThroughput: target refused it ("+errorMessage(err)+")")
		in.WarmThroughput = nil
		for i := range in.GlobalSecondaryIndexes {
			in.GlobalSecondaryIndexes[i].WarmThroughput = nil
		}
		out, err = c.api.CreateTable(ctx, in)
	}
	if err != nil {
		if sdkErrorCode(err) == "ResourceInUseException" {
			return nil, fmt.Errorf("create table %s: %w: %w", name, ErrTableExists, err)
		}
		return nil, fmt.Errorf("create table %s: %w", name, err)
	}
	if out.TableDescription != nil {
		res.TableARN = aws.ToString(out.TableDescription.TableArn)
	}
	desc, err := c.waitActive(ctx, name)
	if err != nil {
		return res, err
	}
	if arn := aws.ToString(desc.TableArn); arn != "" {
		res.TableARN = arn
	}
	compareCreated(in, desc, res)

	if t := spec.TimeToLive; t != nil && t.AttributeName != "" &&
		(t.TimeToLiveStatus == string(types.TimeToLiveStatusEnabled) || t.TimeToLiveStatus == string(types.TimeToLiveStatusEnabling)) {
		err := c.whileNotFound(ctx, func() error {
			_, err := c.api.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName:               aws.String(name),
				TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String(t.AttributeName)},
			})
			return err
		})
		switch {
		case err == nil:
			res.Applied = append(res.Applied, "TimeToLive")
		case isUnsupported(err):
			res.NotApplied = append(res.NotApplied, warning("TimeToLive", "target", "UpdateTimeToLive", err))
		default:
			return res, tableErr("update time to live of", name, err)
		}
	}

	if cb := spec.ContinuousBackups; cb != nil && cb.PointInTimeRecoveryStatus == string(types.PointInTimeRecoveryStatusEnabled) {
		err := c.whileNotFound(ctx, func() error { return c.enablePITR(ctx, name, cb.RecoveryPeriodInDays) })
		switch {
		case err == nil:
			res.Applied = append(res.Applied, "ContinuousBackups")
		case isUnsupported(err):
			res.NotApplied = append(res.NotApplied, warning("ContinuousBackups", "target", "UpdateContinuousBackups", err))
		default:
			return res, tableErr("update continuous backups of", name, err)
		}
	}

	if len(in.Tags) > 0 {
		if err := c.whileNotFound(ctx, func() error { return c.ensureTags(ctx, res.TableARN, in.Tags, res) }); err != nil {
			return res, tableErr("tag", name, err)
		}
	}
	return res, nil
}

// createInput builds the CreateTable request and notes in res what the spec
// asks that cannot be sent.
func createInput(spec *TableSpec, name string, o CreateOptions) (*dynamodb.CreateTableInput, *CreateResult, error) {
	if spec == nil || len(spec.KeySchema) == 0 {
		return nil, nil, fmt.Errorf("create table %s: spec has no key schema", name)
	}
	res := &CreateResult{}
	in := &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		KeySchema: keySchemaTo(spec.KeySchema),
	}
	for _, a := range spec.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName), AttributeType: types.ScalarAttributeType(a.AttributeType)})
	}
	mode := cmp.Or(o.BillingMode, spec.BillingMode, BillingProvisioned)
	if mode != BillingProvisioned && mode != BillingPayPerRequest {
		return nil, nil, fmt.Errorf("create table %s: unknown billing mode %q", name, mode)
	}
	in.BillingMode = types.BillingMode(mode)
	if mode == BillingProvisioned {
		in.ProvisionedThroughput = throughputTo(spec.ProvisionedThroughput, nil)
	} else {
		in.OnDemandThroughput = onDemandTo(spec.OnDemandThroughput)
	}
	in.WarmThroughput = warmTo(spec.WarmThroughput, in.ProvisionedThroughput)
	for _, g := range spec.GlobalSecondaryIndexes {
		gi := types.GlobalSecondaryIndex{
			IndexName:  aws.String(g.IndexName),
			KeySchema:  keySchemaTo(g.KeySchema),
			Projection: projectionTo(g.Projection),
		}
		if mode == BillingProvisioned {
			gi.ProvisionedThroughput = throughputTo(g.ProvisionedThroughput, spec.ProvisionedThroughput)
		} else {
			gi.OnDemandThroughput = onDemandTo(g.OnDemandThroughput)
		}
		gi.WarmThroughput = warmTo(g.WarmThroughput, gi.ProvisionedThroughput)
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gi)
	}
	for _, l := range spec.LocalSecondaryIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName:  aws.String(l.IndexName),
			KeySchema:  keySchemaTo(l.KeySchema),
			Projection: projectionTo(l.Projection),
		})
	}

	switch o.EncryptionType {
	case "":
		if e := spec.SSEDescription; e != nil && e.SSEType == string(types.SSETypeKms) &&
			(e.Status == string(types.SSEStatusEnabled) || e.Status == string(types.SSEStatusEnabling) || e.Status == string(types.SSEStatusUpdating)) {
			in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms}
			if e.KMSMasterKeyArn != "" {
				in.SSESpecification.KMSMasterKeyId = aws.String(e.KMSMasterKeyArn)
			}
		}
	case "Default":
	case "KMS":
		in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms}
		if o.KMSMasterKeyArn != "" {
			in.SSESpecification.KMSMasterKeyId = aws.String(o.KMSMasterKeyArn)
		}
	default:
		return nil, nil, fmt.Errorf("create table %s: unknown encryption type %q (want Default or KMS)", name, o.EncryptionType)
	}

	if st := spec.StreamSpecification; st != nil && st.StreamEnabled {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(st.StreamViewType)}
	}
	if tc := cmp.Or(o.TableClass, spec.TableClass); tc != "" {
		if tc != string(types.TableClassStandard) && tc != string(types.TableClassStandardInfrequentAccess) {
			return nil, nil, fmt.Errorf("create table %s: unknown table class %q (want %s or %s)", name, tc,
				types.TableClassStandard, types.TableClassStandardInfrequentAccess)
		}
		in.TableClass = types.TableClass(tc)
	}
	if dp := spec.DeletionProtectionEnabled; o.DeletionProtection != nil && *o.DeletionProtection || o.DeletionProtection == nil && dp {
		in.DeletionProtectionEnabled = aws.Bool(true)
	}

	var tags []Tag
	if o.CopyTags {
		tags = append(tags, spec.Tags...)
	}
	tags = append(tags, o.Tags...)
	seen := map[string]int{}
	for _, t := range tags {
		if strings.HasPrefix(t.Key, "aws:") {
			res.NotApplied = append(res.NotApplied, fmt.Sprintf("Tags: %s is a reserved aws: tag and cannot be set", t.Key))
			continue
		}
		if i, ok := seen[t.Key]; ok {
			in.Tags[i].Value = aws.String(t.Value)
			continue
		}
		seen[t.Key] = len(in.Tags)
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
	}
	return in, res, nil
}

// compareCreated records in res what the new table (desc) shows of what
// in asked for.
func compareCreated(in *dynamodb.CreateTableInput, desc *types.TableDescription, res *CreateResult) {
	got := specFromDescription(desc)
	check := func(what string, asked, took bool, why string) {
		switch {
		case !asked:
		case took:
			res.Applied = append(res.Applied, what)
		default:
			res.NotApplied = append(res.NotApplied, what+": "+why)
		}
	}
	check("BillingMode", in.BillingMode == types.BillingModePayPerRequest,
		got.BillingMode == BillingPayPerRequest, "target created a provisioned table")
	check("GlobalSecondaryIndexes", len(in.GlobalSecondaryIndexes) > 0,
		sameIndexNames(in.GlobalSecondaryIndexes, got.GlobalSecondaryIndexes), "target did not create all of them")
	check("LocalSecondaryIndexes", len(in.LocalSecondaryIndexes) > 0,
		len(got.LocalSecondaryIndexes) == len(in.LocalSecondaryIndexes), "target did not create all of them")
	check("SSESpecification", in.SSESpecification != nil,
		got.SSEDescription != nil && got.SSEDescription.SSEType == string(types.SSETypeKms), "target ignored it (table encrypted with its default key, if at all)")
	check("StreamSpecification", in.StreamSpecification != nil,
		got.StreamSpecification != nil && got.StreamSpecification.StreamEnabled, "target ignored it (no stream)")
	check("TableClass", in.TableClass != "" && in.TableClass != types.TableClassStandard,
		got.TableClass == string(in.TableClass), "target ignored it")
	check("DeletionProtectionEnabled", in.DeletionProtectionEnabled != nil,
		got.DeletionProtectionEnabled, "target ignored it")
	check("WarmThroughput", in.WarmThroughput != nil, warmAtLeast(got.WarmThroughput, in.WarmThroughput),
		"target ignored it (no warm throughput reported, or less than asked)")
	for _, g := range in.GlobalSecondaryIndexes {
		if g.WarmThroughput == nil {
			continue
		}
		name := aws.ToString(g.IndexName)
		var have *WarmThroughput
		for _, gg := range got.GlobalSecondaryIndexes {
			if gg.IndexName == name {
				have = gg.WarmThroughput
			}
		}
		check("GlobalSecondaryIndexes["+name+"].WarmThroughput", true, warmAtLeast(have, g.WarmThroughput),
			"target ignored it (no warm throughput reported, or less than asked)")
	}
}

// warmAtLeast reports whether got is at least the warm throughput asked.
func warmAtLeast(got *WarmThroughput, asked *types.WarmThroughput) bool {
	return got != nil && asked != nil && got.ReadUnitsPerSecond >= aws.ToInt64(asked.ReadUnitsPerSecond) &&
		got.WriteUnitsPerSecond >= aws.ToInt64(asked.WriteUnitsPerSecond)
}

// hasWarmThroughput reports whether in asks for warm throughput.
func hasWarmThroughput(in *dynamodb.CreateTableInput) bool {
	if in.WarmThroughput != nil {
		return true
	}
	for _, g := range in.GlobalSecondaryIndexes {
		if g.WarmThroughput != nil {
			return true
		}
	}
	return false
}

// errorMessage is an SDK error's message, or the error.
func errorMessage(err error) string {
	var se smithy.APIError
	if errors.As(err, &se) && se.ErrorMessage() != "" {
		return se.ErrorCode() + ": " + se.ErrorMessage()
	}
	return err.Error()
}

func sameIndexNames(want []types.GlobalSecondaryIndex, got []GlobalSecondaryIndex) bool {
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g GlobalSecondaryIndex) bool { return g.IndexName == aws.ToString(w.IndexName) }) {
			return false
		}
	}
	return true
}

// ensureTags checks that the new table carries tags, and applies with
// TagResource what CreateTable dropped (dynalite drops them all).
func (c *Client) ensureTags(ctx context.Context, arn string, tags []types.Tag, res *CreateResult) error {
	if arn == "" {
		res.NotApplied = append(res.NotApplied, "Tags: target reports no table ARN to tag")
		return nil
	}
	have, err := c.listTags(ctx, arn)
	if err != nil && !isUnsupported(err) {
		return err
	}
	var missing []types.Tag
	for _, t := range tags {
		if !slices.Contains(have, Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)}) {
			missing = append(missing, t)
		}
	}
	for len(missing) > 0 {
		n := min(len(missing), 50) // TagResource's limit per call
		_, err := c.api.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(arn), Tags: missing[:n]})
		if err != nil {
			if isUnsupported(err) {
				res.NotApplied = append(res.NotApplied, warning("Tags", "target", "TagResource", err))
				return nil
			}
			return err
		}
		missing = missing[n:]
	}
	res.Applied = append(res.Applied, "Tags")
	return nil
}

// notFoundRetries bounds whileNotFound: about 25 seconds of backoff.
const notFoundRetries = 9

// whileNotFound calls fn again, backing off from 50 ms, while it fails with
// ResourceNotFoundException: right after CreateTable, DynamoDB may not know
// the new table everywhere yet, even once DescribeTable said ACTIVE.
func (c *Client) whileNotFound(ctx context.Context, fn func() error) error {
	delay := 50 * time.Millisecond
	for n := 0; ; n++ {
		err := fn()
		if err == nil || sdkErrorCode(err) != "ResourceNotFoundException" || n == notFoundRetries {
			return err
		}
		if err := sleepCtx(ctx, delay); err != nil {
			return err
		}
		delay = min(2*delay, 10*time.Second)
	}
}

// enablePITR turns point-in-time recovery on. Right after CreateTable, AWS
// may answer ContinuousBackupsUnavailableException for a while.
func (c *Client) enablePITR(ctx context.Context, name string, days int32) error {
	spec := &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}
	if days > 0 {
		spec.RecoveryPeriodInDays = aws.Int32(days)
	}
	delay := time.Second
	deadline := time.Now().Add(c.timeout)
	for {
		_, err := c.api.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName: aws.String(name), PointInTimeRecoverySpecification: spec})
		if err == nil || sdkErrorCode(err) != "ContinuousBackupsUnavailableException" || time.Now().After(deadline) {
			return err
		}
		if err := sleepCtx(ctx, delay); err != nil {
			return err
		}
		delay = min(2*delay, 10*time.Second)
	}
}

// waitActive polls DescribeTable until the table and its indexes are ACTIVE.
func (c *Client) waitActive(ctx context.Context, name string) (*types.TableDescription, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	delay := 50 * time.Millisecond
	for {
		out, err := c.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		// Right after CreateTable, AWS may not find the table yet.
		if err != nil && sdkErrorCode(err) != "ResourceNotFoundException" {
			return nil, fmt.Errorf("wait for table %s: %w", name, err)
		}
		if err == nil && out.Table != nil && tableActive(out.Table) {
			return out.Table, nil
		}
		if err := sleepCtx(ctx, delay); err != nil {
			return nil, fmt.Errorf("wait for table %s to be ACTIVE: %w", name, err)
		}
		delay = min(2*delay, 5*time.Second)
	}
}

func tableActive(d *types.TableDescription) bool {
	if d.TableStatus != types.TableStatusActive {
		return false
	}
	for _, g := range d.GlobalSecondaryIndexes {
		if g.IndexStatus != "" && g.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}

// TableExists reports whether table name exists.
func (c *Client) TableExists(ctx context.Context, name string) (bool, error) {
	_, err := c.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err == nil {
		return true, nil
	}
	if sdkErrorCode(err) == "ResourceNotFoundException" {
		return false, nil
	}
	return false, tableErr("describe table", name, err)
}

// TableARN returns the ARN of table name.
func (c *Client) TableARN(ctx context.Context, name string) (string, error) {
	out, err := c.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return "", tableErr("describe table", name, err)
	}
	if out.Table == nil || aws.ToString(out.Table.TableArn) == "" {
		return "", fmt.Errorf("describe table %s: server reports no ARN", name)
	}
	return aws.ToString(out.Table.TableArn), nil
}

// DeleteTable deletes table name and waits until it is gone. A missing
// table is ErrTableNotFound. It exists for tests and tools: cairn itself
// never deletes a source table.
func (c *Client) DeleteTable(ctx context.Context, name string) error {
	if _, err := c.api.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
		return tableErr("delete table", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	delay := 50 * time.Millisecond
	for {
		_, err := c.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if sdkErrorCode(err) == "ResourceNotFoundException" {
			return nil
		}
		if err != nil {
			return tableErr("wait for deletion of", name, err)
		}
		if err := sleepCtx(ctx, delay); err != nil {
			return fmt.Errorf("wait for deletion of %s: %w", name, err)
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// ListTables returns the names of all tables, following pagination.
func (c *Client) ListTables(ctx context.Context) ([]string, error) {
	var names []string
	in := &dynamodb.ListTablesInput{}
	for {
		out, err := c.api.ListTables(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		names = append(names, out.TableNames...)
		if aws.ToString(out.LastEvaluatedTableName) == "" {
			return names, nil
		}
		in.ExclusiveStartTableName = out.LastEvaluatedTableName
	}
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
