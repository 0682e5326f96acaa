package peers

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/duis"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/gbcs"
	"github.com/ecos-cos/ecos/internal/testkit"
	"github.com/ecos-cos/ecos/smki"
)

// rtdsKeys is the peers' key store from the RTDS key folder: the
// certificates and published test keys named <eui>-<ds|ka>.{pem,key}.
func rtdsKeys(tb testing.TB) []peerKey {
	tb.Helper()
	name := regexp.MustCompile(`^([0-9a-f]{16})-(ds|ka)\.pem$`)
	var ks []peerKey
	for _, p := range testkit.Glob(tb, "keys/*.pem") {
		m := name.FindStringSubmatch(filepath.Base(p))
		if m == nil {
			continue
		}
		k := peerKey{EUI: m[1], Type: strings.ToUpper(m[2])}
		block, _ := pem.Decode(testkit.Vector(tb, "keys/"+filepath.Base(p)))
		cert, err := smki.Parse(block.Bytes) // crypto/x509 refuses some ZAZ1 names
		if err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		pub, err := x509.MarshalPKIXPublicKey(cert.PublicKey)
		if err != nil {
			tb.Fatal(err)
		}
		k.Public = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
		if b, err := os.ReadFile(strings.TrimSuffix(p, ".pem") + ".key"); err == nil {
			block, _ := pem.Decode(b)
			priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				tb.Fatalf("%s.key: %v", p, err)
			}
			if _, ok := priv.(*ecdsa.PrivateKey); !ok {
				tb.Fatalf("%s.key: %T", p, priv)
			}
			k.Private = string(b)
		}
		ks = append(ks, k)
	}
	return ks
}

// TestGBCSPeerAgreesOnRTDS: on the DCC's own RTDS frames (commands,
// responses, alerts, CS02a, a pre-command) our decoder and gbcs-parser read
// every field alike, and gbcs-parser verifies each signature and MAC with
// the RTDS keys: the checks that compare our frames with the peer's reading
// agree with the peer on frames neither side made.
func TestGBCSPeerAgreesOnRTDS(t *testing.T) {
	peersAvailable(t)
	acb, err := eui.Parse("90-B3-D5-1F-30-00-00-02")
	if err != nil {
		t.Fatal(err)
	}
	j := &job{Keys: rtdsKeys(t), ACB: acb.String()}
	known := map[eui.EUI]bool{}
	for _, k := range j.Keys {
		if k.Type == "KA" {
			e, err := eui.Parse(k.EUI)
			if err != nil {
				t.Fatal(err)
			}
			known[e] = true
		}
	}
	frames := map[string][]byte{}
	for _, p := range testkit.Glob(t, "gbcs/*.HEX") {
		name := strings.TrimSuffix(filepath.Base(p), ".HEX")
		frames[name] = testkit.HexVector(t, "gbcs/"+filepath.Base(p))
		j.frame(t, name, frames[name])
	}
	if len(frames) < 17 {
		t.Fatalf("%d RTDS frames, want the 17 of the vector folder", len(frames))
	}
	r := run(t, j)
	for name, b := range frames {
		c := newChecker(t, name, r.GBCS[name])
		if c == nil {
			continue
		}
		f, err := gbcs.ParseFrame(b)
		if err != nil {
			t.Fatalf("%s: our decoder: %v", name, err)
		}
		// The RTDS CS02a read goes to a meter (00-DB-12-34-56-78-90-A2)
		// whose KA key is not in the folder: no one can check its MAC.
		m := &f.Message
		meter := m.Recipient
		if m.CRA != gbcs.CRACommand {
			meter = m.Originator
		}
		if !known[meter] {
			c.mac = "unknown"
		}
		c.frame(f)
		c.payload(m)
	}
}

// TestDUISPeerAgreesOnRTDS: on the DCC's own 6.23 requests (the RTDS
// templates and one the SmartDCC Java tool signed) our decoder and
// duis-parser read every header and body field alike.
func TestDUISPeerAgreesOnRTDS(t *testing.T) {
	peersAvailable(t)
	files := append(testkit.Glob(t, "duis/CS02bSupplierByTransCoS_6.23_*_REQUEST_DUIS.XML"), testkit.Glob(t, "duis/GENERATED_6.23_*.xml")...)
	if len(files) < 4 {
		t.Fatalf("%d RTDS 6.23 requests, want 4", len(files))
	}
	j := &job{}
	docs := map[string][]byte{}
	for _, p := range files {
		name := filepath.Base(p)
		docs[name] = testkit.Vector(t, "duis/"+name)
		j.document(t, name, docs[name])
	}
	r := run(t, j)
	for name, doc := range docs {
		c := newDocCheck(t, name, r.DUIS[name], "Request")
		if c == nil {
			continue
		}
		req, err := duis.DecodeRequest(doc)
		if err != nil {
			t.Fatalf("%s: our decoder: %v", name, err)
		}
		c.request(req)
	}
}
