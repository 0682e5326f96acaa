package gbcs

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"testing"
	"time"
)

// The benchmarks come in pairs so the codec's overhead can be read against
// the bare ECDSA P-256 cost on the same bytes:
//
//	BenchmarkBuildSign / BenchmarkBareECDSASign
//	BenchmarkVerify    / BenchmarkBareECDSAVerify
//
// The payload is a 6.23-shaped mode 7 command with certificates of RTDS size
// (synthetic, so the benchmarks run without $ECOS_VECTORS_DIR).

// BenchmarkBuildSign builds a CS02b mode 7 command from its typed payload,
// signs it and encodes the frame, as the service does per request.
func BenchmarkBuildSign(b *testing.B) {
	key := fixedKey(b, "bench CoS")
	u := syntheticMode7(6001)
	b.ReportAllocs()
	for b.Loop() {
		m, err := NewUpdateSecurityCredentialsCommand(cosParty, esme, 6001, u)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Sign(rand.Reader, key); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Bytes(); err != nil {
			b.Fatal(err)
		}
	}
	tbs := benchTBS(b)
	reportBareRatio(b, func() {
		d := sha256.Sum256(tbs)
		if _, err := ecdsa.SignASN1(rand.Reader, key, d[:]); err != nil {
			b.Fatal(err)
		}
	})
}

// reportBareRatio times the bare ECDSA operation as many times as the
// benchmark loop ran, in the same run on the same cores, and reports its
// cost and the ratio bare/ours (1.0 would mean the codec costs nothing).
func reportBareRatio(b *testing.B, bare func()) {
	n, ours := b.N, b.Elapsed()
	start := time.Now()
	for range n {
		bare()
	}
	bareT := time.Since(start)
	b.ReportMetric(float64(bareT.Nanoseconds())/float64(n), "bare-ns/op")
	b.ReportMetric(float64(bareT)/float64(ours), "bare/ours")
}

// BenchmarkBareECDSASign is SHA-256 and ECDSA P-256 over the same bytes.
func BenchmarkBareECDSASign(b *testing.B) {
	key := fixedKey(b, "bench CoS")
	tbs := benchTBS(b)
	b.ReportAllocs()
	for b.Loop() {
		d := sha256.Sum256(tbs)
		if _, err := ecdsa.SignASN1(rand.Reader, key, d[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify parses a signed frame and verifies its KRP signature, as
// the service does for each device response.
func BenchmarkVerify(b *testing.B) {
	key := fixedKey(b, "bench CoS")
	wire := benchSigned(b, key)
	b.ReportAllocs()
	for b.Loop() {
		f, err := ParseFrame(wire)
		if err != nil {
			b.Fatal(err)
		}
		if err := f.Message.Verify(&key.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
	tbs := benchTBS(b)
	d := sha256.Sum256(tbs)
	sig, err := ecdsa.SignASN1(rand.Reader, key, d[:])
	if err != nil {
		b.Fatal(err)
	}
	reportBareRatio(b, func() {
		d := sha256.Sum256(tbs)
		if !ecdsa.VerifyASN1(&key.PublicKey, d[:], sig) {
			b.Fatal("bare verify failed")
		}
	})
}

// BenchmarkBareECDSAVerify is SHA-256 and ECDSA P-256 verification over the
// same bytes.
func BenchmarkBareECDSAVerify(b *testing.B) {
	key := fixedKey(b, "bench CoS")
	tbs := benchTBS(b)
	d := sha256.Sum256(tbs)
	sig, err := ecdsa.SignASN1(rand.Reader, key, d[:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		d := sha256.Sum256(tbs)
		if !ecdsa.VerifyASN1(&key.PublicKey, d[:], sig) {
			b.Fatal("does not verify")
		}
	}
}

func benchMessage(b *testing.B) *Message {
	payload, err := syntheticMode7(6001).Bytes()
	if err != nil {
		b.Fatal(err)
	}
	return NewCommand(cosParty, esme, 6001, CodeSupplierByTransCoS, payload)
}

func benchTBS(b *testing.B) []byte {
	tbs, err := benchMessage(b).SignedBytes()
	if err != nil {
		b.Fatal(err)
	}
	return tbs
}

func benchSigned(b *testing.B, key *ecdsa.PrivateKey) []byte {
	m := benchMessage(b)
	if err := m.Sign(nil, key); err != nil {
		b.Fatal(err)
	}
	wire, err := m.Bytes()
	if err != nil {
		b.Fatal(err)
	}
	return wire
}
