package device

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/cosbuild"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/testpki"
)

// migrateBenchFleet is large enough that every iteration of the fleet
// benchmarks meets a device no command has reached before.
const migrateBenchFleet = 1 << 20

// benchFrames builds n signed frames, one per device from first on;
// build makes each command.
func benchFrames(b *testing.B, p *testpki.PKI, first, n int, build func(id eui.EUI) []byte) [][]byte {
	b.Helper()
	out := make([][]byte, n)
	for i := range out {
		out[i] = build(FleetEUI(first + i))
	}
	return out
}

// bareCrypto times what a fleet device must spend on one command whatever
// the simulator does: one P-256 verify and one P-256 sign (randomised, as
// the benchmark's fleet signs), on a fixed key and digest, rounds times.
type bareCrypto struct {
	key    *ecdsa.PrivateKey
	digest [32]byte
	sig    []byte
	spent  time.Duration
	rounds int
}

func newBareCrypto(b *testing.B) *bareCrypto {
	b.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	c := &bareCrypto{key: key, digest: sha256.Sum256([]byte("bare"))}
	if c.sig, err = ecdsa.SignASN1(rand.Reader, key, c.digest[:]); err != nil {
		b.Fatal(err)
	}
	return c
}

func (c *bareCrypto) run(b *testing.B, rounds int) {
	start := cpuTime()
	for range rounds {
		if !ecdsa.VerifyASN1(&c.key.PublicKey, c.digest[:], c.sig) {
			b.Fatal("verify")
		}
		if _, err := ecdsa.SignASN1(rand.Reader, c.key, c.digest[:]); err != nil {
			b.Fatal(err)
		}
	}
	c.spent += cpuTime() - start
	c.rounds += rounds
}

func (c *bareCrypto) perRound() time.Duration { return c.spent / time.Duration(max(c.rounds, 1)) }

// benchFleet runs build's command once on each of b.N fresh devices of a
// large fleet and reports the simulator's cost beyond its one verify and
// one sign: overhead-ns/cmd, and crypto-ratio (the bare crypto's share of
// a command, 1 being a simulator that costs nothing). Both are process CPU
// time, not wall time (the machine may be shared), and the bare crypto is
// timed between batches, so that both see the same conditions.
// derive-ns/key is what deriving a fresh device's key costs (a scalar
// multiplication), the bulk of the overhead.
func benchFleet(b *testing.B, build func(p *testpki.PKI, id eui.EUI) []byte) {
	p := genPKI(b, pkiNow)
	f, err := NewFleet(FleetConfig{PKI: p, Devices: migrateBenchFleet, Now: newClock(deviceNow).Now, Rand: rand.Reader})
	if err != nil {
		b.Fatal(err)
	}
	bare := newBareCrypto(b)
	const batch = 256
	next := len(p.Devices) + 1
	var frames [][]byte
	var handled, batchStart time.Duration
	b.ReportAllocs()
	for b.Loop() {
		if len(frames) == 0 {
			b.StopTimer()
			if next > len(p.Devices)+1 {
				handled += cpuTime() - batchStart
			}
			if next+batch > migrateBenchFleet {
				b.Fatal("benchmark ran out of fresh devices")
			}
			frames = benchFrames(b, p, next, batch, func(id eui.EUI) []byte { return build(p, id) })
			next += batch
			bare.run(b, 16)
			b.StartTimer()
			batchStart = cpuTime()
		}
		res, err := f.Handle(frames[0])
		if err != nil || res.Response == nil {
			b.Fatalf("%v %+v", err, res)
		}
		frames = frames[1:]
	}
	handled += cpuTime() - batchStart
	b.StopTimer()
	perCmd := handled / time.Duration(b.N)
	crypto := bare.perRound()
	b.ReportMetric(float64(perCmd-crypto), "overhead-ns/cmd")
	b.ReportMetric(float64(crypto)/float64(perCmd), "crypto-ratio")
	start := cpuTime()
	const derivations = 64
	for i := range derivations {
		if _, err := DeriveKey([]byte("bench"), FleetEUI(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-start)/derivations), "derive-ns/key")
}

// BenchmarkFleetMigrate is mode 6 (TCoS installs the ECoS certificate in
// the transitionalCoS cell) on fresh devices: decode, the TCoS signature,
// the ECoS certificate and its path, the commit, the signed response.
func BenchmarkFleetMigrate(b *testing.B) {
	benchFleet(b, func(p *testpki.PKI, id eui.EUI) []byte {
		c, err := cosbuild.TransCoSByTransCoS(cosbuild.Migration{NewCertificate: p.ECoS.Cert, CertificationPath: [][]byte{p.OrgCA.Cert}}, 7)
		if err != nil {
			b.Fatal(err)
		}
		return frame(b, p.TCoS, id, c)
	})
}

// BenchmarkFleetReadBack is the CS02a read of the transitionalCoS cell on
// fresh devices.
func BenchmarkFleetReadBack(b *testing.B) {
	benchFleet(b, func(p *testpki.PKI, id eui.EUI) []byte {
		m, err := cosbuild.ReadBack(p.TCoS.EUI, id, 7)
		if err != nil {
			b.Fatal(err)
		}
		return signed(b, m, p.TCoS.Key)
	})
}
