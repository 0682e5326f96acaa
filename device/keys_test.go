package device

import (
	"testing"
)

// TestDerivedKeysBounded: keys are the documented derivation, the recent
// ones are kept (the same pointer comes back, so nothing is derived
// twice), and however many devices ask, at most two generations are held.
func TestDerivedKeysBounded(t *testing.T) {
	k := NewDerivedKeys([]byte("s"))
	first, err := k.PrivateKey(FleetEUI(1))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := DeriveKey([]byte("s"), FleetEUI(1))
	if !first.Equal(want) {
		t.Fatal("not DeriveKey's key")
	}
	n := 3 * derivedKeysGeneration
	for i := 2; i <= n; i++ {
		if _, err := k.PrivateKey(FleetEUI(i)); err != nil {
			t.Fatal(err)
		}
		// A device's key is asked for again soon (the party verifying its
		// response): it must still be there.
		if i%100 == 0 {
			again, _ := k.PrivateKey(FleetEUI(i - 50))
			prev, _ := k.PublicKey(FleetEUI(i - 50))
			if &again.PublicKey != prev {
				t.Fatalf("key %d derived twice", i-50)
			}
		}
	}
	k.mu.Lock()
	held := len(k.cur) + len(k.old)
	k.mu.Unlock()
	if held > 2*derivedKeysGeneration {
		t.Errorf("%d keys held after %d devices, want at most %d", held, n, 2*derivedKeysGeneration)
	}
	if again, _ := k.PrivateKey(FleetEUI(1)); !again.Equal(want) {
		t.Error("a forgotten key derived again differs")
	}
}
