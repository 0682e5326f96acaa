package xmldsig

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"testing"
	"time"
)

// The benchmarks report, next to their own cost, the bare ECDSA P-256
// operation on the same SignedInfo in the same run (bare/ours: 1.0 would
// mean parsing and canonicalising cost nothing). The document is the
// 6.23-shaped fixture request (4.3 kB, like the RTDS one) without
// indentation, as the DCC exchanges it.

// BenchmarkVerify is one inbound request: screening, DOM, profile checks,
// exclusive C14N of SignedInfo, ECDSA verify, inclusive C14N of the
// document and its SHA-256.
func BenchmarkVerify(b *testing.B) {
	f := testFixture(b)
	doc := []byte(signWith(b, f.signer, compact(f.request)))
	v, err := Verify(doc, f.pool)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(doc, f.pool); err != nil {
			b.Fatal(err)
		}
	}
	der := rsToDER(v.SignatureValue)
	reportBareRatio(b, func() {
		h := sha256.Sum256(v.SignedInfo)
		if !ecdsa.VerifyASN1(f.signer.cert.PublicKey, h[:], der) {
			b.Fatal("bare verify failed")
		}
	})
}

// BenchmarkVerifyIndented is a request signed compact and indented on its
// way: it is screened and parsed twice, once as given and once as the
// DCC's validator reads it.
func BenchmarkVerifyIndented(b *testing.B) {
	f := testFixture(b)
	doc := []byte(strings.ReplaceAll(signWith(b, f.signer, compact(f.request)), "><", ">\n  <"))
	if _, err := Verify(doc, f.pool); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(doc, f.pool); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSign is one outbound signature; it includes Sign's own
// verification of its result, so about one Verify is inside it.
func BenchmarkSign(b *testing.B) {
	f := testFixture(b)
	doc := []byte(compact(f.request))
	v, err := Verify([]byte(signWith(b, f.signer, string(doc))), f.pool)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(doc, f.signer.key, f.signer.cert, rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
	reportBareRatio(b, func() {
		h := sha256.Sum256(v.SignedInfo)
		if _, err := ecdsa.SignASN1(rand.Reader, f.signer.key, h[:]); err != nil {
			b.Fatal(err)
		}
	})
}

// reportBareRatio times the bare ECDSA operation as many times as the
// benchmark loop ran, in the same run on the same cores, and reports its
// cost and the ratio bare/ours (as gbcs/bench_test.go does).
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
