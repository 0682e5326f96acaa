package config

import (
	"fmt"
	"time"
)

// PlanTarget is one entry of migration.plan: how many devices should trust
// the ECoS certificate by the end of a day. The targets are cumulative.
type PlanTarget struct {
	By   string `json:"by"`   // YYYY-MM-DD
	ECoS int    `json:"ecos"` // devices on ECoS by the end of By
}

// ByDate is By as a time (midnight UTC). Validate has checked its form.
func (p PlanTarget) ByDate() time.Time {
	t, _ := time.Parse(time.DateOnly, p.By)
	return t
}

// MaxPlanTargets bounds migration.plan.
const MaxPlanTargets = 1000

// plan checks migration.plan: days in the form YYYY-MM-DD, each after the
// one before, and targets that never fall (they are cumulative).
func (v *validator) plan(plan []PlanTarget) {
	if len(plan) > MaxPlanTargets {
		v.add("migration.plan", "%d entries (at most %d)", len(plan), MaxPlanTargets)
		return
	}
	var last *PlanTarget
	for i := range plan {
		p := &plan[i]
		key := fmt.Sprintf("migration.plan[%d]", i)
		by, err := time.Parse(time.DateOnly, p.By)
		switch {
		case err != nil:
			v.add(key+".by", "%q: want a day, YYYY-MM-DD", p.By)
		case last != nil && !by.After(last.ByDate()):
			v.add(key+".by", "%s is not after migration.plan[%d].by (%s): the days must increase", p.By, i-1, last.By)
		}
		switch {
		case p.ECoS < 0:
			v.add(key+".ecos", "%d is negative", p.ECoS)
		case last != nil && p.ECoS < last.ECoS:
			v.add(key+".ecos", "%d is below migration.plan[%d].ecos (%d): the targets are cumulative and never fall", p.ECoS, i-1, last.ECoS)
		}
		if err == nil {
			last = p
		}
	}
}
