// Package cfn applies CloudFormation templates to cairn: it parses a
// template (YAML with the short intrinsic tags, or JSON), resolves its
// parameters, conditions and intrinsic functions, orders its resources by
// their dependencies, and creates, updates or deletes the
// AWS::Backup::BackupVault, AWS::Backup::BackupPlan and
// AWS::Backup::BackupSelection resources it declares through a small
// Backend. Every other resource type is accepted and reported as not
// applicable; references to it resolve to plausible placeholders.
//
// What a stack created is recorded as a backup.Stack in a backup.StackStore,
// saved after every step, so re-applying a template changes only what
// changed and an apply that failed midway continues where it stopped.
//
// The package does no I/O of its own: the backend and the store do it.
package cfn
