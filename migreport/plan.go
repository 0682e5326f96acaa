package migreport

import (
	"math"
	"time"
)

// Plan is the progress against migration.plan.
type Plan struct {
	Points []PlanPoint `json:"points"`
	// Today is the report's last day (To): the target there, interpolated
	// between the plan's points, and the devices on ECoS at its end.
	Today PlanToday `json:"today"`
}

// PlanPoint is one entry of the plan and where the migration stood then.
type PlanPoint struct {
	By     string `json:"by"`
	Target int64  `json:"target"`
	Actual *int64 `json:"actual"` // devices on ECoS at the end of By; null when By is after the report's day
	Ahead  *int64 `json:"ahead"`  // Actual − Target: negative is behind; null with Actual
}

// PlanToday is where the migration stands against the plan on one day.
type PlanToday struct {
	Day    string `json:"day"`
	Target int64  `json:"target"`
	Actual int64  `json:"actual"`
	Ahead  int64  `json:"ahead"` // Actual − Target: negative is behind
}

// plan measures the migration against targets on the report's day to.
// ecosAt gives the devices on ECoS at the end of a day.
func plan(targets []Target, goLive, to time.Time, ecosAt func(time.Time) int64) *Plan {
	p := &Plan{Points: []PlanPoint{}}
	for _, t := range targets {
		pt := PlanPoint{By: t.By.Format(time.DateOnly), Target: t.ECoS}
		if !t.By.After(to) {
			actual := ecosAt(t.By)
			ahead := actual - t.ECoS
			pt.Actual, pt.Ahead = &actual, &ahead
		}
		p.Points = append(p.Points, pt)
	}
	target := targetOn(targets, goLive, to)
	actual := ecosAt(to)
	p.Today = PlanToday{Day: to.Format(time.DateOnly), Target: target, Actual: actual, Ahead: actual - target}
	return p
}

// planLine is the plan as a line through the end of each day: from 0 at
// the start of the go-live day (when there is one, before the first
// target) through every target.
func planLine(targets []Target, goLive time.Time) []Target {
	var line []Target
	if !goLive.IsZero() && len(targets) > 0 && goLive.Before(targets[0].By) {
		line = append(line, Target{By: goLive.AddDate(0, 0, -1)})
	}
	return append(line, targets...)
}

// targetOn is the plan's target at the end of day: interpolated linearly
// between the points of planLine, 0 before the first and the last target
// after the last.
func targetOn(targets []Target, goLive, day time.Time) int64 {
	line := planLine(targets, goLive)
	if len(line) == 0 || day.Before(line[0].By) {
		return 0
	}
	for i := 1; i < len(line); i++ {
		a, b := line[i-1], line[i]
		if day.After(b.By) {
			continue
		}
		frac := day.Sub(a.By).Hours() / b.By.Sub(a.By).Hours()
		return a.ECoS + int64(math.Round(frac*float64(b.ECoS-a.ECoS)))
	}
	return line[len(line)-1].ECoS
}
