// Package schedule evaluates AWS cron schedule expressions and time windows (pure).
package schedule

import "time"

// Schedule is a parsed "cron(...)" expression in a time zone.
type Schedule struct{}

// Parse parses expr ("cron(M H DOM MON DOW Y)") in time zone tz (IANA name;
// empty means UTC).
func Parse(expr, tz string) (*Schedule, error) { return &Schedule{}, nil }

// Next returns the first occurrence strictly after t, or the zero time if
// there is none.
func (s *Schedule) Next(t time.Time) time.Time { return time.Time{} }
