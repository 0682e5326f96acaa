// Package every runs a function at a fixed interval until its context
// ends: the one ticker loop the service's background jobs share.
//
// Trust level: no I/O of its own.
package every

import (
	"context"
	"time"
)

// Run calls fn every interval until ctx ends. fn's error goes to onErr
// and the loop carries on: a background job that failed once must try
// again next time, not stop for good.
func Run(ctx context.Context, interval time.Duration, fn func(context.Context) error, onErr func(error)) {
	RunBackoff(ctx, interval, Backoff{}, fn, func(err error, _ time.Duration) { onErr(err) })
}
