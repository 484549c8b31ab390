package awsapi

import (
	"context"
	"maps"
	"net/url"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	backupsdk "github.com/aws/aws-sdk-go-v2/service/backup"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// TestTaggingWire checks TagResource, UntagResource and ListTags on the
// wire with aws-sdk-go-v2 and the AWS CLI: the ARN travels escaped in the
// path, the members under the model's names, and ListTags pages.
func TestTaggingWire(t *testing.T) {
	planARN := backup.PlanARN(testRegion, testAccount, "plan-1")
	tags := map[string]string{"a": "1", "b": "2", "c": "3", "team": "ops"}
	t.Run("sdk", func(t *testing.T) {
		e := newTestEnv(t, &fakeService{tags: tags}, nil)
		ctx := context.Background()
		if _, err := e.client.TagResource(ctx, &backupsdk.TagResourceInput{ResourceArn: aws.String(pointARN), Tags: map[string]string{"env": "prod"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.UntagResource(ctx, &backupsdk.UntagResourceInput{ResourceArn: aws.String(vaultARN), TagKeyList: []string{"env", "x"}}); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		var token *string
		for {
			out, err := e.client.ListTags(ctx, &backupsdk.ListTagsInput{ResourceArn: aws.String(planARN), MaxResults: aws.Int32(3), NextToken: token})
			if err != nil {
				t.Fatal(err)
			}
			maps.Copy(got, out.Tags)
			if token = out.NextToken; token == nil {
				break
			}
		}
		if !maps.Equal(got, tags) {
			t.Errorf("ListTags pages = %v, want %v", got, tags)
		}
		calls := e.fake.Calls()
		want := []call{
			{"TagResource", tagCall{ARN: pointARN, Tags: map[string]string{"env": "prod"}}},
			{"UntagResource", tagCall{ARN: vaultARN, Keys: []string{"env", "x"}}},
			{"ListTags", tagCall{ARN: planARN, Page: backup.Page{MaxResults: 3}}},
			{"ListTags", tagCall{ARN: planARN, Page: backup.Page{MaxResults: 3, NextToken: "3"}}},
		}
		if !reflect.DeepEqual(calls, want) {
			t.Errorf("calls %+v, want %+v", calls, want)
		}
	})
	t.Run("aws cli", func(t *testing.T) {
		testbed.AWSCLI(t)
		e := newTestEnv(t, &fakeService{tags: tags}, nil)
		if out := cliJSON(t, e.srv.URL, "tag-resource", "--resource-arn", vaultARN, "--tags", "k=v,other=x y"); len(out) != 0 {
			t.Errorf("tag-resource printed %v", out)
		}
		cliJSON(t, e.srv.URL, "untag-resource", "--resource-arn", pointARN, "--tag-key-list", "k", "other")
		out := cliJSON(t, e.srv.URL, "list-tags", "--resource-arn", planARN)
		if !reflect.DeepEqual(out["Tags"], map[string]any{"a": "1", "b": "2", "c": "3", "team": "ops"}) || out["NextToken"] != nil {
			t.Errorf("list-tags = %v", out)
		}
		calls := e.fake.Calls()
		if len(calls) != 3 || !reflect.DeepEqual(calls[0].In, tagCall{ARN: vaultARN, Tags: map[string]string{"k": "v", "other": "x y"}}) ||
			!reflect.DeepEqual(calls[1].In, tagCall{ARN: pointARN, Keys: []string{"k", "other"}}) || calls[2].In.(tagCall).ARN != planARN {
			t.Errorf("calls %+v", calls)
		}
	})
	t.Run("empty list", func(t *testing.T) {
		e := newTestEnv(t, nil, nil)
		status, _, body := e.do(t, "GET", "/tags/"+url.PathEscape(vaultARN)+"/", nil, true)
		if status != 200 || string(body) != `{"Tags":{}}` {
			t.Errorf("ListTags of no tags = %d %s", status, body)
		}
	})
}
