// Package policy reads governance policies written in AWS Organizations'
// policy syntax: TAG_POLICY documents (tags.<key>.tag_key, tag_value,
// enforced_for) and BACKUP_POLICY documents (plans.<name>.regions, rules,
// selections, ...), with the inheritance operators @@assign, @@append,
// @@remove and @@operators_allowed_for_child_policies.
//
// It is pure: it parses and validates documents and returns what they
// imply, the effective tag rules of tag policies and the backup plans and
// selections of backup policies, as internal/backup's types. Every error is
// a *backup.Error whose Context is the path of the offending element in the
// document (plans.P.rules.R.lifecycle.delete_after_days) and whose message
// starts with that path.
package policy
