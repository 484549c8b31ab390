package schedule_test

import (
	"fmt"
	"time"

	"github.com/cairn-backup/cairn/internal/schedule"
)

func ExampleParse() {
	s, err := schedule.Parse("cron(30 2 ? * SUN *)", "America/New_York")
	if err != nil {
		panic(err)
	}
	// Sunday 2024-03-10 has no 02:30 in New York: the run moves to 03:00 EDT.
	at := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for range 3 {
		at = s.Next(at)
		fmt.Println(at.In(s.Location()).Format("Mon 2006-01-02 15:04 MST"))
	}
	_, err = schedule.Parse("cron(0 5 * * * *)", "")
	fmt.Println(err)
	// Output:
	// Sun 2024-03-03 02:30 EST
	// Sun 2024-03-10 03:00 EDT
	// Sun 2024-03-17 02:30 EDT
	// schedule expression "cron(0 5 * * * *)": one of Day-of-month and Day-of-week must be '?' (AWS does not combine them); for example cron(0 5 ? * MON-FRI *) or cron(0 5 1 * ? *)
}

func ExampleSchedule_Between() {
	s, _ := schedule.Parse("cron(0 5 ? * * *)", "")
	lastRun := time.Date(2024, 1, 1, 5, 0, 0, 0, time.UTC)
	now := time.Date(2024, 1, 4, 6, 0, 0, 0, time.UTC)
	// After downtime: the latest missed run only.
	fmt.Println(s.Between(lastRun, now, 1))
	// Output:
	// [2024-01-04 05:00:00 +0000 UTC]
}
