package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// A wave's filter survives JSON (the operator API and the waves table):
// every field, install dates to the nanosecond, and the device list; the
// paging fields State and After are not part of it.
func TestWaveFilterJSON(t *testing.T) {
	f := store.WaveFilter{Suppliers: []string{"SUP1", "SUP2"}, Manufacturers: []string{"Maker \"1\""}, Models: []string{"M1"},
		Firmware: []string{"1.0", "1.1"}, MPxNPrefix: "1%_", InstalledFrom: time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC),
		InstalledTo: time.Date(2024, 1, 1, 0, 0, 0, 1, time.UTC), Devices: []eui.EUI{{0, 1, 2, 3, 4, 5, 6, 7}, {0xFF, 0xFE, 0, 0, 0, 0, 0, 1}},
		State: store.MigrationQueued, After: eui.EUI{9}}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var got store.WaveFilter
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	f.State, f.After = "", eui.EUI{}
	if d := cmp.Diff(f, got); d != "" {
		t.Fatalf("round trip of %s (-want +got):\n%s", b, d)
	}
	b, err = json.Marshal(store.WaveFilter{})
	if err != nil || string(b) != "{}" {
		t.Errorf("empty filter: %s, %v", b, err)
	}
}
