package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The inventory of a dynalite: every table, its ARN and its tags, also
// past one page of ListTagsOfResource's answer.
func TestInventoryDynalite(t *testing.T) {
	c, sdk := dynalite(t)
	ctx := context.Background()
	createKV(t, sdk, "inv-tagged")
	createKV(t, sdk, "inv-plain")
	arn, err := c.TableARN(ctx, "inv-tagged")
	if err != nil {
		t.Fatal(err)
	}
	var want []Tag
	var tags []types.Tag
	for i := range 60 {
		k, v := fmt.Sprintf("k%02d", i), fmt.Sprintf("v%d", i)
		want = append(want, Tag{Key: k, Value: v})
		tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if _, err := sdk.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags}); err != nil {
		t.Fatal(err)
	}

	inv := NewRetryInventory(c, RetryPolicy{})
	names, err := inv.ListTables(ctx)
	if err != nil || !slices.Equal(names, []string{"inv-plain", "inv-tagged"}) {
		t.Fatalf("ListTables = %q, %v", names, err)
	}
	got, err := inv.ListTags(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	if !slices.Equal(got, want) {
		t.Fatalf("ListTags = %v, want %v", got, want)
	}
	plainARN, err := inv.TableARN(ctx, "inv-plain")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := inv.ListTags(ctx, plainARN); err != nil || len(got) != 0 {
		t.Fatalf("ListTags of an untagged table = %v, %v", got, err)
	}
	missing := strings.Replace(arn, "inv-tagged", "inv-missing", 1)
	if _, err := inv.ListTags(ctx, missing); !errors.Is(err, ErrTableNotFound) {
		t.Fatalf("ListTags of a missing table: %v", err)
	}
	if _, err := inv.TableARN(ctx, "inv-missing"); !errors.Is(err, ErrTableNotFound) {
		t.Fatalf("TableARN of a missing table: %v", err)
	}
}

type fakeInventory struct {
	fails []error // errors of the first calls, then success
	calls int
}

func (f *fakeInventory) next() error {
	f.calls++
	if f.calls <= len(f.fails) {
		return f.fails[f.calls-1]
	}
	return nil
}

func (f *fakeInventory) ListTables(context.Context) ([]string, error) {
	if err := f.next(); err != nil {
		return nil, err
	}
	return []string{"a"}, nil
}

func (f *fakeInventory) TableARN(_ context.Context, name string) (string, error) {
	if err := f.next(); err != nil {
		return "", err
	}
	return "arn:aws:dynamodb:us-east-1:000000000000:table/" + name, nil
}

func (f *fakeInventory) ListTags(context.Context, string) ([]Tag, error) {
	if err := f.next(); err != nil {
		return nil, err
	}
	return []Tag{{Key: "backup", Value: "daily"}}, nil
}

// The retrying inventory sends a call again while it is throttled, gives up
// at once on an error that is not transient, and after MaxAttempts.
func TestRetryInventory(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name      string
		fails     []error
		call      func(Inventory) error
		wantCalls int
		wantErr   bool
	}{
		{"list tables throttled twice", []error{errThrottle, errThrottle},
			func(i Inventory) error { _, err := i.ListTables(ctx); return err }, 3, false},
		{"table arn throttled once", []error{errThrottle},
			func(i Inventory) error { _, err := i.TableARN(ctx, "a"); return err }, 2, false},
		{"tags: validation is final", []error{errValidation},
			func(i Inventory) error { _, err := i.ListTags(ctx, "x"); return err }, 1, true},
		{"tags: gives up after max attempts", []error{errThrottle, errThrottle, errThrottle, errThrottle},
			func(i Inventory) error { _, err := i.ListTags(ctx, "x"); return err }, 3, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeInventory{fails: tt.fails}
			p := newFakeTime().policy()
			p.MaxAttempts = 3
			err := tt.call(NewRetryInventory(f, p))
			if (err != nil) != tt.wantErr || f.calls != tt.wantCalls {
				t.Fatalf("err %v after %d calls; want error %v after %d", err, f.calls, tt.wantErr, tt.wantCalls)
			}
		})
	}
}
