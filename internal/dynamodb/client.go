package dynamodb

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// API is the part of the AWS SDK's DynamoDB client cairn uses for the
// control plane. *dynamodb.Client implements it; tests may substitute it.
type API interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DeleteTable(ctx context.Context, in *dynamodb.DeleteTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	DescribeContinuousBackups(ctx context.Context, in *dynamodb.DescribeContinuousBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	ListTables(ctx context.Context, in *dynamodb.ListTablesInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error)
	ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
	TagResource(ctx context.Context, in *dynamodb.TagResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TagResourceOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
	UpdateContinuousBackups(ctx context.Context, in *dynamodb.UpdateContinuousBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateContinuousBackupsOutput, error)
}

// Options tune a Client. The zero value is the default.
type Options struct {
	// HTTPClient carries the raw data plane. Default: cfg.HTTPClient; when
	// that is the SDK's default client (or nil) a copy of it whose transport
	// keeps MaxIdleConnsPerHost idle connections.
	HTTPClient aws.HTTPClient
	// MaxIdleConnsPerHost for the default data plane client. Default 64,
	// enough for any sensible number of parallel scan segments and writers.
	MaxIdleConnsPerHost int
	// API replaces the SDK client of the control plane (tests).
	API API
	// SDKOptions are applied to the SDK client; they also decide the data
	// plane's endpoint (BaseEndpoint, Region, EndpointResolverV2).
	SDKOptions []func(*dynamodb.Options)
	// TableActiveTimeout bounds CreateTable's wait for the new table to be
	// ACTIVE and DeleteTable's wait for it to be gone. Default 10 minutes.
	TableActiveTimeout time.Duration
}

// DefaultMaxIdleConnsPerHost is the default of Options.MaxIdleConnsPerHost.
const DefaultMaxIdleConnsPerHost = 64

// DefaultTableActiveTimeout is the default of Options.TableActiveTimeout.
const DefaultTableActiveTimeout = 10 * time.Minute

// Client is a DynamoDB source and target. It is safe for concurrent use.
type Client struct {
	api     API
	http    aws.HTTPClient
	url     *url.URL // data plane endpoint
	region  string
	creds   aws.CredentialsProvider // nil: anonymous, requests are not signed
	signer  *v4.Signer
	timeout time.Duration
}

// New returns a Client for the account, region and endpoint of cfg. The
// data plane's endpoint is resolved as the SDK resolves it: cfg.BaseEndpoint
// or AWS_ENDPOINT_URL_DYNAMODB (and the config file's services section) when
// set, the regional endpoint of the default resolver otherwise.
func New(cfg aws.Config, o Options) (*Client, error) {
	sdk := dynamodb.NewFromConfig(cfg, o.SDKOptions...)
	so := sdk.Options()
	region := so.Region
	if region == "" {
		return nil, fmt.Errorf("dynamodb: no region configured (set AWS_REGION or a profile's region)")
	}
	resolver := so.EndpointResolverV2
	if resolver == nil {
		resolver = dynamodb.NewDefaultEndpointResolverV2()
	}
	ep, err := resolver.ResolveEndpoint(context.Background(), dynamodb.EndpointParameters{
		Region:                aws.String(region),
		UseDualStack:          aws.Bool(so.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
		UseFIPS:               aws.Bool(so.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
		Endpoint:              so.BaseEndpoint,
		AccountIdEndpointMode: aws.String(string(aws.AccountIDEndpointModeDisabled)),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamodb: resolve endpoint: %w", err)
	}
	u := ep.URI
	if u.Path == "" {
		u.Path = "/"
	}

	c := &Client{
		api:     o.API,
		url:     &u,
		region:  region,
		signer:  v4.NewSigner(),
		timeout: o.TableActiveTimeout,
	}
	if c.api == nil {
		c.api = sdk
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTableActiveTimeout
	}
	c.creds = cfg.Credentials
	if so.Credentials != nil {
		c.creds = so.Credentials
	}
	switch p := c.creds.(type) {
	case nil:
	case *aws.CredentialsCache:
		if p.IsCredentialsProvider(aws.AnonymousCredentials{}) {
			c.creds = nil
		}
	case aws.AnonymousCredentials:
		c.creds = nil
	default:
		c.creds = aws.NewCredentialsCache(p)
	}
	c.http = o.HTTPClient
	if c.http == nil {
		c.http = dataPlaneHTTPClient(so.HTTPClient, o.MaxIdleConnsPerHost)
	}
	return c, nil
}

// dataPlaneHTTPClient returns hc, tuned when it is the SDK's buildable
// client: the default keeps only 10 idle connections per host, which makes
// more than 10 parallel segments open and close connections all the time.
func dataPlaneHTTPClient(hc aws.HTTPClient, idle int) aws.HTTPClient {
	if idle <= 0 {
		idle = DefaultMaxIdleConnsPerHost
	}
	tune := func(t *http.Transport) {
		if t.MaxIdleConnsPerHost < idle {
			t.MaxIdleConnsPerHost = idle
		}
		if t.MaxIdleConns != 0 && t.MaxIdleConns < idle {
			t.MaxIdleConns = idle
		}
	}
	switch b := hc.(type) {
	case nil:
		return awshttp.NewBuildableClient().WithTransportOptions(tune)
	case *awshttp.BuildableClient:
		return b.WithTransportOptions(tune)
	default:
		return hc
	}
}

// Endpoint returns the data plane's endpoint URL.
func (c *Client) Endpoint() string { return c.url.String() }

// Region returns the client's region.
func (c *Client) Region() string { return c.region }
