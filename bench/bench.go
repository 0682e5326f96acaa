// Package bench measures the ECoS Party end to end (`ecos bench cos`): a
// fresh demo installation with the in-process fleet, pre-signed SR 6.23s
// driven through the pipeline, and the bare crypto they cost as a floor.
// It is kept out of package service so that no benchmark code is in the
// graph of a production `ecos serve`.
//
// Trust level: test infrastructure; makes its own PKI and database.
package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/anomaly"
	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/devicesim"
	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/obs"
	"github.com/ecos-cos/ecos/service"
	"github.com/ecos-cos/ecos/store"
)

// Options size an end-to-end 6.23 benchmark (`ecos bench cos`).
type Options struct {
	N           int // timed requests; 0: 1,000
	Concurrency int // concurrent submitters; 0: 64
	Devices     int // simulated meters the requests are spread over; 0: 1,000
	Workers     int // pipeline workers; 0: the configuration's default
	// Dir is where the demo installation (PKI, SQLite database, audit log)
	// is made; "": a temporary directory, removed afterwards.
	Dir string
	// CPUProfile, if set, receives a pprof CPU profile of the timed
	// section only.
	CPUProfile io.Writer
	// Postgres, if set, is a postgres:// URL of a server whose user may
	// create databases: the run gets a database of its own there, dropped
	// afterwards, instead of SQLite.
	Postgres string
	// ADTUsers is how many other Users' thresholds (50 SRVs each) are
	// loaded beside the demo suppliers', so the threshold check works at
	// a realistic size; 0: 10,000; negative: none.
	ADTUsers int
	// HSM, if set, puts the party's keys on a PKCS#11 token first.
	HSM *HSM
}

// adtSRVs is how many SRVs each extra User's thresholds cover.
const adtSRVs = 50

// CryptoStep is one place a 6.23 costs an ECDSA P-256 operation.
type CryptoStep struct {
	Who      string `json:"who"`
	Signs    int    `json:"signs"`
	Verifies int    `json:"verifies"`
}

// CryptoPerRequest is what one successful SR 6.23 (a CS02b with DS, KA
// and KATopUp replacements and a one-certificate path, as the demo world
// sends) costs everyone in the run once the certificates have been seen,
// counted from the code:
//
//   - pipeline/submit.go: xmldsig.Verify of the request.
//   - intake.BindSigner and authorise/replacements.go: the signer's chain
//     and the three replacements' chains are the same certificates on
//     every request, so smki.Links answers them without a verify (11 on
//     the first request of a supplier).
//   - signer.sign: the CS02b signature. File keys are Go's own ECDSA and
//     are not verified after signing; an HSM's signatures would be.
//   - device: the command's signature (handle.go); the path walk
//     (path.go) uses the fleet's smki.Links as well; the response
//     signature.
//   - pipeline/correlate.go: the device response's signature.
//   - pipeline/respond.go: two DUIS documents (acknowledgement and
//     service response); xmldsig.Sign checks its output's structure and
//     compares, not re-verifies, a file key's signature.
var CryptoPerRequest = []CryptoStep{
	{"request XML signature verify", 0, 1},
	{"CS02b sign", 1, 0},
	{"device: command verify", 0, 1},
	{"device: response sign", 1, 0},
	{"device response verify", 0, 1},
	{"DUIS ack + response: XML sign", 2, 0},
}

// CryptoCounts totals steps (CryptoPerRequest, CryptoPerRequestHSM).
func CryptoCounts(steps []CryptoStep) (signs, verifies int) {
	for _, s := range steps {
		signs += s.Signs
		verifies += s.Verifies
	}
	return signs, verifies
}

// Result is what a benchmark measured.
type Result struct {
	Store              string       `json:"store"`
	N                  int          `json:"n"`
	Concurrency        int          `json:"concurrency"`
	Workers            int          `json:"workers"`
	Devices            int          `json:"devices"`
	GOMAXPROCS         int          `json:"gomaxprocs"`
	WallSeconds        float64      `json:"wall_seconds"`
	RequestsPerSec     float64      `json:"requests_per_sec"`
	P50ms              float64      `json:"p50_ms"`
	P99ms              float64      `json:"p99_ms"`
	MaxMs              float64      `json:"max_ms"`
	SignsPerRequest    int          `json:"signs_per_request"`
	VerifiesPerRequest int          `json:"verifies_per_request"`
	CryptoFloorSeconds float64      `json:"crypto_floor_seconds"`
	CryptoFloorPerSec  float64      `json:"crypto_floor_per_sec"`
	Ratio              float64      `json:"ratio"`
	Failures           int          `json:"failures"`
	FirstFailure       string       `json:"first_failure,omitempty"`
	Crypto             []CryptoStep `json:"crypto_per_request"`
	// TokenSignsPerRequest are the signatures of SignsPerRequest made on
	// the token, with HSM; the crypto floor counts them at the rate the
	// token signed in the same run (HSM.TokenSignsPerSec).
	TokenSignsPerRequest int        `json:"token_signs_per_request,omitempty"`
	HSM                  *HSMResult `json:"hsm,omitempty"`
	// The anomaly detection threshold check (step 9) as the pipeline
	// timed it: mean time per request, and its share of the time each
	// request had on all cores (wall × GOMAXPROCS / N).
	ADTUsers       int     `json:"adt_users"`
	ADTRows        int     `json:"adt_rows"`
	AnomalyCheckNs float64 `json:"anomaly_check_ns"`
	AnomalyShare   float64 `json:"anomaly_share"`
}

// warmup requests go through the service before the clock starts, so the
// timed section does not pay for first-use costs (caches, connections).
// Requests to one device are o.Devices apart, so with Concurrency above
// Devices two commands for one meter may race and one be refused.
const warmup = 32

// Run runs an end-to-end SR 6.23 benchmark: a fresh demo installation
// on SQLite (or a fresh PostgreSQL database) with the in-process fleet, o.N pre-signed requests submitted
// by o.Concurrency callers that each wait for the final response, then the
// crypto floor: the bare P-256 signs and verifies those requests cost,
// timed on all cores. A request that does not end responded with I0 is a
// failure; the result says how many, and Run does not fail for them.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.N == 0 {
		o.N = 1000
	}
	if o.Concurrency == 0 {
		o.Concurrency = 64
	}
	if o.Devices == 0 {
		o.Devices = config.DefaultSimulated
	}
	if o.N < 1 || o.Concurrency < 1 || o.Devices < 1 {
		return nil, fmt.Errorf("bench: n %d, concurrency %d, devices %d: each must be at least 1", o.N, o.Concurrency, o.Devices)
	}
	cfg, dir, cleanup, err := install(ctx, o.Dir, o.Postgres, o.Devices)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if o.Workers > 0 {
		cfg.Workers = o.Workers
	}
	crypto, tokenSigns := CryptoPerRequest, 0
	var onHSM *HSMResult
	if o.HSM != nil {
		// As many token signatures as the timed requests cost, at least
		// 1,000.
		var restore func()
		if onHSM, restore, err = onToken(cfg, dir, *o.HSM, max(1000, o.N*tokenSignsPerRequest)); err != nil {
			return nil, err
		}
		defer restore() // after the service, deferred below, has closed its token
		crypto, tokenSigns = CryptoPerRequestHSM, tokenSignsPerRequest
	}
	// The audit stream goes to the demo's audit.log: it is part of the
	// real cost. The operational log is dropped.
	sim, err := devicesim.ForConfig(cfg.Devices, nil)
	if err != nil {
		return nil, err
	}
	svc, err := service.New(ctx, service.Options{Config: cfg, Log: obs.Discard(), Simulator: sim})
	if err != nil {
		return nil, err
	}
	defer svc.Close()

	users, rows := loadThresholds(svc.Counter(), o.ADTUsers)

	// Warm-up requests go to distinct devices, one round of the fleet at
	// most, so none waits on another.
	warm := min(warmup, o.Devices)
	docs, ids, err := presign(dir, o.Devices, warm+o.N)
	if err != nil {
		return nil, err
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx, nil, nil) }()
	defer func() {
		stop()
		<-done
	}()

	res := &Result{Store: cfg.Database.Driver, N: o.N, Concurrency: o.Concurrency, Workers: cfg.Workers,
		Devices: o.Devices, GOMAXPROCS: runtime.GOMAXPROCS(0), Crypto: crypto, ADTUsers: users, ADTRows: rows,
		TokenSignsPerRequest: tokenSigns, HSM: onHSM}
	res.SignsPerRequest, res.VerifiesPerRequest = CryptoCounts(crypto)

	// Warm up with the first requests, which are for distinct devices.
	if _, fails, first := drive(ctx, svc, docs[:warm], ids[:warm], o.Concurrency); fails > 0 {
		return nil, fmt.Errorf("bench: %d of %d warm-up requests failed; first: %s", fails, warm, first)
	}

	if o.CPUProfile != nil {
		if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
			return nil, err
		}
	}
	screenBefore, screensBefore := svc.Pipeline().ScreenCost()
	start := time.Now()
	lat, fails, first := drive(ctx, svc, docs[warm:], ids[warm:], o.Concurrency)
	wall := time.Since(start)
	screen, screens := svc.Pipeline().ScreenCost()
	if n := screens - screensBefore; n > 0 {
		res.AnomalyCheckNs = float64(screen-screenBefore) / float64(n)
		res.AnomalyShare = res.AnomalyCheckNs * float64(o.N) / (float64(wall) * float64(runtime.GOMAXPROCS(0)))
	}
	if o.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Failures, res.FirstFailure = fails, first
	res.WallSeconds = wall.Seconds()
	res.RequestsPerSec = float64(o.N) / wall.Seconds()
	slices.Sort(lat)
	res.P50ms = ms(percentile(lat, 0.50))
	res.P99ms = ms(percentile(lat, 0.99))
	res.MaxMs = ms(lat[len(lat)-1])

	floor, err := CryptoFloor(o.N*(res.SignsPerRequest-tokenSigns), o.N*res.VerifiesPerRequest, runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, err
	}
	if onHSM != nil {
		floor += time.Duration(float64(o.N*tokenSigns) / onHSM.TokenSignsPerSec * float64(time.Second))
	}
	res.CryptoFloorSeconds = floor.Seconds()
	res.CryptoFloorPerSec = float64(o.N) / floor.Seconds()
	res.Ratio = res.RequestsPerSec / res.CryptoFloorPerSec
	return res, nil
}

// presign builds n signed 6.23s from supplier 2, round robin over the
// devices, the counter rising with each round: request i goes to device
// i mod devices + 1, so requests to one device are devices apart.
func presign(dir string, devices, n int) ([][]byte, []store.RequestID, error) {
	w, err := demoworld.Load(dir)
	if err != nil {
		return nil, nil, err
	}
	supplier := w.PKI.Suppliers[1].EUI
	docs := make([][]byte, n)
	ids := make([]store.RequestID, n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				dev := i%devices + 1
				r := demoworld.Request{Supplier: 2, Device: demoworld.Device(dev), Counter: uint64(i/devices + 1)}
				docs[i], errs[i] = w.Sign(r)
				ids[i] = store.RequestID(duis.RequestID{Originator: supplier, Target: r.Device, Counter: r.Counter})
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, fmt.Errorf("bench: signing requests: %w", err)
	}
	return docs, ids, nil
}

// drive submits docs from c callers, each waiting for the final state
// before its next, and returns each request's latency (submit to final),
// the number that did not end responded with I0, and the first such.
func drive(ctx context.Context, svc *service.Service, docs [][]byte, ids []store.RequestID, c int) ([]time.Duration, int, string) {
	p := svc.Pipeline()
	lat := make([]time.Duration, len(docs))
	var next atomic.Int64
	var mu sync.Mutex
	fails, first := 0, ""
	fail := func(i int, format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		if fails == 0 {
			first = ids[i].String() + ": " + fmt.Sprintf(format, a...)
		}
		fails++
	}
	var wg sync.WaitGroup
	for range min(c, len(docs)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(docs) || ctx.Err() != nil {
					return
				}
				t := time.Now()
				ack, err := p.Submit(ctx, docs[i])
				switch {
				case err != nil:
					fail(i, "submit: %v", err)
					continue
				case !ack.Accepted:
					fail(i, "refused with %s: %v", ack.Code, ack.Err)
					continue
				}
				req, err := p.WaitFinal(ctx, ids[i])
				lat[i] = time.Since(t)
				switch {
				case err != nil:
					fail(i, "waiting: %v", err)
				case req.State != store.RequestResponded || req.ResponseCode != string(duis.ResponseSuccess):
					fail(i, "ended %s with %q (%s)", req.State, req.ResponseCode, req.Reason)
				}
			}
		})
	}
	wg.Wait()
	return lat, fails, first
}

// CryptoFloor times signs bare P-256 ECDSA signatures and verifies
// verifications of SHA-256 digests on procs goroutines, as the pipeline
// spreads its work over all cores.
func CryptoFloor(signs, verifies, procs int) (time.Duration, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return 0, err
	}
	digest := sha256.Sum256([]byte("ecos bench cos crypto floor"))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return 0, err
	}
	var nextSign, nextVerify atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	for range max(procs, 1) {
		wg.Go(func() {
			for nextSign.Add(1) <= int64(signs) {
				if _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); err != nil {
					failed.Store(true)
				}
			}
			for nextVerify.Add(1) <= int64(verifies) {
				if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	d := time.Since(start)
	if failed.Load() {
		return 0, errors.New("bench: a bare P-256 operation failed")
	}
	return d, nil
}

// percentile is the nearest-rank percentile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loadThresholds gives n made-up Users thresholds for 50 SRVs each
// (0: 10,000 Users), and returns how many Users and rows it loaded.
func loadThresholds(c *anomaly.Counter, n int) (users, rows int) {
	if n == 0 {
		n = 10_000
	}
	if n < 0 {
		return 0, 0
	}
	th := make([]adt.Threshold, 0, adtSRVs)
	for i := 0; i < adt.NumSRVs && len(th) < adtSRVs; i++ {
		th = append(th, adt.Threshold{SRV: adt.SRVName(i), Warning: 1000, Quarantine: 2000, Interval: 1440})
	}
	for i := range n {
		c.SetUser(eui.EUI{0xBE, 0x4C, 0x00, 0x00, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}, th)
	}
	return n, n * len(th)
}
