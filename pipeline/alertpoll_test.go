package pipeline_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ecos-cos/ecos/dispatch"
	"github.com/ecos-cos/ecos/pipeline"
)

// downGateway fails its first fails alert collections, and records when
// each was asked.
type downGateway struct {
	pipeline.Gateway
	mu    sync.Mutex
	fails int
	start time.Time
	asked []time.Duration
}

func (g *downGateway) Alerts(ctx context.Context) ([][]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.asked = append(g.asked, time.Since(g.start))
	if len(g.asked) <= g.fails {
		return nil, dispatch.ErrUnreachable
	}
	return nil, nil
}

// halves reads as the jitter 0.5 again and again.
type halves struct{}

func (halves) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = 0
		if i%8 == 0 {
			b[i] = 0x80
		}
	}
	return len(b), nil
}

// TestAlertPollerBacksOff: while the gateway is down the poller waits
// twice as long each time, shortened by the injected randomness's jitter,
// and goes back to every second once the gateway answers.
func TestAlertPollerBacksOff(t *testing.T) {
	gw := &downGateway{fails: 5}
	f := newFixture(t, options{
		gateway:  func(g pipeline.Gateway) pipeline.Gateway { gw.Gateway = g; return gw },
		pipeline: func(c *pipeline.Config) { c.Rand = halves{} },
	})
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		gw.start = time.Now()
		done := make(chan struct{})
		go func() { defer close(done); f.p.CollectAlerts(ctx) }()
		time.Sleep(50 * time.Second) // fake time: the bubble's clock
		cancel()
		<-done
		// Waits after each failure: 2ⁿ s less a quarter (jitter 0.5 takes
		// up to half): 1.5, 3, 6, 12, 24; then 1 s again.
		want := []time.Duration{1000, 2500, 5500, 11500, 23500, 47500, 48500, 49500}
		if len(gw.asked) != len(want) {
			t.Fatalf("asked at %v, want %v ms", gw.asked, want)
		}
		for i := range want {
			if gw.asked[i] != want[i]*time.Millisecond {
				t.Fatalf("asked at %v, want %v ms", gw.asked, want)
			}
		}
	})
}
