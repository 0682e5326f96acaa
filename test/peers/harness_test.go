package peers

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/internal/testkit"
)

const setupHint = `eval "$(test/peers/setup)"`

// peerKey is one key the peers' key store hands out: gbcs-parser asks for
// keys by EUI-64 and usage ("DS" or "KA"), public or private.
type peerKey struct {
	EUI     string `json:"eui"` // 16 lower-case hex digits
	Type    string `json:"type"`
	Public  string `json:"public"`
	Private string `json:"private,omitempty"`
}

func newPeerKey(tb testing.TB, id eui.EUI, typ string, k *ecdsa.PrivateKey) peerKey {
	tb.Helper()
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	return peerKey{
		EUI: strings.ToLower(id.Hex()), Type: typ,
		Public:  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		Private: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv})),
	}
}

type gbcsJob struct {
	Name string `json:"name"`
	Hex  string `json:"hex"`
}

type signJob struct {
	Name       string `json:"name"`
	Originator string `json:"originator"`
	Hex        string `json:"hex"`
}

type duisJob struct {
	Name    string `json:"name"`
	File    string `json:"file"`
	Version string `json:"version,omitempty"` // schemaVersion constructDuis writes
}

// job is what peers.js is asked to do in one run.
type job struct {
	Keys []peerKey `json:"keys"`
	ACB  string    `json:"acb,omitempty"` // the ACB's EUI-64: whose MAC a command carries
	GBCS []gbcsJob `json:"gbcs,omitempty"`
	Sign []signJob `json:"sign,omitempty"`
	// MAC: General Ciphering commands the peer MACs as the ACB.
	MAC  []gbcsJob `json:"mac,omitempty"`
	DUIS []duisJob `json:"duis,omitempty"`
	// Construct: documents duis-parser reads and writes back.
	Construct []duisJob `json:"construct,omitempty"`
	dir       string    // where DUIS documents are written
	seen      []string  // names, to refuse duplicates
}

func (j *job) name(tb testing.TB, n string) {
	tb.Helper()
	if slices.Contains(j.seen, n) {
		tb.Fatalf("duplicate case %q", n)
	}
	j.seen = append(j.seen, n)
}

func (j *job) frame(tb testing.TB, name string, b []byte) {
	j.name(tb, "gbcs/"+name)
	j.GBCS = append(j.GBCS, gbcsJob{Name: name, Hex: hex.EncodeToString(b)})
}

func (j *job) sign(tb testing.TB, name string, originator eui.EUI, unsigned []byte) {
	j.name(tb, "sign/"+name)
	j.Sign = append(j.Sign, signJob{Name: name, Originator: originator.String(), Hex: hex.EncodeToString(unsigned)})
}

func (j *job) document(tb testing.TB, name string, doc []byte) {
	tb.Helper()
	j.name(tb, "duis/"+name)
	j.DUIS = append(j.DUIS, duisJob{Name: name, File: j.write(tb, doc)})
}

// construct asks duis-parser to read doc and build it again as a DUIS
// schemaVersion document.
func (j *job) construct(tb testing.TB, name string, doc []byte, schemaVersion string) {
	tb.Helper()
	j.name(tb, "construct/"+name)
	j.Construct = append(j.Construct, duisJob{Name: name, File: j.write(tb, doc), Version: schemaVersion})
}

func (j *job) write(tb testing.TB, doc []byte) string {
	tb.Helper()
	if j.dir == "" {
		j.dir = tb.TempDir()
	}
	p := filepath.Join(j.dir, fmt.Sprintf("%02d.xml", len(j.seen)))
	if err := os.WriteFile(p, doc, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// node is an item of gbcs-parser's minimised output.
type node struct {
	Hex      string          `json:"hex"`
	Notes    string          `json:"notes"`
	Children map[string]node `json:"children"`
}

type gbcsResult struct {
	Tree  map[string]map[string]node `json:"tree"`
	Error string                     `json:"error"`
}

type signResult struct {
	Hex   string `json:"hex"`
	Error string `json:"error"`
}

type duisResult struct {
	Doc   json.RawMessage `json:"doc"`
	Kinds []string        `json:"kinds"`
	Error string          `json:"error"`
}

type constructResult struct {
	XML   string `json:"xml"`
	Error string `json:"error"`
}

type result struct {
	GBCS      map[string]gbcsResult      `json:"gbcs"`
	Sign      map[string]signResult      `json:"sign"`
	MAC       map[string]signResult      `json:"mac"`
	DUIS      map[string]duisResult      `json:"duis"`
	Construct map[string]constructResult `json:"construct"`
}

// peersAvailable checks for node and the two built peers: Unavailable
// (fail in CI, skip elsewhere) without them.
func peersAvailable(tb testing.TB) (nodePath string) {
	tb.Helper()
	nodePath = testkit.Tool(tb, "node", "Debian: apt-get install nodejs npm")
	for _, v := range []string{"ECOS_GBCS_PARSER", "ECOS_DUIS_PARSER"} {
		p := os.Getenv(v)
		if p == "" {
			testkit.Unavailable(tb, "%s is not set (build the SmartDCC peers: %s)", v, setupHint)
		}
		if _, err := os.Stat(p); err != nil {
			testkit.Unavailable(tb, "%s: %v (rebuild the SmartDCC peers: %s)", v, err, setupHint)
		}
	}
	return nodePath
}

// run has peers.js do j and returns what the peers said.
func run(tb testing.TB, j *job) *result {
	tb.Helper()
	nodePath := peersAvailable(tb)
	in, err := json.Marshal(j)
	if err != nil {
		tb.Fatal(err)
	}
	jobFile := filepath.Join(tb.TempDir(), "job.json")
	if err := os.WriteFile(jobFile, in, 0o600); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(nodePath, "peers.js", jobFile) // inherits ECOS_*_PARSER
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("peers.js: %v\n%s", err, stderr.Bytes())
	}
	var r result
	if err := json.Unmarshal(out, &r); err != nil {
		tb.Fatalf("peers.js output: %v\n%s", err, out)
	}
	return &r
}

// item is one flattened field of a gbcs-parser tree.
type item struct{ Hex, Notes string }

// flatten turns a gbcs-parser tree into "Block/Field/Child…" paths, the
// names gbcs-parser gives (list entries as "[i] Name").
func flatten(tree map[string]map[string]node) map[string]item {
	out := map[string]item{}
	var walk func(prefix string, m map[string]node)
	walk = func(prefix string, m map[string]node) {
		for k, n := range m {
			p := prefix + "/" + k
			out[p] = item{Hex: n.Hex, Notes: n.Notes}
			walk(p, n.Children)
		}
	}
	for block, m := range tree {
		walk(block, m)
	}
	return out
}

// spaced writes b as gbcs-parser does: upper-case hex octets separated by
// spaces.
func spaced(b []byte) string {
	var s strings.Builder
	for i, c := range b {
		if i > 0 {
			s.WriteByte(' ')
		}
		fmt.Fprintf(&s, "%02X", c)
	}
	return s.String()
}

// tlvValue decodes the value octets of a short-form DER TLV given as
// gbcs-parser's hex.
func tlvValue(spacedHex string) ([]byte, error) {
	b, err := hex.DecodeString(strings.ReplaceAll(spacedHex, " ", ""))
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || b[1] > 0x7F || int(b[1]) != len(b)-2 {
		return nil, fmt.Errorf("%q is not a short-form TLV", spacedHex)
	}
	return b[2:], nil
}

// tlvInt decodes a DER INTEGER or ENUMERATED (non-negative) given as
// gbcs-parser's hex.
func tlvInt(spacedHex string) (*big.Int, error) {
	v, err := tlvValue(spacedHex)
	if err != nil {
		return nil, err
	}
	if len(v) == 0 || v[0]&0x80 != 0 {
		return nil, fmt.Errorf("%q is not a non-negative integer", spacedHex)
	}
	return new(big.Int).SetBytes(v), nil
}
