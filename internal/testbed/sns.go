package testbed

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// SNSQueue is an SNS topic of moto_server with an SQS queue subscribed to
// it: what a test publishes to the topic is read back from the queue.
type SNSQueue struct {
	Endpoint string
	TopicARN string
	QueueURL string
	aws      string
}

// aws runs the AWS CLI against endpoint and returns its output.
func awsCLI(t testing.TB, cli, endpoint string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(cli, append(args, "--endpoint-url", endpoint, "--output", "json")...)
	cmd.Env = Env("AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}

// NewSNSQueue creates (or finds) the topic and creates the queue on moto's
// endpoint and subscribes the queue to the topic with filterPolicy (a JSON
// filter policy on message attributes; "" for none), through the AWS CLI.
func NewSNSQueue(t testing.TB, endpoint, topicName, queueName, filterPolicy string) *SNSQueue {
	t.Helper()
	q := &SNSQueue{Endpoint: endpoint, aws: AWSCLI(t)}
	var topic struct{ TopicArn string }
	if err := json.Unmarshal(awsCLI(t, q.aws, endpoint, "sns", "create-topic", "--name", topicName), &topic); err != nil {
		t.Fatal(err)
	}
	q.TopicARN = topic.TopicArn
	var queue struct{ QueueUrl string }
	if err := json.Unmarshal(awsCLI(t, q.aws, endpoint, "sqs", "create-queue", "--queue-name", queueName), &queue); err != nil {
		t.Fatal(err)
	}
	q.QueueURL = queue.QueueUrl
	var attrs struct{ Attributes map[string]string }
	if err := json.Unmarshal(awsCLI(t, q.aws, endpoint, "sqs", "get-queue-attributes", "--queue-url", q.QueueURL,
		"--attribute-names", "QueueArn"), &attrs); err != nil {
		t.Fatal(err)
	}
	args := []string{"sns", "subscribe", "--topic-arn", q.TopicARN, "--protocol", "sqs",
		"--notification-endpoint", attrs.Attributes["QueueArn"]}
	if filterPolicy != "" {
		sub, _ := json.Marshal(map[string]string{"FilterPolicy": filterPolicy})
		args = append(args, "--attributes", string(sub))
	}
	awsCLI(t, q.aws, endpoint, args...)
	return q
}

// SNSMessage is one SNS notification as an SQS subscription receives it
// (the SNS envelope).
type SNSMessage struct {
	MessageId         string
	TopicArn          string
	Subject           string
	Message           string
	MessageAttributes map[string]struct{ Type, Value string }
}

// Receive reads and deletes the messages waiting in the queue (up to 10
// at a time, until one receive returns none).
func (q *SNSQueue) Receive(t testing.TB) []SNSMessage {
	t.Helper()
	var out []SNSMessage
	for {
		var resp struct {
			Messages []struct{ Body, ReceiptHandle string }
		}
		if err := json.Unmarshal(awsCLI(t, q.aws, q.Endpoint, "sqs", "receive-message", "--queue-url", q.QueueURL,
			"--max-number-of-messages", "10", "--wait-time-seconds", "0"), &resp); err != nil && len(resp.Messages) > 0 {
			t.Fatal(err)
		}
		if len(resp.Messages) == 0 {
			return out
		}
		for _, m := range resp.Messages {
			var msg SNSMessage
			if err := json.Unmarshal([]byte(m.Body), &msg); err != nil {
				t.Fatalf("an SQS message that is not an SNS envelope: %v\n%s", err, m.Body)
			}
			out = append(out, msg)
			awsCLI(t, q.aws, q.Endpoint, "sqs", "delete-message", "--queue-url", q.QueueURL, "--receipt-handle", m.ReceiptHandle)
		}
	}
}
