package demoworld

import (
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/smki"
	"github.com/ecos-cos/ecos/testpki"
)

// DefaultADTRows are the thresholds the demo's suppliers start with: a
// daily and an hourly limit on SR 6.23, generous enough for benchmarks of
// a few thousand requests, and the rule's zero for every other critical
// SRV.
var DefaultADTRows = []string{"6.23,10000,1000000,1440", "6.23,5000,500000,60"}

// ADTFile is supplier n's (from 1) ADT file with sequence number seq and
// rows "SRV,warning,quarantine,interval", signed with its File Signing
// key, as the supplier would send it.
func (w *World) ADTFile(n int, seq uint64, rows []string) ([]byte, error) {
	s, err := w.supplier(n)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s,%d\n", s.EUI, seq)
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	return w.signFile(n, []byte(b.String()))
}

// ActionFile is supplier n's Quarantined Communications Action File
// releasing the refs in release and deleting those in del.
func (w *World) ActionFile(n int, release, del []uint64) ([]byte, error) {
	s, err := w.supplier(n)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", s.EUI)
	for _, r := range release {
		fmt.Fprintf(&b, "%d,Release\n", r)
	}
	for _, r := range del {
		fmt.Fprintf(&b, "%d,Delete\n", r)
	}
	return w.signFile(n, []byte(b.String()))
}

func (w *World) signFile(n int, body []byte) ([]byte, error) {
	s, err := w.supplier(n)
	if err != nil {
		return nil, err
	}
	c := s.FileSigning
	cert, err := smki.Parse(c.Cert)
	if err != nil {
		return nil, err
	}
	return adt.Sign(body, c.Key, cert, rand.Reader)
}

// supplier is supplier n (from 1).
func (w *World) supplier(n int) (*testpki.Supplier, error) {
	if n < 1 || n > len(w.PKI.Suppliers) {
		return nil, fmt.Errorf("demoworld: no supplier %d", n)
	}
	return &w.PKI.Suppliers[n-1], nil
}
