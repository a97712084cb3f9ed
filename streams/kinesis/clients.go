package kinesis

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// ClientConfig says where the Kinesis and DynamoDB clients connect.
type ClientConfig struct {
	// Region; empty: the SDK's default chain (AWS_REGION, the shared config file).
	Region string
	// KinesisEndpoint and DynamoDBEndpoint override the services' URLs (emulators,
	// VPC endpoints). Empty: the SDK's own resolution, which also honours
	// AWS_ENDPOINT_URL_KINESIS and AWS_ENDPOINT_URL_DYNAMODB.
	KinesisEndpoint  string
	DynamoDBEndpoint string
}

// NewClients builds the Kinesis and DynamoDB clients with credentials from the
// SDK's default chain (environment, shared profile, web identity, ECS/EC2 roles),
// unless opts say otherwise.
func NewClients(ctx context.Context, cc ClientConfig, opts ...func(*config.LoadOptions) error) (*kinesis.Client, *dynamodb.Client, error) {
	if cc.Region != "" {
		opts = append(opts, config.WithRegion(cc.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, nil, fmt.Errorf("no AWS region: set it (flag, AWS_REGION or the shared config file)")
	}
	kin := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {
		if cc.KinesisEndpoint != "" {
			o.BaseEndpoint = aws.String(cc.KinesisEndpoint)
		}
	})
	ddb := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if cc.DynamoDBEndpoint != "" {
			o.BaseEndpoint = aws.String(cc.DynamoDBEndpoint)
		}
	})
	return kin, ddb, nil
}
