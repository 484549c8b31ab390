package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// sinceHelp is the help of the --since flag of the list commands.
const sinceHelp = "only jobs created within this long before now (a Go duration such as 90m or 36h, or days such as 7d)"

// parseSince reads --since: a positive Go duration, or a whole number of
// days with the suffix d. It returns the creation time the listing starts
// at, or the zero time if s is empty.
func parseSince(cmd *cobra.Command, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 || days > 100*366 {
			return time.Time{}, usageError(cmd, "--since %q is not a duration: use a whole number of days such as 7d, or 36h or 90m", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d <= 0 {
			return time.Time{}, usageError(cmd, "--since %q is not a positive duration: use 90m, 36h or 7d", s)
		}
	}
	return now.Add(-d).UTC(), nil
}
