package growth

import (
	"fmt"
	"time"
)

// durationWords says a number of seconds the way a person would ("about 6 min").
func durationWords(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second))
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("about %.0f min", d.Minutes())
	case d < 48*time.Hour:
		return fmt.Sprintf("about %.1f h", d.Hours())
	}
	return fmt.Sprintf("about %.0f days", d.Hours()/24)
}
