// Package dynamodb is cairn's DynamoDB source and target: it describes a table
// and recreates it elsewhere (the control plane), and it reads a table with
// parallel Scan and writes it with BatchWriteItem (the data plane). It works
// against AWS DynamoDB and the compatible servers (dynalite, DynamoDB Local,
// ScyllaDB Alternator, LocalStack, moto).
//
// # Configuration
//
// [New] takes an aws.Config, normally from config.LoadDefaultConfig, so the
// SDK's standard chain decides region, credentials and endpoint
// (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB, profiles, ...).
//
// # Control plane
//
// DescribeTable, CreateTable, DeleteTable, ListTables and friends go through
// the AWS SDK's client, seen through the minimal [API] interface. A table's
// shape is captured in a [TableSpec], which marshals to JSON with DynamoDB's
// own field names. Compatible servers implement only parts of the API; what a
// server cannot report or apply is recorded (TableSpec.Warnings,
// CreateResult.NotApplied) rather than failing the whole operation.
//
// # Raw data plane
//
// Scan and BatchWriteItem carry all of a backup's and a restore's bytes, and
// the SDK's generic deserialiser turns every attribute value of every item
// into a tree of interface values only for cairn to encode it back to JSON.
// That costs more CPU than the network and the server do on a fast link. So
// [Client.ScanPage] and [Client.BatchWrite] speak the JSON protocol directly:
// the request body is built with package ddbjson, signed with the SDK's SigV4
// signer, POSTed to the endpoint the SDK would have used, and the response is
// read into a pooled buffer from which ddbjson cuts the raw items. Items stay
// in DynamoDB JSON from the wire to the recovery point and back.
//
// The adapter does not retry, limit or log: those are wrappers over the
// [Scanner] and [Writer] interfaces ([NewRetryScanner], [NewRetryWriter],
// [NewRateLimitedScanner], [NewFaultWriter], ...) composed by the caller.
// Errors from the wire are *[APIError]; [IsThrottle] and [IsRetryable]
// classify them, and a missing table matches [ErrTableNotFound].
package dynamodb
