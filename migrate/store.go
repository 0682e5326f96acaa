package migrate

import (
	"context"
	"time"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// WaveStore is where waves and their devices are; *store.DB is one.
type WaveStore interface {
	WaveByID(ctx context.Context, id store.WaveID) (store.Wave, error)
	Waves(ctx context.Context) ([]store.Wave, error)
	SetWaveState(ctx context.Context, id store.WaveID, to store.WaveState, reason string, at time.Time) (store.Wave, error)
	WaveHasOpen(ctx context.Context, id store.WaveID) (bool, error)
	TakeForWave(ctx context.Context, w store.Wave, after eui.EUI, limit int, at time.Time) (eui.EUI, int, error)
	WaveDevices(ctx context.Context, wave store.WaveID, state store.MigrationState, after eui.EUI, due time.Time, limit int) ([]eui.EUI, error)
	OwnCommandsSince(ctx context.Context, since time.Time, fn func(kind store.OwnKind, at time.Time) error) error
}

// CommandStore is where the party's own commands and the devices' moves
// are recorded; *store.DB is one.
type CommandStore interface {
	ClaimCommands(ctx context.Context, key string, claims []store.Claim, at time.Time,
		build func(c store.Claim, counter uint64) (store.Built, error)) ([]store.Claimed, error)
	MarkOwnSent(ctx context.Context, keys []store.OwnKey, at time.Time) error
	SettleCommands(ctx context.Context, ss []store.Settlement, at time.Time) ([]error, error)
	OpenCommands(ctx context.Context, limit int) ([]store.OwnCommand, error)
	MoveDevices(ctx context.Context, moves []store.Move) ([]store.MoveResult, error)
	DeferDevice(ctx context.Context, device eui.EUI, state store.MigrationState, due time.Time) error
	UnansweredReadBacks(ctx context.Context, device eui.EUI) (int, error)
	MigrationStatusOf(ctx context.Context, device eui.EUI) (store.MigrationStatus, error)
}
