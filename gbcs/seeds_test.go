package gbcs

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/internal/hexfile"
)

var update = flag.Bool("update", false, "rewrite testdata/seeds from the generator")

// Our own frames, committed under testdata/seeds: they seed the fuzz targets
// and the round-trip test without the GPL RTDS vectors. They are built here
// from synthetic certificates and keys derived from fixed labels, signed
// with RFC 6979, so `go test -run TestSeeds -update` regenerates them
// byte for byte.

var (
	seedCoS    = eui.MustParse("90-B3-D5-1F-30-00-00-04")
	seedDevice = eui.MustParse("00-DB-12-34-56-78-90-A0")
	seedSupp   = eui.MustParse("90-B3-D5-1F-30-01-00-00")
	seedTime   = time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
)

func fixedKA(tb testing.TB, label string) *ecdh.PrivateKey {
	tb.Helper()
	d := sha256.Sum256([]byte(label))
	k, err := ecdh.P256().NewPrivateKey(d[:])
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func seedFrames(tb testing.TB) map[string][]byte {
	tb.Helper()
	cos := fixedKey(tb, "seed CoS party DS")
	device := fixedKey(tb, "seed device DS")
	keys := &MACKeys{Private: fixedKA(tb, "seed ACB KA"), Peer: fixedKA(tb, "seed device KA").PublicKey()}
	out := map[string][]byte{}
	enc := func(name string, v marshaler) {
		b, err := marshalValue(v)
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		out[name] = b
	}
	payload := func(v marshaler) []byte {
		b, err := marshalValue(v)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	sign := func(m *Message, k *ecdsa.PrivateKey) *Message {
		if err := m.Sign(nil, k); err != nil {
			tb.Fatal(err)
		}
		return m
	}

	// 6.23 immediate, signed and MACed.
	cmd7 := syntheticMode7(9001)
	m := sign(NewCommand(seedCoS, seedDevice, 9001, CodeSupplierByTransCoS, payload(cmd7)), cos)
	f, err := Wrap(m, keys)
	if err != nil {
		tb.Fatal(err)
	}
	enc("command_mode7_immediate", f)

	// 6.23 cancellation: no [6], far-future execution time.
	cancel := syntheticMode7(9003)
	cancel.Control.OtherSeqNumberChanges = nil
	ct := CancellationTime()
	cancel.ExecutionDateTime = &ct
	enc("command_mode7_cancellation", sign(NewCommand(seedCoS, seedDevice, 9003, CodeSupplierByTransCoS, payload(cancel)), cos))

	// Migration: mode 6, time-based CPV checks disapplied.
	mig := &UpdateSecurityCredentials{
		Control: Control{Mode: ModeTransCoSByTransCoS, TimeBasedCPVChecks: CPVDisapply,
			AuthorisingCell: &Cell{Role: RoleTransitionalCoS, KeyUsage: KeyUsageDigitalSignature}, SeqNumber: 9000},
		Replacements:      []Replacement{{Certificate: fakeCert(400, 9), Target: Cell{Role: RoleTransitionalCoS, KeyUsage: KeyUsageDigitalSignature}}},
		CertificationPath: [][]byte{fakeCert(300, 4)},
	}
	migMsg := sign(NewCommand(seedCoS, seedDevice, 9000, CodeTransCoSByTransCoS, payload(mig)), cos)
	enc("command_mode6_migration", migMsg)

	// Supplier-by-supplier pre-command: null signature, [4] and [5] floors.
	floor := uint64(0)
	pre := &UpdateSecurityCredentials{
		Control: Control{Mode: ModeSupplierBySupplier, AuthorisingCell: &Cell{Role: RoleSupplier, KeyUsage: KeyUsageDigitalSignature},
			SeqNumber: 1003, FloorSeqNumber: &floor, SpecialistFloorSeqNumbers: []SpecialistSeqNumber{{}}},
		Replacements:      []Replacement{{Certificate: fakeCert(60, 5), Target: Cell{Role: RoleSupplier, KeyUsage: KeyUsageKeyAgreement}}},
		CertificationPath: [][]byte{},
	}
	preMsg := NewCommand(seedSupp, seedDevice, 1003, CodeSupplierBySupplier, payload(pre))
	preMsg.Sig = SigNull
	enc("precommand_mode2", preMsg)

	// Device response with a partial failure.
	o := OutcomeFor(cmd7)
	for i, r := range cmd7.Replacements {
		st := StatusSuccess
		if i == 1 {
			st = StatusNoTrustAnchor
		}
		o.Outcomes = append(o.Outcomes, ReplacementOutcome{Cell: r.Target, Status: st,
			ExistingSubjectUniqueID: seedSupp, ExistingSubjectKeyID: KeyID{1, 2, 3, 4, 5, 6, 7, byte(i)},
			ReplacingSubjectUniqueID: seedSupp, ReplacingSubjectKeyID: KeyID{8, 7, 6, 5, 4, 3, 2, byte(i)}})
	}
	enc("response_mode7_partial", sign(NewResponse(m, seedTime, payload(&UpdateSecurityCredentialsResponse{Outcome: o})), device))
	enc("response_accepted", sign(NewResponse(m, seedTime, payload(&UpdateSecurityCredentialsResponse{})), device))

	// Future-dated failure alert.
	alert, err := NewFutureDatedAlert(seedDevice, seedCoS, 2001, &UpdateSecurityCredentialsAlert{
		AlertCode: AlertFutureDatedFailure, ExecutionDateTime: seedTime, Outcome: *o})
	if err != nil {
		tb.Fatal(err)
	}
	enc("alert_8f67", sign(alert, device))

	// CS02a read of the TransCoS cell, and a reply with one role found
	// (explicit DEFAULT cellUsage) and one not.
	read := &ProvideSecurityCredentialDetails{AuthorisingCell: Cell{Role: RoleTransitionalCoS, KeyUsage: KeyUsageDigitalSignature},
		Roles: []Role{RoleTransitionalCoS, RoleWanProvider}}
	readMsg := sign(NewCommand(seedCoS, seedDevice, 9100, CodeProvideSecurityCredentials, payload(read)), cos)
	enc("cs02a_command", readMsg)
	details := &ProvideSecurityCredentialDetailsResponse{Parties: []RemotePartyDetails{
		{Role: RoleTransitionalCoS, Status: StatusSuccess, Credentials: &RemotePartyCredentials{SeqNumber: 9000,
			Cells: []CellContents{{KeyUsage: KeyUsageDigitalSignature, ExplicitUsage: true, SubjectUniqueID: seedCoS, SubjectKeyID: KeyID{0x4F, 0x3F}}}}},
		{Role: RoleWanProvider, Status: StatusTrustAnchorNotFound},
	}}
	enc("cs02a_response", sign(NewResponse(readMsg, seedTime, payload(details)), device))

	// A use case this package does not decode: header plus raw payload.
	other := NewCommand(seedSupp, seedDevice, 42, MessageCode(0x0062), []byte{0xD9, 0x01, 0x00})
	enc("unknown_code", sign(other, cos))
	return out
}

// TestSeeds checks the committed seeds against the generator, and that each
// decodes and round-trips.
func TestSeeds(t *testing.T) {
	gen := seedFrames(t)
	dir := filepath.Join("testdata", "seeds")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range gen {
			var sb strings.Builder
			h := strings.ToUpper(hex.EncodeToString(b))
			for len(h) > 64 {
				sb.WriteString(h[:64] + "\n")
				h = h[64:]
			}
			sb.WriteString(h + "\n")
			if err := os.WriteFile(filepath.Join(dir, name+".hex"), []byte(sb.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The seeds are properly signed and MACed with their fixed keys.
	cos, device := &fixedKey(t, "seed CoS party DS").PublicKey, &fixedKey(t, "seed device DS").PublicKey
	for name, b := range gen {
		f, err := ParseFrame(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		key := cos
		if f.Message.CRA != CRACommand {
			key = device
		}
		if err := f.Message.Verify(key); err != nil && f.Message.Sig == SigPresent {
			t.Errorf("%s: %v", name, err)
		}
		if f.Ciphering != nil {
			if err := VerifyMAC(f, fixedKA(t, "seed ACB KA"), fixedKA(t, "seed device KA").PublicKey()); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	committed := committedSeeds(t)
	if len(committed) != len(gen) {
		t.Fatalf("%d committed seeds, generator makes %d (run with -update)", len(committed), len(gen))
	}
	for name, b := range gen {
		if !bytes.Equal(committed[name], b) {
			t.Errorf("%s: committed seed differs from the generator (run with -update)", name)
		}
		f, err := ParseFrame(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p, err := DecodePayload(&f.Message); err != nil || (p == nil) != (name == "unknown_code") {
			t.Errorf("%s: payload %T, %v", name, p, err)
		}
		if _, err := Describe(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// committedSeeds reads testdata/seeds/*.hex.
func committedSeeds(tb testing.TB) map[string][]byte {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "seeds", "*.hex"))
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(paths)
	out := map[string][]byte{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		b, err := hexfile.Decode(raw)
		if err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".hex")] = b
	}
	return out
}
