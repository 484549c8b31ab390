// Package governance keeps every table of every source tagged for backup
// and says, table by table, whether it is protected: cairn's equivalent of
// superwerker's tag policy with its AWS Config REQUIRED_TAGS remediation,
// without AWS Organizations, AWS Config or SSM.
//
// A [Worker] runs a pass every interval: it discovers each source's tables
// and tags (ListTables, ListTagsOfResource; paginated, rate-limited,
// retried with backoff), gives every in-scope table that lacks a rule's
// tag key the rule's default value (TagResource with that one tag: other
// tags are never touched, an existing value never overwritten, the tags are
// read again right before the write), finds values a rule does not allow
// and reports or resets them, and makes a verdict for every table
// ([backup.TableCompliance]): COMPLIANT, NON_COMPLIANT, OPTED_OUT, UNKNOWN
// (its source did not answer) or NOT_APPLICABLE (excluded).
//
// A write that fails is tried again as superwerker's remediation is
// (MaxAttempts times, RetryDelay apart, on the injected clock); every
// attempt and every disallowed value is recorded in the catalog
// ([backup.GovernanceStore]). The worker reads plans, selections and
// recovery points through backup.Service and never writes job state.
package governance
