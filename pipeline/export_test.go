package pipeline

import (
	"context"

	"github.com/ecos-cos/ecos/store"
)

// Drain runs the queued work in the caller's goroutine, one job after
// another, as Run's workers would, and returns how many jobs it ran: a
// test that drives the pipeline without Run knows when it is idle.
func (p *Pipeline) Drain(ctx context.Context) int {
	n := 0
	for {
		select {
		case j := <-p.work:
			p.process(ctx, j)
			n++
		default:
			return n
		}
	}
}

// Reauthorise takes r through the checks and, approved, to the signer,
// as recovery and a quarantine release do.
func (p *Pipeline) Reauthorise(ctx context.Context, r store.Request) { p.reauthorise(ctx, r) }

// Waiting is how many requests have a WaitFinal caller registered.
func (p *Pipeline) Waiting() int {
	p.waiters.mu.Lock()
	defer p.waiters.mu.Unlock()
	return len(p.waiters.m)
}

// CollectAlerts runs the alert poller until ctx ends.
func (p *Pipeline) CollectAlerts(ctx context.Context) { p.collectAlerts(ctx) }

// DrainNewestFirst runs the queued work newest first, as workers that
// picked the jobs up in another order would: what was authorised first
// is not always signed first.
func (p *Pipeline) DrainNewestFirst(ctx context.Context) int {
	var jobs []job
	for {
		select {
		case j := <-p.work:
			jobs = append(jobs, j)
			continue
		default:
		}
		break
	}
	for i := len(jobs) - 1; i >= 0; i-- {
		p.process(ctx, jobs[i])
	}
	return len(jobs)
}
