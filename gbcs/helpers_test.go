package gbcs

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"

	ctx509 "github.com/google/certificate-transparency-go/x509"

	"github.com/ecos-cos/ecos/internal/testkit"
)

// rtdsVector is one RTDS frame from $ECOS_VECTORS_DIR/gbcs.
type rtdsVector struct {
	name  string
	bytes []byte
}

// rtdsVectors reads every RTDS frame; it skips (or fails in CI) without the
// vector folder.
func rtdsVectors(tb testing.TB) []rtdsVector {
	tb.Helper()
	var out []rtdsVector
	for _, path := range testkit.Glob(tb, "gbcs/*.HEX") {
		name := filepath.Base(path)
		out = append(out, rtdsVector{name: strings.TrimSuffix(name, ".HEX"), bytes: testkit.HexVector(tb, "gbcs/"+name)})
	}
	return out
}

func rtdsFrame(tb testing.TB, name string) []byte {
	tb.Helper()
	return testkit.HexVector(tb, "gbcs/"+name+".HEX")
}

// orgKey reads the public key of an SMKI organisation certificate. The
// stdlib cannot parse those (they carry x500UniqueIdentifier as a BIT
// STRING), so tests use the certificate-transparency fork.
func orgKey(tb testing.TB, rel string) *ecdsa.PublicKey {
	tb.Helper()
	cert, err := ctx509.ParseCertificate(testkit.PEMBlock(tb, rel))
	if cert == nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		tb.Fatalf("%s: not an ECDSA key", rel)
	}
	return pub
}

// deviceKey reads a device certificate's key; the stdlib parses those.
func deviceKey(tb testing.TB, rel string) *ecdsa.PublicKey {
	tb.Helper()
	cert, err := x509.ParseCertificate(testkit.PEMBlock(tb, rel))
	if err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	return cert.PublicKey.(*ecdsa.PublicKey)
}

func toECDH(tb testing.TB, pub *ecdsa.PublicKey) *ecdh.PublicKey {
	tb.Helper()
	k, err := pub.ECDH()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// macKeys are the RTDS keys for the ACB GMAC on commands to 00DB1234567890A0.
func macKeys(tb testing.TB) *MACKeys {
	tb.Helper()
	priv, err := testkit.ECKey(tb, "keys/90b3d51f30000002-ka.key").ECDH()
	if err != nil {
		tb.Fatal(err)
	}
	return &MACKeys{Private: priv, Peer: toECDH(tb, deviceKey(tb, "keys/00db1234567890a0-ka.pem"))}
}
