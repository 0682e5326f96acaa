package reportgen

import (
	"context"
	"fmt"
	"time"

	"github.com/ecos-cos/ecos/store"
)

// Store is what the generator records into; *store.DB is one.
type Store interface {
	ImportParties(context.Context, []store.Party) error
	ImportDevices(context.Context, []store.Device) error
	ImportRegistrations(context.Context, []store.Registration) error
	RecordRequests(context.Context, []store.Received) error
	AnyRequestReceived(ctx context.Context, from, to time.Time) (bool, error)
	HighestAcceptedCounter(context.Context) (uint64, error)
}

// Options say what month to make. The defaults (Deck) are the deck's
// October 2022.
type Options struct {
	Month    time.Time // any instant of the month; its UTC calendar month is made
	Requests int       // 6.23 requests, all reaching the MPID check (S, I or M)
	Parties  int       // SEC parties sending them
	MPIDs    int       // distinct MPIDs they are sent under
	// SilentParties hold registrations (meters) but send no 6.23.
	SilentParties int
	Incorrect     float64 // share of requests signed under another MPID (I)
	Missing       float64 // share signed by a certificate carrying no MPID (M)
	Seed          uint64
	// Append allows a month that already holds requests.
	Append bool
	// Batch is how many requests go in one transaction (default 2,000);
	// Writers how many transactions run at once (default 1).
	Batch, Writers int
	// Progress, if set, is called after each batch with how many
	// requests are recorded; from one goroutine at a time.
	Progress func(recorded int)
}

// Deck is the deck's month: 951,148 requests from 49 parties over 92
// MPIDs, about 2% incorrect, 24 parties sending none.
func Deck() Options {
	return Options{
		Month: time.Date(2022, time.October, 1, 0, 0, 0, 0, time.UTC), Requests: 951148, Parties: 49, MPIDs: 92,
		SilentParties: 24, Incorrect: 0.02, Missing: 0.005, Seed: 1,
	}
}

// maxRequests bounds the month: it is planned in memory, about 20 bytes a
// request.
const maxRequests = 100_000_000

func (o *Options) check() error {
	switch {
	case o.Month.IsZero():
		return fmt.Errorf("no month")
	case o.Requests < 1 || o.Requests >= maxRequests:
		return fmt.Errorf("--requests %d: want 1 to %d", o.Requests, maxRequests-1)
	case o.Parties < 1:
		return fmt.Errorf("--parties %d: want at least 1", o.Parties)
	case o.MPIDs < o.Parties:
		return fmt.Errorf("--mpids %d: each of the %d parties sends under one at least", o.MPIDs, o.Parties)
	case o.Requests < o.MPIDs:
		return fmt.Errorf("--requests %d: fewer than the %d MPIDs, each sent under once at least", o.Requests, o.MPIDs)
	case o.MPIDs > 100000:
		return fmt.Errorf("--mpids %d: want at most 100000", o.MPIDs)
	case o.SilentParties < 0 || o.SilentParties > 100000:
		return fmt.Errorf("--silent-parties %d: want 0 to 100000", o.SilentParties)
	case !(o.Incorrect >= 0 && o.Missing >= 0 && o.Incorrect+o.Missing <= 1):
		return fmt.Errorf("--incorrect %g and --missing %g: want shares from 0 to 1, together at most 1", o.Incorrect, o.Missing)
	case o.Batch < 0 || o.Writers < 0:
		return fmt.Errorf("batch %d, writers %d: want positive numbers", o.Batch, o.Writers)
	}
	return nil
}

// monthOf is the UTC calendar month holding t: [from, to).
func monthOf(t time.Time) (from, to time.Time) {
	t = t.UTC()
	from = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return from, from.AddDate(0, 1, 0)
}
