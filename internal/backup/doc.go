// Package backup holds cairn's domain: vaults, backup and restore jobs, recovery
// points, their states and ARNs, the errors callers branch on, and the
// interfaces the rest of cairn implements (the catalog). It does no I/O.
//
// Names, states and ARN formats follow AWS Backup so that what the API returns
// can be read by the AWS CLI and SDKs unchanged.
package backup
