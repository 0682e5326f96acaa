package reportgen

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"sort"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/mpxn"
	"github.com/ecos-cos/ecos/store"
)

// world is the reference data of a generated month, and what the traffic
// is drawn from.
type world struct {
	parties       []store.Party
	users         []eui.EUI // users[p] is party p's DCC User ID
	devices       []store.Device
	registrations []store.Registration
	mpids         []mpid // the sending parties' MPIDs
	// noMPIDCert[p] is the serial of party p's certificate carrying no
	// MPID, signing its M requests.
	noMPIDCert []string
	// certificates counts every certificate made, MPID or not.
	certificates int

	rng     *rand.Rand
	codes   map[string]bool
	serials map[string]bool
}

// mpid is one MPID requests are sent under.
type mpid struct {
	code   string
	party  int
	serial string  // its XML-signing certificate
	weight float64 // its share of its party's traffic
	meters []int   // indices into world.devices registered under it
	// wrong is the certificate this MPID's I requests are signed with:
	// another MPID's of the same party, or (wrongCert) one it held before.
	wrong struct{ code, serial string }
}

// Party IDs, names, codes and EUI-64s are made to look the part; their
// prefixes keep them apart from the demo's (demoworld).
const (
	userPrefix   = 0x90E0C05E
	devicePrefix = 0xEEC05E6E
)

var (
	nameFirst = []string{"Amber", "Beacon", "Bright", "Cobalt", "Coral", "Crown", "Delta", "Ember", "Evergreen", "Falcon",
		"Granite", "Harbour", "Heather", "Horizon", "Kestrel", "Lantern", "Meadow", "Northern", "Oak", "Orchard",
		"Pennine", "Quarry", "Riverside", "Saltire", "Severn", "Solent", "Summit", "Thistle", "Valley", "Westerly"}
	nameSecond = []string{"Energy", "Power", "Utilities", "Gas & Power", "Supply", "Electric", "Home Energy", "Fuels"}
	nameSuffix = []string{"Ltd", "Limited", "plc", "Retail Ltd", "Supply Ltd"}
)

func newWorld(o *Options, rng *rand.Rand) *world {
	w := &world{rng: rng, codes: map[string]bool{}, serials: map[string]bool{}}
	from, _ := monthOf(o.Month)
	total := o.Parties + o.SilentParties
	names := map[string]bool{}
	for p := range total {
		name := fmt.Sprintf("%s %s %s", nameFirst[rng.IntN(len(nameFirst))], nameSecond[rng.IntN(len(nameSecond))], nameSuffix[rng.IntN(len(nameSuffix))])
		for n := 2; names[name]; n++ {
			name = fmt.Sprintf("%s %s %d %s", nameFirst[rng.IntN(len(nameFirst))], nameSecond[rng.IntN(len(nameSecond))], n, nameSuffix[rng.IntN(len(nameSuffix))])
		}
		names[name] = true
		var user eui.EUI
		binary.BigEndian.PutUint32(user[:4], userPrefix)
		binary.BigEndian.PutUint32(user[4:], uint32(p+1))
		w.users = append(w.users, user)
		w.parties = append(w.parties, store.Party{
			ID: fmt.Sprintf("SP%05d", 101+p), Name: name, State: store.PartyActive,
			Users: []store.User{{EUI: user, Role: store.RoleImportSupplier}},
		})
		w.noMPIDCert = append(w.noMPIDCert, "")
	}

	// Every sending party holds one MPID, the rest go to parties drawn by
	// size, so big suppliers hold several. Party sizes fall off like a
	// market's: a few large, many small.
	size := make([]float64, o.Parties)
	for p := range size {
		size[p] = 1 / math.Pow(float64(p+1), 1.1)
	}
	sum := 0.0
	for _, x := range size {
		sum += x
	}
	for p := range size {
		size[p] /= sum
	}
	rng.Shuffle(len(size), func(i, j int) { size[i], size[j] = size[j], size[i] })
	bySize := newSampler(size)
	owner := make([]int, o.MPIDs)
	for m := range owner {
		owner[m] = m
		if m >= o.Parties {
			owner[m] = bySize.draw(rng)
		}
	}
	byParty := make([][]int, o.Parties)
	for m, p := range owner {
		byParty[p] = append(byParty[p], m)
		w.mpids = append(w.mpids, mpid{code: w.newCode(), party: p, serial: w.newSerial()})
	}
	for p, ms := range byParty {
		// A party's first MPID carries most of its traffic: shares 1,
		// 1/2, 1/3… of it.
		harmonic := 0.0
		for i := range ms {
			harmonic += 1 / float64(i+1)
		}
		for i, m := range ms {
			mp := &w.mpids[m]
			mp.weight = size[p] / float64(i+1) / harmonic
			if len(ms) > 1 {
				other := w.mpids[ms[(i+1)%len(ms)]]
				mp.wrong.code, mp.wrong.serial = other.code, other.serial
			}
			w.parties[p].MPIDs = append(w.parties[p].MPIDs, mp.code)
		}
	}

	// Meters: sending parties' in proportion to their traffic, silent
	// parties' a few to a few hundred each.
	regFrom := from.AddDate(-1, 0, 0)
	meters := min(max(o.Requests/50, 2*o.MPIDs), 20000)
	addMeter := func(party int, code string) int {
		n := len(w.devices) + 1
		var d eui.EUI
		binary.BigEndian.PutUint32(d[:4], devicePrefix)
		binary.BigEndian.PutUint32(d[4:], uint32(n))
		w.devices = append(w.devices, store.Device{EUI: d, Type: store.ESME, SMIStatus: store.SMICommissioned, Credential: store.CredentialTCoS})
		body := fmt.Sprintf("23%010d", n)
		w.registrations = append(w.registrations, store.Registration{
			MPxN: body + string(mpxn.MPANCheckDigit(body)), From: regFrom, Supplier: w.parties[party].ID, MPID: code, Device: d,
		})
		return n - 1
	}
	for m := range w.mpids {
		mp := &w.mpids[m]
		for range max(1, int(math.Round(mp.weight*float64(meters)))) {
			mp.meters = append(mp.meters, addMeter(mp.party, mp.code))
		}
	}
	for p := o.Parties; p < total; p++ {
		code := w.newCode()
		w.parties[p].MPIDs = []string{code}
		w.certificates++
		for range 1 + rng.IntN(400) {
			addMeter(p, code)
		}
	}
	return w
}

// wrongCert is the certificate MPID m's I requests are signed with: made
// when first asked, for a party with one MPID, as the certificate of an
// MPID it held before, no longer registered.
func (w *world) wrongCert(m int) {
	if mp := &w.mpids[m]; mp.wrong.code == "" {
		mp.wrong.code, mp.wrong.serial = w.newCode(), w.newSerial()
	}
}

// newCode is an MPID not made before.
func (w *world) newCode() string {
	for {
		var b [4]byte
		for i := range b {
			b[i] = byte('A' + w.rng.IntN(26))
		}
		if c := string(b[:]); !w.codes[c] {
			w.codes[c] = true
			return c
		}
	}
}

// newSerial is a certificate serial not made before, as the pipeline
// records one: lower-case hex, here of 16 bytes.
func (w *world) newSerial() string {
	w.certificates++
	for {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], w.rng.Uint64())
		binary.BigEndian.PutUint64(b[8:], w.rng.Uint64())
		b[0] = b[0]&0x7f | 0x10 // positive, and 32 hex digits
		if s := new(big.Int).SetBytes(b[:]).Text(16); !w.serials[s] {
			w.serials[s] = true
			return s
		}
	}
}

// noMPID is party p's certificate carrying no MPID, made when first asked.
func (w *world) noMPID(p int) string {
	if w.noMPIDCert[p] == "" {
		w.noMPIDCert[p] = w.newSerial()
	}
	return w.noMPIDCert[p]
}

// sampler draws indices with probability proportional to their weights.
type sampler []float64 // cumulative weights

func newSampler(weights []float64) sampler {
	s := make(sampler, len(weights))
	sum := 0.0
	for i, x := range weights {
		sum += x
		s[i] = sum
	}
	return s
}

func (s sampler) draw(rng *rand.Rand) int {
	r := rng.Float64() * s[len(s)-1]
	return min(sort.SearchFloat64s(s, r), len(s)-1)
}
